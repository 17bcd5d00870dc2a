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

"""Trust answers as arrays (TrustTable) and the vectorised evaluator."""

import calendar
import datetime
import random

from oslotest import base

from qslm_nova import trust
from qslm_nova.trust import base as trust_base
from qslm_nova.trust import static
from tests.unit import fixtures as fx
from tests.unit import randomcloud as rc


class TestTrustTables(base.BaseTestCase):

    def test_static_table_matches_its_answers(self):
        rng = random.Random(3)
        for _ in range(20):
            topo = fx.make_topology(rc.random_doc(rng))
            provider = static.StaticTrustProvider(None)
            hosts = rc.random_candidates(rng, list(topo.hosts), 'h0')
            table = provider.trust_table(hosts, topo)
            expected = trust_base.TrustTable.from_states(
                provider.get_trust(hosts, topo)[h] for h in hosts)
            for name in ('trusted', 'has_time'):
                self.assertEqual(getattr(expected, name).tolist(),
                                 getattr(table, name).tolist())
            self.assertEqual(
                (expected.attested_us * expected.has_time).tolist(),
                (table.attested_us * table.has_time).tolist())
            for j, host in enumerate(hosts):
                self.assertEqual(expected.state(j), table.state(j))

    def test_microseconds_exact(self):
        when = datetime.datetime(2026, 11, 25, 11, 0, 0, 1,
                                 tzinfo=datetime.timezone.utc)
        self.assertEqual(calendar.timegm(when.utctimetuple()) * 10 ** 6 + 1,
                         trust_base.microseconds(when))

    def test_screen_and_evaluate_agree(self):
        topo = fx.make_topology()
        hosts = ['src', 'rogue', 'stale', 'ghost', 'far']
        for combination in ('all', 'first'):
            evaluator = trust.TrustEvaluator(
                [static.StaticTrustProvider(None)], combination, fx.DAY_S)
            verdicts = evaluator.screen(hosts, topo, fx.NOW)
            result = evaluator.evaluate(hosts, topo, fx.NOW)
            self.assertEqual([result[h][0] for h in hosts],
                             verdicts.ok.tolist())
            self.assertEqual([True, False, False, False, True],
                             verdicts.ok.tolist())
            self.assertEqual(result['stale'][1], verdicts.reason(2))
