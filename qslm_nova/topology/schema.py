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

"""The schema of the topology file (version 1), checked completely.

:func:`parse` takes a loaded document (a dict, from YAML or JSON) and
builds a :class:`~qslm_nova.topology.model.Topology`, or raises one
TopologyError listing every problem, each with the file name, the entry
and the field (``topology.yaml: links[3].bandwidth_gbps: must be > 0,
got -1``). Unknown keys are errors, not ignored.

The document may come from a hostile or broken file: any value may be of
any type and size (see :mod:`.checks`).
"""

import collections
import dataclasses
import datetime

import networkx as nx

from qslm_nova import estimator
from qslm_nova import exception
from qslm_nova import mechanisms as mech_mod
from qslm_nova import policy as policy_mod
from qslm_nova.topology import checks
from qslm_nova.topology import model

DEFAULT_LEVELS = policy_mod.DEFAULT_LEVELS
TOP_KEYS = ('version', 'security_levels', 'mechanisms', 'hosts', 'nodes',
            'links')
HOST_KEYS = ('site', 'trusted', 'attested_at', 'mechanisms', 'cpu_load',
             'agent_id')
NODE_KEYS = ('kind', 'site')
NODE_KINDS = ('switch', 'router', 'gateway', 'site', 'other')
LINK_KEYS = ('between', 'bandwidth_gbps', 'latency_ms', 'security',
             'utilization', 'mechanisms')
# Bounds on the lists a file defines: no network needs more, and the
# searches keep one adjacency per level, the decision options per
# mechanism.
MAX_LEVELS = 32
MAX_MECHANISMS = 64


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
    try:
        return ts.astimezone(datetime.timezone.utc)
    except OverflowError:
        # 0001-01-01T00:00:00+01:00 is before the first UTC datetime.
        raise ValueError('out of range')


def parse(doc, fname='<topology>', extra_keys=()):
    """Validate a loaded YAML document and build a Topology.

    :raises TopologyError: listing every problem found.
    """
    chk = checks.Checker(fname)
    if not isinstance(doc, dict):
        raise exception.TopologyError(
            ['%s: top level must be a mapping, got %s' % (
                fname, type(doc).__name__)])
    chk.unknown(doc, TOP_KEYS + tuple(extra_keys), '')
    if doc.get('version') != 1:
        chk.err('version', 'must be 1, got %s'
                % checks.show(doc.get('version')))
    levels = _parse_levels(doc, chk)
    mechs = _parse_mechanisms(doc, chk)
    graph = nx.Graph()
    hosts = _parse_hosts(doc, chk, mechs, graph)
    _parse_nodes(doc, chk, hosts, graph)
    _parse_links(doc, chk, levels, mechs, graph)
    chk.raise_errors()
    return model.Topology(fname, levels, mechs, hosts, graph)


def _parse_levels(doc, chk):
    levels = doc.get('security_levels', list(DEFAULT_LEVELS))
    if (not isinstance(levels, list) or not levels or
            not all(isinstance(x, str) and x for x in levels)):
        chk.err('security_levels',
                'must be a non-empty list of names, weakest first, got %s'
                % checks.show(levels))
        return list(DEFAULT_LEVELS)
    if len(levels) > MAX_LEVELS:
        chk.err('security_levels', 'at most %d levels, got %d'
                % (MAX_LEVELS, len(levels)))
        return list(DEFAULT_LEVELS)
    dups = sorted(x for x, n in collections.Counter(levels).items() if n > 1)
    if dups:
        chk.err('security_levels',
                'duplicate level(s): %s' % checks.name_list(dups))
    return levels


def _parse_mechanisms(doc, chk):
    mechs = dict(mech_mod.BUILTIN)
    section = doc.get('mechanisms', {})
    if section is None:
        section = {}
    if not chk.mapping(section, 'mechanisms'):
        return mechs
    if len(section) > MAX_MECHANISMS:
        chk.err('mechanisms', 'at most %d mechanisms, got %d'
                % (MAX_MECHANISMS, len(section)))
        return mechs
    for name, entry in section.items():
        place = 'mechanisms.%s' % checks.key_text(name)
        if not isinstance(name, str) or not name:
            chk.err('mechanisms', 'names must be strings, got %s'
                    % checks.show(name))
            continue
        entry = chk.entry(entry, tuple(mech_mod.FIELDS), place)
        if entry is None:
            continue
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
        chk.err(place, 'must be a list of mechanism names, got %s'
                % checks.show(value))
        return frozenset()
    out = set()
    for i, name in enumerate(value):
        name = mech_mod.canonical_name(name, '%s %s' % (chk.fname, place))
        if not isinstance(name, str):
            chk.err('%s[%d]' % (place, i),
                    'must be a mechanism name, got %s' % checks.show(name))
        elif name not in mechs:
            chk.err('%s[%d]' % (place, i),
                    'unknown mechanism %s (known: %s)' % (
                        checks.show(name), checks.name_list(sorted(mechs))))
        else:
            out.add(name)
    return frozenset(out)


def _parse_hosts(doc, chk, mechs, graph):
    """The hosts section: {name: Host}; each host a node of graph."""
    hosts = {}
    section = doc.get('hosts')
    if section is None or not isinstance(section, dict) or not section:
        chk.err('hosts', 'must be a non-empty mapping of compute hosts')
        section = section if isinstance(section, dict) else {}
    for name, entry in section.items():
        place = 'hosts.%s' % checks.key_text(name)
        if str(name) in hosts:
            chk.err(place, 'duplicate host name %s' % checks.show(str(name)))
            continue
        entry = chk.entry(entry, HOST_KEYS, place, empty_ok=True)
        if entry is None:
            continue
        attested = None
        if entry.get('attested_at') is not None:
            try:
                attested = parse_timestamp(entry['attested_at'])
            except ValueError:
                chk.err(place + '.attested_at',
                        'must be an ISO 8601 timestamp, got %s'
                        % checks.show(entry['attested_at']))
        host_mechs = frozenset(['none'])
        if 'mechanisms' in entry:
            host_mechs = _mech_list(entry['mechanisms'], mechs, chk,
                                    place + '.mechanisms')
        hosts[str(name)] = model.Host(
            name=str(name),
            site=chk.string(entry, 'site', place),
            trusted=chk.boolean(entry, 'trusted', place),
            attested_at=attested,
            mechanisms=host_mechs,
            cpu_load=chk.number(entry, 'cpu_load', place, minimum=0,
                                maximum=estimator.MAX_CPU_LOAD),
            agent_id=chk.string(entry, 'agent_id', place))
        graph.add_node(str(name), kind='host')
    return hosts


def _parse_nodes(doc, chk, hosts, graph):
    """The nodes section: network nodes added to graph."""
    section = doc.get('nodes') or {}
    if not chk.mapping(section, 'nodes'):
        return
    for name, entry in section.items():
        place = 'nodes.%s' % checks.key_text(name)
        if str(name) in hosts:
            chk.err(place, 'duplicate name: %s is also a host'
                    % checks.show(name))
            continue
        entry = chk.entry(entry, NODE_KEYS, place, empty_ok=True)
        if entry is None:
            continue
        kind = chk.string(entry, 'kind', place) or 'other'
        if kind not in NODE_KINDS:
            chk.err(place + '.kind', 'must be one of %s, got %s' % (
                ', '.join(NODE_KINDS), checks.show(kind)))
        graph.add_node(str(name), kind=kind,
                       site=chk.string(entry, 'site', place))


def _parse_links(doc, chk, levels, mechs, graph):
    """The links section: edges added to graph."""
    level_index = {n: i for i, n in enumerate(levels)}
    links = doc.get('links')
    if not isinstance(links, list):
        chk.err('links', 'must be a list of links, got %s'
                % checks.show(links))
        links = []
    for i, entry in enumerate(links):
        place = 'links[%d]' % i
        entry = chk.entry(entry, LINK_KEYS, place)
        if entry is None:
            continue
        ends = _link_ends(entry, chk, place, graph)
        bw = chk.number(entry, 'bandwidth_gbps', place, above=0,
                        required=True)
        latency = chk.number(entry, 'latency_ms', place, default=0.0,
                             minimum=0)
        util = chk.number(entry, 'utilization', place, default=0.0,
                          minimum=0, below=1)
        level = chk.string(entry, 'security', place, required=True)
        if level is not None and level not in level_index:
            chk.err(place + '.security', 'unknown security level %s '
                    '(levels: %s)' % (checks.show(level),
                                      checks.name_list(levels)))
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


def _link_ends(entry, chk, place, graph):
    """The two node names a link joins, or None when they are wrong."""
    ends = entry.get('between')
    if (not isinstance(ends, list) or len(ends) != 2 or
            not all(isinstance(e, str) for e in ends)):
        chk.err(place + '.between',
                'must be a list of two node names, got %s' % checks.show(ends))
        return None
    for j, end in enumerate(ends):
        if end not in graph:
            chk.err('%s.between[%d]' % (place, j),
                    'undefined node %s (not in hosts or nodes)'
                    % checks.show(end))
            ends = None
    if ends and ends[0] == ends[1]:
        chk.err(place + '.between',
                'a link must join two different nodes, got %s'
                % checks.show(ends))
        return None
    if ends and graph.has_edge(*ends):
        chk.err(place + '.between', 'duplicate link between %s and %s'
                % (checks.key_text(ends[0]), checks.key_text(ends[1])))
        return None
    return ends
