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

"""Smoke test of the functional base with a trivial filter and paste
filter: proves filters, forced migrations and the API pipeline hook work
the way the QSLM filter and pre-check will rely on."""

from oslo_log import log as logging

from tests.functional import base
from tests.functional import fake_filter

LOG = logging.getLogger(__name__)

FILTER = fake_filter.RejectHostsFilter
PASTE = fake_filter.RecordingPasteFilter
WEIGHER = fake_filter.PreferHostsWeigher


class SmokeTest(base.QSLMFunctionalTestBase):

    EXTRA_FILTERS = ('tests.functional.fake_filter.RejectHostsFilter',)
    EXTRA_WEIGHERS = ('tests.functional.fake_filter.PreferHostsWeigher',)
    PASTE_FILTERS = (
        ('qslm_recorder',
         'tests.functional.fake_filter:RecordingPasteFilter.factory',
         {'marker': 'smoke'}),
    )

    def setUp(self):
        for cls in (FILTER, PASTE, WEIGHER):
            cls.reset()
            self.addCleanup(cls.reset)
        super().setUp()
        self.flavor = self.create_flavor(extra_specs={'smoke:marker': 'yes'})
        self.server = self.boot_server('compute-a1', flavor_id=self.flavor)

    def _lm_calls(self):
        return [c for c in FILTER.calls if c['task_state'] == 'migrating']

    def test_boot_passes_filter_untouched(self):
        # The boot ran through the scheduler: filter saw no migration.
        # At boot the instance is not in a cell yet, so the filter's
        # instance look-up fails (task_state None): a real filter must
        # treat that as "not a live migration", not as an error.
        boot_calls = [c for c in FILTER.calls
                      if c['instance_uuid'] == self.server['id']]
        self.assertTrue(boot_calls)
        self.assertEqual({None}, {c['task_state'] for c in boot_calls})
        self.assertEqual([], self._lm_calls())
        self.assertEqual(
            {'smoke:marker': 'yes'},
            self.admin_api.get_extra_specs(self.flavor))

    def test_scheduler_picked_lands_on_allowed_host(self):
        FILTER.rejected_hosts = {'compute-a2', 'compute-b1'}
        server, mig, secs = self.live_migrate_and_wait(self.server)
        LOG.info('scheduler-picked live migration took %.3f s', secs)
        self.assertEqual('completed', mig['status'])
        self.assertEqual('compute-b2', self.server_host(server))
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('compute-a1', mig['source_compute'])
        calls = self._lm_calls()
        # Source is excluded through ignore_hosts, never offered.
        self.assertEqual({'compute-a2', 'compute-b1', 'compute-b2'},
                         {c['host'] for c in calls})
        for c in calls:
            self.assertEqual('compute-a1', c['source_host'])
            self.assertEqual(['compute-a1'], c['ignore_hosts'])
            self.assertIsNone(c['requested_host'])

    def test_weigher_picks_among_allowed(self):
        FILTER.rejected_hosts = {'compute-a2'}
        # compute-a2 would win on weight but is filtered out first.
        WEIGHER.preferred = ['compute-a2', 'compute-b1']
        server, mig, _secs = self.live_migrate_and_wait(self.server)
        self.assertEqual('completed', mig['status'])
        self.assertEqual('compute-b1', self.server_host(server))

    def test_conductor_retry_grows_ignore_hosts(self):
        # The weigher picks compute-a2 first; its pre-check fails, so the
        # conductor asks the scheduler again with a2 in ignore_hosts.
        WEIGHER.preferred = ['compute-a2', 'compute-b1']
        self.fail_live_migration_precheck('compute-a2')
        server, mig, _secs = self.live_migrate_and_wait(self.server)
        self.assertEqual('completed', mig['status'])
        self.assertEqual('compute-b1', self.server_host(server))
        ignore = [c['ignore_hosts'] for c in self._lm_calls()]
        self.assertIn(['compute-a1'], ignore)
        self.assertIn(['compute-a1', 'compute-a2'], ignore)
        self.assertNotIn('compute-a2', [
            c['host'] for c in self._lm_calls()
            if 'compute-a2' in c['ignore_hosts']])

    def test_no_valid_host_fails_server_stays(self):
        FILTER.rejected_hosts = {'compute-a2', 'compute-b1', 'compute-b2'}
        server, mig, _secs = self.live_migrate_and_wait(self.server)
        self.assertEqual('error', mig['status'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('compute-a1', self.server_host(server))

    def test_requested_rejected_host_fails_server_stays(self):
        FILTER.rejected_hosts = {'compute-b1'}
        server, mig, _secs = self.live_migrate_and_wait(
            self.server, host='compute-b1')
        self.assertEqual('error', mig['status'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual('compute-a1', self.server_host(server))
        calls = self._lm_calls()
        # A requested (non-forced) host: the filter sees only that host.
        self.assertEqual(['compute-b1'], [c['host'] for c in calls])
        self.assertEqual('compute-b1', calls[0]['requested_host'])
        # The filter may then be asked again for the next request.
        FILTER.rejected_hosts = set()
        server, mig, _secs = self.live_migrate_and_wait(
            self.server, host='compute-b1')
        self.assertEqual('completed', mig['status'])
        self.assertEqual('compute-b1', self.server_host(server))

    def test_forced_bypasses_filter(self):
        FILTER.rejected_hosts = {'compute-b2'}
        server, mig, secs = self.live_migrate_and_wait(
            self.server, host='compute-b2', force=True)
        LOG.info('forced live migration took %.3f s', secs)
        self.assertEqual('completed', mig['status'])
        self.assertEqual('compute-b2', self.server_host(server))
        self.assertEqual([], self._lm_calls())

    def test_force_rejected_after_2_67(self):
        resp = self.live_migrate(self.server, host='compute-b2', force=True,
                                 microversion='2.68')
        self.assertEqual(400, resp.status)

    def test_paste_filter_sees_live_migrate(self):
        PASTE.reset()
        resp = self.live_migrate(self.server, host='compute-a2',
                                 block_migration='auto')
        self.assertEqual(202, resp.status)
        self.wait_for_migration(self.server)
        posts = [r for r in PASTE.requests if r['method'] == 'POST' and
                 r['path'] == '/servers/%s/action' % self.server['id']]
        self.assertEqual(1, len(posts))
        self.assertEqual(
            {'os-migrateLive': {'host': 'compute-a2',
                                'block_migration': 'auto'}},
            posts[0]['body'])
        # Inserted in both v2.1 pipelines, right after keystonecontext.
        with open(self.paste_config_path) as f:
            ini = f.read()
        self.assertEqual(2, ini.count('keystonecontext qslm_recorder '))
        self.assertIn('[filter:qslm_recorder]', ini)
        # Placed after keystonecontext: the request context is there.
        self.assertEqual('admin', posts[0]['context_user'])
        self.assertTrue(posts[0]['is_admin'])

    def test_metadata_admin_and_tenant(self):
        resp = self.set_metadata(self.server, {'tenant_key': 'a'})
        self.assertEqual(200, resp.status, resp.body)
        resp = self.put_metadata_item(self.server, 'admin_key', 'b',
                                      admin=True)
        self.assertEqual(200, resp.status, resp.body)
        self.assertEqual({'tenant_key': 'a', 'admin_key': 'b'},
                         self.get_metadata(self.server))
        resp = self.delete_metadata_item(self.server, 'tenant_key')
        self.assertEqual(204, resp.status, resp.body)
        tenant = [r for r in PASTE.requests
                  if r['path'].endswith('/metadata')]
        self.assertEqual('fake', tenant[0]['context_user'])
        self.assertFalse(tenant[0]['is_admin'])

    def test_tenant_cannot_live_migrate(self):
        resp = self.live_migrate(self.server, admin=False)
        self.assertEqual(403, resp.status)


class PlainNovaSmokeTest(base.QSLMFunctionalTestBase):
    """No extra filter, weigher or paste filter: Nova's own pipeline."""

    COMPUTE_HOSTS = ('compute-a1', 'compute-a2')

    def test_live_migrate_plain(self):
        self.assertFalse(hasattr(self, 'paste_config_path'))
        server = self.boot_server('compute-a1')
        server, mig, _secs = self.live_migrate_and_wait(server)
        self.assertEqual('completed', mig['status'])
        self.assertEqual('compute-a2', self.server_host(server))
