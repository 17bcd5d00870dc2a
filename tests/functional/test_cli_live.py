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

"""``qslm-nova`` against in-process Nova's real API through novaclient.

The CLI builds a keystoneauth1 session from OS_* variables
(``OS_AUTH_TYPE=admin_token``: a fixed token and endpoint, the intercepted
URL of the in-process API) and talks to it with python-novaclient, exactly
as it would to a real cloud. Nova's functional fixture stubs keystone with
a context built from ``X-Auth-User`` headers; here the context is built
from the token instead, so that tokens map to an admin, a member and an
invalid user.
"""

import datetime
import io
import json
import os

import fixtures
from nova import context as nova_context
from nova.tests import fixtures as nova_fixtures
import yaml

from qslm_nova.cmd import main as cli
from qslm_nova import policy
from tests.functional import base
from tests.unit import test_cmd

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
        tmp = self.useFixture(fixtures.TempDir()).path
        self.topology = os.path.join(tmp, 'topology.yaml')
        with open(self.topology, 'w') as f:
            yaml.safe_dump(topology_doc(
                datetime.datetime.now(datetime.timezone.utc)), f)
        for name in ('OS_CLOUD', 'OS_AUTH_URL', 'OS_USERNAME',
                     'OS_PASSWORD', 'OS_PROJECT_NAME', 'OS_REGION_NAME',
                     'OS_INTERFACE'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_AUTH_TYPE', 'admin_token'))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_ENDPOINT', self.api_fixture.base_url))
        self.token = self.useFixture(fixtures.EnvironmentVariable(
            'OS_TOKEN', 'admin-token'))
        self.flavor = self.create_flavor(
            name='gold', memory_mb=1024, extra_specs={
                policy.MAX_DOWNTIME: '300',
                policy.BUDGET: '1500',
                policy.REQUIRE_TRUSTED: 'true',
            })
        self.server = self.boot_server('compute-a1', flavor_id=self.flavor,
                                       name='db-1')
        self.image_id = self.server['image']['id']

    def qslm(self, *argv, topology=True):
        argv = list(argv)
        if topology:
            argv += ['--topology', self.topology]
        out = self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                                   io.StringIO())).new_value
        err = self.useFixture(fixtures.MonkeyPatch('sys.stderr',
                                                   io.StringIO())).new_value
        rc = cli.main(argv)
        return rc, out.getvalue(), err.getvalue()

    def qslm_json(self, *argv):
        rc, out, err = self.qslm(*(argv + ('-f', 'json')))
        self.assertIn(rc, (0, 1), err)
        return rc, json.loads(out)

    def test_plan(self):
        rc, out, err = self.qslm('plan', 'db-1', '-f', 'json')
        self.assertEqual(0, rc)
        records = json.loads(out)
        # The in-process cloud has no image service behind the endpoint.
        self.assertIn('warning: image %s not read' % self.image_id, err)
        by_host = {r['host']: r for r in records}
        self.assertEqual({'compute-a2', 'compute-b1', 'compute-b2'},
                         set(by_host))
        self.assertTrue(by_host['compute-a2']['allowed'])
        self.assertEqual(['compute-a1', 'tor-a', 'compute-a2'],
                         by_host['compute-a2']['path'])
        self.assertTrue(by_host['compute-b1']['allowed'])
        self.assertEqual('wan', by_host['compute-b1']['weakest_link'])
        self.assertEqual(1500, by_host['compute-b1']['remaining_budget_ms'])
        self.assertFalse(by_host['compute-b2']['allowed'])
        self.assertIn('not trusted', by_host['compute-b2']['reasons'][0])
        # By ID too, and every ACTIVE server without arguments; table.
        rc, out, _err = self.qslm('plan')
        self.assertEqual(0, rc)
        self.assertIn('| db-1 ', out)
        self.assertIn('compute-b2', out)
        rc, records = self.qslm_json('plan', self.server['id'])
        self.assertEqual(3, len(records))

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
        self.assertEqual('tls', records[0]['mechanism'])

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
        self.assertEqual('completed', result['status'])
        self.assertEqual('compute-b1', result['host_now'])
        self.assertTrue(result['succeeded'])
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
        rc, records = self.qslm_json('ledger', 'record', 'db-1',
                                     '--downtime-ms', '120')
        self.assertEqual(0, rc)
        self.assertEqual(120, records[0]['used_ms'])
        self.assertEqual(1380, records[0]['remaining_ms'])
        meta = self.get_metadata(self.server)
        self.assertEqual('120', meta[policy.LEDGER_USED])
        self.assertEqual(today.isoformat(), meta[policy.LEDGER_START])
        self.qslm_json('ledger', 'record', 'db-1', '--downtime-ms', '80')
        rc, records = self.qslm_json('ledger', 'show', 'db-1')
        self.assertEqual(200, records[0]['used_ms'])
        self.assertEqual(1300, records[0]['remaining_ms'])
        # An expired period rolls over on the next record.
        old = (today - datetime.timedelta(days=45)).isoformat()
        self.set_metadata(self.server, {policy.LEDGER_START: old},
                          admin=True)
        rc, records = self.qslm_json('ledger', 'show', 'db-1')
        self.assertEqual(1500, records[0]['remaining_ms'])
        self.qslm_json('ledger', 'record', 'db-1', '--downtime-ms', '50')
        meta = self.get_metadata(self.server)
        self.assertEqual('50', meta[policy.LEDGER_USED])
        self.assertEqual(today.isoformat(), meta[policy.LEDGER_START])
        # The plan sees the ledger.
        rc, plan = self.qslm_json('check', 'db-1', '--host', 'compute-a2')
        self.assertEqual(1450, plan[0]['remaining_budget_ms'])

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

    def test_topology_show_live(self):
        rc, out, err = self.qslm('topology', 'show', '-f', 'json')
        self.assertEqual(0, rc, err)
        doc = json.loads(out)
        self.assertEqual(['compute-a1', 'compute-a2', 'compute-b1',
                          'compute-b2'], [h['name'] for h in doc['hosts']])
        png = os.path.join(os.path.dirname(self.topology), 'db-1.png')
        rc, out, err = self.qslm('topology', 'plot', '--out', png,
                                 '--server', 'db-1', '--host',
                                 'compute-b1', '--size', '800x600')
        self.assertEqual(0, rc, err)
        with open(png, 'rb') as f:
            self.assertEqual((800, 600), test_cmd.png_size(f.read()))
