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

"""What the trust providers may read about a compute host from Nova.

Shared by the Nova adapters (the scheduler filter and weigher, the API
pre-check). ``aggregate_metadata`` maps each key to the set of values the
host's aggregates give it (so disagreeing aggregates stay visible);
``traits`` (only with the ``traits`` trust provider) holds the placement
traits of the host's compute node.

The scheduler hands the candidates over as HostStates; the source host
of a move is not among them, and the API pre-check has no HostStates at
all: :func:`for_host_names` reads the same facts from Nova's databases
and placement for hosts named only.
"""

import threading
import time

from nova import context as nova_context
from nova import exception as nova_exc
from nova import objects
from oslo_log import log as logging

from qslm_nova import conf as qslm_conf
from qslm_nova import trust

LOG = logging.getLogger(__name__)
CONF = qslm_conf.CONF


class TraitCache:
    """Placement traits per resource provider, kept ``ttl`` seconds.

    Only used when the ``traits`` trust provider is enabled; bounded so a
    large cloud cannot grow it without limit. Thread-safe.
    """

    def __init__(self, ttl=60.0, size=50000):
        self.ttl = ttl
        self.size = size
        self._data = {}
        self._lock = threading.Lock()

    def clear(self):
        with self._lock:
            self._data.clear()

    def get(self, ctx, rp_uuid):
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(rp_uuid)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        from nova.scheduler.client import report
        try:
            traits = set(report.report_client_singleton().get_provider_traits(
                ctx, rp_uuid).traits)
        except Exception as e:
            LOG.warning('QSLM cannot read the traits of resource provider '
                        '%s: %s', rp_uuid, e)
            return None
        with self._lock:
            if len(self._data) >= self.size:
                self._data.clear()
            self._data[rp_uuid] = (now, traits)
        return traits


#: The traits of this process, shared by every request.
TRAITS = TraitCache()
#: Up to this many hosts are looked up one by one, not by cell scans.
_ONE_BY_ONE = 4


def traits_wanted():
    """Is the ``traits`` trust provider configured?"""
    return 'traits' in CONF.qslm.trust_providers


def for_host_state(host_state, ctx=None, with_traits=None):
    """The host info of a scheduler HostState.

    :param with_traits: default: :func:`traits_wanted`; a caller asking
        for thousands of hosts reads the option once.
    """
    if with_traits is None:
        with_traits = traits_wanted()
    info = {'aggregate_metadata': trust.merge_aggregate_metadata(
        agg.metadata for agg in getattr(host_state, 'aggregates', None)
        or ())}
    if with_traits and getattr(host_state, 'uuid', None):
        traits = TRAITS.get(ctx or nova_context.get_admin_context(),
                            host_state.uuid)
        if traits is not None:
            info['traits'] = traits
    return info


def compute_node_uuids(ctx, hosts):
    """{host: [compute node uuid, ...]} of the hosts, from their cells.

    A few hosts (the source of a move) are looked up one by one; more
    (the API pre-check's candidates) by one scan per cell.
    """
    hosts = set(hosts)
    found = {}
    if len(hosts) <= _ONE_BY_ONE:
        for host in hosts:
            try:
                mapping = objects.HostMapping.get_by_host(ctx, host)
                with nova_context.target_cell(
                        ctx, mapping.cell_mapping) as cctxt:
                    nodes = objects.ComputeNodeList.get_all_by_host(
                        cctxt, host)
            except (nova_exc.HostMappingNotFound,
                    nova_exc.ComputeHostNotFound):
                continue
            found[host] = [node.uuid for node in nodes]
        return found
    for cell in objects.CellMappingList.get_all(ctx):
        if cell.uuid == objects.CellMapping.CELL0_UUID:
            continue
        with nova_context.target_cell(ctx, cell) as cctxt:
            for node in objects.ComputeNodeList.get_all(cctxt):
                if node.host in hosts:
                    found.setdefault(node.host, []).append(node.uuid)
    return found


def for_host_names(ctx, hosts, with_traits=None):
    """{host: host info} of hosts known by name only.

    Aggregates come from the API database in one query; traits (with the
    ``traits`` provider) from placement per compute node, through
    :data:`TRAITS`. A host whose traits cannot be read gets none: the
    provider then reports it unknown (untrusted), never trusted.
    """
    admin = ctx.elevated() if ctx is not None else (
        nova_context.get_admin_context())
    if with_traits is None:
        with_traits = traits_wanted()
    hosts = set(hosts)
    per_host = {h: [] for h in hosts}
    for agg in objects.AggregateList.get_all(admin):
        for host in hosts.intersection(agg.hosts or ()):
            per_host[host].append(agg.metadata)
    info = {h: {'aggregate_metadata': trust.merge_aggregate_metadata(mds)}
            for h, mds in per_host.items()}
    if with_traits:
        for host, uuids in compute_node_uuids(admin, hosts).items():
            traits = [TRAITS.get(admin, uuid) for uuid in uuids]
            if uuids and all(t is not None for t in traits):
                info[host]['traits'] = set().union(*traits)
    return info
