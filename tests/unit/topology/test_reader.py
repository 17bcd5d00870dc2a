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

import fixtures
import yaml

from qslm_nova import cloudfile
from qslm_nova import exception
from qslm_nova import topology
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
        self.assertTrue(e.errors[0].startswith('topology.yaml: invalid '
                                               'YAML: '), e.errors)

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
