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

"""A validated topology: hosts, the network graph and its path searches.

:class:`Topology` is what the decision reads: per-host data as numpy
arrays numbered like ``host_names``, the link security levels, the
mechanisms, and widest-path searches (:mod:`.search`) cached per source
and minimum level. It is immutable after construction and shared by
every request of every thread.
"""

import collections
import dataclasses
import datetime
import math
import threading

import numpy as np

from qslm_nova.topology import search as search_mod


@dataclasses.dataclass(frozen=True)
class Host:
    name: str
    site: str = None
    trusted: bool = False
    attested_at: datetime.datetime = None
    mechanisms: frozenset = frozenset(['none'])
    cpu_load: float = None
    agent_id: str = None


class Topology:
    """A validated topology. Read-only after construction."""

    def __init__(self, source, levels, mechanisms, hosts, graph):
        self.source = source
        self.levels = tuple(levels)
        self.level_index = {n: i for i, n in enumerate(self.levels)}
        self.mechanisms = mechanisms
        self.hosts = hosts
        self.graph = graph
        self._cache = collections.OrderedDict()
        self._cache_lock = threading.Lock()
        # Bounded by searches and by their total entries: one search holds
        # a few arrays over the hosts (about 0.3 MB for 10,000 hosts) plus
        # the paths built from it on demand.
        self._cache_size = 4096
        self._cache_entries = 0
        self._cache_max_entries = 2000000
        self._positions = None
        self._index_hosts()
        self.network = search_mod.NetworkIndex(
            graph, self.host_names, self.host_index, len(self.levels))

    def _index_hosts(self):
        """Arrays over the hosts.

        Hosts are numbered in file order (``host_index``); the decision
        maps its candidates to these numbers once and then reads the
        per-host data and every path search as numpy arrays.
        """
        names = tuple(self.hosts)
        self.host_names = names
        self.host_index = {name: i for i, name in enumerate(names)}
        # Distinct mechanism sets: few, shared by many hosts.
        self.mechanism_sets = []
        set_id = {}
        ids = []
        loads = []
        for name in names:
            host = self.hosts[name]
            k = set_id.get(host.mechanisms)
            if k is None:
                k = set_id[host.mechanisms] = len(self.mechanism_sets)
                self.mechanism_sets.append(host.mechanisms)
            ids.append(k)
            loads.append(math.nan if host.cpu_load is None
                         else host.cpu_load)
        self.host_mechanism_set = np.array(ids, dtype=np.intp)
        self.host_cpu_load = np.array(loads, dtype=float)

    def level_name(self, index):
        return self.levels[index]

    def host_positions(self, names):
        """Numbers of these host names in ``host_names`` (-1: unknown).

        Read-only. The scheduler passes the same hosts in the same order
        request after request, so the last answer is kept: comparing the
        names costs a fraction of looking up thousands of them.
        """
        key = tuple(names)
        last = self._positions
        if last is not None and last[0] == key:
            return last[1]
        index = self.host_index
        pos = np.array([index.get(h, -1) for h in key], dtype=np.intp)
        pos.flags.writeable = False
        # One atomic store: a concurrent reader sees the old or the new
        # pair, each consistent.
        self._positions = (key, pos)
        return pos

    def widest_paths(self, source, min_level=0):
        """Widest (max bottleneck) paths from source to every node.

        Only links whose security level is at least ``min_level`` are used.
        Ties are broken by lower latency. One search serves every candidate
        of a request; results are cached per (source, min_level) in a
        bounded LRU cache since the topology is immutable.

        :returns: a :class:`~qslm_nova.topology.paths.WidestPaths`:
            ``get(node)`` gives (bottleneck_gbps, latency_ms, predecessor)
            or None; its arrays over the hosts serve the decision.
        """
        key = (source, min_level)
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        result = self.network.search(source, min_level)
        with self._cache_lock:
            old = self._cache.pop(key, None)
            if old is not None:
                self._cache_entries -= len(old)
            self._cache[key] = result
            self._cache_entries += len(result)
            while len(self._cache) > 1 and (
                    len(self._cache) > self._cache_size or
                    self._cache_entries > self._cache_max_entries):
                _key, dropped = self._cache.popitem(last=False)
                self._cache_entries -= len(dropped)
        return result

    def path_to(self, search, dest):
        """The PathInfo to dest from a widest_paths() result, or None."""
        return search.path_to(dest)
