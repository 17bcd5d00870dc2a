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

"""Path searches as arrays over the hosts, against PathInfo per host.

The decision reads a search's arrays (reachable, bottleneck, latency,
weakest level, link pattern) for thousands of hosts at once; they must
say what :meth:`Topology.path_to` says for each host, on random clouds
with multi-homed hosts, links between hosts, islands and ties.
"""

import random

from oslotest import base

from bench import topogen
from tests.unit import fixtures as fx
from tests.unit import randomcloud as rc


class TestSearchArrays(base.BaseTestCase):

    def check(self, doc):
        topo = fx.make_topology(doc)
        nodes = list(doc['hosts']) + list(doc.get('nodes', {}))
        # Equal link sequences have one number, from any source.
        numbers = {}
        for source in list(doc['hosts'])[:5]:
            for level in range(len(topo.levels)):
                search = topo.widest_paths(source, level)
                for name in nodes:
                    path = topo.path_to(search, name)
                    self.assertEqual(path is not None, name in search)
                    i = topo.host_index.get(name)
                    if i is None:
                        continue
                    self.assertEqual(path is not None, search.reach[i])
                    if path is None or name == source:
                        continue
                    self.assertEqual(path.bottleneck_gbps,
                                     search.bottleneck_gbps[i])
                    self.assertEqual(path.rtt_ms,
                                     2.0 * search.latency_ms[i])
                    self.assertEqual(path.weakest_level, search.weakest[i])
                    seq = (path.link_levels, path.link_mechanisms)
                    self.assertEqual(seq, search.patterns[search.pattern[i]])
                    self.assertEqual(numbers.setdefault(seq,
                                                        search.pattern[i]),
                                     search.pattern[i])
                    self.assertGreaterEqual(path.weakest_level, level)

    def test_random_clouds(self):
        rng = random.Random(11)
        for _ in range(80):
            self.check(rc.random_doc(rng))

    def test_generated_clouds(self):
        for fabric in ('leaf-spine', 'fat-tree'):
            self.check(topogen.generate(150, sites=2, fabric=fabric,
                                        seed=3))
