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

"""The ``qslm-nova`` command, offline on the embedded sample cloud, and
its error handling for live clouds that cannot be used."""

import io
import json
import os
import struct
import xml.etree.ElementTree as ET

import fixtures
import testtools
import yaml

from qslm_nova import cloud
from qslm_nova.cmd import main as cli

OS_VARS = ('OS_CLOUD', 'OS_AUTH_URL', 'OS_AUTH_TYPE', 'OS_TOKEN',
           'OS_ENDPOINT', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME',
           'OS_USER_DOMAIN_NAME', 'OS_PROJECT_DOMAIN_NAME',
           'OS_REGION_NAME', 'OS_INTERFACE', 'OS_CLIENT_CONFIG_FILE')

#: Every command path, for the --help test.
COMMANDS = (['plan'], ['check'], ['migrate'], ['ledger'],
            ['ledger', 'show'], ['ledger', 'record'], ['topology'],
            ['topology', 'validate'], ['topology', 'seal'],
            ['topology', 'show'], ['topology', 'plot'], ['calibrate'])


def png_size(data):
    """(width, height) from a PNG's signature and IHDR chunk."""
    if data[:8] != b'\x89PNG\r\n\x1a\n' or data[12:16] != b'IHDR':
        raise ValueError('not a PNG')
    return struct.unpack('>II', data[16:24])


class CLITestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        for name in OS_VARS:
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        # No clouds.yaml of the developer's may leak in.
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_CONFIG_FILE', os.path.join(self.tmp, 'none.yaml')))
        self.useFixture(fixtures.EnvironmentVariable('HOME', self.tmp))

    def env(self, **values):
        for name, value in values.items():
            self.useFixture(fixtures.EnvironmentVariable(name, value))

    def run_cli(self, *argv):
        out = io.StringIO()
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        try:
            rc = cli.main(list(argv))
        except SystemExit as e:
            rc = e.code
        return rc, out.getvalue(), err.getvalue()

    def json_cli(self, *argv):
        rc, out, err = self.run_cli(*(argv + ('-f', 'json')))
        self.assertIn(rc, (0, 1), err)
        return rc, json.loads(out)


class TestOffline(CLITestCase):

    def test_plan_default_sample_table(self):
        rc, out, err = self.run_cli('plan')
        self.assertEqual(0, rc, err)
        self.assertEqual('', err)
        header = out.splitlines()[1]
        for col in cli.PLAN_COLUMNS:
            self.assertIn(col, header)
        for server in ('db-1', 'web-1', 'batch-1', 'vault-1'):
            self.assertIn('| %s ' % server, out)

    def test_plan_json_and_yaml(self):
        rc, records = self.json_cli('plan', 'db-1')
        self.assertEqual(0, rc)
        by_host = {r['host']: r for r in records}
        self.assertNotIn('compute-a1', by_host)   # the source
        self.assertTrue(by_host['compute-a2']['allowed'])
        # Over the WAN the gold VM (16 GiB, 64 MiB/s) may only converge
        # late, at Nova's largest downtime step: its worst case breaks the
        # 300 ms SLA, so it is refused with that reason.
        b1 = by_host['compute-b1']
        self.assertFalse(b1['allowed'])
        self.assertEqual('wan', b1['weakest_link'])
        self.assertEqual(300, b1['remaining_budget_ms'])
        self.assertIn('exceeds the per-migration maximum of 300 ms',
                      ' '.join(b1['reasons']))
        # The WAN is weaker than the gold flavor's 'private': a protecting
        # transport, end to end (tls) or on the WAN link (ipsec).
        self.assertIn(b1['mechanism'], ('tls', 'none (+ipsec on weak links)'))
        self.assertFalse(by_host['compute-a3']['allowed'])
        self.assertIn('not trusted', by_host['compute-a3']['reasons'][0])
        rc, out, _err = self.run_cli('plan', 'db-1', '-f', 'yaml')
        self.assertEqual(records, yaml.safe_load(out))

    def test_plan_unknown_server(self):
        rc, out, err = self.run_cli('plan', 'db-1', 'nope')
        self.assertEqual(2, rc)
        self.assertEqual('', out)
        self.assertIn("error: unknown server 'nope'", err)
        self.assertEqual(1, len(err.splitlines()))

    def test_check_exit_codes(self):
        self.assertEqual(0, self.run_cli('check', 'db-1', '--host',
                                         'compute-a2')[0])
        self.assertEqual(1, self.run_cli('check', 'db-1', '--host',
                                         'compute-a3')[0])
        self.assertEqual(2, self.run_cli('check', 'zz', '--host',
                                         'compute-a3')[0])
        rc, out, _err = self.run_cli('check', 'db-1', '--host', 'nowhere')
        self.assertEqual(1, rc)
        self.assertIn('not in the topology', out)

    def test_cloud_file_duplicate_key_names_the_file(self):
        path = os.path.join(self.tmp, 'dup.yaml')
        with open(path, 'w') as f:
            f.write('version: 1\nversion: 1\n')
        rc, _out, err = self.run_cli('plan', '--cloud', path)
        self.assertEqual(2, rc)
        self.assertIn("error: dup.yaml: line 2: duplicate key 'version'", err)

    def test_check_other_cloud_file(self):
        rc, _out, err = self.run_cli('check', 'db-1', '--host',
                                     'compute-a2', '--cloud',
                                     os.path.join(self.tmp, 'missing'))
        self.assertEqual(2, rc)
        self.assertIn('cannot read', err)

    def test_migrate_dry_run(self):
        rc, out, _err = self.run_cli('migrate', 'db-1', '--dry-run')
        self.assertEqual(0, rc)
        # The best score: the LAN neighbour compute-a2 (private links, no
        # encryption needed, ~11 s) beats the WAN move to compute-b1 with
        # TLS (~21 min, may not converge in the worst case).
        self.assertIn('dry run: would live-migrate db-1 from compute-a1 '
                      'to compute-a2 via none', out)
        rc, doc = self.json_cli('migrate', 'web-1', '--dry-run', '--host',
                                'compute-b1')
        self.assertEqual(0, rc)
        self.assertEqual('compute-b1', doc['chosen'])
        rc, out, _err = self.run_cli('migrate', 'db-1', '--dry-run',
                                     '--host', 'compute-b3')
        self.assertEqual(1, rc)
        self.assertIn('refused: db-1 may not live-migrate to compute-b3',
                      out)

    def test_migrate_needs_live_cloud(self):
        rc, out, err = self.run_cli('migrate', 'db-1')
        self.assertEqual(2, rc)
        self.assertEqual('', out)
        self.assertIn('migrate needs a live cloud', err)

    def test_ledger_show(self):
        rc, records = self.json_cli('ledger', 'show', 'db-1')
        self.assertEqual(0, rc)
        rec = records[0]
        self.assertEqual(1200, rec['used_ms'])
        self.assertEqual(300, rec['remaining_ms'])
        self.assertEqual('2026-11-10', rec['period_start'])
        self.assertEqual('2026-12-10', rec['period_end'])
        rc, out, _err = self.run_cli('ledger', 'show', 'web-1')
        self.assertEqual(0, rc)
        self.assertIn('5000', out)

    def test_ledger_record_offline_refused(self):
        rc, _out, err = self.run_cli('ledger', 'record', 'db-1',
                                     '--downtime-ms', '10')
        self.assertEqual(2, rc)
        self.assertIn('needs a live cloud', err)
        rc, _out, err = self.run_cli('ledger', 'record', 'db-1',
                                     '--downtime-ms', '-1')
        self.assertEqual(2, rc)
        self.assertIn('>= 0', err)

    def test_topology_validate(self):
        rc, out, _err = self.run_cli(
            'topology', 'validate', os.path.join(
                os.path.dirname(__file__), '..', '..', 'etc', 'qslm-nova',
                'sample-cloud.yaml'))
        # A cloud file is not a pure topology file: the extra sections
        # are reported with their place.
        self.assertEqual(2, rc)
        bad = os.path.join(self.tmp, 'bad.yaml')
        with open(bad, 'w') as f:
            yaml.safe_dump({'version': 2, 'hosts': {'h1': {'cpu_load': 3}},
                            'links': [{'between': ['h1', 'x'],
                                       'bandwidth_gbps': -1,
                                       'security': 'private'}]}, f)
        rc, out, err = self.run_cli('topology', 'validate', bad)
        self.assertEqual(2, rc)
        lines = err.splitlines()
        self.assertIn('error: bad.yaml: version: must be 1, got 2', lines)
        self.assertTrue(any('hosts.h1.cpu_load' in x for x in lines))
        self.assertTrue(any('links[0].between[1]' in x for x in lines))
        self.assertTrue(any('links[0].bandwidth_gbps' in x for x in lines))
        good = os.path.join(self.tmp, 'good.yaml')
        with open(good, 'w') as f:
            yaml.safe_dump({'version': 1, 'hosts': {'h1': {}, 'h2': {}},
                            'links': [{'between': ['h1', 'h2'],
                                       'bandwidth_gbps': 10,
                                       'security': 'private'}]}, f)
        rc, out, _err = self.run_cli('topology', 'validate', good)
        self.assertEqual(0, rc)
        self.assertIn('valid: 2 hosts, 0 other nodes, 1 links', out)

    def test_topology_seal(self):
        path = os.path.join(self.tmp, 'topology.yaml')
        text = yaml.safe_dump({'version': 1, 'hosts': {'h1': {}, 'h2': {}},
                               'links': [{'between': ['h1', 'h2'],
                                          'bandwidth_gbps': 10,
                                          'security': 'private'}]})
        with open(path, 'w') as f:
            f.write(text)
        rc, out, err = self.run_cli('topology', 'seal', path)
        self.assertEqual((0, ''), (rc, err))
        self.assertEqual('%s: sealed: 2 hosts, 1 links\n' % path, out)
        with open(path) as f:
            sealed = f.read()
        self.assertTrue(sealed.startswith(text))
        self.assertRegex(sealed[len(text):],
                         r'^# qslm-nova-seal: sha256=[0-9a-f]{64}\n$')
        rc, out, err = self.run_cli('topology', 'seal', path)
        self.assertEqual('%s: already sealed: 2 hosts, 1 links\n' % path,
                         out)
        # Edited by hand: resealed. Broken: refused, the file untouched.
        with open(path, 'w') as f:
            f.write(sealed.replace('10', '20'))
        rc, out, err = self.run_cli('topology', 'seal', path, '--output',
                                    path + '.new')
        self.assertEqual(0, rc, err)
        self.assertIn('bandwidth_gbps: 20', open(path + '.new').read())
        broken = text.replace('version: 1', 'version: 2')
        with open(path, 'w') as f:
            f.write(broken)
        rc, out, err = self.run_cli('topology', 'seal', path)
        self.assertEqual((2, 'error: topology.yaml: version: must be 1, '
                          'got 2\n'), (rc, err))
        self.assertEqual(broken, open(path).read())

    def test_topology_show(self):
        rc, out, _err = self.run_cli('topology', 'show')
        self.assertEqual(0, rc)
        for title in ('Hosts', 'Nodes', 'Links'):
            self.assertIn(title + '\n+', out)
        self.assertIn('router-a - router-b', out)
        rc, doc = self.json_cli('topology', 'show')
        self.assertEqual(6, len(doc['hosts']))
        self.assertEqual(5, len(doc['nodes']))
        self.assertEqual(10, len(doc['links']))
        wan = doc['links'][5]
        self.assertEqual(['router-a', 'router-b'], wan['between'])
        self.assertEqual('wan', wan['security'])
        self.assertEqual(['ipsec'], wan['mechanisms'])

    def test_plot_png(self):
        out = os.path.join(self.tmp, 'topo.png')
        rc, stdout, err = self.run_cli('topology', 'plot', '--out', out,
                                       '--server', 'db-1')
        self.assertEqual(0, rc, err)
        self.assertIn('wrote %s (png, 1200x800)' % out, stdout)
        with open(out, 'rb') as f:
            self.assertEqual((1200, 800), png_size(f.read()))
        rc, _o, err = self.run_cli('topology', 'plot', '--out', out,
                                   '--size', '640x480')
        self.assertEqual(0, rc, err)
        with open(out, 'rb') as f:
            self.assertEqual((640, 480), png_size(f.read()))

    def test_plot_svg(self):
        out = os.path.join(self.tmp, 'topo.svg')
        rc, _o, err = self.run_cli('topology', 'plot', '--out', out,
                                   '--server', 'vault-1', '--host',
                                   'compute-a1')
        self.assertEqual(0, rc, err)
        root = ET.parse(out).getroot()
        self.assertEqual('{http://www.w3.org/2000/svg}svg', root.tag)
        # 1200x800 px at 100 dpi = 12x8 in = 864x576 pt.
        self.assertEqual('0 0 864 576', root.get('viewBox'))
        with open(out) as f:
            text = f.read()
        self.assertIn('vault-1: compute-b1 -&gt; compute-a1', text)

    def test_plot_errors(self):
        rc, _o, err = self.run_cli('topology', 'plot', '--out',
                                   os.path.join(self.tmp, 'x.gif'))
        self.assertEqual(2, rc)
        self.assertIn("unsupported image format 'gif'", err)
        rc, _o, err = self.run_cli('topology', 'plot', '--out', 'x.png',
                                   '--size', 'big')
        self.assertEqual(2, rc)
        self.assertIn('WIDTHxHEIGHT', err)

    def test_plot_server_without_allowed_host(self):
        out = os.path.join(self.tmp, 'none.png')
        rc, _o, err = self.run_cli('topology', 'plot', '--out', out,
                                   '--server', 'vault-1', '--host',
                                   'compute-b2')
        self.assertEqual(0, rc, err)
        with open(out, 'rb') as f:
            self.assertEqual((1200, 800), png_size(f.read()))

    def test_help_of_every_command(self):
        for path in COMMANDS:
            rc, out, err = self.run_cli(*(path + ['--help']))
            self.assertEqual(0, rc, (path, err))
            self.assertIn('usage: qslm-nova %s' % ' '.join(path), out)
        rc, out, _err = self.run_cli('--help')
        self.assertEqual(0, rc)
        for cmd in ('plan', 'check', 'migrate', 'ledger', 'topology',
                    'calibrate'):
            self.assertIn(cmd, out)

    def test_unexpected_error_is_one_line(self):
        self.useFixture(fixtures.MonkeyPatch(
            'qslm_nova.cmd.main.OfflineCloud.server_names',
            lambda self: 1 / 0))
        rc, out, err = self.run_cli('plan')
        self.assertEqual(2, rc)
        self.assertEqual(1, len(err.splitlines()))
        self.assertIn('unexpected ZeroDivisionError', err)
        self.assertNotIn('Traceback', err)


class TestLiveErrors(CLITestCase):
    """Live mode failures that need no cloud: one line, exit 2."""

    def sample(self):
        return cli.cloudfile.sample_path()

    def test_live_missing_credentials(self):
        rc, out, err = self.run_cli('plan', '--live', '--topology',
                                    self.sample())
        self.assertEqual(2, rc)
        self.assertEqual('', out)
        self.assertIn('missing credentials: OS_AUTH_URL not set', err)
        self.assertEqual(1, len(err.splitlines()))

    def test_missing_plugin_option(self):
        self.env(OS_AUTH_TYPE='admin_token')
        self.env(OS_TOKEN='x')
        rc, _o, err = self.run_cli('plan', '--topology', self.sample())
        self.assertEqual(2, rc)
        self.assertIn('missing credentials: OS_ENDPOINT not set', err)

    def test_password_missing_user(self):
        self.env(OS_AUTH_URL='http://127.0.0.1:9/identity/v3')
        rc, _o, err = self.run_cli('plan', '--topology', self.sample())
        self.assertEqual(2, rc)
        self.assertTrue(err.startswith('error: '), err)
        self.assertEqual(1, len(err.splitlines()))

    def test_unknown_auth_type(self):
        self.env(OS_AUTH_TYPE='nosuch')
        rc, _o, err = self.run_cli('plan', '--topology', self.sample())
        self.assertEqual(2, rc)
        self.assertIn("unknown auth type 'nosuch'", err)

    def test_unreachable_endpoint(self):
        self.env(OS_AUTH_TYPE='admin_token',
                 OS_ENDPOINT='http://127.0.0.1:9/v2.1',
                 OS_TOKEN='secret-token')
        rc, out, err = self.run_cli('plan', 'db-1', '--topology',
                                    self.sample())
        self.assertEqual(2, rc)
        self.assertIn('error: cannot reach the cloud', err)
        self.assertIn('127.0.0.1:9', err)
        self.assertNotIn('secret-token', err)
        self.assertEqual(1, len(err.splitlines()))

    def test_unreachable_keystone(self):
        self.env(OS_AUTH_URL='http://127.0.0.1:9/v3', OS_USERNAME='u',
                 OS_PASSWORD='pw', OS_PROJECT_NAME='p',
                 OS_USER_DOMAIN_NAME='Default',
                 OS_PROJECT_DOMAIN_NAME='Default')
        rc, _o, err = self.run_cli('check', 'db-1', '--host', 'x',
                                   '--topology', self.sample())
        self.assertEqual(2, rc)
        self.assertIn('cannot reach the cloud', err)
        self.assertEqual(1, len(err.splitlines()))

    def test_missing_topology_file(self):
        self.env(OS_AUTH_TYPE='admin_token',
                 OS_ENDPOINT='http://127.0.0.1:9/v2.1', OS_TOKEN='x')
        rc, _o, err = self.run_cli('plan', '--topology',
                                   os.path.join(self.tmp, 'nope.yaml'))
        self.assertEqual(2, rc)
        self.assertIn('nope.yaml: cannot read', err)

    def test_unknown_os_cloud(self):
        path = os.path.join(self.tmp, 'clouds.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump({'clouds': {'other': {
                'auth_type': 'admin_token',
                'auth': {'endpoint': 'http://127.0.0.1:9/v2.1',
                         'token': 'x'}}}}, f)
        self.env(OS_CLIENT_CONFIG_FILE=path)
        rc, _o, err = self.run_cli('plan', '--os-cloud', 'nope',
                                   '--topology', self.sample())
        self.assertEqual(2, rc)
        self.assertIn('nope', err)
        self.assertEqual(1, len(err.splitlines()))
        rc, _o, err = self.run_cli('plan', '--os-cloud', 'other',
                                   '--topology', self.sample())
        self.assertEqual(2, rc)
        self.assertIn('cannot reach the cloud', err)

    def test_clouds_yaml_fallback_reader(self):
        path = os.path.join(self.tmp, 'clouds.yaml')
        with open(path, 'w') as f:
            yaml.safe_dump({'clouds': {'c1': {'auth': {'token': 't'}}}}, f)
        entry = cloud._clouds_yaml_entry('c1',
                                         {'OS_CLIENT_CONFIG_FILE': path})
        self.assertEqual({'auth': {'token': 't'}}, entry)
        self.assertRaises(cloud.CloudError, cloud._clouds_yaml_entry,
                          'c2', {'OS_CLIENT_CONFIG_FILE': path})

    def test_cloud_file_and_live_exclusive(self):
        rc, _o, err = self.run_cli('plan', '--cloud', self.sample(),
                                   '--live')
        self.assertEqual(2, rc)
        self.assertIn('cannot be combined', err)

    def test_cloud_file_wins_over_environment(self):
        self.env(OS_AUTH_URL='http://127.0.0.1:9/v3')
        rc, _o, err = self.run_cli('plan', '--cloud', self.sample())
        self.assertEqual(0, rc, err)

    def test_wants_live(self):
        self.assertFalse(cloud.wants_live(environ={}))
        self.assertTrue(cloud.wants_live(live=True, environ={}))
        self.assertTrue(cloud.wants_live('c', environ={}))
        self.assertTrue(cloud.wants_live(environ={'OS_AUTH_URL': 'u'}))
        self.assertFalse(cloud.wants_live(environ={'OS_USERNAME': 'u'}))


class FakeMigration:
    def __init__(self, mid, status):
        self.id = mid
        self.status = status


class FakeLive:
    """Stands in for cloud.LiveCloud in the wait loop."""

    def __init__(self, states, migrations):
        self.states = list(states)
        self.migs = list(migrations)

    def server_status(self, server_id):
        return self.states.pop(0) if len(self.states) > 1 else \
            self.states[0]

    def migration_progress(self, server_id):
        return (512 * 2 ** 20, 2048 * 2 ** 20)

    def migrations(self, server_id):
        return self.migs.pop(0) if len(self.migs) > 1 else self.migs[0]


class TestWait(testtools.TestCase):

    def test_progress_and_completion(self):
        src = FakeLive(
            [('MIGRATING', 'migrating', 'a'), ('ACTIVE', None, 'b')],
            [[FakeMigration(3, 'running')], [FakeMigration(3, 'running')],
             [FakeMigration(3, 'completed')]])
        stream = io.StringIO()
        mig, state, _secs = cli.wait_for_migration(src, 'u', 2, 5, 0.001,
                                                   stream)
        self.assertEqual('completed', mig.status)
        self.assertEqual(('ACTIVE', None, 'b'), state)
        lines = stream.getvalue().splitlines()
        self.assertIn('MIGRATING/migrating on a: memory 512/2048 MiB (25%)',
                      lines[0])
        self.assertIn('ACTIVE on b', lines[-1])

    def test_old_migrations_ignored_and_timeout(self):
        src = FakeLive([('ACTIVE', None, 'a')],
                       [[FakeMigration(2, 'completed')]])
        e = self.assertRaises(cli.exception.QSLMError,
                              cli.wait_for_migration, src, 'u', 2, 0.01,
                              0.001, io.StringIO())
        self.assertIn('timed out', str(e))
        self.assertIn('not yet recorded', str(e))
