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

"""Security matrix: moves through the scheduler that are not live.

A cold migration, a resize and an unshelve of an instance that requires
trusted hosts only land on trusted hosts (QSLMFilter, ``[qslm]
check_non_live_moves``). Only the untrusted compute-b2 is left as a
destination, so a judged move finds no valid host and the instance stays
where Nova's records say it was.
"""

from tests.functional import security_base as sb


class ScheduledMovesTest(sb.SecurityTestBase):

    def setUp(self):
        super().setUp()
        self.disable('compute-a2', 'compute-b1')

    def wait_for_failed_move(self, migration_type):
        return self.wait_until(
            lambda: [m for m in self.migrations_of(
                migration_type=migration_type)
                if m['status'] in ('error', 'failed')],
            '%s record in error' % migration_type)[0]

    def test_cold_migration_and_resize_judged(self):
        for body, version in (({'migrate': None}, '2.1'),
                              ({'migrate': {'host': sb.UNTRUSTED}}, '2.56'),
                              ({'resize': {'flavorRef': self.create_flavor(
                                  extra_specs=sb.TRUSTED, memory_mb=2048)}},
                               '2.1')):
            status, body = self.wsgi('POST', self.action_path(), body,
                                     microversion=version)
            self.assertEqual(202, status, body)
            self.wait_until(lambda: len(self.migrations_of(
                migration_type='migration')) and all(
                    m['status'] == 'error' for m in self.migrations_of(
                        migration_type='migration')), 'migration in error')
            server = self.wait_for_server(self.server)
            self.assertEqual(self.SERVER_HOST, self.server_host(server))
        self.assertIn('QSLM removed all 1 candidate hosts for the cold '
                      'migration/resize of instance %s from compute-a1'
                      % self.server['id'], self.stdlog.logger.output)

    def test_unshelve_judged(self):
        self.flags(shelved_offload_time=-1)
        self.admin_api.post_server_action(self.server['id'], {'shelve': {}})
        self._wait_for_state_change(self.server, 'SHELVED')
        self.admin_api.post_server_action(self.server['id'],
                                          {'shelveOffload': {}})
        self._wait_for_state_change(self.server, 'SHELVED_OFFLOADED')
        # compute-a1 is trusted and would take it: disable it too, so
        # that the untrusted host is the only choice.
        self.disable('compute-a1')
        status, body = self.wsgi('POST', self.action_path(),
                                 {'unshelve': None}, microversion='2.77')
        self.assertEqual(202, status, body)
        self.wait_until(lambda: 'QSLM removed all 1 candidate hosts for the '
                        'unshelve' in self.stdlog.logger.output,
                        'unshelve judged')
        server = self._wait_for_state_change(self.server,
                                             'SHELVED_OFFLOADED')
        self.assertIsNone(self.server_host(server))

    def test_option_off_lets_them_pass(self):
        self.flags(check_non_live_moves=False, group='qslm')
        status, body = self.wsgi('POST', self.action_path(),
                                 {'migrate': {'host': sb.UNTRUSTED}},
                                 microversion='2.56')
        self.assertEqual(202, status, body)
        server = self._wait_for_state_change(self.server, 'VERIFY_RESIZE')
        self.assertEqual(sb.UNTRUSTED, self.server_host(server))

    def test_trusted_destination_goes_through(self):
        self.enable('compute-b1')
        status, body = self.wsgi('POST', self.action_path(),
                                 {'migrate': None}, microversion='2.1')
        self.assertEqual(202, status, body)
        server = self._wait_for_state_change(self.server, 'VERIFY_RESIZE')
        self.assertEqual('compute-b1', self.server_host(server))

    def enable(self, host):
        service = self.admin_api.get_services(host=host,
                                              binary='nova-compute')[0]
        self.admin_api.put_service(service['id'], {'status': 'enabled'})
