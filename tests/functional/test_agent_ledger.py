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

"""The agent charges measured downtime through in-process Nova's API.

The agent's client is python-novaclient over a keystoneauth session, as
deployed; Nova's keystone context is built from the token (the agent: a
service user with Nova's admin context and the ``service`` role, which
``[qslm] ledger_writer_roles`` names; a tenant member; a service user
without admin). The API pre-check is in the paste pipeline. The live
migration itself is Nova's (fake driver); what libvirt would have
measured is handed to the agent.
"""

import datetime
import time

import fixtures
from keystoneauth1 import session
from keystoneauth1 import token_endpoint
from nova import context as nova_context

from qslm_nova.agent import ledger
from qslm_nova.agent import nova as nova_mod
from qslm_nova.agent import records as r
from qslm_nova.agent import spool as spool_mod
from qslm_nova import policy
from tests.functional import test_precheck

#: token -> (user, project, roles)
TOKENS = {
    'agent-token': ('qslm-agent', 'service', ['admin', 'service']),
    'no-admin-token': ('qslm-agent', 'service', ['service']),
}


def token_context(env, **kwargs):
    token = env.get('HTTP_X_AUTH_TOKEN')
    if token in TOKENS:
        user, project, roles = TOKENS[token]
        return nova_context.RequestContext(
            user, project, is_admin='admin' in roles, roles=roles, **kwargs)
    user = env['HTTP_X_AUTH_USER']
    return nova_context.RequestContext(
        user, env['HTTP_X_AUTH_PROJECT_ID'], is_admin=user == 'admin',
        roles=env['HTTP_X_ROLES'].split(','), **kwargs)


class AgentLedgerTest(test_precheck.PreCheckTestBase):

    SERVER_SPECS = {policy.BUDGET: '5000', policy.PERIOD_DAYS: '7'}

    def configure(self):
        super().configure()
        self.flags(ledger_writer_roles=['service'], group='qslm')

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.MonkeyPatch(
            'nova.api.auth.NovaKeystoneContext._create_context',
            token_context))
        self.server, self.migration, _t = self.live_migrate_and_wait(
            self.server, 'compute-a2')
        self.assertEqual('completed', self.migration['status'])
        self.state = self.useFixture(fixtures.TempDir()).path

    def agent_api(self, token='agent-token', endpoint=None, timeout=10.0):
        auth = token_endpoint.Token(endpoint or self.api_fixture.base_url,
                                    token)
        return nova_mod.NovaAPI(nova_mod.client_from_session(
            session.Session(auth=auth, timeout=timeout)))

    def measured(self, charge=321, ended=None):
        ended = ended or time.time()
        return r.MeasuredMigration(
            key='%s:in:9448:142028507' % self.server['id'],
            instance_uuid=self.server['id'], role=r.Role.DESTINATION,
            outcome=r.Outcome.COMPLETED, ended_at=ended,
            downtime_ms=float(charge), charge_ms=charge)

    def ledger(self):
        meta = self.get_metadata(self.server)
        return (meta.get(policy.LEDGER_USED),
                meta.get(policy.LEDGER_CHARGED))

    def test_measured_downtime_charged_once_as_the_service_user(self):
        charger = ledger.LedgerCharger(self.agent_api(), 'compute-a2')
        done = charger.settle('k', self.measured(), 1)
        self.assertEqual(str(self.migration['id']), done.migration_key)
        self.assertEqual(('compute-a1', 'compute-a2'),
                         (done.migration.source_compute,
                          done.migration.dest_compute))
        today = datetime.datetime.now(datetime.timezone.utc).date()
        self.assertEqual({policy.LEDGER_USED: '321',
                          policy.LEDGER_START: today.isoformat(),
                          policy.LEDGER_CHARGED: str(self.migration['id'])},
                         self.get_metadata(self.server))
        self.assertEqual('already charged',
                         charger.settle('k', self.measured(), 2).result)
        self.assertEqual(('321', str(self.migration['id'])), self.ledger())
        # The remaining budget of the next decision counts it.
        pol_ledger = policy.parse_ledger(self.get_metadata(self.server))
        self.assertEqual(5000 - 321, pol_ledger.remaining_ms(5000, 7, today))

    def test_tenant_cannot_write_what_the_agent_writes(self):
        for key in (policy.LEDGER_CHARGED, policy.OBSERVED_DIRTY_RATE,
                    policy.LEDGER_USED):
            resp = self.set_metadata(self.server, {key: '0'})
            self.assertEqual(403, resp.status, (key, resp.body))
        self.assertEqual({}, self.get_metadata(self.server))

    def test_crash_between_novas_answer_and_the_spool(self):
        spool = spool_mod.Spool(self.state)
        self.addCleanup(spool.close)
        m = self.measured()
        spool.add(m)
        charger = ledger.LedgerCharger(self.agent_api(), 'compute-a2')
        charger.settle(m.key, m, 1)
        # The agent dies here: Nova has the charge, the spool does not
        # know. After the restart the pending charge is settled again.
        spool.close()
        spool = spool_mod.Spool(self.state)
        self.addCleanup(spool.close)
        (key, again, _a), = spool.pending()
        fresh = ledger.LedgerCharger(self.agent_api(), 'compute-a2')
        self.assertEqual('already charged',
                         fresh.settle(key, again, 5).result)
        self.assertEqual(('321', str(self.migration['id'])), self.ledger())

    def test_nova_down_keeps_the_charge_for_later(self):
        dead = self.agent_api(endpoint='http://127.0.0.1:9/v2.1', timeout=2.0)
        charger = ledger.LedgerCharger(dead, 'compute-a2')
        start = time.monotonic()
        e = self.assertRaises(ledger.Retry, charger.settle, 'k',
                              self.measured(), 1)
        self.assertLess(time.monotonic() - start, 10.0)
        self.assertIn('failed', str(e))
        self.assertEqual((None, None), self.ledger())
        charger.api = self.agent_api()
        charger.settle('k', self.measured(), 60)
        self.assertEqual('321', self.ledger()[0])

    def test_user_without_admin_is_refused_and_the_charge_kept(self):
        charger = ledger.LedgerCharger(self.agent_api('no-admin-token'),
                                       'compute-a2')
        e = self.assertRaises(ledger.Retry, charger.settle, 'k',
                              self.measured(), 1)
        self.assertIn('refused', str(e))
        self.assertEqual((None, None), self.ledger())

    def test_failed_migration_charged_by_the_source(self):
        paused = r.MeasuredMigration(
            key='%s:out-failed:1.0' % self.server['id'],
            instance_uuid=self.server['id'], role=r.Role.SOURCE,
            outcome=r.Outcome.FAILED, ended_at=time.time(),
            downtime_ms=609.0, charge_ms=609)
        charger = ledger.LedgerCharger(self.agent_api(), 'compute-a1')
        done = charger.settle('k2', paused, 1)
        self.assertEqual(str(self.migration['id']), done.migration_key)
        self.assertEqual('609', self.ledger()[0])
