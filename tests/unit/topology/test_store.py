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

"""The store: reloads of a changed file, the last good topology kept."""

import os

import fixtures
import yaml

from qslm_nova import exception
from qslm_nova import topology
from tests.unit import fixtures as fx
from tests.unit.topology import filetest


class TestStore(filetest.FileTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='qslm_nova.topology'))
        self.store = topology.TopologyStore(self.path)

    def good(self, mtime, bandwidth=10):
        doc = fx.cloud_doc()
        doc['links'][0]['bandwidth_gbps'] = bandwidth
        self.write(yaml.safe_dump(doc), mtime)

    def test_unchanged_file_not_reloaded(self):
        self.good(1000000)
        first = self.store.get()
        self.assertIs(first, self.store.get())
        self.assertEqual(1, self.store.reloads)

    def test_broken_reload_keeps_last_good(self):
        self.good(1000000)
        first = self.store.get()
        self.write('version: 1\nhosts: {a: {}, a: {}}\n', 1000100)
        self.assertIs(first, self.store.get())
        self.assertIs(first, self.store.get())
        self.assertEqual(1, self.store.reloads)
        self.assertIn('Topology reload failed, keeping the last good '
                      'topology: topology.yaml: line 2: duplicate key',
                      self.log.output)
        self.assertEqual(1, self.log.output.count('reload failed'))

    def test_good_change_picked_up(self):
        self.good(1000000)
        first = self.store.get()
        self.assertEqual(10.0, first.graph.adj['src']['tor']['bandwidth_gbps'])
        self.good(1000200, bandwidth=25)
        second = self.store.get()
        self.assertIsNot(first, second)
        self.assertEqual(25.0,
                         second.graph.adj['src']['tor']['bandwidth_gbps'])
        self.assertEqual(2, self.store.reloads)

    def test_recovers_after_broken_file(self):
        self.good(1000000)
        self.store.get()
        self.write('version: 2\n', 1000100)
        self.store.get()
        self.good(1000200, bandwidth=40)
        topo = self.store.get()
        self.assertEqual(40.0, topo.graph.adj['src']['tor']['bandwidth_gbps'])

    def test_no_good_topology_raises(self):
        self.write('version: 2\nhosts: {a: {}}\nlinks: []\n', 1000000)
        e = self.assertRaises(exception.TopologyError, self.store.get)
        self.assertEqual(['topology.yaml: version: must be 1, got 2'],
                         e.errors)
        self.assertIn('Cannot load the topology', self.log.output)

    def test_missing_then_created(self):
        self.assertRaises(exception.TopologyError, self.store.get)
        self.good(1000000)
        self.assertIn('src', self.store.get().hosts)

    def test_deleted_file_keeps_last_good(self):
        self.good(1000000)
        first = self.store.get()
        os.unlink(self.path)
        self.assertIs(first, self.store.get())
