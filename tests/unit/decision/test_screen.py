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

"""The array fast path against the full decisions, on random clouds.

The scheduler reads only ``Decisions.allowed`` and ``.score`` (numpy
arrays over the candidates) and the arrays of the path searches and
trust tables; the CLI and the API pre-check read the full Decisions.
These properties hold for random topologies and policies:

* the arrays equal the fields of the materialised Decisions;
* a candidate decided in a batch of thousands gets, field by field, the
  Decision it gets when decided alone;
* the best allowed candidate read from the arrays is the one ``max()``
  finds over the Decisions.
"""

import dataclasses
import random

from oslotest import base

from bench import topogen
from tests.unit import fixtures as fx
from tests.unit import randomcloud as rc


def fields(d):
    return dataclasses.asdict(d)


class TestDecisionsFastPath(base.BaseTestCase):

    def check(self, rng, doc, rounds=4):
        broken = rng.random() < 0.05
        topo = None if broken else fx.make_topology(doc)
        names = list(doc['hosts'])
        engine = rc.random_engine(random.Random(rng.random()), topo)
        for _ in range(rounds):
            req = rc.random_request(rng, names)
            cands = rc.random_candidates(rng, names, req.source_host)
            ds = engine.decide(req, cands)
            self.assertEqual(len(cands), len(ds))
            self.assertEqual(len(cands), len(ds.allowed))
            self.assertEqual(len(cands), len(ds.score))
            # The best allowed one, from the arrays, is max() over the
            # list (the API pre-check reads it).
            allowed = [d for d in ds if d.allowed]
            best, count = ds.best()
            self.assertEqual(len(allowed), count)
            if allowed:
                # The one rule: score, then worst-case downtime, then
                # the host name.
                want = min(allowed, key=lambda d: (
                    -d.score, d.worst_downtime_ms, d.host))
                self.assertEqual(want.host, best.host)
            else:
                self.assertIsNone(best)
            for i, host in enumerate(cands):
                d = ds[i]
                where = (req, host, d)
                self.assertEqual(host, d.host)
                # The arrays the scheduler reads are the Decision's.
                self.assertIs(d.allowed, bool(ds.allowed[i]), where)
                self.assertEqual(d.score, float(ds.score[i]), where)
                self.assertEqual(d.allowed, not d.reasons, where)
                if not d.allowed:
                    self.assertEqual(-1.0, d.score, where)
                # Built once: callers may amend it.
                self.assertIs(d, ds[i])
                # Decided alone, the same Decision.
                alone = engine.decide(req, [host])
                self.assertEqual(fields(d), fields(alone[0]), where)
                self.assertEqual(alone.score[0], ds.score[i])

    def test_random_clouds(self):
        rng = random.Random(20261127)
        for _ in range(60):
            self.check(rng, rc.random_doc(rng))

    def test_generated_cloud(self):
        rng = random.Random(5)
        doc = topogen.generate(120, sites=3, fabric='mixed', seed=5)
        for host in doc['hosts'].values():
            if host['trusted']:
                host['attested_at'] = fx.FRESH
        self.check(rng, doc, rounds=6)

    def test_sequence_behaviour(self):
        ds = fx.make_engine().decide(fx.request(), ['dst', 'far', 'ghost'])
        self.assertEqual(['dst', 'far', 'ghost'], [d.host for d in ds])
        self.assertEqual(ds[2], ds[-1])
        self.assertEqual([ds[1], ds[2]], ds[1:])
        self.assertEqual(list(ds), ds)
        self.assertRaises(IndexError, ds.__getitem__, 3)
        self.assertIn('3 hosts, 2 allowed', repr(ds))

    def test_uniform_verdicts_have_arrays(self):
        engine = fx.make_engine(fail_closed=False)
        ds = engine.decide(fx.request(source='ghost'), ['dst', 'far'])
        self.assertEqual([True, True], ds.allowed.tolist())
        self.assertEqual([0.0, 0.0], ds.score.tolist())
        self.assertEqual([True, True], [d.allowed for d in ds])
        ds = fx.make_engine().decide(
            fx.request(memory_mb=0), ['dst', 'far'])
        self.assertEqual([False, False], ds.allowed.tolist())
        self.assertEqual([-1.0, -1.0], ds.score.tolist())
