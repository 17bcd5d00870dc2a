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
import threading

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import yaml

from qslm_nova import conf as qslm_conf
from qslm_nova import exception
from qslm_nova import topology
from qslm_nova.topology import reader
from qslm_nova.topology import seal
from tests.unit import fixtures as fx
from tests.unit.topology import filetest


class TestStore(filetest.FileTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger())
        self.store = topology.TopologyStore(self.path)

    def good(self, mtime, bandwidth=10):
        doc = fx.cloud_doc()
        doc['links'][0]['bandwidth_gbps'] = bandwidth
        self.write(yaml.safe_dump(doc), mtime)

    def reload(self):
        """get() after a change: the last good topology at once; then
        the result of the background reload.
        """
        before = self.store.get()
        self.assertTrue(self.store.wait_for_reload(30))
        after = self.store.get()
        return before, after

    def test_unchanged_file_not_reloaded(self):
        self.good(1000000)
        first = self.store.get()
        self.assertIs(first, self.store.get())
        self.assertEqual(1, self.store.reloads)

    def test_broken_reload_keeps_last_good(self):
        self.good(1000000)
        first = self.store.get()
        self.write('version: 1\nhosts: {a: {}, a: {}}\n', 1000100)
        self.assertEqual((first, first), self.reload())
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
        before, second = self.reload()
        self.assertIs(first, before)
        self.assertIsNot(first, second)
        self.assertEqual(25.0,
                         second.graph.adj['src']['tor']['bandwidth_gbps'])
        self.assertEqual(2, self.store.reloads)

    def test_recovers_after_broken_file(self):
        self.good(1000000)
        self.store.get()
        self.write('version: 2\n', 1000100)
        self.reload()
        self.good(1000200, bandwidth=40)
        _before, topo = self.reload()
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
        self.assertEqual((first, first), self.reload())
        self.assertIn('Topology reload failed, keeping the last good '
                      'topology: %s: cannot read: No such file' % self.path,
                      self.log.output)

    def test_requests_do_not_wait_for_a_reload(self):
        self.good(1000000)
        first = self.store.get()
        started = threading.Event()
        release = threading.Event()
        read = reader.read

        def slow_read(*args, **kwargs):
            started.set()
            self.assertTrue(release.wait(30))
            return read(*args, **kwargs)

        self.useFixture(fixtures.MockPatch(
            'qslm_nova.topology.reader.read', side_effect=slow_read))
        self.good(1000100, bandwidth=25)
        self.assertIs(first, self.store.get())
        self.assertTrue(started.wait(30))
        # While the new file is read, every request gets the last good
        # topology, and no second reload starts.
        for _ in range(3):
            self.assertIs(first, self.store.get())
        self.assertFalse(self.store.wait_for_reload(0.01))
        release.set()
        self.assertTrue(self.store.wait_for_reload(30))
        self.assertEqual(
            25.0, self.store.get().graph.adj['src']['tor']['bandwidth_gbps'])
        self.assertEqual(2, self.store.reloads)

    def test_change_during_a_reload_is_loaded_too(self):
        self.good(1000000)
        self.store.get()
        read = reader.read
        calls = []

        def read_then_change(*args, **kwargs):
            document = read(*args, **kwargs)
            calls.append(1)
            if len(calls) == 1:
                # A newer file lands while this one is being checked.
                self.good(1000200, bandwidth=40)
            return document

        self.useFixture(fixtures.MockPatch(
            'qslm_nova.topology.reader.read', side_effect=read_then_change))
        self.good(1000100, bandwidth=25)
        _before, after = self.reload()
        self.assertEqual(
            40.0, after.graph.adj['src']['tor']['bandwidth_gbps'])
        self.assertEqual(2, len(calls))

    def test_unexpected_error_keeps_last_good(self):
        self.good(1000000)
        first = self.store.get()
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.topology.schema.parse',
            side_effect=RuntimeError('a bug')))
        self.good(1000100, bandwidth=25)
        self.assertEqual((first, first), self.reload())
        self.assertIn('Unexpected error loading the topology',
                      self.log.output)
        self.assertIn('Topology reload failed, keeping the last good '
                      'topology: %s: cannot load: RuntimeError' % self.path,
                      self.log.output)

    def test_first_load_error_is_raised_until_the_file_changes(self):
        self.write('version: 2\nhosts: {a: {}}\nlinks: []\n', 1000000)
        self.assertRaises(exception.TopologyError, self.store.get)
        self.assertRaises(exception.TopologyError, self.store.get)
        self.assertEqual(1, self.log.output.count('Cannot load'))
        self.good(1000100)
        self.assertIn('src', self.store.get().hosts)


class TestStoreSeal(filetest.FileTestCase):
    """Seal policies: a torn file never replaces a sealed one."""

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger())

    def text(self, bandwidth=10):
        doc = fx.cloud_doc()
        doc['links'][0]['bandwidth_gbps'] = bandwidth
        return yaml.safe_dump(doc)

    def write_sealed(self, text, mtime):
        self.write(seal.seal(text.encode()).decode(), mtime)

    def reload(self, store):
        store.get()
        self.assertTrue(store.wait_for_reload(30))
        return store.get()

    def bandwidth(self, topo):
        return topo.graph.adj['src']['tor']['bandwidth_gbps']

    def test_auto_requires_a_seal_once_one_was_seen(self):
        store = topology.TopologyStore(self.path)
        self.write(self.text(10), 1000000)
        self.assertEqual(10.0, self.bandwidth(store.get()))
        self.write(self.text(20), 1000100)
        self.assertEqual(20.0, self.bandwidth(self.reload(store)))
        self.write_sealed(self.text(30), 1000200)
        self.assertEqual(30.0, self.bandwidth(self.reload(store)))
        self.assertIn('(sealed)', self.log.output)
        # From now on an unsealed file may be a torn one.
        self.write(self.text(40), 1000300)
        self.assertEqual(30.0, self.bandwidth(self.reload(store)))
        self.assertIn('topology.yaml: not sealed', self.log.output)
        self.write_sealed(self.text(50), 1000400)
        self.assertEqual(50.0, self.bandwidth(self.reload(store)))

    def test_required(self):
        store = topology.TopologyStore(self.path,
                                       seal=seal.Policy.REQUIRED)
        self.write(self.text(10), 1000000)
        e = self.assertRaises(exception.TopologyError, store.get)
        self.assertIn('topology.yaml: not sealed', e.errors[0])
        self.write_sealed(self.text(20), 1000100)
        self.assertEqual(20.0, self.bandwidth(store.get()))

    def test_optional_reads_unsealed_after_sealed(self):
        store = topology.TopologyStore(self.path,
                                       seal=seal.Policy.OPTIONAL)
        self.write_sealed(self.text(10), 1000000)
        self.assertEqual(10.0, self.bandwidth(store.get()))
        self.write(self.text(20), 1000100)
        self.assertEqual(20.0, self.bandwidth(self.reload(store)))

    def test_a_wrong_seal_is_refused_by_every_policy(self):
        for policy in seal.Policy:
            store = topology.TopologyStore(self.path, seal=policy)
            sealed = seal.seal(self.text(10).encode()).decode()
            self.write(sealed.replace('bandwidth_gbps: 10',
                                      'bandwidth_gbps: 11'), 1000000)
            e = self.assertRaises(exception.TopologyError, store.get)
            self.assertIn('does not match its seal line', e.errors[0])

    def test_from_conf(self):
        conf = cfg.ConfigOpts()
        qslm_conf.register_opts(conf)
        fixture = self.useFixture(config_fixture.Config(conf))
        conf([], project='qslm-nova-test')
        store = topology.TopologyStore.from_conf(conf.qslm)
        self.assertEqual((reader.Limits(), seal.Policy.AUTO),
                         (store.limits, store.seal))
        fixture.config(group='qslm', topology_file=self.path,
                       topology_seal='required', topology_max_bytes=2048,
                       topology_max_depth=9, topology_max_values=5000)
        store = topology.TopologyStore.from_conf(conf.qslm)
        self.assertEqual(
            (self.path, reader.Limits(2048, 9, 5000), seal.Policy.REQUIRED),
            (store.path, store.limits, store.seal))
