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

"""Reading topology files: YAML and JSON, the refusals, the file name.
"""

import json
import os
import random

import fixtures
import yaml

from qslm_nova import cloudfile
from qslm_nova import exception
from qslm_nova import topology
from qslm_nova.topology import reader
from qslm_nova.topology import seal
from tests.unit import fixtures as fx
from tests.unit.topology import filetest


class TestLoad(filetest.FileTestCase):

    def test_load_good_file(self):
        self.write(yaml.safe_dump(fx.cloud_doc()))
        topo = topology.load(self.path)
        self.assertEqual('topology.yaml', topo.source)
        self.assertIn('far', topo.hosts)

    def test_error_names_file_basename(self):
        doc = fx.cloud_doc()
        doc['links'][3]['bandwidth_gbps'] = -1
        self.write(yaml.safe_dump(doc))
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual(
            ['topology.yaml: links[3].bandwidth_gbps: must be > 0, got -1'],
            e.errors)

    def test_duplicate_yaml_key(self):
        self.write('version: 1\n'
                   'hosts:\n'
                   '  a: {}\n'
                   '  a: {trusted: true}\n'
                   'links: []\n')
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual(
            ["topology.yaml: line 4: duplicate key 'a' (first at line 3)"],
            e.errors)

    def test_duplicate_yaml_key_in_flow_mapping(self):
        self.write('version: 1\n'
                   'hosts:\n'
                   '  a: {trusted: true, trusted: false}\n'
                   'links: []\n')
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual(
            ["topology.yaml: line 3: duplicate key 'trusted' (first at "
             "line 3)"], e.errors)

    def test_invalid_yaml(self):
        self.write('version: 1\nhosts: [\n')
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual(1, len(e.errors))
        self.assertTrue(e.errors[0].startswith('topology.yaml: invalid '
                                               'YAML: '), e.errors)

    def test_missing_file(self):
        path = os.path.join(self.dir, 'none.yaml')
        e = self.assertRaises(exception.TopologyError, topology.load, path)
        self.assertEqual(['%s: cannot read: No such file or directory'
                          % path], e.errors)

    def test_unsafe_yaml_refused(self):
        self.write('version: !!python/object/apply:os.getcwd []\n')
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual(
            ['topology.yaml: line 1, column 10: tag tag:yaml.org,2002:python/'
             'object/apply:os.getcwd is not allowed in a topology file'],
            e.errors)

    def test_sample_cloud_topology_loads(self):
        topo = topology.load(cloudfile.sample_path(),
                             extra_keys=cloudfile.EXTRA_KEYS)
        self.assertEqual(6, len(topo.hosts))
        self.assertEqual(frozenset(['ipsec']),
                         topo.graph.adj['router-a']['router-b']['mechanisms'])

    def test_sample_cloud_needs_extra_keys(self):
        e = self.assertRaises(exception.TopologyError, topology.load,
                              cloudfile.sample_path())
        self.assertEqual(
            ['sample-cloud.yaml: %s: unknown key (allowed: version, '
             'security_levels, mechanisms, hosts, nodes, links)' % k
             for k in ('clock', 'flavors', 'servers')], e.errors)


class TestLoadJson(filetest.FileTestCase):
    """JSON is YAML too; it is read with the json module (much faster on
    large files), with the same results and the same refusals.
    """

    def test_same_topology_as_yaml(self):
        doc = fx.cloud_doc()
        self.write(yaml.safe_dump(doc))
        from_yaml = topology.load(self.path)
        self.write(json.dumps(doc, indent=1))
        from_json = topology.load(self.path)
        self.assertEqual(from_yaml.hosts, from_json.hosts)
        self.assertEqual(from_yaml.levels, from_json.levels)

        def edges(topo):
            return {(frozenset((u, v)), tuple(sorted(attrs.items())))
                    for u, v, attrs in topo.graph.edges(data=True)}
        self.assertEqual(edges(from_yaml), edges(from_json))
        self.assertEqual(len(from_yaml.graph.edges), len(edges(from_json)))

    def test_duplicate_json_key(self):
        self.write('{"version": 1, "hosts": {"a": {}, "a": {}}, '
                   '"links": []}')
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual(
            ["topology.yaml: duplicate key 'a' in a JSON object"], e.errors)

    def test_flow_style_yaml_is_still_yaml(self):
        doc = fx.cloud_doc()
        self.write(yaml.safe_dump(doc, default_flow_style=True))
        self.assertTrue(open(self.path).read().startswith('{'))
        self.assertIn('far', topology.load(self.path).hosts)

    def test_json_nan_refused(self):
        doc = fx.cloud_doc()
        doc['links'][0]['bandwidth_gbps'] = float('nan')
        self.write(json.dumps(doc))
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual(1, len(e.errors), e.errors)
        self.assertIn('links[0].bandwidth_gbps', e.errors[0])

    def test_broken_json_reported_as_invalid(self):
        self.write('{"version": 1, "hosts": {')
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertTrue(e.errors[0].startswith('topology.yaml: invalid '
                                               'YAML: '), e.errors)

    def test_not_utf8(self):
        with open(self.path, 'wb') as f:
            f.write(b'version: 1\nhosts: {\xff: {}}\n')
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertTrue(e.errors[0].startswith('topology.yaml: not UTF-8 '
                                               'text: '), e.errors)

    def test_json_does_not_go_through_yaml(self):
        self.write(json.dumps(fx.cloud_doc()))
        self.useFixture(fixtures.MockPatch(
            'yaml.load', side_effect=AssertionError('read as YAML')))
        self.assertIn('far', topology.load(self.path).hosts)


class TestLimits(filetest.FileTestCase):

    def load(self, **limits):
        return topology.load(self.path, limits=reader.Limits(**limits))

    def test_size_limit(self):
        text = yaml.safe_dump(fx.cloud_doc())
        self.write(text)
        self.assertIn('far', self.load(max_bytes=len(text)).hosts)
        e = self.assertRaises(exception.TopologyError, self.load,
                              max_bytes=len(text) - 1)
        self.assertEqual(['topology.yaml: larger than %d bytes ([qslm] '
                          'topology_max_bytes)' % (len(text) - 1)], e.errors)

    def test_yaml_depth_limit(self):
        self.write(yaml.safe_dump(fx.cloud_doc()))
        self.assertIn('far', self.load(max_depth=4).hosts)
        e = self.assertRaises(exception.TopologyError, self.load,
                              max_depth=3)
        self.assertRegex(e.errors[0], r'^topology.yaml: line \d+, column '
                         r'\d+: nested deeper than 3 levels \(\[qslm\] '
                         r'topology_max_depth\)$')

    def test_json_depth_limit_names_the_place(self):
        self.write(json.dumps(fx.cloud_doc(), indent=1))
        self.assertIn('far', self.load(max_depth=4).hosts)
        self.write('{"version": 1,\n "hosts": {"a": {"mechanisms": '
                   '[["x"]]}}}')
        e = self.assertRaises(exception.TopologyError, self.load,
                              max_depth=4)
        self.assertEqual(['topology.yaml: line 2, column 33: nested deeper '
                          'than 4 levels ([qslm] topology_max_depth)'],
                         e.errors)

    def test_json_depth_is_counted_outside_strings(self):
        rng = random.Random(3)

        def value(depth):
            r = rng.random()
            if depth > 6 or r < 0.3:
                return rng.choice(['[', '}{"', '\\', 'x\\"]', 1, None,
                                   '\u00e9]]', '"'])
            if r < 0.65:
                return [value(depth + 1) for _ in range(rng.randint(0, 3))]
            return {rng.choice(['k', '[{', '}', '"']) + str(i):
                    value(depth + 1) for i in range(rng.randint(0, 3))}

        def nesting(v):
            if isinstance(v, (list, dict)):
                items = v.values() if isinstance(v, dict) else v
                return 1 + max([nesting(x) for x in items], default=0)
            return 0

        for _ in range(500):
            doc = {'v': value(0)}
            text = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
            self.assertEqual(nesting(doc), reader._json_depth(text), text)

    def test_values_limit(self):
        self.write('version: 1\nhosts: &h {a: {}, b: {}}\n'
                   'nodes: {x: *h}\nlinks: []\n')
        e = self.assertRaises(exception.TopologyError, self.load,
                              max_values=12)
        self.assertEqual(['topology.yaml: line 3, column 12: more than 12 '
                          'values ([qslm] topology_max_values; an alias '
                          'counts as the values it stands for)'], e.errors)

    def test_json_number_too_long_for_python(self):
        # The json module refuses it; the YAML reader says why.
        self.write('{"version": 1, "x": %s}' % ('1' * 5000))
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual(['topology.yaml: line 1, column 21: a number of '
                          'more than 100 characters'], e.errors)

    def test_not_a_regular_file(self):
        # A FIFO would block the reading thread for ever; a device could
        # be read without end.
        fifo = os.path.join(self.dir, 'fifo.yaml')
        os.mkfifo(fifo)
        for path in (self.dir, fifo, '/dev/zero'):
            e = self.assertRaises(exception.TopologyError, topology.load,
                                  path)
            self.assertEqual(['%s: cannot read: not a regular file' % path],
                             e.errors)


class TestSealedFiles(filetest.FileTestCase):

    def test_sealed_yaml_and_json(self):
        for text in (yaml.safe_dump(fx.cloud_doc()),
                     json.dumps(fx.cloud_doc(), indent=1)):
            self.write(seal.seal(text.encode()).decode())
            document = reader.read(self.path, require_seal=True)
            self.assertTrue(document.sealed)
            self.assertEqual(fx.cloud_doc(), document.data)

    def test_unsealed(self):
        self.write(yaml.safe_dump(fx.cloud_doc()))
        self.assertFalse(reader.read(self.path).sealed)
        e = self.assertRaises(exception.TopologyError, reader.read,
                              self.path, require_seal=True)
        self.assertEqual(['topology.yaml: not sealed: the file has no seal '
                          'line at its end, so it may be cut short (seal it '
                          'with "qslm-nova topology seal")'], e.errors)

    def test_seal_of_other_content(self):
        sealed = seal.seal(yaml.safe_dump(fx.cloud_doc()).encode()).decode()
        self.write(sealed.replace('tor', 'tor2'))
        e = self.assertRaises(exception.TopologyError, reader.read,
                              self.path)
        self.assertEqual(['topology.yaml: the content does not match its '
                          'seal line: the file is cut short or was changed '
                          'after it was sealed (reseal it with "qslm-nova '
                          'topology seal")'], e.errors)
