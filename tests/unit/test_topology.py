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

"""The topology file: schema errors, the graph, paths and reloads."""

import datetime
import json
import math
import os

import fixtures
from oslotest import base
import yaml

from qslm_nova import cloudfile
from qslm_nova import exception
from qslm_nova import mechanisms
from qslm_nova import topology
from tests.unit import fixtures as fx

LEVELS = 'untrusted, wan, shared, private, isolated'
MECHS = 'ipsec, none, tls, tunnelled'
LINK_KEYS = ('between, bandwidth_gbps, latency_ms, security, utilization, '
             'mechanisms')


class TestParseErrors(base.BaseTestCase):
    """Every message names the file, the entry and the field."""

    def assertErrors(self, doc, expected):
        e = self.assertRaises(exception.TopologyError, topology.parse, doc,
                              'topology.yaml')
        self.assertEqual(expected, e.errors)
        self.assertEqual('\n'.join(expected), str(e))

    def test_valid_document(self):
        topo = fx.make_topology()
        self.assertEqual('topology.yaml', topo.source)
        self.assertEqual(7, len(topo.hosts))
        self.assertEqual(9, topo.graph.number_of_edges())

    def test_negative_bandwidth(self):
        doc = fx.cloud_doc()
        doc['links'][3]['bandwidth_gbps'] = -1
        self.assertErrors(doc, [
            'topology.yaml: links[3].bandwidth_gbps: must be > 0, got -1'])

    def test_zero_bandwidth(self):
        doc = fx.cloud_doc()
        doc['links'][3]['bandwidth_gbps'] = 0
        self.assertErrors(doc, [
            'topology.yaml: links[3].bandwidth_gbps: must be > 0, got 0'])

    def test_bandwidth_not_a_number(self):
        doc = fx.cloud_doc()
        doc['links'][0]['bandwidth_gbps'] = 'fast'
        self.assertErrors(doc, [
            "topology.yaml: links[0].bandwidth_gbps: must be a number, got "
            "'fast'"])

    def test_bandwidth_infinite(self):
        doc = fx.cloud_doc()
        doc['links'][0]['bandwidth_gbps'] = math.inf
        self.assertErrors(doc, [
            'topology.yaml: links[0].bandwidth_gbps: must be finite, got '
            'inf'])

    def test_required_link_fields(self):
        doc = fx.cloud_doc()
        del doc['links'][0]['bandwidth_gbps']
        del doc['links'][0]['security']
        self.assertErrors(doc, [
            'topology.yaml: links[0].bandwidth_gbps: is required',
            'topology.yaml: links[0].security: is required'])

    def test_link_latency_and_utilization_ranges(self):
        doc = fx.cloud_doc()
        doc['links'][0]['utilization'] = 1.0
        doc['links'][0]['latency_ms'] = -2
        self.assertErrors(doc, [
            'topology.yaml: links[0].latency_ms: must be >= 0, got -2',
            'topology.yaml: links[0].utilization: must be < 1, got 1.0'])

    def test_unknown_keys(self):
        doc = fx.cloud_doc()
        doc['extra'] = 1
        doc['hosts']['src']['rack'] = 1
        doc['nodes']['tor']['ports'] = 48
        doc['links'][3]['colour'] = 'red'
        doc['mechanisms'] = {'tls': {'speed': 3}}
        self.assertErrors(doc, [
            'topology.yaml: extra: unknown key (allowed: version, '
            'security_levels, mechanisms, hosts, nodes, links)',
            'topology.yaml: mechanisms.tls.speed: unknown key (allowed: '
            'confidentiality, integrity, authentication, '
            'crypto_gbps_per_core, overhead_bytes_per_packet, '
            'handshake_rtts, buffered_mb)',
            'topology.yaml: hosts.src.rack: unknown key (allowed: site, '
            'trusted, attested_at, mechanisms, cpu_load, agent_id)',
            'topology.yaml: nodes.tor.ports: unknown key (allowed: kind, '
            'site)',
            'topology.yaml: links[3].colour: unknown key (allowed: %s)'
            % LINK_KEYS])

    def test_undefined_link_endpoint(self):
        doc = fx.cloud_doc()
        doc['links'][1]['between'] = ['dst', 'nowhere']
        self.assertErrors(doc, [
            "topology.yaml: links[1].between[1]: undefined node 'nowhere' "
            "(not in hosts or nodes)"])

    def test_both_link_endpoints_undefined(self):
        doc = fx.cloud_doc()
        doc['links'][1]['between'] = ['x', 'y']
        self.assertErrors(doc, [
            "topology.yaml: links[1].between[0]: undefined node 'x' "
            "(not in hosts or nodes)",
            "topology.yaml: links[1].between[1]: undefined node 'y' "
            "(not in hosts or nodes)"])

    def test_between_not_a_pair(self):
        doc = fx.cloud_doc()
        doc['links'][1]['between'] = ['dst']
        self.assertErrors(doc, [
            "topology.yaml: links[1].between: must be a list of two node "
            "names, got ['dst']"])

    def test_duplicate_name_host_and_node(self):
        doc = fx.cloud_doc()
        doc['nodes']['src'] = {'kind': 'switch'}
        self.assertErrors(doc, [
            "topology.yaml: nodes.src: duplicate name: 'src' is also a "
            "host"])

    def test_duplicate_link(self):
        doc = fx.cloud_doc()
        doc['links'].append(fx.link('tor', 'dst'))
        self.assertErrors(doc, [
            'topology.yaml: links[9].between: duplicate link between tor '
            'and dst'])

    def test_self_link(self):
        doc = fx.cloud_doc()
        doc['links'].append(fx.link('dst', 'dst'))
        self.assertErrors(doc, [
            "topology.yaml: links[9].between: a link must join two "
            "different nodes, got ['dst', 'dst']"])

    def test_unknown_security_level(self):
        doc = fx.cloud_doc()
        doc['links'][2]['security'] = 'secret'
        self.assertErrors(doc, [
            "topology.yaml: links[2].security: unknown security level "
            "'secret' (levels: %s)" % LEVELS])

    def test_custom_security_levels(self):
        doc = fx.cloud_doc()
        doc['security_levels'] = ['low', 'high']
        for link in doc['links']:
            link['security'] = 'high'
        doc['links'][fx.WAN_LINK]['security'] = 'low'
        topo = fx.make_topology(doc)
        self.assertEqual(('low', 'high'), topo.levels)
        self.assertEqual(0, topo.graph.adj['ra']['rb']['level'])

    def test_bad_security_levels(self):
        doc = fx.cloud_doc()
        doc['security_levels'] = 'private'
        self.assertErrors(doc, [
            "topology.yaml: security_levels: must be a non-empty list of "
            "names, weakest first, got 'private'"])

    def test_duplicate_security_level(self):
        doc = fx.cloud_doc()
        doc['security_levels'] = ['untrusted', 'wan', 'wan', 'private']
        self.assertErrors(doc, [
            'topology.yaml: security_levels: duplicate level(s): wan'])

    def test_unknown_host_mechanism(self):
        doc = fx.cloud_doc()
        doc['hosts']['src']['mechanisms'] = ['none', 'wireguard']
        self.assertErrors(doc, [
            "topology.yaml: hosts.src.mechanisms[1]: unknown mechanism "
            "'wireguard' (known: %s)" % MECHS])

    def test_unknown_link_mechanism(self):
        doc = fx.cloud_doc()
        doc['links'][fx.WAN_LINK]['mechanisms'] = ['macsec']
        self.assertErrors(doc, [
            "topology.yaml: links[6].mechanisms[0]: unknown mechanism "
            "'macsec' (known: %s)" % MECHS])

    def test_mechanisms_not_a_list(self):
        doc = fx.cloud_doc()
        doc['hosts']['src']['mechanisms'] = 'tls'
        self.assertErrors(doc, [
            "topology.yaml: hosts.src.mechanisms: must be a list of "
            "mechanism names, got 'tls'"])

    def test_custom_mechanism_becomes_known(self):
        doc = fx.cloud_doc()
        doc['mechanisms'] = {'wireguard': {
            'confidentiality': True, 'integrity': True,
            'crypto_gbps_per_core': 4, 'overhead_bytes_per_packet': 60}}
        doc['hosts']['src']['mechanisms'] = ['none', 'wireguard']
        topo = fx.make_topology(doc)
        wg = topo.mechanisms['wireguard']
        self.assertTrue(wg.protects)
        self.assertEqual(4.0, wg.crypto_gbps_per_core)
        self.assertEqual(60, wg.overhead_bytes_per_packet)
        self.assertEqual(frozenset(['none', 'wireguard']),
                         topo.hosts['src'].mechanisms)

    def test_mechanism_override_keeps_builtin_fields(self):
        doc = fx.cloud_doc()
        doc['mechanisms'] = {'tls': {'crypto_gbps_per_core': 5}}
        tls = fx.make_topology(doc).mechanisms['tls']
        self.assertEqual(5.0, tls.crypto_gbps_per_core)
        self.assertEqual(
            mechanisms.BUILTIN['tls'].overhead_bytes_per_packet,
            tls.overhead_bytes_per_packet)
        self.assertTrue(tls.confidentiality)

    def test_bad_mechanism_fields(self):
        doc = fx.cloud_doc()
        doc['mechanisms'] = {'tls': {'crypto_gbps_per_core': 0,
                                     'handshake_rtts': 1.5,
                                     'integrity': 'yes'}}
        self.assertErrors(doc, [
            "topology.yaml: mechanisms.tls.integrity: must be true or "
            "false, got 'yes'",
            'topology.yaml: mechanisms.tls.crypto_gbps_per_core: must be '
            '> 0, got 0',
            'topology.yaml: mechanisms.tls.handshake_rtts: must be a whole '
            'number, got 1.5'])

    def test_bad_attested_at(self):
        doc = fx.cloud_doc()
        doc['hosts']['src']['attested_at'] = 'yesterday'
        self.assertErrors(doc, [
            "topology.yaml: hosts.src.attested_at: must be an ISO 8601 "
            "timestamp, got 'yesterday'"])

    def test_attested_at_number(self):
        doc = fx.cloud_doc()
        doc['hosts']['src']['attested_at'] = 20261125
        self.assertErrors(doc, [
            "topology.yaml: hosts.src.attested_at: must be an ISO 8601 "
            "timestamp, got 20261125"])

    def test_attested_at_forms(self):
        doc = fx.cloud_doc()
        doc['hosts']['src']['attested_at'] = '2026-11-25T13:00:00+01:00'
        doc['hosts']['dst']['attested_at'] = '2026-11-25T12:00:00'
        doc['hosts']['far']['attested_at'] = datetime.datetime(
            2026, 11, 25, 12, 0)
        topo = fx.make_topology(doc)
        for name in ('src', 'dst', 'far'):
            self.assertEqual(fx.NOW, topo.hosts[name].attested_at, name)

    def test_bad_host_fields(self):
        doc = fx.cloud_doc()
        doc['hosts']['src']['trusted'] = 'yes'
        doc['hosts']['src']['cpu_load'] = 1
        doc['hosts']['src']['site'] = ''
        self.assertErrors(doc, [
            "topology.yaml: hosts.src.site: must be a non-empty string, "
            "got ''",
            "topology.yaml: hosts.src.trusted: must be true or false, got "
            "'yes'",
            'topology.yaml: hosts.src.cpu_load: must be < 1, got 1'])

    def test_host_not_a_mapping(self):
        doc = fx.cloud_doc()
        doc['hosts']['src'] = ['tls']
        # src is then undefined, so its link is an error too.
        self.assertErrors(doc, [
            'topology.yaml: hosts.src: must be a mapping, got list',
            "topology.yaml: links[0].between[0]: undefined node 'src' "
            "(not in hosts or nodes)"])

    def test_empty_host_entry_uses_defaults(self):
        doc = fx.cloud_doc()
        doc['hosts']['plain'] = None
        host = fx.make_topology(doc).hosts['plain']
        self.assertFalse(host.trusted)
        self.assertIsNone(host.attested_at)
        self.assertEqual(frozenset(['none']), host.mechanisms)

    def test_unknown_node_kind(self):
        doc = fx.cloud_doc()
        doc['nodes']['tor']['kind'] = 'hub'
        self.assertErrors(doc, [
            "topology.yaml: nodes.tor.kind: must be one of switch, router, "
            "gateway, site, other, got 'hub'"])

    def test_wrong_version(self):
        doc = fx.cloud_doc()
        doc['version'] = 2
        self.assertErrors(doc, ['topology.yaml: version: must be 1, got 2'])

    def test_missing_version(self):
        doc = fx.cloud_doc()
        del doc['version']
        self.assertErrors(doc, [
            'topology.yaml: version: must be 1, got None'])

    def test_version_as_string(self):
        doc = fx.cloud_doc()
        doc['version'] = '1'
        self.assertErrors(doc, [
            "topology.yaml: version: must be 1, got '1'"])

    def test_top_level_not_a_mapping(self):
        self.assertErrors([1], [
            'topology.yaml: top level must be a mapping, got list'])

    def test_empty_document(self):
        self.assertErrors({'version': 1}, [
            'topology.yaml: hosts: must be a non-empty mapping of compute '
            'hosts',
            'topology.yaml: links: must be a list of links, got None'])

    def test_all_errors_reported_together(self):
        doc = fx.cloud_doc()
        doc['version'] = 3
        doc['hosts']['src']['attested_at'] = 'soon'
        doc['hosts']['dst']['mechanisms'] = ['quantum']
        doc['nodes']['far'] = {}
        doc['links'][3]['bandwidth_gbps'] = -1
        doc['links'][4]['security'] = 'secret'
        doc['links'][5]['between'] = ['tor', 'nowhere']
        doc['links'][fx.WAN_LINK]['mechanisms'] = ['macsec']
        doc['links'][7]['colour'] = 'red'
        self.assertErrors(doc, [
            'topology.yaml: version: must be 1, got 3',
            "topology.yaml: hosts.src.attested_at: must be an ISO 8601 "
            "timestamp, got 'soon'",
            "topology.yaml: hosts.dst.mechanisms[0]: unknown mechanism "
            "'quantum' (known: %s)" % MECHS,
            "topology.yaml: nodes.far: duplicate name: 'far' is also a host",
            'topology.yaml: links[3].bandwidth_gbps: must be > 0, got -1',
            "topology.yaml: links[4].security: unknown security level "
            "'secret' (levels: %s)" % LEVELS,
            "topology.yaml: links[5].between[1]: undefined node 'nowhere' "
            "(not in hosts or nodes)",
            "topology.yaml: links[6].mechanisms[0]: unknown mechanism "
            "'macsec' (known: %s)" % MECHS,
            'topology.yaml: links[7].colour: unknown key (allowed: %s)'
            % LINK_KEYS])


class _FileTestCase(base.BaseTestCase):
    """Writes topology.yaml in a temporary directory."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'topology.yaml')

    def write(self, text, mtime=None):
        with open(self.path, 'w', encoding='utf-8') as f:
            f.write(text)
        if mtime is not None:
            os.utime(self.path, (mtime, mtime))


class TestLoad(_FileTestCase):

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


class TestStore(_FileTestCase):

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

    def test_level_name(self):
        self.assertEqual('wan', self.topo.level_name(1))
        self.assertEqual(3, self.topo.level_index['private'])

    def test_parse_timestamp(self):
        self.assertEqual(fx.NOW, topology.parse_timestamp(
            '2026-11-25T12:00:00Z'))
        self.assertRaises(ValueError, topology.parse_timestamp, 5)
        self.assertRaises(ValueError, topology.parse_timestamp, 'noon')


class TestLoadJson(_FileTestCase):
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
