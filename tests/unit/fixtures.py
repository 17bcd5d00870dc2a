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

"""Shared helpers of the unit tests: a small cloud, an engine, requests.

The default topology (``cloud_doc()``) has two sites:

* dc-a: ``src``, ``dst``, ``plain`` (only ``none``), ``rogue`` (attested
  untrusted) and ``stale`` (trusted, attestation three days old), all on
  the switch ``tor`` over private 10 Gbit/s links, ``tor`` to ``ra``
  over a private 40 Gbit/s link;
* dc-b: ``far`` (none, tls, tunnelled) and ``farplain`` (none only) behind
  ``rb``; ``ra``-``rb`` is a 1 Gbit/s ``wan`` link carrying ``ipsec``.

Every test gets a fresh deep copy, so it may change the document freely.
"""

import copy
import datetime

from qslm_nova import decision
from qslm_nova import estimator
from qslm_nova import policy
from qslm_nova import topology
from qslm_nova import trust
from qslm_nova.trust import static

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
FRESH = '2026-11-25T11:00:00Z'
OLD = '2026-11-22T12:00:00Z'
DAY_S = 86400

_ALL = ['none', 'tls', 'tunnelled']


def link(a, b, bandwidth_gbps=10, security='private', **extra):
    """One entry of the topology's ``links`` list."""
    return dict({'between': [a, b], 'bandwidth_gbps': bandwidth_gbps,
                 'security': security}, **extra)


_CLOUD = {
    'version': 1,
    'hosts': {
        'src': {'site': 'dc-a', 'trusted': True, 'attested_at': FRESH,
                'mechanisms': _ALL, 'cpu_load': 0.2},
        'dst': {'site': 'dc-a', 'trusted': True, 'attested_at': FRESH,
                'mechanisms': _ALL, 'cpu_load': 0.2},
        'plain': {'site': 'dc-a', 'trusted': True, 'attested_at': FRESH,
                  'mechanisms': ['none']},
        'rogue': {'site': 'dc-a', 'trusted': False, 'mechanisms': _ALL},
        'stale': {'site': 'dc-a', 'trusted': True, 'attested_at': OLD,
                  'mechanisms': _ALL},
        'far': {'site': 'dc-b', 'trusted': True, 'attested_at': FRESH,
                'mechanisms': _ALL},
        'farplain': {'site': 'dc-b', 'trusted': True, 'attested_at': FRESH,
                     'mechanisms': ['none']},
    },
    'nodes': {
        'tor': {'kind': 'switch', 'site': 'dc-a'},
        'ra': {'kind': 'router', 'site': 'dc-a'},
        'rb': {'kind': 'router', 'site': 'dc-b'},
    },
    'links': [
        link('src', 'tor', latency_ms=0.05),
        link('dst', 'tor', latency_ms=0.05),
        link('plain', 'tor', latency_ms=0.05),
        link('rogue', 'tor', latency_ms=0.05),
        link('stale', 'tor', latency_ms=0.05),
        link('tor', 'ra', 40, latency_ms=0.05),
        link('ra', 'rb', 1, 'wan', latency_ms=5, mechanisms=['ipsec']),
        link('rb', 'far', latency_ms=0.05),
        link('rb', 'farplain', latency_ms=0.05),
    ],
}

WAN_LINK = 6   # index of the ra-rb link in cloud_doc()['links']


def cloud_doc():
    """A fresh copy of the default two-site topology document."""
    return copy.deepcopy(_CLOUD)


def make_topology(doc=None, fname='topology.yaml'):
    return topology.parse(cloud_doc() if doc is None else doc, fname)


def star_doc(n_hosts, bandwidth_gbps=10, security='private'):
    """``src`` and ``h0``..``h<n-1>`` on one switch, all trusted."""
    hosts = {'src': {'trusted': True, 'attested_at': FRESH,
                     'mechanisms': _ALL}}
    links = [link('src', 'sw', bandwidth_gbps, security)]
    for i in range(n_hosts):
        name = 'h%d' % i
        hosts[name] = {'trusted': True, 'attested_at': FRESH,
                       'mechanisms': _ALL}
        links.append(link(name, 'sw', bandwidth_gbps, security))
    return {'version': 1, 'hosts': hosts, 'nodes': {'sw': {}},
            'links': links}


def make_engine(topo=None, max_age_s=DAY_S, combination='all',
                libvirt=None, params=None, defaults=None, **settings):
    """An Engine over ``topo`` (default cloud) with the static provider.

    ``topo`` may also be a callable (the topology source itself).
    """
    if topo is None:
        topo = make_topology()
    source = topo if callable(topo) else (lambda: topo)
    kw = dict(settings)
    kw['libvirt'] = libvirt or estimator.LibvirtSettings()
    kw['params'] = params or estimator.ModelParams()
    kw['defaults'] = defaults or policy.Defaults()
    evaluator = trust.TrustEvaluator(
        [static.StaticTrustProvider(None)], combination, max_age_s)
    return decision.Engine(decision.Settings(**kw), source, evaluator)


def request(source='src', memory_mb=2048, flavor=None, image=None,
            metadata=None, now=NOW, **kw):
    return decision.MigrationRequest(
        instance_uuid='11111111-2222-3333-4444-555555555555',
        source_host=source, memory_mb=memory_mb,
        flavor_extra_specs=dict(flavor or {}),
        image_props=dict(image or {}), metadata=dict(metadata or {}),
        now=now, **kw)


def decide_one(engine, host, **kw):
    """The Decision for one candidate host."""
    return engine.decide(request(**kw), [host])[0]
