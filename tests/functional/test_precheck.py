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

"""The nova-api pre-check in the real v2.1 pipeline of in-process Nova."""

import datetime
import os
from unittest import mock

import fixtures

from qslm_nova.api import body as body_mod
from qslm_nova.api import lookup
from qslm_nova.api import migration
from qslm_nova import decision
from tests.functional import base

#: Two sites joined by a WAN link; compute-b2 is not attested trusted.
TOPOLOGY = """
version: 1
security_levels: [untrusted, wan, shared, private, isolated]
mechanisms:
  tls: {crypto_gbps_per_core: 2.5, overhead_bytes_per_packet: 29,
        handshake_rtts: 2}
hosts:
  compute-a1: {site: dc-a, trusted: true, mechanisms: [none, tls]}
  compute-a2: {site: dc-a, trusted: true, mechanisms: [none, tls]}
  compute-b1: {site: dc-b, trusted: true, mechanisms: [none, tls]}
  compute-b2: {site: dc-b, trusted: false, mechanisms: [none, tls]}
nodes:
  tor-a: {kind: switch, site: dc-a}
  tor-b: {kind: switch, site: dc-b}
links:
  - {between: [compute-a1, tor-a], bandwidth_gbps: 25, latency_ms: 0.02,
     security: private}
  - {between: [compute-a2, tor-a], bandwidth_gbps: 25, latency_ms: 0.02,
     security: private}
  - {between: [compute-b1, tor-b], bandwidth_gbps: 25, latency_ms: 0.02,
     security: private}
  - {between: [compute-b2, tor-b], bandwidth_gbps: 25, latency_ms: 0.02,
     security: private}
  - {between: [tor-a, tor-b], bandwidth_gbps: 1, latency_ms: 20,
     security: wan}
"""

TRUSTED = {'qslm:require_trusted_host': 'true'}
BUDGET = {'qslm:downtime_budget_ms': '1000'}
LEDGER_USED = 'qslm:downtime_used_ms'
LEDGER_START = 'qslm:budget_period_start'


class PreCheckTestBase(base.QSLMFunctionalTestBase):

    PASTE_FILTERS = (('qslm_precheck', 'qslm_nova.api.precheck:'
                      'filter_factory', {}),)
    #: Extra specs of the flavor of self.server, booted on compute-a1;
    #: None: no server.
    SERVER_SPECS = None

    def setUp(self):
        super().setUp()
        if self.SERVER_SPECS is not None:
            self.flavor = self.create_flavor(extra_specs=self.SERVER_SPECS)
            self.server = self.boot_server('compute-a1',
                                           flavor_id=self.flavor)

    def configure(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        self.topology_path = os.path.join(tmp, 'topology.yaml')
        with open(self.topology_path, 'w') as f:
            f.write(TOPOLOGY)
        self.flags(topology_file=self.topology_path,
                   trust_providers=['static'], max_attestation_age=0,
                   group='qslm')
        base.reset_engines()
        self.addCleanup(base.reset_engines)

    def assertRefused(self, resp, *fragments):
        self.assertEqual(409, resp.status, resp.body)
        fault = resp.body['conflictingRequest']
        self.assertEqual(409, fault['code'])
        for fragment in fragments:
            self.assertIn(fragment, fault['message'])
        return fault['message']

    def audit_lines(self):
        return [line for line in self.stdlog.logger.output.splitlines()
                if 'QSLM pre-check: request' in line]


class LiveMigrationPreCheckTest(PreCheckTestBase):

    SERVER_SPECS = TRUSTED

    def test_forced_to_denied_host_refused_server_stays(self):
        resp = self.live_migrate(self.server, host='compute-b2', force=True)
        self.assertRefused(resp, self.server['id'], 'compute-b2',
                           'host compute-b2 is not trusted')
        self.assertEqual([], self.get_migrations(self.server))
        server = self.get_server(self.server)
        self.assertEqual('compute-a1', self.server_host(server))
        self.assertEqual('ACTIVE', server['status'])

    def test_forced_to_allowed_host_goes_through(self):
        server, mig, _secs = self.live_migrate_and_wait(
            self.server, host='compute-b1', force=True)
        self.assertEqual('completed', mig['status'])
        self.assertEqual('compute-b1', self.server_host(server))

    def test_not_forced_to_denied_host_refused(self):
        resp = self.live_migrate(self.server, host='compute-b2',
                                 force=False)
        self.assertRefused(resp, 'not trusted')
        # Latest microversion, no force key at all.
        resp = self.live_migrate(self.server, host='compute-b2')
        self.assertRefused(resp, 'not trusted')
        self.assertEqual([], self.get_migrations(self.server))

    def test_not_forced_to_allowed_host_goes_through(self):
        server, mig, _secs = self.live_migrate_and_wait(
            self.server, host='compute-a2')
        self.assertEqual('completed', mig['status'])
        self.assertEqual('compute-a2', self.server_host(server))

    def test_old_microversions(self):
        # 2.1: block_migration and disk_over_commit booleans, host forced.
        body = {'os-migrateLive': {'host': 'compute-b2',
                                   'block_migration': False,
                                   'disk_over_commit': False}}
        resp = self.raw_request('POST', '/servers/%s/action' %
                                self.server['id'], body, admin=True,
                                microversion='2.1')
        self.assertRefused(resp, 'not trusted')
        # 2.25: block_migration auto, string booleans.
        body = {'os-migrateLive': {'host': 'compute-b2',
                                   'block_migration': 'true'}}
        resp = self.raw_request('POST', '/servers/%s/action' %
                                self.server['id'], body, admin=True,
                                microversion='2.25')
        self.assertRefused(resp, 'not trusted')
        resp = self.live_migrate(self.server, host='compute-b2',
                                 force=True, microversion='2.30')
        self.assertRefused(resp, 'not trusted')

    def test_host_null_with_qualifying_host_goes_through(self):
        resp = self.live_migrate(self.server, host=None)
        self.assertEqual(202, resp.status, resp.body)
        mig = self.wait_for_migration(self.server)
        self.assertEqual('completed', mig['status'])
        self.wait_for_server(self.server, host=mig['dest_compute'])
        line = self.audit_lines()[-1]
        self.assertIn('allowed', line)
        self.assertIn('2 of 3 candidate hosts qualify', line)

    def test_audit_logged_with_request_user_project(self):
        resp = self.live_migrate(self.server, host='compute-b2')
        self.assertEqual(409, resp.status)
        request_id = resp.headers['x-openstack-request-id']
        lines = self.audit_lines()
        self.assertEqual(1, len(lines), lines)
        line = lines[0]
        for fragment in (request_id, self.server['id'], 'user admin',
                         'project %s' % self.api_fixture.project_id,
                         'requested host compute-b2', 'denied',
                         'not trusted', 'INFO'):
            self.assertIn(fragment, line)

    def test_audit_line_cannot_be_forged(self):
        # The caller's own values (force here; the requested host) are
        # shown escaped: no newline, NUL or escape reaches the log.
        forged = ('yes\n2026-12-03 00:00:00.000 1 INFO '
                  'qslm_nova.api.migration [-] QSLM pre-check: request '
                  'forged live migration allowed\x00\x1b[2K')
        resp = self.live_migrate(self.server, host='compute-b2',
                                 force=forged)
        self.assertEqual(409, resp.status)
        lines = self.audit_lines()
        self.assertEqual(1, len(lines), lines)
        self.assertIn('force yes\\n2026-12-03', lines[0])
        self.assertIn('\\x00\\x1b[2K candidates', lines[0])
        self.assertTrue(lines[0].isprintable(), lines[0])
        self.assertEqual(1, self.stdlog.logger.output.count('forged'))

    def test_tenant_gets_nova_403_not_a_decision(self):
        with mock.patch.object(decision.Engine, 'decide') as decide:
            for host in ('compute-b2', None):
                resp = self.live_migrate(self.server, host=host,
                                         admin=False)
                self.assertEqual(403, resp.status, resp.body)
                self.assertIn('forbidden', resp.body)
                self.assertIn('os-migrate-server:migrate_live',
                              resp.body['forbidden']['message'])
            decide.assert_not_called()
        self.assertEqual([], self.audit_lines())

    def test_unknown_server_and_host_answered_by_nova(self):
        resp = self.live_migrate({'id': 'f' * 8 + '-0000-4000-8000-' +
                                  '0' * 12}, host='compute-b2')
        self.assertEqual(404, resp.status, resp.body)
        resp = self.live_migrate(self.server, host='no-such-host')
        self.assertEqual(400, resp.status, resp.body)
        self.assertEqual([], self.audit_lines())

    def test_decision_error_refuses_protected_instance(self):
        self.flags(fail_closed=False, group='qslm')
        base.reset_engines()
        with mock.patch.object(decision.Engine, 'decide',
                               side_effect=RuntimeError('trust down')):
            resp = self.live_migrate(self.server, host='compute-b1')
        self.assertRefused(resp, 'decision could not be computed',
                           'trust down', 'requires trust or encryption')
        self.assertIn('error-denied', self.audit_lines()[-1])

    def test_rate_limit(self):
        self.flags(precheck_rate_limit=1, precheck_rate_window=600,
                   group='qslm')
        resp = self.live_migrate(self.server, host='compute-a2')
        self.assertEqual(202, resp.status, resp.body)
        self.wait_for_migration(self.server)
        self.wait_for_server(self.server, host='compute-a2')
        resp = self.live_migrate(self.server, host='compute-a1')
        self.assertEqual(429, resp.status, resp.body)
        self.assertIn('precheck_rate_limit',
                      resp.body['overLimit']['message'])
        self.assertTrue(int(resp.headers['retry-after']) > 0)


class BudgetPreCheckTest(PreCheckTestBase):
    """SLA budget exhausted: no host qualifies; failure semantics."""

    SERVER_SPECS = BUDGET

    def setUp(self):
        super().setUp()
        today = datetime.datetime.now(
            datetime.timezone.utc).date().isoformat()
        resp = self.set_metadata(self.server, {LEDGER_USED: '1000',
                                               LEDGER_START: today},
                                 admin=True)
        self.assertEqual(200, resp.status, resp.body)

    def test_host_null_no_qualifying_host(self):
        resp = self.live_migrate(self.server, host=None)
        msg = self.assertRefused(
            resp, 'none of the 3 candidate hosts qualifies',
            'host compute-a2: 0.95-confidence downtime',
            'hosts compute-b1, compute-b2: 0.95-confidence downtime',
            'exceeds the remaining SLA budget of 0 ms')
        self.assertNotIn('compute-a1', msg)  # the source is no candidate
        self.assertEqual([], self.get_migrations(self.server))

    def test_disabled_and_down_hosts_are_no_candidates(self):
        self.admin_api.put_service(
            self.admin_api.get_services(
                host='compute-b1', binary='nova-compute')[0]['id'],
            {'status': 'disabled'})
        self.computes['compute-b2'].stop()
        self.admin_api.put_service(
            self.admin_api.get_services(
                host='compute-b2', binary='nova-compute')[0]['id'],
            {'forced_down': True})
        resp = self.live_migrate(self.server, host=None)
        self.assertRefused(resp, 'none of the 1 candidate hosts',
                           'host compute-a2:')

    def test_allowed_after_admin_resets_ledger(self):
        resp = self.set_metadata(self.server, {LEDGER_USED: '0'},
                                 admin=True)
        self.assertEqual(200, resp.status, resp.body)
        server, mig, _secs = self.live_migrate_and_wait(self.server)
        self.assertEqual('completed', mig['status'])

    def test_broken_topology_refuses(self):
        with open(self.topology_path, 'w') as f:
            f.write('version: 1\nhosts: [\n')
        base.reset_engines()
        resp = self.live_migrate(self.server, host='compute-a2')
        self.assertRefused(resp, 'topology unavailable')

    def test_decision_error_follows_fail_closed(self):
        self.set_metadata(self.server, {LEDGER_USED: '0'}, admin=True)
        with mock.patch.object(decision.Engine, 'decide',
                               side_effect=RuntimeError('boom')):
            resp = self.live_migrate(self.server, host='compute-a2')
            self.assertRefused(resp, 'boom', 'fail_closed is set')
            self.flags(fail_closed=False, group='qslm')
            resp = self.live_migrate(self.server, host='compute-a2')
            self.assertEqual(202, resp.status, resp.body)
        self.assertIn('error-allowed', self.audit_lines()[-1])
        # Let the migration finish before the services stop.
        self.assertEqual('completed',
                         self.wait_for_migration(self.server)['status'])
        self.wait_for_server(self.server, host='compute-a2')

    def test_lookup_failure_never_500(self):
        with mock.patch.object(lookup, 'load_server',
                               side_effect=RuntimeError('db gone')):
            resp = self.live_migrate(self.server, host='compute-a2')
        self.assertRefused(resp, 'db gone', 'policy is unknown')
        with mock.patch.object(migration.MoveCheck, '_check_live',
                               side_effect=KeyError('bug')):
            resp = self.live_migrate(self.server, host='compute-a2')
        self.assertRefused(resp, 'could not check')


class LedgerProtectionTest(PreCheckTestBase):

    FORBIDDEN = 'Only roles in [qslm] ledger_writer_roles'
    SERVER_SPECS = {}

    def setUp(self):
        super().setUp()
        resp = self.set_metadata(self.server, {LEDGER_USED: '100',
                                               LEDGER_START: '2026-11-01'},
                                 admin=True)
        self.assertEqual(200, resp.status, resp.body)
        self.ledger = {LEDGER_USED: '100', LEDGER_START: '2026-11-01'}

    def assertForbidden(self, resp):
        self.assertEqual(403, resp.status, resp.body)
        self.assertEqual(403, resp.body['forbidden']['code'])
        self.assertIn(self.FORBIDDEN, resp.body['forbidden']['message'])

    def test_tenant_writes_refused(self):
        self.assertForbidden(self.set_metadata(
            self.server, {LEDGER_USED: '0', 'color': 'red'}))
        self.assertForbidden(self.put_metadata_item(
            self.server, LEDGER_START, '2026-12-01'))
        self.assertForbidden(self.put_metadata_item(
            self.server, 'QSLM:Downtime_Used_ms', '0'))
        self.assertForbidden(self.delete_metadata_item(
            self.server, LEDGER_USED))
        # A full replace without the ledger keys would delete them.
        self.assertForbidden(self.raw_request(
            'PUT', '/servers/%s/metadata' % self.server['id'],
            {'metadata': {'color': 'red'}}))
        self.assertEqual(self.ledger, self.get_metadata(self.server))

    def test_tenant_other_keys_pass(self):
        resp = self.set_metadata(self.server, {'color': 'red'})
        self.assertEqual(200, resp.status, resp.body)
        resp = self.put_metadata_item(self.server, 'size', 'L')
        self.assertEqual(200, resp.status, resp.body)
        resp = self.delete_metadata_item(self.server, 'size')
        self.assertEqual(204, resp.status, resp.body)
        # Full replace keeping the ledger unchanged is fine, as is a
        # merge that repeats it unchanged.
        body = dict(self.ledger, color='blue')
        resp = self.raw_request(
            'PUT', '/servers/%s/metadata' % self.server['id'],
            {'metadata': body})
        self.assertEqual(200, resp.status, resp.body)
        resp = self.set_metadata(self.server, dict(self.ledger, x='1'))
        self.assertEqual(200, resp.status, resp.body)
        self.assertEqual(dict(body, x='1'), self.get_metadata(self.server))

    def test_admin_writes_ledger(self):
        resp = self.put_metadata_item(self.server, LEDGER_USED, '250',
                                      admin=True)
        self.assertEqual(200, resp.status, resp.body)
        resp = self.delete_metadata_item(self.server, LEDGER_START,
                                         admin=True)
        self.assertEqual(204, resp.status, resp.body)
        resp = self.raw_request(
            'PUT', '/servers/%s/metadata' % self.server['id'],
            {'metadata': {'a': 'b'}}, admin=True)
        self.assertEqual(200, resp.status, resp.body)
        self.assertEqual({'a': 'b'}, self.get_metadata(self.server))

    def test_writer_role(self):
        self.flags(ledger_writer_roles=['member'], group='qslm')
        resp = self.put_metadata_item(self.server, LEDGER_USED, '0')
        self.assertEqual(200, resp.status, resp.body)
        # Roles, not Nova's is_admin flag, decide.
        resp = self.put_metadata_item(self.server, LEDGER_USED, '1',
                                      admin=True)
        self.assertEqual(200, resp.status, resp.body)
        self.flags(ledger_writer_roles=['service'], group='qslm')
        self.assertForbidden(self.put_metadata_item(
            self.server, LEDGER_USED, '2', admin=True))
        self.assertEqual('1', self.get_metadata(self.server)[LEDGER_USED])

    def test_unknown_server_answered_by_nova(self):
        resp = self.raw_request(
            'POST', '/servers/%s/metadata' % ('0' * 8 + '-0000-4000-8000-' +
                                              '0' * 12),
            {'metadata': {LEDGER_USED: '0'}})
        self.assertEqual(404, resp.status, resp.body)


class UntouchedRequestsTest(PreCheckTestBase):
    """Requests the pre-check does not act on never reach its handlers."""

    def test_other_requests_untouched(self):
        reader = body_mod.read
        with mock.patch.object(body_mod, 'read', wraps=reader) as body, \
                mock.patch.object(
                    lookup, 'load_server',
                    side_effect=AssertionError('read')) as load, \
                mock.patch.object(
                    lookup, 'load_metadata',
                    side_effect=AssertionError('read')) as meta:
            server = self.boot_server('compute-a1')
            self.assertEqual(server['id'], self.get_server(server)['id'])
            self.assertEqual(0, body.call_count)
            resp = self.raw_request('GET', '/servers/detail')
            self.assertEqual(200, resp.status)
            resp = self.raw_request(
                'PUT', '/servers/%s' % server['id'],
                {'server': {'name': 'renamed'}})
            self.assertEqual(200, resp.status, resp.body)
            self.assertEqual('renamed', resp.body['server']['name'])
            self.assertEqual(0, body.call_count)
            # A server action: the body must be read to see which one.
            resp = self.raw_request(
                'POST', '/servers/%s/action' % server['id'],
                {'os-stop': None}, admin=True)
            self.assertEqual(202, resp.status, resp.body)
            self.wait_for_server(server, status='SHUTOFF')
            self.assertEqual(1, body.call_count)
            resp = self.set_metadata(server, {'color': 'red'})
            self.assertEqual(200, resp.status, resp.body)
            resp = self.raw_request('DELETE', '/servers/%s' % server['id'])
            self.assertEqual(204, resp.status, resp.body)
        load.assert_not_called()
        meta.assert_not_called()
        self.assertEqual([], self.audit_lines())

    def test_non_migration_action_passes_decider(self):
        server = self.boot_server('compute-a1')
        with mock.patch.object(decision.Engine, 'decide') as decide:
            resp = self.raw_request(
                'POST', '/servers/%s/action' % server['id'],
                {'os-stop': None}, admin=True)
            self.assertEqual(202, resp.status, resp.body)
            resp = self.raw_request(
                'POST', '/servers/%s/action' % server['id'],
                {'os-migrateLive': 'malformed'}, admin=True)
            self.assertEqual(400, resp.status, resp.body)
        decide.assert_not_called()
