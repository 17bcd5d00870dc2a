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


"""[qslm] options of the nova-api pre-check."""

from tests.unit.conf import base


class TestPrecheckOptions(base.ConfTestCase):

    def test_defaults(self):
        group = self.conf.qslm
        self.assertEqual(['admin'], group.ledger_writer_roles)
        self.assertEqual(0, group.precheck_rate_limit)
        self.assertEqual(3600, group.precheck_rate_window)

    def test_bounds(self):
        self.fixture.config(ledger_writer_roles=['service'],
                            precheck_rate_limit=1, precheck_rate_window=1,
                            group='qslm')
        self.assertEqual(['service'], self.conf.qslm.ledger_writer_roles)
        self.assertRefused(precheck_rate_limit=-1, precheck_rate_window=0)
