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

"""Charging a measured migration to the instance's downtime ledger, once.

A charge is keyed by Nova's migration id and the key goes into the same
metadata write as the downtime: ``qslm:charged_migrations`` keeps the
keys of the instance's last charges (newest last, as many as fit Nova's
255-character value). Before writing, the agent reads the instance and
skips a key already there; after writing it reads again and tries again
if its key is missing (a concurrent writer's read-modify-write replaced
it). So a charge retried after a timeout, a restart, or a crash between
Nova's answer and the spool's update is never counted twice.

The period rolls over as :func:`qslm_nova.policy.parse_ledger` and
``Ledger.record`` define it, on the date the migration ended: this
host's clock, unless it disagrees with Nova's record of the migration by
more than ``[qslm_agent] clock_skew_tolerance`` (a clock jump) or the end
was only found later; then Nova's record's time counts.
"""

import dataclasses
import datetime
import zlib

from oslo_log import log as logging

from qslm_nova.agent import nova as nova_mod
from qslm_nova.agent import records
from qslm_nova import exception
from qslm_nova import policy
from qslm_nova import policy_values

LOG = logging.getLogger(__name__)
UTC = datetime.timezone.utc
MAX_VALUE = 255


class Retry(exception.QSLMError):
    """The charge cannot be settled now; the spool keeps it."""


@dataclasses.dataclass(frozen=True)
class Settled:
    """How a measured migration was settled, for the spool and history."""

    migration_key: str
    result: str
    migration: nova_mod.MigrationRecord = None

    def to_dict(self):
        m = self.migration
        return {'result': self.result,
                'source': m.source_compute if m else None,
                'destination': m.dest_compute if m else None,
                'status': m.status if m else None,
                'migration_uuid': m.uuid if m else None}


def parse_charged(value):
    if not isinstance(value, str):
        return []
    return [t.strip() for t in value.split(',') if t.strip()]


def format_charged(keys):
    """The newest keys that fit one metadata value, oldest first."""
    out = []
    size = 0
    for key in reversed(keys):
        size += len(key) + (1 if out else 0)
        if size > MAX_VALUE:
            break
        out.append(key)
    return ','.join(reversed(out))


class LedgerCharger:
    """Settles measured migrations against Nova.

    :param api: a :class:`nova.NovaAPI`.
    :param host: this host's Nova host name (as in migration records).
    :param default_period_days: ``[qslm] default_budget_period_days``.
    """

    def __init__(self, api, host, default_period_days=30,
                 lookup_timeout_s=3600.0, skew_s=3600.0):
        self.api = api
        self.host = host
        self.default_period_days = default_period_days
        self.lookup_timeout_s = lookup_timeout_s
        self.skew_s = skew_s

    def find_migration(self, measured):
        """Nova's record of the migration this host measured, or None."""
        mine = (self._as_destination
                if measured.role == records.Role.DESTINATION
                else self._as_source)
        ended = datetime.datetime.fromtimestamp(measured.ended_at, UTC)
        latest = ended + datetime.timedelta(seconds=self.skew_s)
        candidates = [m for m in self.api.migrations(measured.instance_uuid)
                      if mine(m) and (measured.time_guessed or
                                      m.created_at is None or
                                      m.created_at <= latest)]
        return candidates[0] if candidates else None

    def _as_destination(self, m):
        return m.dest_compute == self.host

    def _as_source(self, m):
        return m.source_compute == self.host

    def settle(self, key, measured, age_s):
        """Charge (or just attribute) one spooled migration.

        :param age_s: how long the spool has had it.
        :returns: :class:`Settled`
        :raises Retry: not now (Nova away, no record yet, refused).
        """
        try:
            migration = self.find_migration(measured)
        except (nova_mod.NovaUnavailable, nova_mod.NovaRefused) as e:
            raise Retry(str(e))
        except nova_mod.InstanceGone:
            migration = None
        if migration is None:
            if age_s < self.lookup_timeout_s:
                raise Retry('Nova has no record yet of the live migration '
                            'of %s %s %s' % (
                                measured.instance_uuid,
                                'to' if measured.role ==
                                records.Role.DESTINATION else 'from',
                                self.host))
            mkey = 'a%08x' % (zlib.crc32(('%s:%s' % (self.host, key))
                                         .encode()) & 0xffffffff)
            LOG.warning('Nova has no record of the migration of %s this '
                        'host measured (%s); charging it under the agent\'s '
                        'own key %s', measured.instance_uuid, key, mkey)
        else:
            mkey = str(migration.id)
        if measured.charge_ms is None:
            return Settled(mkey, 'recorded', migration)
        return self._charge(mkey, measured, migration)

    def _charge(self, mkey, measured, migration):
        uuid = measured.instance_uuid
        try:
            server = self.api.server(uuid)
        except nova_mod.InstanceGone:
            LOG.info('Instance %s is gone: its %d ms of downtime are not '
                     'charged', uuid, measured.charge_ms)
            return Settled(mkey, 'instance gone', migration)
        except (nova_mod.NovaUnavailable, nova_mod.NovaRefused) as e:
            raise Retry(str(e))
        charged = parse_charged(server.metadata.get(policy.LEDGER_CHARGED))
        if mkey in charged:
            return Settled(mkey, 'already charged', migration)
        ledger = policy.parse_ledger(server.metadata)
        if ledger.errors:
            LOG.warning('The ledger of instance %s is malformed (%s); the '
                        'charge of migration %s starts it afresh',
                        uuid, '; '.join(ledger.errors), mkey)
        day = self.charge_date(measured, migration)
        values = ledger.record(measured.charge_ms,
                               self.period_days(server, uuid), day)
        values[policy.LEDGER_CHARGED] = format_charged(charged + [mkey])
        try:
            self.api.set_metadata(uuid, values)
            after = self.api.server(uuid)
        except nova_mod.InstanceGone:
            return Settled(mkey, 'instance gone', migration)
        except nova_mod.NovaRefused as e:
            LOG.error('Nova refused the ledger charge of instance %s (%s): '
                      'the agent\'s user needs the admin role (Nova lets '
                      'only admin write another project\'s metadata) and '
                      'admin in nova-api\'s [qslm] ledger_writer_roles; the '
                      'charge stays in the spool', uuid, e)
            raise Retry(str(e))
        except nova_mod.NovaUnavailable as e:
            raise Retry(str(e))
        if mkey not in parse_charged(after.metadata.get(
                policy.LEDGER_CHARGED)):
            raise Retry('the charge of migration %s on %s was replaced by '
                        'a concurrent ledger write' % (mkey, uuid))
        LOG.info('Charged %d ms of downtime of migration %s to instance %s '
                 '(ledger now %s ms since %s)', measured.charge_ms, mkey,
                 uuid, values[policy.LEDGER_USED],
                 values[policy.LEDGER_START])
        return Settled(mkey, 'charged %d ms' % measured.charge_ms, migration)

    def charge_date(self, measured, migration):
        """The date the migration ended, trusting Nova over a jumped clock.
        """
        ended = datetime.datetime.fromtimestamp(measured.ended_at, UTC)
        if migration is None or migration.last_seen is None:
            return ended.date()
        nova_time = migration.last_seen
        skew = abs((ended - nova_time).total_seconds())
        if measured.time_guessed:
            return nova_time.date()
        if skew > self.skew_s:
            LOG.warning('This host\'s clock says migration %s ended at %s '
                        'but Nova\'s record says %s (%.0f s apart): the '
                        'ledger uses Nova\'s date', migration.id,
                        ended.isoformat(), nova_time.isoformat(), skew)
            return nova_time.date()
        return ended.date()

    def period_days(self, server, uuid):
        raw = server.flavor_extra_specs.get(policy.PERIOD_DAYS)
        if raw is None:
            return self.default_period_days
        try:
            return policy_values.parse_int(policy.PERIOD_DAYS, raw, 1,
                                           policy_values.MAX_PERIOD_DAYS)
        except exception.PolicyValueError as e:
            LOG.warning('Flavor of instance %s: %s; the ledger period is '
                        '%d days', uuid, e, self.default_period_days)
            return self.default_period_days
