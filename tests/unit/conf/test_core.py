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


"""[qslm] core options: defaults and bounds."""

from qslm_nova.conf import core
from tests.unit.conf import base


class TestCoreOptions(base.ConfTestCase):

    def test_defaults(self):
        group = self.conf.qslm
        self.assertEqual('/etc/qslm-nova/topology.yaml', group.topology_file)
        self.assertEqual(['static'], group.trust_providers)
        self.assertEqual('all', group.trust_combination)
        self.assertEqual(86400, group.max_attestation_age)
        self.assertTrue(group.fail_closed)
        self.assertTrue(group.check_non_live_moves)
        self.assertFalse(group.apply_to_cold_migrations)
        self.assertEqual(1.0, group.weight_multiplier)

    def test_trust_combination_choices(self):
        self.fixture.config(trust_combination='first', group='qslm')
        self.assertEqual('first', self.conf.qslm.trust_combination)
        self.assertRefused(trust_combination='any')

    def test_attestation_age_not_negative(self):
        self.fixture.config(max_attestation_age=0, group='qslm')
        self.assertRefused(max_attestation_age=-1)

    def test_apply_to_cold_migrations_deprecated(self):
        opt = [o for o in core.failure_opts
               if o.name == 'apply_to_cold_migrations'][0]
        self.assertTrue(opt.deprecated_for_removal)
        self.assertIn('check_non_live_moves', opt.deprecated_reason)

    def test_negative_weight_multiplier_allowed(self):
        self.fixture.config(weight_multiplier=-2.5, group='qslm')
        self.assertEqual(-2.5, self.conf.qslm.weight_multiplier)
