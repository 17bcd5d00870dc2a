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


"""A live cloud that cannot be used: one line, status 2.

Credentials come through openstacksdk's config loader (clouds.yaml,
secure.yaml, ``--os-*``, ``OS_*``) and keystoneauth1; nova.conf is read
by default in live mode, as nova-scheduler reads it.
"""

import os

import fixtures
import yaml

from tests.unit.cmd import base

UNREACHABLE = 'http://127.0.0.1:9'
PASSWORD_ENV = dict(OS_AUTH_URL=UNREACHABLE + '/v3', OS_USERNAME='u',
                    OS_PASSWORD='pw', OS_PROJECT_NAME='p',
                    OS_USER_DOMAIN_NAME='Default',
                    OS_PROJECT_DOMAIN_NAME='Default')


class TestCredentials(base.CLITestCase):

    def assert_error(self, rc, err, text):
        self.assertEqual(2, rc, err)
        self.assertIn(text, err)
        self.assertEqual(1, len(err.splitlines()), err)

    def test_openstack_qslm_without_credentials(self):
        rc, out, err = self.run_osc('qslm', 'plan')
        self.assertEqual('', out)
        self.assert_error(rc, err, 'error: Missing value auth-url required '
                          'for auth plugin password')

    def test_qslm_nova_without_credentials_is_offline(self):
        rc, out, err = self.run_cli('plan', '-f', 'value', '-c', 'Server')
        self.assertEqual(0, rc, err)
        self.assertEqual({'batch-1', 'db-1', 'vault-1', 'web-1'},
                         set(out.split()))

    def test_password_missing(self):
        env = dict(PASSWORD_ENV)
        del env['OS_PASSWORD']
        self.env(**env)
        rc, out, err = self.run_cli('plan', '--topology', base.SAMPLE)
        self.assert_error(rc, err, 'No password entered, or found via '
                          '--os-password or OS_PASSWORD')

    def test_plugin_option_missing(self):
        self.env(OS_AUTH_TYPE='admin_token', OS_TOKEN='x')
        rc, _o, err = self.run_cli('plan', '--topology', base.SAMPLE)
        self.assert_error(rc, err, 'missing credentials for auth type '
                          'admin_token')
        self.assertIn('--os-endpoint', err)

    def test_unknown_auth_type(self):
        self.env(OS_AUTH_TYPE='nosuch')
        rc, _o, err = self.run_cli('plan', '--topology', base.SAMPLE)
        self.assert_error(rc, err, "unknown auth type 'nosuch'")

    def test_unreachable_endpoint(self):
        self.env(OS_AUTH_TYPE='admin_token', OS_ENDPOINT=UNREACHABLE + '/v2.1',
                 OS_TOKEN='secret-token')
        rc, out, err = self.run_cli('plan', 'db-1', '--topology',
                                    base.SAMPLE)
        self.assert_error(rc, err, 'error: cannot reach the cloud: '
                          'http://127.0.0.1:9/v2.1/servers')
        self.assertIn('(Connection refused)', err)
        self.assertNotIn('secret-token', err)

    def test_unreachable_keystone_options_after_command(self):
        rc, _o, err = self.run_cli(
            'check', 'db-1', '--host', 'x', '--topology', base.SAMPLE,
            '--os-auth-url', UNREACHABLE + '/v3', '--os-username', 'u',
            '--os-password', 'pw', '--os-project-name', 'p',
            '--os-user-domain-name', 'Default',
            '--os-project-domain-name', 'Default')
        self.assert_error(rc, err, 'cannot reach the cloud: '
                          'http://127.0.0.1:9/v3')

    def test_unknown_os_cloud(self):
        self.write_clouds({'other': {'auth_type': 'admin_token', 'auth': {
            'endpoint': UNREACHABLE + '/v2.1', 'token': 'x'}}})
        rc, _o, err = self.run_cli('--os-cloud', 'nope', 'plan')
        self.assertEqual(2, rc)
        self.assertIn('nope', err)
        rc, _o, err = self.run_cli('plan', '--os-cloud', 'other',
                                   '--topology', base.SAMPLE)
        self.assert_error(rc, err, 'cannot reach the cloud')

    def write_clouds(self, clouds, secure=None):
        with open(os.path.join(self.tmp, 'clouds.yaml'), 'w') as f:
            yaml.safe_dump({'clouds': clouds}, f)
        if secure is not None:
            with open(os.path.join(self.tmp, 'secure.yaml'), 'w') as f:
                yaml.safe_dump({'clouds': secure}, f)

    def test_password_from_secure_yaml(self):
        auth = {'auth_url': UNREACHABLE + '/v3', 'username': 'u',
                'project_name': 'p', 'user_domain_name': 'Default',
                'project_domain_name': 'Default'}
        self.write_clouds({'c': {'auth': auth}})
        rc, _o, err = self.run_cli('plan', '--os-cloud', 'c', '--topology',
                                   base.SAMPLE)
        self.assert_error(rc, err, 'No password entered')
        self.write_clouds({'c': {'auth': auth}},
                          {'c': {'auth': {'password': 'pw'}}})
        rc, _o, err = self.run_cli('plan', '--os-cloud', 'c', '--topology',
                                   base.SAMPLE)
        self.assert_error(rc, err, 'cannot reach the cloud: '
                          'http://127.0.0.1:9/v3')


class TestNovaConf(base.CLITestCase):
    """Live, the [qslm] options are nova.conf's unless --config-file."""

    def setUp(self):
        super().setUp()
        self.env(**PASSWORD_ENV)
        self.topology = os.path.join(self.tmp, 'from-nova-conf.yaml')
        with open(os.path.join(self.tmp, 'nova.conf'), 'w') as f:
            f.write('[qslm]\ntopology_file = %s\n'
                    'sla_estimate = expected\n' % self.topology)

    def test_read_by_default(self):
        rc, _o, err = self.run_cli('plan')
        self.assertEqual(2, rc)
        self.assertIn('%s: cannot read' % os.path.basename(self.topology),
                      err)

    def test_config_file_replaces_it(self):
        other = os.path.join(self.tmp, 'other.conf')
        with open(other, 'w') as f:
            f.write('[qslm]\ntopology_file = /nowhere/else.yaml\n')
        rc, _o, err = self.run_cli('plan', '--config-file', other)
        self.assertEqual(2, rc)
        self.assertIn('else.yaml: cannot read', err)
        rc, _o, err = self.run_cli('plan', '--config-file',
                                   os.path.join(self.tmp, 'none.conf'))
        self.assertEqual(2, rc)
        self.assertIn('configuration file not found: ', err)

    def test_config_file_before_the_command(self):
        # As nova-manage: qslm-nova --config-file FILE COMMAND.
        other = os.path.join(self.tmp, 'other.conf')
        with open(other, 'w') as f:
            f.write('[qslm]\ntopology_file = /nowhere/else.yaml\n')
        rc, _o, err = self.run_cli('--config-file', other, 'plan')
        self.assertEqual(2, rc)
        self.assertIn('else.yaml: cannot read', err)

    def test_unreadable_is_a_warning(self):
        real_access = os.access
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.osc.source.os.access',
            side_effect=lambda p, m: (not p.endswith('nova.conf') and
                                      real_access(p, m))))
        rc, _o, err = self.run_cli('plan', '--topology', base.SAMPLE)
        self.assertIn('warning: cannot read %s (permission denied)'
                      % os.path.join(self.tmp, 'nova.conf'), err)

    def test_not_read_offline(self):
        for name in PASSWORD_ENV:
            self.useFixture(fixtures.EnvironmentVariable(name))
        with open(os.path.join(self.tmp, 'nova.conf'), 'w') as f:
            f.write('[qslm]\nsla_estimate = bogus\n')
        rc, _o, err = self.run_cli('plan')
        self.assertEqual(0, rc, err)
