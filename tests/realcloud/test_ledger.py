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

"""The downtime ledger behind Keystone: who may write it.

The tenant (``demo``, role member) owns the server; ``ledger`` has the
member role in the same project plus ``service``, which the devstack
plugin put in ``[qslm] ledger_writer_roles``. Both go through Keystone,
authtoken and the pre-check in nova-api; the stored metadata is read
back from Nova as admin.
"""

from novaclient import exceptions as nova_exc

from tests.realcloud import base

USED = 'qslm:downtime_used_ms'


class TestLedgerWriters(base.RealCloudTestCase):

    def setUp(self):
        super().setUp()
        self.server = self.boot(self.flavor(), self.cloud.hosts[0],
                                account='qslm-member')
        self.tenant = self.nova('qslm-member')
        self.writer = self.nova('qslm-ledger')

    def metadata(self):
        return self.admin.servers.get(self.server.id).metadata

    def test_tenant_refused_writer_allowed(self):
        for key in (USED, USED.upper(), ' %s' % USED):
            e = self.assertRaises(nova_exc.Forbidden,
                                  self.tenant.servers.set_meta,
                                  self.server.id, {key: '0'})
            self.assertIn('downtime ledger', str(e))
        self.assertNotIn(USED, self.metadata())
        # The tenant's own keys still pass.
        self.tenant.servers.set_meta(self.server.id, {'owner': 'demo'})
        self.writer.servers.set_meta(self.server.id, {USED: '120'})
        self.assertEqual('120', self.metadata()[USED])
        e = self.assertRaises(nova_exc.Forbidden,
                              self.tenant.servers.delete_meta,
                              self.server.id, [USED])
        self.assertIn('downtime ledger', str(e))
        # A full replace that drops the ledger is a write too.
        e = self.assertRaises(
            nova_exc.Forbidden, self.tenant.client.put,
            '/servers/%s/metadata' % self.server.id,
            body={'metadata': {'owner': 'demo'}})
        self.assertIn('downtime ledger', str(e))
        self.assertEqual({'owner': 'demo', USED: '120'}, self.metadata())
