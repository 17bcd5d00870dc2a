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


"""``topology validate``, ``topology seal`` and ``topology show``."""

import json
import os

import yaml

from tests.unit.cmd import base


def write(path, doc):
    with open(path, 'w') as f:
        yaml.safe_dump(doc, f)
    return path


GOOD = {'version': 1, 'hosts': {'h1': {}, 'h2': {}},
        'links': [{'between': ['h1', 'h2'], 'bandwidth_gbps': 10,
                   'security': 'private'}]}


class TestSeal(base.CLITestCase):

    def seal(self, *argv):
        rc, out, err = self.run_cli('topology', 'seal', *argv,
                                    '-f', 'json')
        return rc, json.loads(out) if out else None, err

    def test_seal_reseal_and_refuse(self):
        path = os.path.join(self.tmp, 'topology.yaml')
        text = yaml.safe_dump(GOOD)
        with open(path, 'w') as f:
            f.write(text)
        rc, doc, err = self.seal(path)
        self.assertEqual((0, ''), (rc, err))
        self.assertEqual({'File': path, 'Sealed': 'sealed', 'Hosts': 2,
                          'Links': 1}, doc)
        with open(path) as f:
            sealed = f.read()
        self.assertTrue(sealed.startswith(text))
        self.assertRegex(sealed[len(text):],
                         r'^# qslm-nova-seal: sha256=[0-9a-f]{64}\n$')
        rc, doc, err = self.seal(path)
        self.assertEqual((0, 'already sealed'), (rc, doc['Sealed']))
        # Edited by hand after sealing: sealed again, here to another file.
        with open(path, 'w') as f:
            f.write(sealed.replace('10', '20'))
        rc, doc, err = self.seal(path, '--output', path + '.new')
        self.assertEqual((0, 'sealed'), (rc, doc['Sealed']), err)
        with open(path + '.new') as f:
            self.assertIn('bandwidth_gbps: 20', f.read())
        # Invalid: refused, naming the problem; the file is untouched.
        broken = text.replace('version: 1', 'version: 2')
        with open(path, 'w') as f:
            f.write(broken)
        rc, doc, err = self.seal(path)
        self.assertEqual(2, rc)
        self.assertIn('version: must be 1, got 2', err)
        with open(path) as f:
            self.assertEqual(broken, f.read())


class TestValidate(base.CLITestCase):

    def validate(self, path):
        rc, out, err = self.run_cli('topology', 'validate', path, '-f',
                                    'json')
        return rc, json.loads(out) if out else None, err

    def test_the_shipped_files_are_valid(self):
        rc, doc, err = self.validate(base.SAMPLE)
        self.assertEqual(0, rc, err)
        self.assertEqual({'File': base.SAMPLE, 'Kind': 'cloud file',
                          'Valid': True, 'Hosts': 6, 'Other nodes': 5,
                          'Links': 10, 'Flavors': 4, 'Servers': 4,
                          'Problems': []}, doc)
        rc, doc, err = self.validate(base.TOPOLOGY_SAMPLE)
        self.assertEqual(0, rc, err)
        self.assertEqual('topology', doc['Kind'])
        self.assertIsNone(doc['Servers'])

    def test_problems_with_full_paths(self):
        bad = write(os.path.join(self.tmp, 'bad.yaml'), {
            'version': 2, 'hosts': {'h1': {'cpu_load': 30}},
            'links': [{'between': ['h1', 'x'], 'bandwidth_gbps': -1,
                       'security': 'private'}]})
        rc, doc, err = self.validate(bad)
        self.assertEqual(1, rc)
        self.assertFalse(doc['Valid'])
        self.assertIn('%s: version: must be 1, got 2' % bad,
                      doc['Problems'])
        for place in ('hosts.h1.cpu_load', 'links[0].between[1]',
                      'links[0].bandwidth_gbps'):
            self.assertTrue(any(p.startswith('%s: %s' % (bad, place))
                                for p in doc['Problems']), place)
        # Also on stderr, one "error:" line each.
        self.assertEqual(['error: ' + p for p in doc['Problems']],
                         err.splitlines())

    def test_relative_path_shown_in_full(self):
        write(os.path.join(self.tmp, 'good.yaml'), GOOD)
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(self.tmp)
        rc, doc, err = self.validate('good.yaml')
        self.assertEqual(0, rc, err)
        self.assertEqual(os.path.join(self.tmp, 'good.yaml'), doc['File'])

    def test_host_without_links_refused(self):
        doc = dict(GOOD, hosts={'h1': {}, 'h2': {}, 'lonely': {}})
        path = write(os.path.join(self.tmp, 'lonely.yaml'), doc)
        rc, out, err = self.validate(path)
        self.assertEqual(1, rc)
        self.assertEqual(['%s: hosts.lonely: has no links: no migration can '
                          'reach or leave it' % path], out['Problems'])

    def test_syntax_and_duplicate_keys_name_the_path(self):
        path = os.path.join(self.tmp, 'dup.yaml')
        with open(path, 'w') as f:
            f.write('version: 1\nversion: 1\n')
        rc, doc, err = self.validate(path)
        self.assertEqual(1, rc)
        self.assertTrue(doc['Problems'][0].startswith(path + ': line 2'))

    def test_unreadable_is_an_error(self):
        rc, out, err = self.run_cli('topology', 'validate',
                                    os.path.join(self.tmp, 'nope.yaml'))
        self.assertEqual(2, rc)
        self.assertEqual('error: %s: cannot read the file (no such file)\n'
                         % os.path.join(self.tmp, 'nope.yaml'), err)

    def test_table(self):
        rc, out, err = self.run_cli('topology', 'validate', base.SAMPLE)
        self.assertEqual(0, rc, err)
        self.assertIn('| Valid       | yes ', out)

    def test_kind_topology_refuses_a_cloud_file(self):
        rc, out, err = self.run_cli('topology', 'validate', '--kind',
                                    'topology', base.SAMPLE, '-f', 'json')
        self.assertEqual(1, rc)
        doc = json.loads(out)
        self.assertEqual('topology', doc['Kind'])
        self.assertIn('%s: clock: unknown key' % base.SAMPLE,
                      ' '.join(doc['Problems']))


class TestShow(base.CLITestCase):

    def test_hosts_with_the_decisions_trust(self):
        rc, out, err = self.run_cli('topology', 'show', '-f', 'json')
        self.assertEqual(0, rc, err)
        hosts = {h['Host']: h for h in json.loads(out)}
        self.assertEqual(6, len(hosts))
        # compute-b2 says trusted in the file, but its attestation is five
        # days old at the sample's clock: the decision does not trust it.
        self.assertIs(False, hosts['compute-b2']['Trusted'])
        self.assertIn('attestation is 448200 s old',
                      hosts['compute-b2']['Trust'])
        self.assertIs(True, hosts['compute-a1']['Trusted'])
        self.assertEqual(['none', 'tls', 'tunnelled'],
                         hosts['compute-a1']['Mechanisms'])

    def test_links_and_nodes(self):
        rc, out, err = self.run_cli('topology', 'show', '--links', '-f',
                                    'json')
        self.assertEqual(0, rc, err)
        links = json.loads(out)
        self.assertEqual(10, len(links))
        wan = links[5]
        self.assertEqual(['router-a', 'router-b'], wan['Between'])
        self.assertEqual('wan', wan['Security'])
        self.assertEqual(['ipsec'], wan['Link mechanisms'])
        self.assertEqual(20, wan['Latency ms'])
        rc, out, err = self.run_cli('topology', 'show', '--links')
        self.assertIn('| router-a - router-b ', out)
        rc, out, err = self.run_cli('topology', 'show', '--nodes', '-f',
                                    'json')
        self.assertEqual(5, len(json.loads(out)))

    def test_any_topology_file_offline(self):
        rc, out, err = self.run_cli('topology', 'show', '--topology',
                                    base.TOPOLOGY_SAMPLE, '-f', 'value',
                                    '-c', 'Host')
        self.assertEqual(0, rc, err)
        self.assertEqual(5, len(out.split()))
