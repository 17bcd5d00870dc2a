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

"""Widest paths: bottleneck, latency ties, minimum level, islands."""

from oslotest import base

from tests.unit import fixtures as fx


class TestPaths(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.topo = fx.make_topology()

    def test_path_to_far(self):
        search = self.topo.widest_paths('src')
        path = self.topo.path_to(search, 'far')
        self.assertEqual(('src', 'tor', 'ra', 'rb', 'far'), path.nodes)
        self.assertEqual(1.0, path.bottleneck_gbps)
        self.assertAlmostEqual(2 * 5.15, path.rtt_ms)
        self.assertEqual(1, path.weakest_level)
        self.assertEqual((3, 3, 1, 3), path.link_levels)
        self.assertEqual(frozenset(['ipsec']), path.link_mechanisms[2])

    def test_min_level_excludes_weak_links(self):
        search = self.topo.widest_paths('src', 3)
        self.assertIsNone(self.topo.path_to(search, 'far'))
        self.assertEqual(('src', 'tor', 'dst'),
                         self.topo.path_to(search, 'dst').nodes)

    def test_utilization_reduces_available_bandwidth(self):
        doc = fx.cloud_doc()
        doc['links'][0]['utilization'] = 0.25
        topo = fx.make_topology(doc)
        path = topo.path_to(topo.widest_paths('src'), 'dst')
        self.assertEqual(7.5, path.bottleneck_gbps)

    def test_tie_broken_by_latency(self):
        doc = {'version': 1, 'hosts': {'s': {}, 'd': {}},
               'nodes': {'slow': {}, 'fast': {}},
               'links': [fx.link('s', 'slow', latency_ms=5),
                         fx.link('slow', 'd', latency_ms=5),
                         fx.link('s', 'fast', latency_ms=1),
                         fx.link('fast', 'd', latency_ms=1)]}
        topo = fx.make_topology(doc)
        path = topo.path_to(topo.widest_paths('s'), 'd')
        self.assertEqual(('s', 'fast', 'd'), path.nodes)
        self.assertEqual(4.0, path.rtt_ms)

    def test_unreachable(self):
        doc = fx.cloud_doc()
        doc['hosts']['island'] = {}
        topo = fx.make_topology(doc)
        self.assertIsNone(topo.path_to(topo.widest_paths('src'), 'island'))
