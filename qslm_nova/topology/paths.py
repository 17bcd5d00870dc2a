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

"""The result of a widest-path search, and the paths read from it.

:class:`WidestPaths` answers for every node whether and how the source
reaches it: as a dict-like ``get(node)``, and for the hosts as numpy
arrays. :meth:`WidestPaths.path_to` builds the :class:`PathInfo` the
decision reports, memoised, from the predecessors the search recorded.
"""

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class PathInfo:
    """The path chosen from the source to one destination."""

    nodes: tuple
    bottleneck_gbps: float
    rtt_ms: float
    weakest_level: int
    # Levels and link-level mechanisms of every link, in path order.
    link_levels: tuple
    link_mechanisms: tuple


class WidestPaths:
    """The widest paths from one source at one minimum level.

    ``get(node)`` gives (bottleneck, latency, predecessor) like a dict.
    For the hosts it holds arrays indexed like the topology's
    ``host_names``:

    * ``reach``: a path exists;
    * ``bottleneck_gbps`` and ``latency_ms`` (one way) of that path;
    * ``weakest``: the lowest link security level on it;
    * ``pattern``: the number of the path's sequence of (link level,
      link mechanisms), ``patterns[k]`` that (levels, mechanisms) pair;
      -1 where unreachable. Numbers are the topology's: equal sequences
      have equal numbers in every search.

    ``core`` is the result for the network nodes and the source. It also
    memoises the paths built from it: ``prefixes`` to the inner nodes
    (switches, routers), so that the path to each of thousands of hosts
    costs one link, and ``paths``, the PathInfo of every destination
    asked for. All live as long as the cached search (immutable, like the
    topology).
    """

    __slots__ = ('source', 'core', 'prefixes', 'paths', 'reach',
                 'bottleneck_gbps', 'latency_ms', 'weakest', 'pattern',
                 'patterns', '_pred', '_index')

    def __init__(self, index, source, core, hosts, preds, bw, lat,
                 pattern, lowest):
        self._index = index
        self.source = source
        self.core = core
        self.prefixes = {}
        self.paths = {}
        nhosts = len(index.host_names)
        self.reach = np.zeros(nhosts, dtype=bool)
        self.reach[hosts] = True
        self.bottleneck_gbps = np.zeros(nhosts)
        self.bottleneck_gbps[hosts] = bw
        self.latency_ms = np.zeros(nhosts)
        self.latency_ms[hosts] = lat
        self._pred = np.full(nhosts, -1, dtype=np.intp)
        self._pred[hosts] = preds
        src = index.host_index.get(source)
        if src is not None:
            self.reach[src] = True
            self.bottleneck_gbps[src] = math.inf
        # Numbers into the topology's list, which only grows.
        self.patterns = index.patterns.sequences
        self.pattern = np.full(nhosts, -1, dtype=np.intp)
        self.pattern[hosts] = pattern
        self.weakest = np.full(nhosts, index.nlevels - 1, dtype=np.intp)
        self.weakest[hosts] = lowest

    def get(self, node, default=None):
        index = self._index
        i = index.host_index.get(node)
        if i is None or node == self.source:
            return self.core.get(node, default)
        if not self.reach[i]:
            return default
        return (float(self.bottleneck_gbps[i]), float(self.latency_ms[i]),
                index.node_names[self._pred[i]])

    def __getitem__(self, node):
        entry = self.get(node)
        if entry is None:
            raise KeyError(node)
        return entry

    def __contains__(self, node):
        return self.get(node) is not None

    def __len__(self):
        return len(self.core) + int(np.count_nonzero(self.reach))

    def path_to(self, dest):
        """The PathInfo to dest, or None where there is no path."""
        entry = self.get(dest)
        if entry is None:
            return None
        hit = self.paths.get(dest)
        if hit is not None:
            return hit
        bottleneck, latency, pred = entry
        if pred is None:
            nodes, levels, mechs = (dest,), (), ()
        else:
            # Hosts are leaves: the path to dest is the (memoised) path to
            # its switch plus one link, shared by every host on it.
            nodes, levels, mechs = self._prefix(pred)
            attrs = self._index.link(pred, dest)
            nodes = nodes + (dest,)
            levels = levels + (attrs['level'],)
            mechs = mechs + (attrs['mechanisms'],)
        info = PathInfo(nodes=nodes, bottleneck_gbps=bottleneck,
                        rtt_ms=2.0 * latency,
                        weakest_level=min(levels) if levels else
                        self._index.nlevels - 1,
                        link_levels=levels,
                        link_mechanisms=mechs)
        # Benign race: concurrent requests store equal values.
        self.paths[dest] = info
        return info

    def _prefix(self, node):
        """(nodes, link levels, link mechanisms) from the source to node.

        Memoised for every node on the way, so each node's prefix costs
        one link on top of its predecessor's.
        """
        memo = self.prefixes
        hit = memo.get(node)
        if hit is not None:
            return hit
        core = self.core
        chain = []
        cur = node
        while True:
            hit = memo.get(cur)
            if hit is not None:
                break
            chain.append(cur)
            pred = core[cur][2]
            if pred is None:
                hit = None
                break
            cur = pred
        link = self._index.link
        if hit is None:
            root = chain.pop()
            hit = ((root,), (), ())
            # Benign race: concurrent requests store equal values.
            memo[root] = hit
        nodes, levels, mechs = hit
        for n in reversed(chain):
            attrs = link(nodes[-1], n)
            nodes = nodes + (n,)
            levels = levels + (attrs['level'],)
            mechs = mechs + (attrs['mechanisms'],)
            memo[n] = (nodes, levels, mechs)
        return memo[node]
