# Copyright 2026 The qslm-nova Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.


"""[qslm] constants of the downtime model: defaults and bounds."""

from qslm_nova.conf import estimator as estimator_conf
from qslm_nova import estimator as estimator_mod
from tests.unit.conf import base


class TestEstimatorOptions(base.ConfTestCase):

    def test_defaults_are_the_models(self):
        self.assertEqual(estimator_mod.ModelParams(),
                         estimator_mod.ModelParams.from_conf(self.conf.qslm))
        self.assertEqual(0.3, self.conf.qslm.default_host_cpu_load)

    def test_load_range_is_the_models(self):
        # Written out in the options module to keep numpy out of it.
        self.assertEqual(estimator_mod.MAX_CPU_LOAD,
                         estimator_conf.MAX_HOST_CPU_LOAD)

    def test_bounds(self):
        self.fixture.config(worst_bandwidth_factor=1.0, worst_dirty_factor=1,
                            default_host_cpu_load=16, iteration_ms=0,
                            postcopy_rate_share=1.0,
                            worst_postcopy_buffer_factor=1.0, group='qslm')
        self.assertRefused(setup_ms=-1, confirmation_ms=-1, activation_ms=-1,
                           device_state_mb=-1, worst_dirty_factor=0.5,
                           worst_bandwidth_factor=0.0,
                           stop_share=0.05, worst_stop_share=0.05,
                           worst_extra_ms=-1, iteration_ms=-1,
                           first_sample_ms=-1, default_host_cpu_load=16.01)
        self.assertRefused(default_host_cpu_load=-0.01)
        self.assertRefused(worst_bandwidth_factor=1.01)
        self.assertRefused(postcopy_rate_share=0.0)
        self.assertRefused(postcopy_rate_share=1.01)
        self.assertRefused(worst_postcopy_buffer_factor=0.99)
