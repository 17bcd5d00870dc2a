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

"""QSLMFilter and QSLMWeigher inside in-process Nova (issue scenarios a-g).

Four fake computes on two sites joined by a 1 Gbit/s WAN link:

    compute-a1 (trusted, none/tls) --25G private--+
    compute-a2 (UNtrusted, none/tls) --10G private-+-- tor-a -- router-a
    compute-b1 (trusted, none/tls) --25G private--+-- tor-b -- router-b
    compute-b2 (trusted, none only) --25G private-+
    router-a -- 1G wan, 20 ms -- router-b

Servers boot on compute-a1; compute-a2 is the nearest destination.
"""

import datetime
import os

import fixtures

from qslm_nova.scheduler import request as qslm_request
from tests.functional import base

NOW = datetime.datetime.now(datetime.timezone.utc)
FRESH = (NOW - datetime.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')

TOPOLOGY = """
version: 1
hosts:
  compute-a1: {site: a, trusted: true, attested_at: "%(t)s",
               mechanisms: [none, tls]}
  compute-a2: {site: a, trusted: false, mechanisms: [none, tls]}
  compute-b1: {site: b, trusted: true, attested_at: "%(t)s",
               mechanisms: [none, tls]}
  compute-b2: {site: b, trusted: true, attested_at: "%(t)s",
               mechanisms: [none]}
nodes:
  tor-a: {kind: switch, site: a}
  tor-b: {kind: switch, site: b}
  router-a: {kind: router, site: a}
  router-b: {kind: router, site: b}
links:
  - {between: [compute-a1, tor-a], bandwidth_gbps: 25, security: private}
  - {between: [compute-a2, tor-a], bandwidth_gbps: 10, security: private}
  - {between: [compute-b1, tor-b], bandwidth_gbps: 25, security: private}
  - {between: [compute-b2, tor-b], bandwidth_gbps: 25, security: private}
  - {between: [tor-a, router-a], bandwidth_gbps: 100, security: private}
  - {between: [tor-b, router-b], bandwidth_gbps: 100, security: private}
  - {between: [router-a, router-b], bandwidth_gbps: 1, latency_ms: 20,
     security: wan}
""" % {'t': FRESH}


class QSLMSchedulerTestBase(base.QSLMFunctionalTestBase):
    EXTRA_FILTERS = ('qslm_nova.scheduler.filters.QSLMFilter',)
    EXTRA_WEIGHERS = ('qslm_nova.scheduler.weights.QSLMWeigher',)
    TOPOLOGY = TOPOLOGY

    def configure(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        self.topology_path = os.path.join(tmp, 'topology.yaml')
        with open(self.topology_path, 'w') as f:
            f.write(self.TOPOLOGY)
        self.flags(topology_file=self.topology_path, group='qslm')
        self.qslm_log = self.useFixture(fixtures.FakeLogger(
            name='qslm_nova', level='DEBUG'))

    def boot(self, extra_specs=None, host='compute-a1'):
        flavor = self.create_flavor(extra_specs=extra_specs)
        return self.boot_server(host, flavor_id=flavor)

    def assert_stayed(self, server, migration, source='compute-a1'):
        self.assertEqual('error', migration['status'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual(source, self.server_host(server))

    def assert_moved(self, server, migration, dest):
        self.assertEqual('completed', migration['status'])
        self.assertEqual(dest, migration['dest_compute'])
        self.assertEqual(dest, self.server_host(server))


class TestSchedulerPicks(QSLMSchedulerTestBase):

    def test_a_lands_only_on_allowed_host(self):
        # Unencrypted and private links only: only compute-a2 qualifies.
        server = self.boot({'qslm:min_link_security': 'private',
                            'qslm:allowed_mechanisms': 'none'})
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assert_moved(server, mig, 'compute-a2')
        self.assertIn('compute-b1 fails QSLM', self.qslm_log.output)
        self.assertIn('compute-b2 fails QSLM', self.qslm_log.output)

    def test_a_weigher_picks_the_best_host(self):
        # Everything is allowed; the LAN neighbour has the largest margin.
        server = self.boot()
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assert_moved(server, mig, 'compute-a2')
        self.assertNotIn('fails QSLM', self.qslm_log.output)

    def test_a_weigher_follows_the_margin_across_retries(self):
        # When the best host fails Nova's destination pre-check the
        # conductor retries with it in ignore_hosts; QSLM then ranks the
        # remaining allowed hosts.
        self.fail_live_migration_precheck('compute-a2')
        server = self.boot()
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assertEqual('completed', mig['status'])
        self.assertIn(mig['dest_compute'], ('compute-b1', 'compute-b2'))

    def test_c_trusted_flavor_never_lands_on_untrusted_host(self):
        server = self.boot({'qslm:require_trusted_host': 'true'})
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assertEqual('completed', mig['status'])
        self.assertNotEqual('compute-a2', mig['dest_compute'])
        self.assertIn('compute-a2 fails QSLM', self.qslm_log.output)
        self.assertIn('is not trusted', self.qslm_log.output)

    def test_all_hosts_removed_logs_one_warning(self):
        server = self.boot({'qslm:max_downtime_ms': '1'})
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assert_stayed(server, mig)
        warnings = [line for line in self.qslm_log.output.splitlines()
                    if 'QSLM removed all' in line]
        self.assertEqual(1, len(warnings), self.qslm_log.output)
        self.assertIn(server['id'], warnings[0])
        self.assertIn('per-migration maximum of 1 ms', warnings[0])


class TestRequestedHost(QSLMSchedulerTestBase):

    def test_b_requested_denied_host_fails_server_stays(self):
        server = self.boot({'qslm:require_trusted_host': 'true'})
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-a2')
        self.assert_stayed(server, mig)

    def test_b_requested_allowed_host(self):
        server = self.boot({'qslm:require_trusted_host': 'true'})
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-b1')
        self.assert_moved(server, mig, 'compute-b1')

    def test_c_forced_migration_bypasses_the_scheduler(self):
        # What the API pre-check is for: the filter never sees this one.
        server = self.boot({'qslm:require_trusted_host': 'true'})
        server, mig, _t = self.live_migrate_and_wait(
            server, host='compute-a2', force=True)
        self.assert_moved(server, mig, 'compute-a2')

    def test_d_wan_refused_without_mechanism(self):
        server = self.boot({'qslm:min_link_security': 'private'})
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-b2')
        self.assert_stayed(server, mig)
        self.assertIn('crosses links weaker than the required private',
                      self.qslm_log.output)

    def test_d_wan_allowed_when_both_hosts_support_tls(self):
        server = self.boot({'qslm:min_link_security': 'private'})
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-b1')
        self.assert_moved(server, mig, 'compute-b1')

    def test_e_budget_too_small_refused(self):
        server = self.boot({'qslm:downtime_budget_ms': '10'})
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-a2')
        self.assert_stayed(server, mig)
        self.assertIn('exceeds the remaining SLA budget of 10 ms',
                      self.qslm_log.output)

    def test_e_budget_big_enough_allowed(self):
        server = self.boot({'qslm:downtime_budget_ms': '5000',
                            'qslm:max_downtime_ms': '1000'})
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-a2')
        self.assert_moved(server, mig, 'compute-a2')

    def test_e_spent_ledger_refuses(self):
        flavor = self.create_flavor(
            extra_specs={'qslm:downtime_budget_ms': '5000'})
        server = self.boot_server('compute-a1', flavor_id=flavor)
        today = NOW.date().isoformat()
        self.assertEqual(200, self.set_metadata(
            server, {'qslm:downtime_used_ms': '4990',
                     'qslm:budget_period_start': today},
            admin=True).status)
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-a2')
        self.assert_stayed(server, mig)

    def test_tenant_metadata_tightens(self):
        server = self.boot()
        self.set_metadata(server, {'qslm:require_trusted_host': 'true'})
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-a2')
        self.assert_stayed(server, mig)


class TestOtherOperationsUntouched(QSLMSchedulerTestBase):
    DENY_ALL = {'qslm:max_downtime_ms': '1',
                'qslm:require_trusted_host': 'true'}

    def test_f_boot_cold_migrate_resize_unaffected(self):
        # Boots are never judged; cold moves only with check_non_live_moves
        # (see test_security_moves for the judged ones).
        self.flags(check_non_live_moves=False, group='qslm')
        flavor = self.create_flavor(extra_specs=self.DENY_ALL)
        server = self.boot_server('compute-a2', flavor_id=flavor)
        # Cold migration.
        self.admin_api.post_server_action(server['id'], {'migrate': None})
        server = self._wait_for_state_change(server, 'VERIFY_RESIZE')
        self.assertNotEqual('compute-a2', self.server_host(server))
        self.admin_api.post_server_action(server['id'],
                                          {'confirmResize': None})
        server = self._wait_for_state_change(server, 'ACTIVE')
        # Resize to another deny-all flavor.
        bigger = self.create_flavor(extra_specs=self.DENY_ALL,
                                    memory_mb=2048)
        self.admin_api.post_server_action(
            server['id'], {'resize': {'flavorRef': bigger}})
        server = self._wait_for_state_change(server, 'VERIFY_RESIZE')
        self.assertNotIn('fails QSLM', self.qslm_log.output)

    def test_cold_migration_checked_when_configured(self):
        self.flags(apply_to_cold_migrations=True, group='qslm')
        flavor = self.create_flavor(extra_specs=self.DENY_ALL)
        server = self.boot_server('compute-a1', flavor_id=flavor)
        self.admin_api.post_server_action(server['id'], {'migrate': None})
        server = self._wait_for_server_parameter(
            server, {'status': 'ACTIVE',
                     'OS-EXT-STS:task_state': None})
        self.assertEqual('compute-a1', self.server_host(server))
        self.assertIn('QSLM removed all', self.qslm_log.output)


class TestExtraSpecValidation(QSLMSchedulerTestBase):

    def _set(self, flavor, key, value):
        return self.raw_request(
            'POST', '/flavors/%s/os-extra_specs' % flavor,
            {'extra_specs': {key: value}}, admin=True, microversion='2.86')

    def test_g_malformed_extra_specs_refused(self):
        flavor = self.create_flavor()
        for key, value in (('qslm:max_downtime_ms', 'abc'),
                           ('qslm:max_downtime_ms', '0'),
                           ('qslm:require_trusted_host', 'maybe'),
                           ('qslm:dirty_rate_mibps', 'fast'),
                           ('qslm:allowed_mechanisms', 'tls;ssh'),
                           ('qslm:no_such_key', '1')):
            resp = self._set(flavor, key, value)
            self.assertEqual(400, resp.status, (key, value, resp.body))

    def test_g_valid_extra_specs_accepted(self):
        flavor = self.create_flavor()
        for key, value in (('qslm:max_downtime_ms', '300'),
                           ('qslm:require_trusted_host', 'true'),
                           ('qslm:dirty_rate_mibps', '12.5'),
                           ('qslm:allowed_mechanisms', 'tls,ssh'),
                           ('qslm:min_link_security', 'private')):
            resp = self._set(flavor, key, value)
            self.assertEqual(200, resp.status, (key, value, resp.body))

    def test_malformed_spec_set_before_validation_denies_cleanly(self):
        # Flavors created before validation (or with an old microversion)
        # may still carry bad values: the filter refuses with the reason
        # instead of crashing the scheduler.
        flavor = self.create_flavor()
        resp = self.raw_request(
            'POST', '/flavors/%s/os-extra_specs' % flavor,
            {'extra_specs': {'qslm:max_downtime_ms': 'abc'}}, admin=True,
            microversion='2.85')
        self.assertEqual(200, resp.status, resp.body)
        server = self.boot_server('compute-a1', flavor_id=flavor)
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-a2')
        self.assert_stayed(server, mig)
        self.assertIn("flavor extra spec qslm:max_downtime_ms: must be an "
                      "integer from 1 to 2147483647, got 'abc'",
                      self.qslm_log.output)


class TestOnePassPerRequest(QSLMSchedulerTestBase):

    def test_instance_looked_up_once_per_request(self):
        calls = []
        real = qslm_request._lookup_instance

        def spy(spec_obj):
            calls.append(spec_obj.instance_uuid)
            return real(spec_obj)

        self.useFixture(fixtures.MonkeyPatch(
            'qslm_nova.scheduler.request._lookup_instance', spy))
        server = self.boot()
        calls.clear()
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assertEqual('completed', mig['status'])
        # Filter and weigher of the one request share one look-up.
        self.assertEqual([server['id']], calls)
