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

"""The ``aggregate`` trust provider: host aggregate metadata.

For example on an aggregate ``attested``::

    openstack aggregate set --property qslm:trusted=true \\
        --property qslm:attested_at=2026-11-25T06:00:00Z attested

It reads ``host_info[host]['aggregate_metadata']`` as the scheduler and
API adapters pass it: the merged metadata of the host's aggregates, where
a value may be a string or a set of strings when aggregates disagree. A
host without that information is unknown, which counts as untrusted for
instances that require trust. See :mod:`.traits` for placement traits.
"""

import datetime

from oslo_utils import strutils

from qslm_nova import topology as topology_mod
from qslm_nova.trust import aggregate_opts
from qslm_nova.trust import base

UTC = datetime.timezone.utc


def _values(value):
    if isinstance(value, (set, frozenset, list, tuple)):
        return [v for v in value]
    return [value]


def _parse_time(value):
    """An aware UTC datetime from ISO 8601 text or epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(value, UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.datetime.fromtimestamp(int(text), UTC)
    return topology_mod.parse_timestamp(text)


class AggregateTrustProvider(base.TrustProvider):
    """Trust from host aggregate metadata (see the module documentation).

    ``qslm:trusted`` (``[qslm_aggregate] trusted_key``) true/false, and
    ``qslm:attested_at`` (``attested_at_key``). A host in several
    aggregates that disagree is untrusted; with several times the oldest
    counts. A malformed value makes the host unknown.
    """

    name = 'aggregate'
    config_opts = aggregate_opts.ALL_OPTS
    config_group = aggregate_opts.GROUP

    def get_trust(self, hosts, topology, host_info=None):
        g = self.conf.qslm_aggregate
        return {h: self._one(h, base.host_facts(host_info, h), g)
                for h in hosts}

    def _one(self, host, info, g):
        if info is None or info.get('aggregate_metadata') is None:
            return base.TrustState(None, None, 'no aggregate information '
                                   'for host %s' % host)
        meta = info['aggregate_metadata']
        if g.trusted_key not in meta:
            return base.TrustState(None, None, 'no aggregate of host %s '
                                   'sets %s' % (host, g.trusted_key))
        flags = []
        for value in _values(meta[g.trusted_key]):
            try:
                flags.append(strutils.bool_from_string(value, strict=True))
            except ValueError:
                return base.TrustState(
                    None, None, 'aggregate metadata %s=%r of host %s is '
                    'not true or false' % (g.trusted_key, value, host))
        attested = None
        if meta.get(g.attested_at_key) is not None:
            times = []
            for value in _values(meta[g.attested_at_key]):
                try:
                    times.append(_parse_time(value))
                except (ValueError, TypeError, OverflowError, OSError):
                    return base.TrustState(
                        None, None, 'aggregate metadata %s=%r of host %s is '
                        'not an ISO 8601 time nor epoch seconds' % (
                            g.attested_at_key, value, host))
            attested = min(times)
        if not all(flags):
            why = ('aggregates of host %s say %s=false' % (
                host, g.trusted_key) if not any(flags) else
                'aggregates of host %s disagree on %s' % (host,
                                                          g.trusted_key))
            return base.TrustState(False, attested, why)
        return base.TrustState(True, attested, 'aggregate metadata %s=true'
                               % g.trusted_key)
