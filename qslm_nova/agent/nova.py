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

"""The few Nova API calls the agent makes, through python-novaclient.

Every call has the deadline of the keystoneauth session it runs on
(``[qslm_agent] api_timeout``). Failures come out as three exceptions: the
API cannot be reached or failed (:class:`NovaUnavailable`: try again),
it refused (:class:`NovaRefused`: a role or policy is missing; try again
after the operator fixes it, and say so loudly), or the instance is gone
(:class:`InstanceGone`).
"""

import dataclasses
import datetime

from oslo_utils import timeutils

from qslm_nova import exception

MICROVERSION = '2.80'


class NovaUnavailable(exception.QSLMError):
    """Nova did not answer, or answered with a server error."""


class NovaRefused(exception.QSLMError):
    """Nova refused the call (401/403): credentials, role or policy."""


class InstanceGone(exception.QSLMError):
    """The instance no longer exists."""


@dataclasses.dataclass(frozen=True)
class MigrationRecord:
    """Nova's record of one migration (os-migrations)."""

    id: int
    uuid: str
    source_compute: str
    dest_compute: str
    status: str
    created_at: datetime.datetime
    updated_at: datetime.datetime = None

    @property
    def last_seen(self):
        return self.updated_at or self.created_at


@dataclasses.dataclass(frozen=True)
class ServerLedger:
    """What the ledger charge needs of a server."""

    metadata: dict
    flavor_extra_specs: dict


def _time(value):
    if not value:
        return None
    when = timeutils.parse_isotime(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when


def client_from_session(session, **adapter_kwargs):
    """A novaclient Client at the agent's microversion."""
    from novaclient import client as nova_client
    return nova_client.Client(MICROVERSION, session=session,
                              **adapter_kwargs)


class NovaAPI:
    """Nova calls of the agent over a novaclient Client."""

    def __init__(self, client):
        self.client = client

    def _call(self, what, fn, *args, **kwargs):
        from keystoneauth1 import exceptions as ks_exc
        from novaclient import exceptions as nova_exc
        try:
            return fn(*args, **kwargs)
        except nova_exc.NotFound as e:
            raise InstanceGone('%s: %s' % (what, e))
        except (nova_exc.Forbidden, nova_exc.Unauthorized) as e:
            raise NovaRefused('%s refused: %s' % (what, e))
        except (nova_exc.ClientException, ks_exc.ClientException,
                OSError) as e:
            raise NovaUnavailable('%s failed: %s' % (what, e))

    def migrations(self, instance_uuid):
        """Nova's live-migration records of an instance, newest first."""
        found = self._call(
            'listing the migrations of %s' % instance_uuid,
            self.client.migrations.list, instance_uuid=instance_uuid,
            migration_type='live-migration')
        out = [MigrationRecord(
            id=int(m.id), uuid=getattr(m, 'uuid', None),
            source_compute=m.source_compute, dest_compute=m.dest_compute,
            status=m.status, created_at=_time(m.created_at),
            updated_at=_time(getattr(m, 'updated_at', None)))
            for m in found]
        return sorted(out, key=lambda m: m.created_at, reverse=True)

    def server(self, uuid):
        server = self._call('reading server %s' % uuid,
                            self.client.servers.get, uuid)
        flavor = getattr(server, 'flavor', None) or {}
        return ServerLedger(dict(getattr(server, 'metadata', None) or {}),
                            dict(flavor.get('extra_specs') or {}))

    def set_metadata(self, uuid, metadata):
        """Merge ``metadata`` into the server's (one request)."""
        self._call('writing the metadata of server %s' % uuid,
                   self.client.servers.set_meta, uuid, metadata)
