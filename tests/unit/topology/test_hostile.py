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

"""Hostile and broken topology files (issue 15, item 4).

Each file below once crashed the process (SIGSEGV), hung it for minutes,
or escaped as TypeError, OverflowError, ValueError or RecursionError, and
then the store dropped its last good topology. Now each is the project's
own TopologyError naming the file and the place, and the store keeps the
last good topology.
"""

import ddt
import fixtures
import yaml

from qslm_nova import exception
from qslm_nova import topology
from tests.unit import fixtures as fx
from tests.unit.topology import filetest

BASE = ('version: 1\n'
        'hosts: {a: {}, b: {}}\n'
        'nodes: {s: {}}\n'
        'links:\n'
        '- {between: [a, s], bandwidth_gbps: 10, security: private}\n'
        '- {between: [b, s], bandwidth_gbps: 10, security: private}\n')


def _laughs(target):
    lines = ['version: 1',
             'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]']
    for i in range(1, 10):
        lines.append('a%d: &a%d [%s]' % (i, i, ', '.join(
            ['*a%d' % (i - 1)] * 9)))
    lines.append('%s: *a9' % target)
    return '\n'.join(lines) + '\n'


def _json(bandwidth):
    return ('{"version": 1, "hosts": {"a": {}, "b": {}}, "links": '
            '[{"between": ["a", "b"], "bandwidth_gbps": %s, '
            '"security": "private"}]}' % bandwidth)


CASES = {
    'nested_brackets': (
        'version: 1\nhosts: ' + '[' * 50000 + '\n',
        'line 2, column 39: nested deeper than 32 levels ([qslm] '
        'topology_max_depth)'),
    'nested_json': (
        '{"version": 1, "hosts": ' + '[' * 100000 + ']' * 100000 + '}',
        'line 1, column 56: nested deeper than 32 levels ([qslm] '
        'topology_max_depth)'),
    'billion_laughs': (
        _laughs('security_levels'),
        'line 8, column 45: more than 5000000 values ([qslm] '
        'topology_max_values; an alias counts as the values it stands '
        'for)'),
    'mechanism_not_a_name': (
        BASE.replace('b: {}', 'b: {mechanisms: [[none]]}'),
        "hosts.b.mechanisms[0]: must be a mechanism name, got ['none']"),
    'bandwidth_too_large_for_a_float': (
        _json('1' + '0' * 400),
        'links[0].bandwidth_gbps: must be finite, got 100000000000000000...'
        '0000000000000000000'),
    'bandwidth_of_400_digits_in_yaml': (
        BASE.replace('bandwidth_gbps: 10, security: private}\n- {between: '
                     '[b', 'bandwidth_gbps: 1%s, security: private}\n- '
                     '{between: [b' % ('0' * 400)),
        'line 5, column 37: a number of more than 100 characters'),
    'attested_before_the_first_utc_day': (
        BASE.replace('a: {}', 'a: {attested_at: "0001-01-01T00:00:00+01:00"}'),
        "hosts.a.attested_at: must be an ISO 8601 timestamp, got "
        "'0001-01-01T00:00:00+01:00'"),
    'complex_key': (
        BASE + '? [a]\n: 1\n',
        'line 7, column 3: a mapping key must be a plain value, not a '
        'list'),
    'date_that_does_not_exist': (
        BASE.replace('a: {}', 'a: {attested_at: 2026-13-45}'),
        "line 2, column 26: cannot read '2026-13-45' as timestamp: month "
        "must be in 1..12"),
    'sexagesimal_number': (
        BASE.replace('bandwidth_gbps: 10', 'bandwidth_gbps: 1' + ':1' * 4000,
                     1),
        'line 5, column 37: a number of more than 100 characters'),
    'too_many_levels': (
        'version: 1\nsecurity_levels: [%s]\nhosts: {a: {}}\nlinks: []\n'
        % ', '.join('l%d' % i for i in range(60000)),
        'security_levels: at most 32 levels, got 60000'),
    'recursive_alias': (
        BASE + 'x: &x [*x]\n', 'line 7, column 8: alias *x is recursive'),
    'python_tag': (
        BASE.replace('version: 1', 'version: !!python/object/apply:os.exit '
                     '[1]'),
        'line 1, column 10: tag tag:yaml.org,2002:python/object/apply:'
        'os.exit is not allowed in a topology file'),
    'huge_key': (
        '{"version": 1, "hosts": {"a": {"%s": 1}}, "links": []}'
        % ('k' * 1000000),
        "hosts.a.'%s...%s': unknown key (allowed: site, trusted, "
        "attested_at, mechanisms, cpu_load, agent_id)" % ('k' * 37, 'k' * 38)),
}


@ddt.ddt
class TestHostileFiles(filetest.FileTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger())

    @ddt.data(*sorted(CASES))
    def test_refused_with_its_place(self, name):
        text, error = CASES[name]
        self.write(text)
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual('topology.yaml: ' + error, e.errors[0])

    @ddt.data(*sorted(CASES))
    def test_store_keeps_the_last_good_topology(self, name):
        store = topology.TopologyStore(self.path)
        self.write(yaml.safe_dump(fx.cloud_doc()), 1000000)
        good = store.get()
        self.write(CASES[name][0], 1000100)
        self.assertIs(good, store.get())
        self.assertTrue(store.wait_for_reload(60))
        self.assertIs(good, store.get())
        self.assertIn('Topology reload failed, keeping the last good '
                      'topology: topology.yaml: ' + CASES[name][1],
                      self.log.output)

    def test_many_errors_are_cut_short(self):
        # Links with an unknown level each: every message listed all the
        # levels, and there was no bound on either.
        levels = ', '.join('level%d' % i for i in range(32))
        links = ', '.join(['{between: [a, b], bandwidth_gbps: 1, '
                           'security: x}'] * 2000)
        self.write('version: 1\nsecurity_levels: [%s]\nhosts: {a: {}, '
                   'b: {}}\nlinks: [%s]\n' % (levels, links))
        e = self.assertRaises(exception.TopologyError, topology.load,
                              self.path)
        self.assertEqual(201, len(e.errors))
        for i in range(200):
            self.assertEqual("topology.yaml: links[%d].security: unknown "
                             "security level 'x' (levels: level0, level1, "
                             "level2, level3, level4, level5, level6, "
                             "level7, level8, level9, level10, ...)" % i,
                             e.errors[i])
        self.assertEqual('topology.yaml: 1800 more errors not shown',
                         e.errors[-1])
