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


"""[qslm] policy defaults: defaults and bounds."""

import os
import tempfile

from oslo_config import cfg

from qslm_nova import conf
from tests.unit.conf import base


class TestPolicyOptions(base.ConfTestCase):

    def test_defaults(self):
        group = self.conf.qslm
        self.assertFalse(group.default_require_trusted_host)
        self.assertEqual('untrusted', group.default_min_link_security)
        self.assertFalse(group.default_require_encryption)
        self.assertEqual(['none', 'tls', 'tunnelled', 'ipsec'],
                         group.default_allowed_mechanisms)
        self.assertEqual(16.0, group.default_dirty_rate_mibps)
        self.assertEqual(30, group.default_budget_period_days)
        self.assertEqual('worst', group.sla_estimate)

    def test_bounds(self):
        self.fixture.config(default_dirty_rate_mibps=0.0,
                            default_budget_period_days=1, group='qslm')
        self.assertRefused(default_dirty_rate_mibps=-0.5,
                           default_budget_period_days=0,
                           sla_estimate='best')

    def test_old_dirty_rate_option_name_still_read(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'nova.conf')
            with open(path, 'w') as f:
                f.write('[qslm]\ndefault_dirty_rate_mbps = 48\n')
            old = cfg.ConfigOpts()
            conf.register_opts(old)
            old(['--config-file', path], project='qslm-nova-test')
            self.assertEqual(48.0, old.qslm.default_dirty_rate_mibps)
