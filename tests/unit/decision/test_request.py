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

"""The request of a Nova instance."""

import datetime

from oslotest import base

from tests.unit.decision.base import TRUSTED
from tests.unit import fixtures as fx


class TestRequest(base.BaseTestCase):

    def test_bad_memory_denied(self):
        engine = fx.make_engine()
        d = engine.decide(fx.request(memory_mb=0), ['dst'])[0]
        self.assertEqual(['instance memory 0 MiB is not a positive number'],
                         list(d.reasons))

    def test_now_defaults_to_current_time(self):
        engine = fx.make_engine(max_age_s=0)
        req = fx.request(flavor=TRUSTED, now=None)
        self.assertTrue(engine.decide(req, ['dst'])[0].allowed)

    def test_decisions_in_candidate_order(self):
        engine = fx.make_engine()
        hosts = ['far', 'nowhere', 'dst', 'src']
        ds = engine.decide(fx.request(), hosts)
        self.assertEqual(hosts, [d.host for d in ds])
        self.assertEqual([True, False, True, False],
                         [d.allowed for d in ds])

    def test_no_candidates(self):
        self.assertEqual([], fx.make_engine().decide(fx.request(), []))

    def test_now_in_past_still_judges_ledger(self):
        req = fx.request(
            flavor={'qslm:downtime_budget_ms': '100'},
            metadata={'qslm:downtime_used_ms': '100',
                      'qslm:budget_period_start': '2026-11-01'},
            now=datetime.datetime(2026, 11, 2, tzinfo=fx.UTC))
        d = fx.make_engine().decide(req, ['dst'])[0]
        self.assertFalse(d.allowed)
        self.assertEqual(0, d.remaining_budget_ms)
