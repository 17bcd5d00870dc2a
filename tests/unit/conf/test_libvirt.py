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


"""[qslm] mirrors of the computes' [libvirt] options."""

from tests.unit.conf import base


class TestLibvirtMirror(base.ConfTestCase):

    def test_nova_defaults_mirrored(self):
        # Nova's [libvirt] defaults.
        group = self.conf.qslm
        self.assertEqual(500, group.live_migration_downtime)
        self.assertEqual(10, group.live_migration_downtime_steps)
        self.assertEqual(75, group.live_migration_downtime_delay)
        self.assertEqual(800, group.live_migration_completion_timeout)
        self.assertEqual('abort', group.live_migration_timeout_action)
        self.assertFalse(group.live_migration_permit_post_copy)
        self.assertFalse(group.live_migration_permit_auto_converge)
        self.assertEqual(0, group.live_migration_bandwidth)

    def test_bounds(self):
        self.fixture.config(live_migration_downtime=100,
                            live_migration_completion_timeout=0,
                            live_migration_timeout_action='force_complete',
                            group='qslm')
        self.fixture.config(live_migration_downtime_steps=10000,
                            group='qslm')
        self.assertRefused(live_migration_downtime=50,
                           live_migration_downtime_steps=0,
                           live_migration_downtime_delay=-1,
                           live_migration_completion_timeout=-1,
                           live_migration_timeout_action='pause',
                           live_migration_bandwidth=-1)
        self.assertRefused(live_migration_downtime_steps=10001)

    def test_most_steps_are_the_models(self):
        # Written out in the options module to keep numpy out of it.
        from qslm_nova import estimator
        opt = self.conf.qslm._group._opts[
            'live_migration_downtime_steps']['opt']
        self.assertEqual(estimator.MAX_DOWNTIME_STEPS, opt.type.max)
