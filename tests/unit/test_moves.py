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

"""Non-live moves are judged on host trust alone (qslm_nova.moves)."""

import testtools

from qslm_nova import exception
from qslm_nova import moves
from tests.unit import fixtures

TRUST = {'qslm:require_trusted_host': 'true'}
COLD, EVACUATION, UNSHELVE = (moves.MoveKind.COLD,
                              moves.MoveKind.EVACUATION,
                              moves.MoveKind.UNSHELVE)
HOSTS = ['dst', 'far', 'rogue', 'stale', 'unknown']


def decide(kind, source='src', engine=None, **kw):
    engine = engine or fixtures.make_engine()
    return moves.decide_move(engine, fixtures.request(source=source, **kw),
                             kind, HOSTS)


class TestDecideMove(testtools.TestCase):

    def test_destinations_must_be_trusted_and_fresh(self):
        for kind in moves.MoveKind:
            made = decide(kind, flavor=TRUST)
            self.assertEqual([True, True, False, False, False],
                             made.allowed.tolist(), kind)
            self.assertEqual([0.0, 0.0, -1.0, -1.0, -1.0],
                             made.score.tolist())
            self.assertEqual('allowed', made[0].summary)
            self.assertIn('host rogue is not trusted', made[2].reasons[0])
            self.assertIn('older than max_attestation_age',
                          made[3].reasons[0])
            self.assertIn('host unknown is not trusted', made[4].reasons[0])

    def test_source_judged_only_when_it_sends(self):
        made = decide(COLD, source='rogue', flavor=TRUST)
        self.assertFalse(made.allowed.any())
        self.assertIn('source host rogue is not trusted', made[0].reasons[0])
        for kind in (EVACUATION, UNSHELVE):
            made = decide(kind, source='rogue', flavor=TRUST)
            self.assertEqual([True, True, False, False, False],
                             made.allowed.tolist())
        made = decide(UNSHELVE, source=None, flavor=TRUST)
        self.assertTrue(made.allowed[0])

    def test_sla_link_and_mechanism_rules_do_not_apply(self):
        made = decide(COLD, flavor={'qslm:max_downtime_ms': '1',
                                    'qslm:downtime_budget_ms': '0',
                                    'qslm:min_link_security': 'isolated',
                                    'qslm:allowed_mechanisms': 'none'},
                      metadata={'qslm:downtime_used_ms': '5'})
        self.assertTrue(made.allowed.all())

    def test_metadata_tightens(self):
        made = decide(EVACUATION, metadata=TRUST)
        self.assertFalse(made.allowed[2])
        made = decide(EVACUATION, flavor=TRUST,
                      metadata={'qslm:require_trusted_host': 'false'})
        self.assertFalse(made.allowed[2])

    def test_malformed_policy_refuses_every_host(self):
        made = decide(COLD, metadata={'qslm:require_trusted_host': 'maybe'})
        self.assertFalse(made.allowed.any())
        self.assertIn('must be true or false', made[0].reasons[0])

    def test_no_topology_fails_closed_only_when_trust_is_required(self):
        def broken():
            raise exception.TopologyError(['topology.yaml: gone'])
        engine = fixtures.make_engine(broken)
        made = decide(COLD, engine=engine, flavor=TRUST)
        self.assertFalse(made.allowed.any())
        self.assertIn('topology unavailable (topology.yaml: gone)',
                      made[1].reasons[0])
        made = decide(COLD, engine=engine)
        self.assertTrue(made.allowed.all())
