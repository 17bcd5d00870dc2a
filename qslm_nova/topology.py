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

"""The topology file: hosts, network nodes, links and mechanisms.

The YAML file (version 1) is validated completely before use: every
problem is reported with the file name, the entry and the field, and
unknown keys are errors. The result is a :class:`Topology` holding a
networkx graph and the per-host data the decision needs.
"""

import collections
import dataclasses
import datetime
import heapq
import json
import math
import os
import threading

import networkx as nx
import numpy as np
from oslo_log import log as logging
import yaml

from qslm_nova import exception
from qslm_nova import mechanisms as mech_mod
from qslm_nova import policy as policy_mod

LOG = logging.getLogger(__name__)

DEFAULT_LEVELS = policy_mod.DEFAULT_LEVELS
TOP_KEYS = ('version', 'security_levels', 'mechanisms', 'hosts', 'nodes',
            'links')
HOST_KEYS = ('site', 'trusted', 'attested_at', 'mechanisms', 'cpu_load',
             'agent_id')
NODE_KEYS = ('kind', 'site')
NODE_KINDS = ('switch', 'router', 'gateway', 'site', 'other')
LINK_KEYS = ('between', 'bandwidth_gbps', 'latency_ms', 'security',
             'utilization', 'mechanisms')


# libyaml's parser when PyYAML has it (about ten times faster on a
# 10,000-host file), with the same safe constructors.
_SafeBase = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class _UniqueKeyLoader(_SafeBase):
    """A SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise exception.TopologyError([
                'line %d: duplicate key %r (first at line %d)' % (
                    key_node.start_mark.line + 1, key, seen[key])])
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclasses.dataclass(frozen=True)
class Host:
    name: str
    site: str = None
    trusted: bool = False
    attested_at: datetime.datetime = None
    mechanisms: frozenset = frozenset(['none'])
    cpu_load: float = None
    agent_id: str = None


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

    def _index_hosts(self):
        """Arrays over the hosts and the links that reach them.

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
        # Every node numbered: hosts first, then the network nodes.
        nodes = list(names)
        nodes.extend(n for n in self.graph if n not in self.host_index)
        self._node_names = nodes
        self._node_id = {name: i for i, name in enumerate(nodes)}
        # The search expands network nodes only (traffic does not transit
        # through compute hosts): their adjacency without the hosts.
        adj = self.graph._adj
        # Per minimum level, the links a search may take.
        self._core_adj = [
            {node: self._core_neighbours(node, min_level)
             for node in nodes[len(names):]}
            for min_level in range(max(len(self.levels), 1))]
        # Links at hosts, one row per (host, neighbour): filled in for all
        # hosts at once after the search of the network nodes.
        rows = []
        # Every link's class, its (level, mechanisms), by number: path
        # patterns are built from them.
        classes = self._class_id = {}
        self._link_classes = []

        def class_of(attrs):
            key = (attrs['level'], attrs['mechanisms'])
            c = classes.get(key)
            if c is None:
                c = classes[key] = len(self._link_classes)
                self._link_classes.append(key)
            return c

        for i, name in enumerate(names):
            for nbr, attrs in adj[name].items():
                rows.append((i, self._node_id[nbr], attrs['avail_gbps'],
                             attrs['latency_ms'], attrs['level'],
                             class_of(attrs)))
        cols = list(zip(*rows)) or [()] * 6
        self._hl_host = np.array(cols[0], dtype=np.intp)
        self._hl_nbr = np.array(cols[1], dtype=np.intp)
        self._hl_avail = np.array(cols[2], dtype=float)
        self._hl_latency = np.array(cols[3], dtype=float)
        self._hl_level = np.array(cols[4], dtype=np.intp)
        self._hl_class = np.array(cols[5], dtype=np.intp)
        # The class of each link between network nodes, by its ends.
        self._core_class = {
            node: {nbr: class_of(attrs)
                   for nbr, attrs in adj[node].items()
                   if nbr not in self.host_index}
            for node in nodes[len(names):]}
        # Patterns, interned once for the topology's life: number k is
        # ``_seq[k]`` = (link levels, link mechanisms) from a source, and
        # a pattern one link longer is numbered by (its prefix's number,
        # the link's class). Equal sequences get equal numbers.
        self._seq = [((), ())]
        self._seq_lowest = [max(len(self.levels) - 1, 0)]
        self._seq_id = {}
        self._seq_lock = threading.Lock()
        # Most hosts have one link: then no search has to choose between
        # a host's links.
        self._hl_one_per_host = len(set(cols[0])) == len(rows)
        # Paths to hosts share their prefix (the path to the switch) and
        # differ in the last link: a number per (switch, link class).
        nclass = max(len(self._link_classes), 1)
        pairs, inverse = np.unique(self._hl_nbr * nclass + self._hl_class,
                                   return_inverse=True)
        self._hl_pair = inverse.reshape(-1).astype(np.intp)
        self._pair_node = [self._node_names[p // nclass]
                           for p in pairs.tolist()]
        self._pair_class = [p % nclass for p in pairs.tolist()]

    def _extend(self, prefix, link_class):
        """The pattern number of pattern ``prefix`` plus one link.

        Called when ``_seq_id`` has no number for it yet (searches look
        there first, without the lock).
        """
        key = (prefix, link_class)
        with self._seq_lock:
            k = self._seq_id.get(key)
            if k is None:
                levels, mechs = self._seq[prefix]
                level, mech = self._link_classes[link_class]
                self._seq.append((levels + (level,), mechs + (mech,)))
                self._seq_lowest.append(min(self._seq_lowest[prefix],
                                            level))
                k = len(self._seq) - 1
                # Published last: a reader that finds k finds its entry.
                self._seq_id[key] = k
            return k

    def _link_class(self, a, b):
        attrs = self.graph._adj[a][b]
        return self._class_id[(attrs['level'], attrs['mechanisms'])]

    def _core_neighbours(self, node, min_level):
        """(neighbour, available Gbit/s, latency ms) of the links from
        node to network nodes at or above min_level.
        """
        hosts = self.host_index
        return tuple((nbr, attrs['avail_gbps'], attrs['latency_ms'])
                     for nbr, attrs in self.graph._adj[node].items()
                     if nbr not in hosts and attrs['level'] >= min_level)

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

        :returns: a search result: ``get(node)`` gives (bottleneck_gbps,
            latency_ms, predecessor) or None; its arrays over the hosts
            (see :class:`_Search`) serve the decision.
        """
        key = (source, min_level)
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        result = self._search(source, min_level)
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

    def _search(self, source, min_level):
        # 1. The network nodes, by a max-bottleneck Dijkstra; the source
        #    is expanded first even when it is a host.
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
        # 2. Every host at once: the best of its links to an expanded
        #    node, by bandwidth, then latency, then the node expanded
        #    first (a node-by-node search records the first of equals).
        nnodes = len(self._node_names)
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
        if self._hl_one_per_host:
            return _Search(self, source, best, order, rows, nbw, nlat)
        first = np.lexsort((node_order[nbr], nlat, -nbw, host))
        host = host[first]
        keep = np.ones(len(host), dtype=bool)
        keep[1:] = host[1:] != host[:-1]
        pick = first[keep]
        return _Search(self, source, best, order, rows[pick], nbw[pick],
                       nlat[pick])

    def path_to(self, search, dest):
        """Build the PathInfo to dest from a widest_paths() result."""
        entry = search.get(dest)
        if entry is None:
            return None
        memo = search.paths
        hit = memo.get(dest)
        if hit is not None:
            return hit
        pred = entry[2]
        if pred is None:
            nodes, levels, mechs = (dest,), (), ()
        else:
            # Hosts are leaves: the path to dest is the (memoised) path to
            # its switch plus one link, shared by every host on it.
            nodes, levels, mechs = self._prefix(search, pred)
            attrs = self.graph._adj[pred][dest]
            nodes = nodes + (dest,)
            levels = levels + (attrs['level'],)
            mechs = mechs + (attrs['mechanisms'],)
        bottleneck, latency, _pred = entry
        info = PathInfo(nodes=nodes, bottleneck_gbps=bottleneck,
                        rtt_ms=2.0 * latency,
                        weakest_level=min(levels) if levels else
                        len(self.levels) - 1,
                        link_levels=levels,
                        link_mechanisms=mechs)
        # Benign race: concurrent requests store equal values.
        memo[dest] = info
        return info

    def _prefix(self, search, node):
        """(nodes, link levels, link mechanisms) from the source to node.

        Memoised per search for every node on the way, so each node's
        prefix costs one link on top of its predecessor's.
        """
        memo = search.prefixes
        hit = memo.get(node)
        if hit is not None:
            return hit
        core = search._core
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
        adj = self.graph._adj
        if hit is None:
            root = chain.pop()
            hit = ((root,), (), ())
            # Benign race: concurrent requests store equal values.
            memo[root] = hit
        nodes, levels, mechs = hit
        for n in reversed(chain):
            attrs = adj[nodes[-1]][n]
            nodes = nodes + (n,)
            levels = levels + (attrs['level'],)
            mechs = mechs + (attrs['mechanisms'],)
            memo[n] = (nodes, levels, mechs)
        return memo[node]


class _Search:
    """A widest_paths() result.

    ``get(node)`` gives (bottleneck, latency, predecessor) like a dict.
    For the hosts it holds arrays indexed like ``Topology.host_names``:

    * ``reach``: a path exists;
    * ``bottleneck_gbps`` and ``latency_ms`` (one way) of that path;
    * ``weakest``: the lowest link security level on it;
    * ``pattern``: the number of the path's sequence of (link level,
      link mechanisms), ``patterns[k]`` that (levels, mechanisms) pair;
      -1 where unreachable. Numbers are the topology's: equal sequences
      have equal numbers in every search.

    It also memoises the paths built from it: to the inner nodes
    (switches, routers), so that the path to each of thousands of hosts
    costs one link, and the PathInfo of every destination asked for. All
    live as long as the cached search (immutable, like the topology).
    """

    __slots__ = ('source', 'prefixes', 'paths', 'reach', 'bottleneck_gbps',
                 'latency_ms', 'weakest', 'pattern', 'patterns', '_core',
                 '_pred', '_topology')

    def __init__(self, topo, source, core, order, rows, bw, lat):
        self._topology = topo
        self.source = source
        self._core = core
        self.prefixes = {}
        self.paths = {}
        nhosts = len(topo.host_names)
        hosts = topo._hl_host[rows]
        preds = topo._hl_nbr[rows]
        self.reach = np.zeros(nhosts, dtype=bool)
        self.reach[hosts] = True
        self.bottleneck_gbps = np.zeros(nhosts)
        self.bottleneck_gbps[hosts] = bw
        self.latency_ms = np.zeros(nhosts)
        self.latency_ms[hosts] = lat
        self._pred = np.full(nhosts, -1, dtype=np.intp)
        self._pred[hosts] = preds
        src = topo.host_index.get(source)
        if src is not None:
            self.reach[src] = True
            self.bottleneck_gbps[src] = math.inf
        # The pattern of the path to every expanded node, in the order
        # they were expanded (a node's predecessor comes before it).
        extend = topo._extend
        seq_id = topo._seq_id
        core_class = topo._core_class
        prefix = {}
        for node in order:
            pred = core[node][2]
            if pred is None:
                prefix[node] = 0
                continue
            row = core_class.get(pred)
            key = (prefix[pred], row[node] if row is not None
                   else topo._link_class(pred, node))
            k = seq_id.get(key)
            prefix[node] = k if k is not None else extend(*key)
        # One pattern per (switch, link class) pair that leads to a host
        # (see Topology._hl_pair).
        row_pair = topo._hl_pair[rows]
        used = np.zeros(len(topo._pair_node), dtype=bool)
        used[row_pair] = True
        pid = np.zeros(len(used), dtype=np.intp)
        lowest = np.zeros(len(used), dtype=np.intp)
        pair_node, pair_class = topo._pair_node, topo._pair_class
        seq_lowest = topo._seq_lowest
        for k in np.nonzero(used)[0].tolist():
            key = (prefix[pair_node[k]], pair_class[k])
            p = seq_id.get(key)
            if p is None:
                p = extend(*key)
            pid[k] = p
            lowest[k] = seq_lowest[p]
        # Numbers into the topology's list, which only grows.
        self.patterns = topo._seq
        self.pattern = np.full(nhosts, -1, dtype=np.intp)
        self.pattern[hosts] = pid[row_pair]
        self.weakest = np.full(nhosts, len(topo.levels) - 1, dtype=np.intp)
        self.weakest[hosts] = lowest[row_pair]

    def get(self, node, default=None):
        topo = self._topology
        i = topo.host_index.get(node)
        if i is None or node == self.source:
            return self._core.get(node, default)
        if not self.reach[i]:
            return default
        return (float(self.bottleneck_gbps[i]), float(self.latency_ms[i]),
                topo._node_names[self._pred[i]])

    def __getitem__(self, node):
        entry = self.get(node)
        if entry is None:
            raise KeyError(node)
        return entry

    def __contains__(self, node):
        return self.get(node) is not None

    def __len__(self):
        return len(self._core) + int(np.count_nonzero(self.reach))


class _Checker:
    """Collects validation errors with their place in the file."""

    def __init__(self, fname):
        self.fname = fname
        self.errors = []

    def err(self, place, msg):
        self.errors.append('%s: %s: %s' % (self.fname, place, msg))

    def mapping(self, value, place):
        if not isinstance(value, dict):
            self.err(place, 'must be a mapping, got %s' %
                     type(value).__name__)
            return False
        return True

    def unknown(self, entry, allowed, place):
        for key in entry:
            if key not in allowed:
                self.err('%s.%s' % (place, key) if place else key,
                         'unknown key (allowed: %s)' % ', '.join(allowed))

    def number(self, entry, key, place, default=None, minimum=None,
               above=None, below=None, maximum=None, required=False):
        where = '%s.%s' % (place, key)
        if key not in entry:
            if required:
                self.err(where, 'is required')
            return default
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.err(where, 'must be a number, got %r' % (value,))
            return default
        if not math.isfinite(value):
            self.err(where, 'must be finite, got %r' % (value,))
            return default
        if above is not None and not value > above:
            self.err(where, 'must be > %s, got %s' % (above, value))
        if minimum is not None and value < minimum:
            self.err(where, 'must be >= %s, got %s' % (minimum, value))
        if below is not None and not value < below:
            self.err(where, 'must be < %s, got %s' % (below, value))
        if maximum is not None and value > maximum:
            self.err(where, 'must be <= %s, got %s' % (maximum, value))
        return float(value)

    def string(self, entry, key, place, required=False):
        where = '%s.%s' % (place, key)
        if key not in entry:
            if required:
                self.err(where, 'is required')
            return None
        value = entry[key]
        if not isinstance(value, str) or not value:
            self.err(where, 'must be a non-empty string, got %r' % (value,))
            return None
        return value

    def boolean(self, entry, key, place, default=False):
        if key not in entry:
            return default
        value = entry[key]
        if not isinstance(value, bool):
            self.err('%s.%s' % (place, key),
                     'must be true or false, got %r' % (value,))
            return default
        return value


def parse_timestamp(value):
    """Parse an ISO 8601 timestamp into an aware UTC datetime."""
    if isinstance(value, datetime.datetime):
        ts = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith('Z'):
            text = text[:-1] + '+00:00'
        ts = datetime.datetime.fromisoformat(text)
    else:
        raise ValueError('not a timestamp')
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=datetime.timezone.utc)
    return ts.astimezone(datetime.timezone.utc)


def _parse_levels(doc, chk):
    levels = doc.get('security_levels', list(DEFAULT_LEVELS))
    if (not isinstance(levels, list) or not levels or
            not all(isinstance(x, str) and x for x in levels)):
        chk.err('security_levels',
                'must be a non-empty list of names, weakest first, got %r'
                % (levels,))
        return list(DEFAULT_LEVELS)
    dups = sorted({x for x in levels if levels.count(x) > 1})
    if dups:
        chk.err('security_levels', 'duplicate level(s): %s' % ', '.join(dups))
    return levels


def _parse_mechanisms(doc, chk):
    mechs = dict(mech_mod.BUILTIN)
    section = doc.get('mechanisms', {})
    if section is None:
        section = {}
    if not chk.mapping(section, 'mechanisms'):
        return mechs
    for name, entry in section.items():
        place = 'mechanisms.%s' % name
        if not isinstance(name, str) or not name:
            chk.err('mechanisms', 'names must be strings, got %r' % (name,))
            continue
        if not chk.mapping(entry, place):
            continue
        chk.unknown(entry, tuple(mech_mod.FIELDS), place)
        name = mech_mod.canonical_name(name, '%s %s' % (chk.fname, place))
        base = mechs.get(name, mech_mod.Mechanism(name))
        values = {}
        for field, ftype in mech_mod.FIELDS.items():
            if field not in entry:
                continue
            if ftype is bool:
                values[field] = chk.boolean(entry, field, place)
            elif field == 'crypto_gbps_per_core':
                values[field] = chk.number(entry, field, place, above=0)
            elif ftype is float:
                values[field] = chk.number(entry, field, place, minimum=0)
            else:
                num = chk.number(entry, field, place, minimum=0)
                if num is not None:
                    if num != int(num):
                        chk.err('%s.%s' % (place, field),
                                'must be a whole number, got %s' % num)
                    values[field] = int(num)
        values = {k: v for k, v in values.items() if v is not None}
        mechs[name] = dataclasses.replace(base, **values)
    return mechs


def _mech_list(value, mechs, chk, place):
    if not isinstance(value, list):
        chk.err(place, 'must be a list of mechanism names, got %r' % (value,))
        return frozenset()
    out = set()
    for i, name in enumerate(value):
        name = mech_mod.canonical_name(name, '%s %s' % (chk.fname, place))
        if name not in mechs:
            chk.err('%s[%d]' % (place, i),
                    'unknown mechanism %r (known: %s)' % (
                        name, ', '.join(sorted(mechs))))
        else:
            out.add(name)
    return frozenset(out)


def parse(doc, fname='<topology>', extra_keys=()):
    """Validate a loaded YAML document and build a Topology.

    :raises TopologyError: listing every problem found.
    """
    chk = _Checker(fname)
    if not isinstance(doc, dict):
        raise exception.TopologyError(
            ['%s: top level must be a mapping, got %s' % (
                fname, type(doc).__name__)])
    chk.unknown(doc, TOP_KEYS + tuple(extra_keys), '')
    if doc.get('version') != 1:
        chk.err('version', 'must be 1, got %r' % (doc.get('version'),))
    levels = _parse_levels(doc, chk)
    level_index = {n: i for i, n in enumerate(levels)}
    mechs = _parse_mechanisms(doc, chk)

    graph = nx.Graph()
    hosts = {}
    section = doc.get('hosts')
    if section is None or not isinstance(section, dict) or not section:
        chk.err('hosts', 'must be a non-empty mapping of compute hosts')
        section = section if isinstance(section, dict) else {}
    for name, entry in section.items():
        place = 'hosts.%s' % name
        if entry is None:
            entry = {}
        if not chk.mapping(entry, place):
            continue
        chk.unknown(entry, HOST_KEYS, place)
        attested = None
        if entry.get('attested_at') is not None:
            try:
                attested = parse_timestamp(entry['attested_at'])
            except ValueError:
                chk.err(place + '.attested_at',
                        'must be an ISO 8601 timestamp, got %r'
                        % (entry['attested_at'],))
        host_mechs = frozenset(['none'])
        if 'mechanisms' in entry:
            host_mechs = _mech_list(entry['mechanisms'], mechs, chk,
                                    place + '.mechanisms')
        hosts[str(name)] = Host(
            name=str(name),
            site=chk.string(entry, 'site', place),
            trusted=chk.boolean(entry, 'trusted', place),
            attested_at=attested,
            mechanisms=host_mechs,
            cpu_load=chk.number(entry, 'cpu_load', place, minimum=0,
                                below=1),
            agent_id=chk.string(entry, 'agent_id', place))
        graph.add_node(str(name), kind='host')

    section = doc.get('nodes') or {}
    if chk.mapping(section, 'nodes'):
        for name, entry in section.items():
            place = 'nodes.%s' % name
            if str(name) in hosts:
                chk.err(place, 'duplicate name: %r is also a host' % name)
                continue
            if entry is None:
                entry = {}
            if not chk.mapping(entry, place):
                continue
            chk.unknown(entry, NODE_KEYS, place)
            kind = chk.string(entry, 'kind', place) or 'other'
            if kind not in NODE_KINDS:
                chk.err(place + '.kind', 'must be one of %s, got %r' % (
                    ', '.join(NODE_KINDS), kind))
            graph.add_node(str(name), kind=kind,
                           site=chk.string(entry, 'site', place))

    links = doc.get('links')
    if not isinstance(links, list):
        chk.err('links', 'must be a list of links, got %r' % (links,))
        links = []
    for i, entry in enumerate(links):
        place = 'links[%d]' % i
        if not chk.mapping(entry, place):
            continue
        chk.unknown(entry, LINK_KEYS, place)
        ends = entry.get('between')
        if (not isinstance(ends, list) or len(ends) != 2 or
                not all(isinstance(e, str) for e in ends)):
            chk.err(place + '.between',
                    'must be a list of two node names, got %r' % (ends,))
            ends = None
        else:
            for j, end in enumerate(ends):
                if end not in graph:
                    chk.err('%s.between[%d]' % (place, j),
                            'undefined node %r (not in hosts or nodes)'
                            % end)
                    ends = None
            if ends and ends[0] == ends[1]:
                chk.err(place + '.between',
                        'a link must join two different nodes, got %r'
                        % (ends,))
                ends = None
            elif ends and graph.has_edge(*ends):
                chk.err(place + '.between',
                        'duplicate link between %s and %s' % tuple(ends))
                ends = None
        bw = chk.number(entry, 'bandwidth_gbps', place, above=0,
                        required=True)
        latency = chk.number(entry, 'latency_ms', place, default=0.0,
                             minimum=0)
        util = chk.number(entry, 'utilization', place, default=0.0,
                          minimum=0, below=1)
        level = chk.string(entry, 'security', place, required=True)
        if level is not None and level not in level_index:
            chk.err(place + '.security', 'unknown security level %r '
                    '(levels: %s)' % (level, ', '.join(levels)))
            level = None
        link_mechs = frozenset()
        if 'mechanisms' in entry:
            link_mechs = _mech_list(entry['mechanisms'], mechs, chk,
                                    place + '.mechanisms')
        if ends and bw is not None and level is not None:
            graph.add_edge(ends[0], ends[1], bandwidth_gbps=bw,
                           avail_gbps=bw * (1.0 - (util or 0.0)),
                           latency_ms=latency or 0.0,
                           level=level_index[level],
                           mechanisms=link_mechs, index=i)
    if chk.errors:
        raise exception.TopologyError(chk.errors)
    return Topology(fname, levels, mechs, hosts, graph)


def _unique_pairs(pairs):
    """json object_pairs_hook: a dict, refusing duplicate keys."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise exception.TopologyError(
                ['duplicate key %r in a JSON object' % (key,)])
        out[key] = value
    return out


def _no_constant(name):
    raise ValueError('%s is not a JSON number' % name)


def _read_json(text):
    """The document if text is JSON, else None (then it is read as YAML).

    JSON is YAML too, but Python's json module reads a 10,000-host file
    in a fraction of a second where PyYAML takes seconds.
    """
    if not text.lstrip().startswith('{'):
        return None
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs,
                          parse_constant=_no_constant)
    except ValueError:
        # Flow-style YAML, or broken: the YAML reader says which.
        return None


def read_document(path):
    """Read a YAML (or JSON) file that refuses duplicate keys.

    :returns: (document, file name used in error messages)
    :raises TopologyError: unreadable file, invalid YAML or a duplicate
        key, naming the file.
    """
    fname = os.path.basename(path)
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        doc = _read_json(text)
        if doc is None:
            doc = yaml.load(text, Loader=_UniqueKeyLoader)  # nosec: Safe
    except OSError as e:
        raise exception.TopologyError(
            ['%s: cannot read: %s' % (path, e.strerror or e)])
    except UnicodeDecodeError as e:
        raise exception.TopologyError(
            ['%s: not UTF-8 text: %s' % (fname, e)])
    except exception.TopologyError as e:
        raise exception.TopologyError(
            ['%s: %s' % (fname, m) for m in e.errors])
    except yaml.YAMLError as e:
        raise exception.TopologyError(['%s: invalid YAML: %s' % (fname, e)])
    return doc, fname


def load(path, extra_keys=()):
    """Load and validate a topology file.

    :raises TopologyError: with every problem, each naming file and place.
    """
    doc, fname = read_document(path)
    return parse(doc, fname, extra_keys)


class TopologyStore:
    """Thread-safe holder of the current topology of a file.

    ``get()`` reloads the file when its modification time or size changed.
    A reload that fails is logged as an error and the last good topology is
    kept; without any good topology ``get()`` raises the TopologyError.
    While one thread reloads, ``get()`` in other threads returns the
    current topology instead of waiting for the load to finish.
    """

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._topology = None
        self._stamp = None
        self._error = None
        self.reloads = 0

    def _file_stamp(self):
        try:
            st = os.stat(self.path)
        except OSError as e:
            return ('missing', str(e))
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def get(self):
        stamp = self._file_stamp()
        current = self._topology
        if stamp == self._stamp and current is not None:
            return current
        # One thread loads a changed file; meanwhile the others keep
        # serving the current topology rather than wait (a 10,000-host
        # file takes seconds). Without any topology yet, they wait.
        if not self._lock.acquire(blocking=current is None):
            return current
        try:
            if stamp != self._stamp:
                try:
                    topo = load(self.path)
                except exception.TopologyError as e:
                    self._error = e
                    if self._topology is not None:
                        LOG.error('Topology reload failed, keeping the last '
                                  'good topology: %s', e)
                    else:
                        LOG.error('Cannot load the topology: %s', e)
                else:
                    self._topology = topo
                    self._error = None
                    self.reloads += 1
                    LOG.info('Loaded topology %s: %d hosts, %d links',
                             self.path, len(topo.hosts),
                             topo.graph.number_of_edges())
                self._stamp = stamp
            if self._topology is None:
                raise self._error
            return self._topology
        finally:
            self._lock.release()
