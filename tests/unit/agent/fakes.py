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

"""A stand-in for the agent's NovaAPI, for the unit tests.

The real client is tested against in-process Nova
(tests/functional/test_agent_ledger.py); these tests are about what the
charger does with each answer.
"""

import datetime

from qslm_nova.agent import nova as nova_mod

UTC = datetime.timezone.utc


class FakeNovaAPI:
    """Servers (metadata, flavor extra specs) and migration records.

    ``down``/``refused`` make every call fail that way; ``before_write``
    runs before each metadata write (a concurrent writer).
    """

    def __init__(self):
        self.servers = {}
        self.records = {}
        self.down = False
        self.refused = False
        self.writes = []
        self.before_write = None
        self.lose_writes = False

    def add_server(self, uuid, metadata=None, specs=None):
        self.servers[uuid] = (dict(metadata or {}), dict(specs or {}))

    def add_migration(self, uuid, id, source, dest, created,
                      status='completed', updated=None):
        self.records.setdefault(uuid, []).append(
            nova_mod.MigrationRecord(id, 'mig-%d' % id, source, dest,
                                     status, created, updated))

    def _check(self):
        if self.down:
            raise nova_mod.NovaUnavailable('connection refused')
        if self.refused:
            raise nova_mod.NovaRefused('403 Forbidden: ledger_writer_roles')

    def _server(self, uuid):
        if uuid not in self.servers:
            raise nova_mod.InstanceGone('server %s not found' % uuid)
        return self.servers[uuid]

    def migrations(self, instance_uuid):
        self._check()
        self._server(instance_uuid)
        return sorted(self.records.get(instance_uuid, []),
                      key=lambda m: m.created_at, reverse=True)

    def server(self, uuid):
        self._check()
        meta, specs = self._server(uuid)
        return nova_mod.ServerLedger(dict(meta), dict(specs))

    def set_metadata(self, uuid, metadata):
        self._check()
        if self.before_write:
            self.before_write(uuid)
        self.writes.append((uuid, dict(metadata)))
        if not self.lose_writes:
            self._server(uuid)[0].update(metadata)

    def metadata(self, uuid):
        return self.servers[uuid][0]
