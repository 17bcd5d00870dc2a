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

"""``qslm-nova`` and ``openstack qslm`` against in-process Nova's real API.

The commands build a keystoneauth1 session with openstacksdk's config
loader from OS_* variables or clouds.yaml + secure.yaml
(``admin_token``: a fixed token and endpoint, the intercepted URL of the
in-process API) and talk to it with python-novaclient, exactly as they
would to a real cloud. Nova's functional fixture stubs keystone with
a context built from ``X-Auth-User`` headers; here the context is built
from the token instead, so that tokens map to an admin, a member and an
invalid user.
"""

import datetime
import json
import os

import fixtures
from nova import context as nova_context
from nova.tests import fixtures as nova_fixtures
import yaml

from qslm_nova.cmd import main as qslm_main
from qslm_nova import policy
from tests.functional import base
from tests.unit.cmd import base as cmd_base

TOKENS = {
    'admin-token': ('admin', ['reader', 'member', 'admin']),
    'member-token': ('fake', ['reader', 'member']),
}


def token_context(env, **kwargs):
    """Context from X-Auth-Token (CLI) or X-Auth-User (test clients)."""
    token = env.get('HTTP_X_AUTH_TOKEN')
    if token is None and 'HTTP_X_AUTH_USER' in env:
        user = env['HTTP_X_AUTH_USER']
        return nova_context.RequestContext(
            user, env['HTTP_X_AUTH_PROJECT_ID'], is_admin=user == 'admin',
            roles=env['HTTP_X_ROLES'].split(','), **kwargs)
    if token not in TOKENS:
        # user_id None: NovaKeystoneContext answers 401.
        return nova_context.RequestContext(None, None, **kwargs)
    user, roles = TOKENS[token]
    return nova_context.RequestContext(
        user, nova_fixtures.PROJECT_ID, is_admin='admin' in roles,
        roles=roles, **kwargs)


def topology_doc(now):
    stamp = now.strftime('%Y-%m-%dT%H:%M:%SZ')
    return {
        'version': 1,
        'mechanisms': {'tls': {'crypto_gbps_per_core': 2.5}},
        'hosts': {
            'compute-a1': {'site': 'dc-a', 'trusted': True,
                           'attested_at': stamp,
                           'mechanisms': ['none', 'tls']},
            'compute-a2': {'site': 'dc-a', 'trusted': True,
                           'attested_at': stamp,
                           'mechanisms': ['none', 'tls']},
            'compute-b1': {'site': 'dc-b', 'trusted': True,
                           'attested_at': stamp,
                           'mechanisms': ['none', 'tls']},
            'compute-b2': {'site': 'dc-b', 'trusted': False,
                           'mechanisms': ['none']},
        },
        'nodes': {'tor-a': {'kind': 'switch', 'site': 'dc-a'},
                  'tor-b': {'kind': 'switch', 'site': 'dc-b'}},
        'links': [
            {'between': ['compute-a1', 'tor-a'], 'bandwidth_gbps': 25,
             'security': 'private'},
            {'between': ['compute-a2', 'tor-a'], 'bandwidth_gbps': 25,
             'security': 'private'},
            {'between': ['tor-a', 'tor-b'], 'bandwidth_gbps': 10,
             'latency_ms': 1, 'security': 'wan'},
            {'between': ['compute-b1', 'tor-b'], 'bandwidth_gbps': 25,
             'security': 'private'},
            {'between': ['compute-b2', 'tor-b'], 'bandwidth_gbps': 25,
             'security': 'private'},
        ],
    }


class CLILiveTest(base.QSLMFunctionalTestBase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.api.auth.NovaKeystoneContext._create_context',
            token_context))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.topology = os.path.join(self.tmp, 'topology.yaml')
        with open(self.topology, 'w') as f:
            yaml.safe_dump(topology_doc(
                datetime.datetime.now(datetime.timezone.utc)), f)
        for name in cmd_base.OS_VARS:
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.useFixture(fixtures.EnvironmentVariable('HOME', self.tmp))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_CONFIG_FILE', os.path.join(self.tmp, 'clouds.yaml')))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_SECURE_FILE', os.path.join(self.tmp, 'secure.yaml')))
        # nova.conf as nova-scheduler would find it: none unless written.
        self.nova_conf = os.path.join(self.tmp, 'nova.conf')
        self.useFixture(fixtures.MockPatch(
            'oslo_config.cfg.find_config_files',
            side_effect=lambda *a, **k: [self.nova_conf]
            if os.path.exists(self.nova_conf) else []))
        self.useFixture(fixtures.MockPatch(
            'oslo_config.cfg.find_config_dirs', return_value=[]))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_AUTH_TYPE', 'admin_token'))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_ENDPOINT', self.api_fixture.base_url))
        self.useFixture(fixtures.EnvironmentVariable('OS_TOKEN',
                                                     'admin-token'))
        self.flavor = self.create_flavor(
            name='gold', memory_mb=1024, extra_specs={
                policy.MAX_DOWNTIME: '300',
                policy.BUDGET: '1500',
                policy.REQUIRE_TRUSTED: 'true',
            })
        self.server = self.boot_server('compute-a1', flavor_id=self.flavor,
                                       name='db-1')
        self.image_id = self.server['image']['id']

    def run_main(self, main, argv):
        out = self.useFixture(fixtures.MonkeyPatch(
            'sys.stdout', cmd_base.Stream())).new_value
        err = self.useFixture(fixtures.MonkeyPatch(
            'sys.stderr', cmd_base.Stream())).new_value
        try:
            rc = main(argv)
        except SystemExit as e:
            rc = e.code
        return rc, out.getvalue(), err.getvalue()

    def qslm(self, *argv, topology=True):
        argv = list(argv)
        if topology:
            argv += ['--topology', self.topology]
        return self.run_main(qslm_main.main, argv)

    def openstack(self, *argv):
        from openstackclient import shell as osc_shell
        return self.run_main(osc_shell.main, ['qslm'] + list(argv) + [
            '--topology', self.topology])

    def qslm_json(self, *argv):
        rc, out, err = self.qslm(*(argv + ('-f', 'json')))
        self.assertIn(rc, (0, 1), err)
        return rc, json.loads(out)

    def test_plan(self):
        rc, out, err = self.qslm('plan', 'db-1', '-f', 'json', '--long')
        self.assertEqual(0, rc, err)
        records = json.loads(out)
        # The in-process cloud has no image service behind the endpoint.
        self.assertIn('warning: image %s not read' % self.image_id, err)
        by_host = {r['Host']: r for r in records}
        self.assertEqual({'compute-a2', 'compute-b1', 'compute-b2'},
                         set(by_host))
        self.assertTrue(by_host['compute-a2']['Allowed'])
        self.assertEqual(['compute-a1', 'tor-a', 'compute-a2'],
                         by_host['compute-a2']['Path'])
        self.assertTrue(by_host['compute-b1']['Allowed'])
        self.assertEqual('wan', by_host['compute-b1']['Weakest link'])
        self.assertEqual(1500, by_host['compute-b1']['Budget left ms'])
        self.assertFalse(by_host['compute-b2']['Allowed'])
        self.assertIn('not trusted', by_host['compute-b2']['Reasons'][0])
        # By ID too, and every ACTIVE server without arguments; table.
        rc, out, _err = self.qslm('plan')
        self.assertEqual(0, rc)
        self.assertIn('| db-1 ', out)
        self.assertIn('compute-b2', out)
        rc, records = self.qslm_json('plan', self.server['id'])
        self.assertEqual(3, len(records))
        rc, records = self.qslm_json('plan', '--best', '1')
        self.assertEqual(1, len(records))

    def test_openstack_qslm(self):
        rc, out, err = self.openstack('plan', 'db-1', '-f', 'json')
        self.assertEqual(0, rc, err)
        rc, own = self.qslm_json('plan', 'db-1')
        self.assertEqual(own, json.loads(out))
        rc, out, err = self.openstack('check', 'db-1', '--host',
                                      'compute-b2')
        self.assertEqual(1, rc, err)
        rc, out, err = self.openstack('check', 'db-1', '--host', 'nosuch')
        self.assertEqual(2, rc, err)
        self.assertIn("unknown host 'nosuch': not a nova-compute host", err)

    def test_clouds_yaml_with_secure_yaml(self):
        for name in ('OS_AUTH_TYPE', 'OS_ENDPOINT', 'OS_TOKEN'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        with open(os.path.join(self.tmp, 'clouds.yaml'), 'w') as f:
            yaml.safe_dump({'clouds': {'test': {
                'auth_type': 'admin_token',
                'auth': {'endpoint': self.api_fixture.base_url}}}}, f)
        with open(os.path.join(self.tmp, 'secure.yaml'), 'w') as f:
            yaml.safe_dump({'clouds': {'test': {
                'auth': {'token': 'admin-token'}}}}, f)
        rc, out, err = self.qslm('check', 'db-1', '--host', 'compute-b1',
                                 '--os-cloud', 'test')
        self.assertEqual(0, rc, err)
        self.assertIn('| db-1 ', out)

    def test_nova_conf_read_by_default(self):
        with open(self.nova_conf, 'w') as f:
            f.write('[qslm]\ntopology_file = %s\n' % self.topology)
        rc, out, err = self.qslm('check', 'db-1', '--host', 'compute-b1',
                                 topology=False)
        self.assertEqual(0, rc, err)
        os.unlink(self.nova_conf)
        rc, out, err = self.qslm('check', 'db-1', '--host', 'compute-b1',
                                 topology=False)
        self.assertEqual(2, rc, err)
        self.assertIn('topology.yaml: cannot read', err)

    def assert_check(self, host, expected_rc, text):
        rc, out, err = self.qslm('check', 'db-1', '--host', host)
        self.assertEqual(expected_rc, rc, err)
        self.assertIn(text, out)

    def test_image_properties_tighten(self):
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.cloud.LiveCloud.image_properties',
            return_value={policy.REQUIRE_ENCRYPTION: 'true'}))
        rc, records = self.qslm_json('check', 'db-1', '--host',
                                     'compute-a2')
        self.assertEqual(0, rc)
        self.assertEqual('tls', records[0]['Mechanism'])

    def test_check_exit_codes(self):
        self.assert_check('compute-b1', 0, 'yes')
        self.assert_check('compute-b2', 1, 'not trusted')
        # Disabled service: not a candidate, whatever the topology says.
        self.admin_api.put_service(
            self.admin_api.get_services(
                host='compute-a2', binary='nova-compute')[0]['id'],
            {'status': 'disabled'})
        self.assert_check('compute-a2', 1,
                          'not an enabled, up nova-compute')
        rc, out, err = self.qslm('check', 'nope', '--host', 'compute-b1')
        self.assertEqual(2, rc)
        self.assertEqual("error: unknown server 'nope'\n", err)
        self.assertEqual('', out)
        rc, out, err = self.qslm('check', 'db-1', '--host', 'nosuch')
        self.assertEqual(2, rc)

    def test_migrate_dry_run_and_denied(self):
        rc, out, _err = self.qslm('migrate', 'db-1', '--dry-run')
        self.assertEqual(0, rc)
        self.assertIn('dry run: would live-migrate db-1 from compute-a1 to',
                      out)
        rc, out, _err = self.qslm('migrate', 'db-1', '--host',
                                  'compute-b2')
        self.assertEqual(1, rc)
        self.assertIn('refused: db-1 may not live-migrate to compute-b2',
                      out)
        self.assertEqual([], self.get_migrations(self.server))
        self.assertEqual('compute-a1',
                         self.server_host(self.get_server(self.server)))

    def test_migrate(self):
        rc, out, err = self.qslm('migrate', 'db-1', '--host', 'compute-b1',
                                 '--poll-interval', '0.05', '--timeout',
                                 '30', '-f', 'json')
        self.assertEqual(0, rc, err)
        result = json.loads(out)[0]
        self.assertEqual('completed', result['Status'])
        self.assertEqual('compute-b1', result['Host now'])
        self.assertIs(True, result['Succeeded'])
        self.assertIn('live-migrating db-1 from compute-a1 to compute-b1',
                      err)
        server = self.wait_for_server(self.server, host='compute-b1')
        self.assertEqual('ACTIVE', server['status'])
        migs = self.get_migrations(self.server)
        self.assertEqual(1, len(migs))
        self.assertEqual('compute-b1', migs[0]['dest_compute'])
        # Best host when none is given: from compute-b1 only compute-b2
        # (untrusted) and the dc-a hosts remain; it picks an allowed one.
        rc, out, err = self.qslm('migrate', 'db-1', '--poll-interval',
                                 '0.05')
        self.assertEqual(0, rc, err)
        host = self.server_host(self.get_server(self.server))
        self.assertIn(host, ('compute-a1', 'compute-a2'))
        self.assertIn('completed', out)

    def test_ledger_record_and_show(self):
        today = datetime.datetime.now(datetime.timezone.utc).date()
        rc, record = self.qslm_json('ledger', 'record', 'db-1',
                                    '--downtime-ms', '120')
        self.assertEqual(0, rc)
        self.assertEqual(120, record['Used ms'])
        self.assertEqual(1380, record['Remaining ms'])
        meta = self.get_metadata(self.server)
        self.assertEqual('120', meta[policy.LEDGER_USED])
        self.assertEqual(today.isoformat(), meta[policy.LEDGER_START])
        self.qslm_json('ledger', 'record', 'db-1', '--downtime-ms', '80')
        rc, record = self.qslm_json('ledger', 'show', 'db-1')
        self.assertEqual(200, record['Used ms'])
        self.assertEqual(1300, record['Remaining ms'])
        # An expired period rolls over on the next record.
        old = (today - datetime.timedelta(days=45)).isoformat()
        self.set_metadata(self.server, {policy.LEDGER_START: old},
                          admin=True)
        rc, record = self.qslm_json('ledger', 'show', 'db-1')
        self.assertEqual(1500, record['Remaining ms'])
        self.qslm_json('ledger', 'record', 'db-1', '--downtime-ms', '50')
        meta = self.get_metadata(self.server)
        self.assertEqual('50', meta[policy.LEDGER_USED])
        self.assertEqual(today.isoformat(), meta[policy.LEDGER_START])
        # The plan sees the ledger.
        rc, plan = self.qslm_json('check', 'db-1', '--host', 'compute-a2',
                                  '--long')
        self.assertEqual(1450, plan[0]['Budget left ms'])

    def test_auth_errors(self):
        self.useFixture(fixtures.EnvironmentVariable('OS_TOKEN',
                                                     'member-token'))
        rc, out, err = self.qslm('plan', 'db-1')
        self.assertEqual(2, rc)
        self.assertIn('permission denied (HTTP 403)', err)
        self.assertEqual(1, len(err.splitlines()))
        self.useFixture(fixtures.EnvironmentVariable('OS_TOKEN', 'bogus'))
        rc, out, err = self.qslm('plan', 'db-1')
        self.assertEqual(2, rc)
        self.assertIn('authentication failed (HTTP 401)', err)
        self.assertEqual(1, len(err.splitlines()))

    def test_topology_show_and_plot_live(self):
        rc, out, err = self.qslm('topology', 'show', '-f', 'json')
        self.assertEqual(0, rc, err)
        doc = json.loads(out)
        self.assertEqual(['compute-a1', 'compute-a2', 'compute-b1',
                          'compute-b2'], [h['Host'] for h in doc])
        png = os.path.join(self.tmp, 'db-1.png')
        rc, out, err = self.qslm('topology', 'plot', '--out', png,
                                 '--server', 'db-1', '--host',
                                 'compute-b1', '--size', '800x600')
        self.assertEqual(0, rc, err)
        with open(png, 'rb') as f:
            self.assertEqual((800, 600), cmd_base.png_size(f.read()))
