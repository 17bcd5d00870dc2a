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

"""Generated topologies for the benchmarks.

A cloud of ``sites`` data centres. Inside a site: a leaf-spine fabric
(every leaf wired to every spine) or a k-ary fat-tree (edge, aggregation
and core switches in pods); compute hosts hang off leaves / edge
switches, one link each. Every site has a gateway router wired to its
spines / core switches; the gateways are joined by WAN links (a ring plus
a few chords), some of which carry IPsec.

Everything is drawn from a seeded ``random.Random``, so a (hosts, seed)
pair always gives the same document. The result is a topology document
(a dict in the version-1 file format) that :func:`qslm_nova.topology.parse`
accepts, plus nothing else: the benchmarks read the host names back from
``doc['hosts']``.
"""

import math
import random

FRESH = '2026-11-25T11:00:00Z'
MECH_SETS = (
    (['none', 'tls', 'tunnelled'], 0.55),
    (['none', 'tls'], 0.25),
    (['none', 'tunnelled'], 0.10),
    (['none'], 0.10),
)


def _pick(rng, weighted):
    x = rng.random()
    for value, weight in weighted:
        x -= weight
        if x <= 0:
            return value
    return weighted[-1][0]


def default_sites(hosts):
    """Sites for a cloud of this size: 2 up to 1,000 hosts, then ~1/1,000.
    """
    return max(2, min(12, int(math.ceil(hosts / 1000.0))))


def generate(hosts, sites=None, fabric='leaf-spine', hosts_per_leaf=40,
             spines=4, fat_tree_k=8, trusted_share=0.85,
             seed=1, name_fmt='cn-%s-%05d'):
    """Return a topology document with ``hosts`` compute hosts.

    :param fabric: ``leaf-spine``, ``fat-tree`` or ``mixed`` (alternating
        per site).
    :param trusted_share: share of hosts attested trusted (the others are
        attested untrusted).
    """
    rng = random.Random(seed)
    sites = sites or default_sites(hosts)
    doc = {'version': 1, 'hosts': {}, 'nodes': {}, 'links': []}
    per_site = [hosts // sites + (1 if i < hosts % sites else 0)
                for i in range(sites)]
    links = doc['links']
    for s in range(sites):
        site = 'site%02d' % s
        kind = fabric
        if fabric == 'mixed':
            kind = 'leaf-spine' if s % 2 == 0 else 'fat-tree'
        gw = '%s-gw' % site
        doc['nodes'][gw] = {'kind': 'gateway', 'site': site}
        if kind == 'fat-tree':
            leaves = _fat_tree(doc, site, gw, per_site[s], fat_tree_k, rng)
        else:
            leaves = _leaf_spine(doc, site, gw, per_site[s], hosts_per_leaf,
                                 spines, rng)
        # Hosts: spread over the leaves; one access link each.
        for h in range(per_site[s]):
            name = name_fmt % (site, h)
            leaf, level = leaves[h % len(leaves)]
            trusted = rng.random() < trusted_share
            entry = {'site': site, 'trusted': trusted,
                     'mechanisms': list(_pick(rng, MECH_SETS)),
                     'cpu_load': round(rng.uniform(0.05, 0.8), 2)}
            if trusted:
                entry['attested_at'] = FRESH
            doc['hosts'][name] = entry
            links.append({'between': [name, leaf],
                          'bandwidth_gbps': rng.choice((10.0, 25.0)),
                          'latency_ms': 0.02, 'security': level,
                          'utilization': round(rng.uniform(0.0, 0.6), 2)})
    _wan(doc, sites, rng)
    return doc


def _switch(doc, name, site):
    doc['nodes'][name] = {'kind': 'switch', 'site': site}


def _link(doc, a, b, gbps, latency_ms, level, utilization):
    doc['links'].append({'between': [a, b], 'bandwidth_gbps': gbps,
                         'latency_ms': latency_ms, 'security': level,
                         'utilization': round(utilization, 2)})


def _rack_level(rng):
    # A share of racks / pods sit on a shared (multi-tenant) fabric
    # segment, a few on an isolated one.
    return _pick(rng, (('private', 0.7), ('shared', 0.2), ('isolated', 0.1)))


def _leaf_spine(doc, site, gw, nhosts, hosts_per_leaf, spines, rng):
    nleaves = max(1, int(math.ceil(nhosts / float(hosts_per_leaf))))
    spine_names = ['%s-spine%d' % (site, i) for i in range(spines)]
    for sp in spine_names:
        _switch(doc, sp, site)
        _link(doc, sp, gw, 100.0, 0.05, 'private', rng.uniform(0, 0.5))
    leaves = []
    for i in range(nleaves):
        leaf = '%s-leaf%04d' % (site, i)
        _switch(doc, leaf, site)
        level = _rack_level(rng)
        for sp in spine_names:
            _link(doc, leaf, sp, 40.0, 0.01, level, rng.uniform(0.0, 0.7))
        leaves.append((leaf, level))
    return leaves


def _fat_tree(doc, site, gw, nhosts, k, rng):
    # A k-ary fat-tree: k pods, k/2 edge and k/2 aggregation switches per
    # pod, (k/2)^2 cores. Enough edges for the hosts: k grows if needed.
    half = k // 2
    while k * half * 48 < nhosts:
        k += 2
        half = k // 2
    cores = ['%s-core%d' % (site, i) for i in range(half * half)]
    for c in cores:
        _switch(doc, c, site)
        _link(doc, c, gw, 100.0, 0.05, 'private', rng.uniform(0, 0.5))
    edges = []
    for p in range(k):
        level = _rack_level(rng)
        aggs = ['%s-p%02d-agg%d' % (site, p, a) for a in range(half)]
        for a, agg in enumerate(aggs):
            _switch(doc, agg, site)
            for c in range(half):
                _link(doc, agg, cores[a * half + c], 40.0, 0.01, 'private',
                      rng.uniform(0, 0.6))
        for e in range(half):
            edge = '%s-p%02d-edge%d' % (site, p, e)
            _switch(doc, edge, site)
            for agg in aggs:
                _link(doc, edge, agg, 40.0, 0.01, level,
                      rng.uniform(0.0, 0.7))
            edges.append((edge, level))
    return edges


def _wan(doc, sites, rng):
    gws = ['site%02d-gw' % s for s in range(sites)]
    pairs = set()
    for s in range(sites):
        pairs.add(tuple(sorted((s, (s + 1) % sites))))
    for _ in range(sites // 2):
        a, b = rng.sample(range(sites), 2)
        pairs.add(tuple(sorted((a, b))))
    for a, b in sorted(pairs):
        if a == b:
            continue
        doc['links'].append({
            'between': [gws[a], gws[b]],
            'bandwidth_gbps': rng.choice((1.0, 2.0, 5.0, 10.0)),
            'latency_ms': round(rng.uniform(2.0, 30.0), 1),
            'security': _pick(rng, (('wan', 0.7), ('untrusted', 0.3))),
            'utilization': round(rng.uniform(0.1, 0.6), 2),
            'mechanisms': ['ipsec'] if rng.random() < 0.5 else []})
