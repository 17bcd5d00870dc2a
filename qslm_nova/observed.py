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

"""An instance's observed dirty rate, as the compute agent records it.

The agent writes instance metadata ``qslm:observed_dirty_rate`` =
``<MiB/s>@<UTC time>``, e.g. ``12.50@2026-11-25T06:00:00Z``: QEMU's
page-sampling estimate and when it was taken. Only admins and
``[qslm] ledger_writer_roles`` may write the key (it is in
``policy.LEDGER_KEYS``), so a tenant cannot make its instance look idle.
"""

import dataclasses
import datetime
import math

from qslm_nova import policy

KEY = policy.OBSERVED_DIRTY_RATE
UTC = datetime.timezone.utc
#: A rate above this (MiB/s, 1 TiB/s) is not a measurement.
MAX_RATE_MIBPS = 1024.0 * 1024.0


@dataclasses.dataclass(frozen=True)
class DirtyRate:
    mibps: float
    at: datetime.datetime

    def age_s(self, now):
        return (now - self.at).total_seconds()

    def fresh(self, now, max_age_s):
        """Observed at most max_age_s ago.

        A time ahead of now counts as now: the agent's clock may lead.
        """
        return max_age_s > 0 and self.age_s(now) <= max_age_s


def format_value(mibps, at):
    """The metadata value for a rate observed at ``at`` (aware)."""
    return '%.2f@%s' % (mibps, at.astimezone(UTC).strftime(
        '%Y-%m-%dT%H:%M:%SZ'))


def parse_value(value):
    """The DirtyRate of a metadata value; ValueError if malformed."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError('not a short text')
    rate, sep, stamp = value.partition('@')
    if not sep:
        raise ValueError('no "@" between rate and time')
    mibps = float(rate)
    if not math.isfinite(mibps) or not 0 <= mibps <= MAX_RATE_MIBPS:
        raise ValueError('rate %r out of range' % rate)
    at = datetime.datetime.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ')
    return DirtyRate(mibps, at.replace(tzinfo=UTC))


def fresh_rate(metadata, now, max_age_s):
    """(DirtyRate or None, note or None) from instance metadata.

    The note says why an observation present is not used.
    """
    value = (metadata or {}).get(KEY)
    if value is None or max_age_s <= 0:
        return None, None
    try:
        rate = parse_value(value)
    except ValueError as e:
        return None, ('instance metadata %s %r unreadable (%s): the '
                      'dirty-rate hint is used' % (KEY, value[:64]
                                                   if isinstance(value, str)
                                                   else value, e))
    if not rate.fresh(now, max_age_s):
        return None, ('observed dirty rate %.2f MiB/s is %.0f s old (over '
                      '[qslm] observed_dirty_rate_max_age %d s): the '
                      'dirty-rate hint is used' % (
                          rate.mibps, rate.age_s(now), max_age_s))
    return rate, None
