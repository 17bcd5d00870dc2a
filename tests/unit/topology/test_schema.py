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

"""The schema checks: every message names the file, entry and field."""

import datetime
import math

from oslotest import base

from qslm_nova import exception
from qslm_nova import mechanisms
from qslm_nova import topology
from qslm_nova.topology import schema
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
        doc['hosts']['src']['cpu_load'] = 16.5
        doc['hosts']['src']['site'] = ''
        self.assertErrors(doc, [
            "topology.yaml: hosts.src.site: must be a non-empty string, "
            "got ''",
            "topology.yaml: hosts.src.trusted: must be true or false, got "
            "'yes'",
            'topology.yaml: hosts.src.cpu_load: must be <= 16.0, got 16.5'])

    def test_saturated_host_load(self):
        # Runnable threads per CPU: a saturated host reads above 1.
        doc = fx.cloud_doc()
        doc['hosts']['src']['cpu_load'] = 2.5
        doc['hosts']['dst']['cpu_load'] = 16
        topo = fx.make_topology(doc)
        self.assertEqual(2.5, topo.hosts['src'].cpu_load)
        self.assertEqual(16.0, topo.hosts['dst'].cpu_load)

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


class TestTimestamps(base.BaseTestCase):

    def test_parse_timestamp(self):
        self.assertEqual(fx.NOW, topology.parse_timestamp(
            '2026-11-25T12:00:00Z'))
        self.assertRaises(ValueError, topology.parse_timestamp, 5)
        self.assertRaises(ValueError, topology.parse_timestamp, 'noon')

    def test_out_of_range(self):
        # Before the first UTC datetime, and after the last.
        for text in ('0001-01-01T00:00:00+01:00',
                     '9999-12-31T23:59:59-01:00'):
            self.assertRaises(ValueError, topology.parse_timestamp, text)


class TestHostileValues(base.BaseTestCase):
    """Any value of any type or size: an error, never an exception."""

    def assertErrors(self, doc, expected):
        e = self.assertRaises(exception.TopologyError, topology.parse, doc,
                              'topology.yaml')
        self.assertEqual(expected, e.errors)

    def test_values_of_every_type_in_every_field(self):
        values = [None, True, 10 ** 400, -10 ** 400, math.nan, '', 'x' * 5000,
                  [], [[None]], {}, {'a': [1]}, datetime.date(1, 1, 1),
                  b'bytes', 1.5]
        fields = [('hosts', 'src', key) for key in schema.HOST_KEYS]
        fields += [('nodes', 'tor', key) for key in schema.NODE_KEYS]
        fields += [('links', 0, key) for key in schema.LINK_KEYS]
        fields += [('mechanisms', 'tls', key) for key in mechanisms.FIELDS]
        for value in values:
            for section, entry, key in fields:
                doc = fx.cloud_doc()
                doc.setdefault(section, {'tls': {}})[entry][key] = value
                self.check(doc)
            for key in schema.TOP_KEYS:
                doc = fx.cloud_doc()
                doc[key] = value
                self.check(doc)

    def check(self, doc):
        try:
            topo = topology.parse(doc, 'topology.yaml')
        except exception.TopologyError as e:
            for message in e.errors:
                self.assertLess(len(message), 400, message)
        else:
            self.assertEqual(7, len(topo.hosts))

    def test_long_values_are_shortened(self):
        doc = fx.cloud_doc()
        doc['hosts']['src']['site'] = ['x' * 100000] * 100000
        shown = ("['%s...%s', '%s...%s', '%s...%s', '%s...%s', '%s...%s', "
                 "'%s...%s', '%s...%s', '%s...%s', ...]"
                 % (('x' * 37, 'x' * 38) * 8))[:200] + '...'
        self.assertErrors(doc, [
            "topology.yaml: hosts.src.site: must be a non-empty string, got "
            + shown])

    def test_duplicate_host_names(self):
        doc = fx.cloud_doc()
        doc['hosts'][1] = {}
        doc['hosts']['1'] = {}
        self.assertErrors(doc, [
            "topology.yaml: hosts.1: duplicate host name '1'"])

    def test_too_many_mechanisms(self):
        doc = fx.cloud_doc()
        doc['mechanisms'] = {'m%d' % i: {} for i in range(65)}
        self.assertErrors(doc, [
            'topology.yaml: mechanisms: at most 64 mechanisms, got 65'])
        doc['mechanisms'] = {'m%d' % i: {} for i in range(64)}
        self.assertEqual(68, len(fx.make_topology(doc).mechanisms))

    def test_levels_limit(self):
        doc = fx.cloud_doc()
        doc['security_levels'] = ['l%d' % i for i in range(32)]
        for link in doc['links']:
            link['security'] = 'l31'
        self.assertEqual(32, len(fx.make_topology(doc).levels))
        doc['security_levels'].append('l32')
        self.assertErrors(doc, [
            'topology.yaml: security_levels: at most 32 levels, got 33'] + [
            "topology.yaml: links[%d].security: unknown security level "
            "'l31' (levels: untrusted, wan, shared, private, isolated)" % i
            for i in range(len(doc['links']))])
