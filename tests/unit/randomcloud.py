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

"""Random clouds, policies and requests for the property tests."""

from qslm_nova import decision
from qslm_nova import estimator
from qslm_nova import exception
from qslm_nova import policy
from qslm_nova import trust
from qslm_nova.trust import static
from tests.unit import fixtures as fx

LEVELS = list(policy.DEFAULT_LEVELS)
MECHS = ['none', 'tls', 'tunnelled', 'ipsec']
TIMES = [fx.FRESH, fx.OLD, '2026-11-25T11:59:59Z']


def random_doc(rng, hosts=None):
    """A random cloud document.

    With multi-homed hosts, links between hosts, unreachable hosts, equal
    bandwidths and zero latencies (ties) and link-level mechanisms.
    """
    nh = hosts or rng.randint(2, 14)
    nn = rng.randint(1, 5)
    doc = {'version': 1, 'hosts': {}, 'nodes': {}, 'links': []}
    for i in range(nh):
        entry = {'mechanisms': rng.sample(MECHS, rng.randint(1, 4))}
        r = rng.random()
        if r < 0.6:
            entry.update(trusted=True, attested_at=rng.choice(TIMES))
        elif r < 0.75:
            entry['trusted'] = True
        elif r < 0.9:
            entry['trusted'] = False
        if rng.random() < 0.6:
            entry['cpu_load'] = rng.choice([0.05, 0.3, 0.5, 0.9])
        doc['hosts']['h%d' % i] = entry
    for i in range(nn):
        doc['nodes']['n%d' % i] = {}
    names = list(doc['hosts']) + list(doc['nodes'])
    seen = set()
    for _ in range(rng.randint(nh, 3 * (nh + nn))):
        a, b = rng.sample(names, 2)
        if (a, b) in seen or (b, a) in seen:
            continue
        seen.add((a, b))
        link = fx.link(a, b, rng.choice([0.5, 1, 10, 10, 25]),
                       rng.choice(LEVELS),
                       latency_ms=rng.choice([0, 0, 0.5, 5, 40]))
        if rng.random() < 0.3:
            link['utilization'] = rng.choice([0.0, 0.5, 0.8])
        if rng.random() < 0.3:
            link['mechanisms'] = rng.sample(['ipsec', 'tls'],
                                            rng.randint(1, 2))
        doc['links'].append(link)
    return doc


def random_flavor(rng):
    flavor = {}
    if rng.random() < 0.6:
        flavor[policy.MAX_DOWNTIME] = str(rng.choice([20, 300, 800, 5000]))
    if rng.random() < 0.5:
        flavor[policy.REQUIRE_TRUSTED] = 'true'
    if rng.random() < 0.3:
        flavor[policy.REQUIRE_ENCRYPTION] = 'true'
    if rng.random() < 0.5:
        flavor[policy.MIN_LINK_SECURITY] = rng.choice(LEVELS)
    if rng.random() < 0.3:
        flavor[policy.ALLOWED_MECHANISMS] = rng.choice(
            ['tls,ipsec', 'none,tunnelled', 'ipsec', 'none'])
    if rng.random() < 0.5:
        flavor[policy.DIRTY_RATE] = str(rng.choice([1, 32, 256, 2000]))
    if rng.random() < 0.2:
        flavor[policy.BUDGET] = str(rng.choice([100, 3000]))
    if rng.random() < 0.03:
        flavor['qslm:no_such_key'] = '1'
    return flavor


def random_engine(rng, topo):
    libvirt = rng.choice([
        {}, {'timeout_action': 'force_complete', 'permit_post_copy': True},
        {'timeout_action': 'force_complete'}, {'completion_timeout_s': 0},
        {'permit_auto_converge': True}])
    settings = decision.Settings(
        libvirt=estimator.LibvirtSettings(**libvirt),
        fail_closed=rng.random() < 0.7,
        sla_estimate=rng.choice(['worst', 'expected']))
    if topo is None:
        def source():
            raise exception.TopologyError(['topology.yaml: broken'])
    else:
        def source():
            return topo
    evaluator = trust.TrustEvaluator(
        [static.StaticTrustProvider(None)], rng.choice(['all', 'first']),
        rng.choice([fx.DAY_S, 0, 3600]))
    return decision.Engine(settings, source, evaluator)


def random_request(rng, names):
    source = rng.choice(names + ['ghost'] if rng.random() < 0.1 else names)
    metadata = {}
    if rng.random() < 0.2:
        metadata = {'qslm:downtime_used_ms': str(rng.choice([0, 90, 2950])),
                    'qslm:budget_period_start': '2026-11-10'}
    return fx.request(source=source, memory_mb=rng.choice([512, 2048, 16384]),
                      flavor=random_flavor(rng), metadata=metadata)


def random_candidates(rng, names, source):
    pool = names + ['nowhere', 'ghost2']
    cands = rng.sample(pool, rng.randint(0, len(pool)))
    if rng.random() < 0.5:
        cands.append(source)          # the source among the candidates
    if cands and rng.random() < 0.2:
        cands.append(cands[0])        # a duplicate
    rng.shuffle(cands)
    return cands
