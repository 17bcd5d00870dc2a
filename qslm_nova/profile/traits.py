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

"""A host profile as Placement trait names, and back.

Placement traits are names (``CUSTOM_`` and then ``A-Z``, ``0-9``,
``_``), so numbers are written into the name, as the ``traits`` trust
provider's ``CUSTOM_QSLM_ATTESTED_AT_<epoch>`` does::

    CUSTOM_QSLM_MIG_V1                     the host publishes a profile
    CUSTOM_QSLM_MIG_TRANSPORT_TLS          Nova migrates from it with TLS
    CUSTOM_QSLM_MIG_ACCEPTS_TLS            it can receive native TLS
    CUSTOM_QSLM_MIG_PARALLEL_4             live_migration_parallel_connections
    CUSTOM_QSLM_MIG_DOWNTIME_MS_500        live_migration_downtime
    ...
    CUSTOM_QSLM_MIG_CIPHER_MBPS_2400       one core's AES-GCM stream, Mbit/s
    CUSTOM_QSLM_MIG_CPU_LOAD_PCT_35        runnable threads per CPU, %
    CUSTOM_QSLM_MIG_SEEN_1764057600        last published, to ten minutes

Measured values are rounded (cipher down to two significant digits, load
up to a step: 5 % up to 100 %, 25 % up to 400 %, then 100 % to the cap
of 1600 %, time down to ten minutes) so that a fleet shares few distinct
traits: Placement keeps every trait ever created, and the destination
table is read with one query per distinct value.
"""

import math
import re

from qslm_nova import estimator
from qslm_nova.profile import model

PREFIX = 'CUSTOM_QSLM_MIG_'
MARKER = PREFIX + 'V1'
ACCEPTS_TLS = PREFIX + 'ACCEPTS_TLS'
TRANSPORT = PREFIX + 'TRANSPORT_'
TIMEOUT_ACTION = PREFIX + 'TIMEOUT_ACTION_'
SEEN_STEP_S = 600
#: Load steps: (up to this percent, round up to a multiple of this).
LOAD_STEPS_PCT = ((100, 5), (400, 25), (None, 100))
#: The heaviest load published and read (estimator.MAX_CPU_LOAD).
MAX_LOAD_PCT = int(estimator.MAX_CPU_LOAD * 100)

#: Whole-number [libvirt] options: trait stem -> LibvirtSettings field.
LIBVIRT_NUMBERS = (
    ('DOWNTIME_MS', 'downtime_ms'),
    ('DOWNTIME_STEPS', 'downtime_steps'),
    ('DOWNTIME_DELAY_S', 'downtime_delay_s'),
    ('COMPLETION_TIMEOUT_S', 'completion_timeout_s'),
    ('BANDWIDTH_MIBPS', 'bandwidth_mibps'),
    ('PARALLEL', 'parallel_connections'),
)
#: Boolean [libvirt] options: present means True.
LIBVIRT_FLAGS = (
    ('POST_COPY', 'permit_post_copy'),
    ('AUTO_CONVERGE', 'permit_auto_converge'),
)
TIMEOUT_ACTIONS = {'ABORT': 'abort', 'FORCE_COMPLETE': 'force_complete'}
#: Host figures: trait stem -> HostProfile field.
HOST_NUMBERS = (
    ('CIPHER_MBPS', 'cipher_gbps_per_core'),
    ('CPU_LOAD_PCT', 'cpu_load'),
    ('CORES', 'cores'),
    ('LIBVIRT', 'libvirt_version'),
    ('QEMU', 'qemu_version'),
    ('SEEN', 'seen_at'),
)
#: The stems a destination needs (the bulk reading asks only for these).
DESTINATION_STEMS = ('CIPHER_MBPS', 'CPU_LOAD_PCT', 'CORES', 'SEEN')

_NUMBER = re.compile(r'([A-Z][A-Z_]*?)_([0-9]{1,15})')
_STEMS = dict(LIBVIRT_NUMBERS + HOST_NUMBERS)
_FLOAT_FIELDS = ('downtime_ms', 'downtime_delay_s', 'completion_timeout_s',
                 'bandwidth_mibps')


def cipher_trait_value(gbps):
    """Mbit/s rounded down to two significant digits (a figure that holds).
    """
    mbps = gbps * 1000.0
    if not mbps >= 1 or not math.isfinite(mbps):
        return None
    scale = 10 ** max(int(math.floor(math.log10(mbps))) - 1, 0)
    return int(mbps // scale * scale)


def load_trait_value(load):
    """Percent rounded up to its step: a load reads no lighter than it is
    (up to the cap; an unknown one, NaN, reads as the cap).
    """
    pct = load * 100.0
    pct = max(pct, 0.0) if pct <= MAX_LOAD_PCT else MAX_LOAD_PCT
    for upto, step in LOAD_STEPS_PCT:
        if upto is None or pct <= upto:
            return min(int(math.ceil(pct / step - 1e-9)) * step,
                       MAX_LOAD_PCT)


def encode(profile):
    """The traits of a complete HostProfile (a frozenset of names)."""
    out = {MARKER}
    if profile.transport:
        out.add(TRANSPORT + profile.transport.upper())
    if profile.accepts_tls:
        out.add(ACCEPTS_TLS)
    lv = profile.libvirt
    if lv is not None:
        for stem, field in LIBVIRT_NUMBERS:
            out.add('%s%s_%d' % (PREFIX, stem, int(round(getattr(lv,
                                                                 field)))))
        for stem, field in LIBVIRT_FLAGS:
            if getattr(lv, field):
                out.add(PREFIX + stem)
        out.add(TIMEOUT_ACTION + lv.timeout_action.upper())
    values = {
        'cipher_gbps_per_core': (
            None if profile.cipher_gbps_per_core is None
            else cipher_trait_value(profile.cipher_gbps_per_core)),
        'cpu_load': (None if profile.cpu_load is None
                     else load_trait_value(profile.cpu_load)),
        'cores': profile.cores,
        'libvirt_version': profile.libvirt_version,
        'qemu_version': profile.qemu_version,
        'seen_at': (None if profile.seen_at is None
                    else int(profile.seen_at) // SEEN_STEP_S * SEEN_STEP_S),
    }
    for stem, field in HOST_NUMBERS:
        if values[field] is not None:
            out.add('%s%s_%d' % (PREFIX, stem, values[field]))
    return frozenset(out)


def is_profile_trait(name):
    return isinstance(name, str) and name.startswith(PREFIX)


class _Reading:
    """The profile traits of one host, sorted by kind, with errors."""

    def __init__(self, names):
        self.numbers = {}
        self.flags = set()
        self.transports = set()
        self.actions = set()
        self.errors = []
        for name in names:
            if is_profile_trait(name):
                self.add(name[len(PREFIX):])
        for stem, found in sorted(self.numbers.items()):
            if len(found) > 1:
                self.errors.append('%s%s has %d values (%s)' % (
                    PREFIX, stem, len(found),
                    ', '.join(str(v) for v in sorted(found))))

    def add(self, rest):
        if rest.startswith('TRANSPORT_'):
            self.transports.add(rest[len('TRANSPORT_'):].lower())
        elif rest.startswith('TIMEOUT_ACTION_'):
            self.actions.add(rest[len('TIMEOUT_ACTION_'):])
        else:
            match = _NUMBER.fullmatch(rest)
            if match and match.group(1) in _STEMS:
                self.numbers.setdefault(match.group(1), set()).add(
                    int(match.group(2)))
            else:
                self.flags.add(rest)

    def number(self, stem):
        found = self.numbers.get(stem)
        if not found or len(found) > 1:
            return None
        return next(iter(found))


def decode(node, names, partial=False):
    """The HostProfile published in these trait names, or None.

    Never raises: a value that cannot be read is left out and named in
    ``errors``. Without ``CUSTOM_QSLM_MIG_V1`` the host publishes no
    profile (None).

    :param partial: the names are a reading of some traits only (the
        destination table): missing fields are not errors.
    """
    names = frozenset(names)
    if MARKER not in names:
        return None
    r = _Reading(names)
    transport = None
    if len(r.transports) == 1:
        transport = next(iter(r.transports))
        if transport not in {t.value for t in model.Transport}:
            r.errors.append('unknown transport %s' % transport.upper())
            transport = None
    elif len(r.transports) > 1:
        r.errors.append('%d transports published (%s)' % (
            len(r.transports), ', '.join(sorted(r.transports))))
    elif not partial:
        r.errors.append('no transport published')
    host = {field: r.number(stem) for stem, field in HOST_NUMBERS}
    if host['cipher_gbps_per_core'] is not None:
        host['cipher_gbps_per_core'] = host['cipher_gbps_per_core'] / 1000.0
    if host['cpu_load'] is not None:
        host['cpu_load'] = min(host['cpu_load'], MAX_LOAD_PCT) / 100.0
    if host['cores'] == 0:
        host['cores'] = None
    return model.HostProfile(
        node=node, transport=transport,
        accepts_tls='ACCEPTS_TLS' in r.flags,
        libvirt=_libvirt(r, partial), errors=tuple(r.errors), **host)


def _libvirt(r, partial):
    """The LibvirtSettings of a reading, or None if incomplete."""
    values = {}
    missing = []
    for stem, field in LIBVIRT_NUMBERS:
        value = r.number(stem)
        if value is None:
            missing.append(stem)
        else:
            values[field] = float(value) if field in _FLOAT_FIELDS else value
    if len(r.actions) == 1 and next(iter(r.actions)) in TIMEOUT_ACTIONS:
        values['timeout_action'] = TIMEOUT_ACTIONS[next(iter(r.actions))]
    else:
        missing.append('TIMEOUT_ACTION')
    if missing:
        if not partial:
            r.errors.append('[libvirt] options incomplete (missing %s)'
                            % ', '.join(missing))
        return None
    if values['downtime_steps'] < 1 or values['parallel_connections'] < 1:
        r.errors.append('[libvirt] downtime steps and parallel connections '
                        'must be at least 1')
        return None
    if values['downtime_steps'] > estimator.MAX_DOWNTIME_STEPS:
        r.errors.append('[libvirt] downtime steps must be at most %d, not %d'
                        % (estimator.MAX_DOWNTIME_STEPS,
                           values['downtime_steps']))
        return None
    for stem, field in LIBVIRT_FLAGS:
        values[field] = stem in r.flags
    return estimator.LibvirtSettings(**values)
