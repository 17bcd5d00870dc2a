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

"""Widest-path searches over a topology's network, as arrays over hosts.

A :class:`NetworkIndex` numbers the nodes and links of a topology's graph
once. Its :meth:`~NetworkIndex.search` runs a max-bottleneck Dijkstra over
the network nodes (switches, routers: traffic does not transit through
compute hosts) and then reaches every host at once with numpy. The result,
a :class:`~qslm_nova.topology.paths.WidestPaths`, holds arrays indexed
like the topology's host list, which the decision reads for thousands of
candidates in one go.

A path's *pattern* is its sequence of (link security level, link
mechanisms) from the source; the decision works out transport options per
pattern, not per host. :class:`PatternTable` numbers the patterns once for
the topology's life, so equal sequences get equal numbers in every search.
"""

import heapq
import math
import threading

import numpy as np

from qslm_nova.topology import paths


def adjacency(graph):
    """The adjacency dict-of-dicts of a networkx graph, read only.

    The one place that reads networkx's internals: ``graph.adj`` wraps the
    same dicts in views that cost a call per look-up, and the searches
    look up links millions of times. Nothing here writes to it.
    """
    return graph._adj  # private: see above


class PatternTable:
    """Path patterns, each numbered once.

    Number k is ``sequences[k]`` = (link levels, link mechanisms) from a
    source; a pattern one link longer is numbered by (its prefix's number,
    the link's class). ``lowest[k]`` is the weakest level on pattern k.

    ``numbers`` maps (prefix number, link class) to the number; searches
    read it without a lock (a number is published only after its
    entries) and call :meth:`extend` for a pattern it lacks.
    """

    def __init__(self, link_classes, top_level):
        self._link_classes = link_classes
        self.sequences = [((), ())]
        self.lowest = [top_level]
        self.numbers = {}
        self._lock = threading.Lock()

    def extend(self, prefix, link_class):
        """The number of pattern ``prefix`` plus one link of that class,
        numbered now if it has none yet.
        """
        key = (prefix, link_class)
        with self._lock:
            k = self.numbers.get(key)
            if k is None:
                levels, mechs = self.sequences[prefix]
                level, mech = self._link_classes[link_class]
                self.sequences.append((levels + (level,), mechs + (mech,)))
                self.lowest.append(min(self.lowest[prefix], level))
                k = len(self.sequences) - 1
                # Published last: a reader that finds k finds its entry.
                self.numbers[key] = k
            return k


class NetworkIndex:
    """The numbered nodes and links of a graph, and the searches on it.

    Hosts are numbered as in ``host_names``; every node is numbered in
    ``node_names``: the hosts first, then the network nodes. Read-only
    after construction, except the pattern table, which only grows.
    """

    def __init__(self, graph, host_names, host_index, nlevels):
        self.host_names = host_names
        self.host_index = host_index
        self.nlevels = nlevels
        self._adj = adjacency(graph)
        nodes = list(host_names)
        nodes.extend(n for n in graph if n not in host_index)
        self.node_names = nodes
        self._node_id = {name: i for i, name in enumerate(nodes)}
        network = nodes[len(host_names):]
        # Per minimum level, the links a search may take between network
        # nodes.
        self._core_adj = [
            {node: self._core_neighbours(node, min_level)
             for node in network}
            for min_level in range(max(nlevels, 1))]
        # Every link's class, its (level, mechanisms), by number: path
        # patterns are built from them.
        self._class_id = {}
        self._link_classes = []
        self._index_host_links()
        # The class of each link between network nodes, by its ends.
        self._core_class = {
            node: {nbr: self._class_of(attrs)
                   for nbr, attrs in self._adj[node].items()
                   if nbr not in host_index}
            for node in network}
        self.patterns = PatternTable(self._link_classes,
                                     max(nlevels - 1, 0))

    def _class_of(self, attrs):
        key = (attrs['level'], attrs['mechanisms'])
        c = self._class_id.get(key)
        if c is None:
            c = self._class_id[key] = len(self._link_classes)
            self._link_classes.append(key)
        return c

    def _index_host_links(self):
        """Links at hosts, one row per (host, neighbour), as arrays.

        The search fills them in for all hosts at once after the search
        of the network nodes.
        """
        rows = []
        for i, name in enumerate(self.host_names):
            for nbr, attrs in self._adj[name].items():
                rows.append((i, self._node_id[nbr], attrs['avail_gbps'],
                             attrs['latency_ms'], attrs['level'],
                             self._class_of(attrs)))
        cols = list(zip(*rows)) or [()] * 6
        self._hl_host = np.array(cols[0], dtype=np.intp)
        self._hl_nbr = np.array(cols[1], dtype=np.intp)
        self._hl_avail = np.array(cols[2], dtype=float)
        self._hl_latency = np.array(cols[3], dtype=float)
        self._hl_level = np.array(cols[4], dtype=np.intp)
        self._hl_class = np.array(cols[5], dtype=np.intp)
        # Most hosts have one link: then no search has to choose between
        # a host's links.
        self._hl_one_per_host = len(set(cols[0])) == len(rows)
        # Paths to hosts share their prefix (the path to the switch) and
        # differ in the last link: a number per (switch, link class).
        nclass = max(len(self._link_classes), 1)
        pairs, inverse = np.unique(self._hl_nbr * nclass + self._hl_class,
                                   return_inverse=True)
        self._hl_pair = inverse.reshape(-1).astype(np.intp)
        self._pair_node = [self.node_names[p // nclass]
                           for p in pairs.tolist()]
        self._pair_class = [p % nclass for p in pairs.tolist()]

    def _core_neighbours(self, node, min_level):
        """(neighbour, available Gbit/s, latency ms) of the links from
        node to network nodes at or above min_level.
        """
        hosts = self.host_index
        return tuple((nbr, attrs['avail_gbps'], attrs['latency_ms'])
                     for nbr, attrs in self._adj[node].items()
                     if nbr not in hosts and attrs['level'] >= min_level)

    def link(self, a, b):
        """The attributes of the link between a and b (read-only)."""
        return self._adj[a][b]

    def search(self, source, min_level):
        """Widest paths from source over links at or above min_level."""
        best, order = self._search_network(source, min_level)
        # Every host at once: the best of its links to an expanded node,
        # by bandwidth, then latency, then the node expanded first (a
        # node-by-node search records the first of equals).
        nnodes = len(self.node_names)
        node_bw = np.full(nnodes, -math.inf)
        node_lat = np.zeros(nnodes)
        node_order = np.full(nnodes, nnodes, dtype=np.intp)
        node_id = self._node_id
        for node, k in order.items():
            i = node_id[node]
            entry = best[node]
            node_bw[i] = entry[0]
            node_lat[i] = entry[1]
            node_order[i] = k
        src = self.host_index.get(source, -1)
        nbr = self._hl_nbr
        ok = ((node_order[nbr] < nnodes) & (self._hl_level >= min_level) &
              (self._hl_host != src))
        rows = np.nonzero(ok)[0]
        nbr = nbr[rows]
        host = self._hl_host[rows]
        nbw = np.minimum(node_bw[nbr], self._hl_avail[rows])
        nlat = node_lat[nbr] + self._hl_latency[rows]
        if not self._hl_one_per_host:
            first = np.lexsort((node_order[nbr], nlat, -nbw, host))
            host = host[first]
            keep = np.ones(len(host), dtype=bool)
            keep[1:] = host[1:] != host[:-1]
            pick = first[keep]
            rows, nbw, nlat = rows[pick], nbw[pick], nlat[pick]
        pattern, lowest = self._host_patterns(best, order, rows)
        return paths.WidestPaths(self, source, best, self._hl_host[rows],
                                 self._hl_nbr[rows], nbw, nlat, pattern,
                                 lowest)

    def _search_network(self, source, min_level):
        """A max-bottleneck Dijkstra over the network nodes.

        The source is expanded first even when it is a host. Ties are
        broken by lower latency.

        :returns: ({node: (bottleneck, latency, predecessor)}, {node: the
            order it was expanded in})
        """
        best = {source: (math.inf, 0.0, None)}
        order = {}
        heap = [(-math.inf, 0.0, source)]
        levels = self._core_adj
        core_adj = levels[max(min_level, 0)] if min_level < len(levels) \
            else {}
        get = best.get
        pop = heapq.heappop
        push = heapq.heappush
        while heap:
            neg_bw, lat, node = pop(heap)
            if node in order:
                continue
            order[node] = len(order)
            bw = -neg_bw
            nbrs = core_adj.get(node)
            if nbrs is None:
                # The source host.
                nbrs = self._core_neighbours(node, min_level)
            for nbr, avail, latency in nbrs:
                if nbr in order:
                    continue
                nbw = avail if avail < bw else bw
                nlat = lat + latency
                old = get(nbr)
                if (old is None or nbw > old[0] or
                        (nbw == old[0] and nlat < old[1])):
                    best[nbr] = (nbw, nlat, node)
                    push(heap, (-nbw, nlat, nbr))
        return best, order

    def _host_patterns(self, best, order, rows):
        """The pattern number and weakest level of each chosen host link.
        """
        # The pattern of the path to every expanded node, in the order
        # they were expanded (a node's predecessor comes before it).
        known = self.patterns.numbers
        extend = self.patterns.extend
        core_class = self._core_class
        prefix = {}
        for node in order:
            pred = best[node][2]
            if pred is None:
                prefix[node] = 0
                continue
            row = core_class.get(pred)
            key = (prefix[pred], row[node] if row is not None
                   else self._link_class(pred, node))
            k = known.get(key)
            prefix[node] = k if k is not None else extend(*key)
        # One pattern per (switch, link class) pair that leads to a host.
        row_pair = self._hl_pair[rows]
        pair_node, pair_class = self._pair_node, self._pair_class
        used = np.zeros(len(pair_node), dtype=bool)
        used[row_pair] = True
        pid = np.zeros(len(used), dtype=np.intp)
        lowest = np.zeros(len(used), dtype=np.intp)
        pattern_lowest = self.patterns.lowest
        for k in np.nonzero(used)[0].tolist():
            key = (prefix[pair_node[k]], pair_class[k])
            p = known.get(key)
            if p is None:
                p = extend(*key)
            pid[k] = p
            lowest[k] = pattern_lowest[p]
        return pid[row_pair], lowest[row_pair]

    def _link_class(self, a, b):
        attrs = self._adj[a][b]
        return self._class_id[(attrs['level'], attrs['mechanisms'])]
