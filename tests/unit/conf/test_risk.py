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


"""[qslm] options of decisions under uncertainty."""

import os

import fixtures

from qslm_nova import decision
from qslm_nova.risk import assess
from tests.unit.conf import base


class TestRiskOptions(base.ConfTestCase):

    def test_defaults(self):
        group = self.conf.qslm
        self.assertEqual(0.95, group.sla_confidence)
        self.assertEqual('headroom', group.rank_by)
        self.assertIsNone(group.residuals_file)
        # The option's defaults are the library's.
        risk = decision.Settings.from_conf(group).risk
        self.assertEqual(decision.Settings().risk, risk)
        self.assertEqual(assess.DEFAULT_CONFIDENCE, risk.sla_confidence)

    def test_empty_holds_the_estimate(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'qslm.conf')
        with open(path, 'w') as f:
            f.write('[qslm]\nsla_confidence =\n')
        self.conf(['--config-file', path], project='qslm-nova-test')
        self.assertIsNone(decision.Settings.from_conf(
            self.conf.qslm).risk.sla_confidence)

    def test_set_and_bounds(self):
        self.fixture.config(sla_confidence=0.99, rank_by='expected_loss',
                            residuals_file='/etc/qslm-nova/r.json',
                            group='qslm')
        risk = decision.Settings.from_conf(self.conf.qslm).risk
        self.assertEqual(0.99, risk.sla_confidence)
        self.assertEqual('expected_loss', risk.rank_by)
        self.assertEqual('/etc/qslm-nova/r.json', risk.residuals_file)
        self.assertRefused(sla_confidence=0.4)
        self.assertRefused(sla_confidence=1.0)
        self.assertRefused(rank_by='money')
