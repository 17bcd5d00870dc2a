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

"""The policies ``python -m bench.bench_quality`` compares, and the
request classes it draws.

Each policy is an engine (or a rule beside one) that allows or denies a
destination (:data:`POLICIES`, described in :mod:`bench.bench_quality`);
:func:`security_ok` judges a placement's security independently of every
engine, and :data:`ABLATIONS` are the shipped engine with one assumption
of its worst case dropped at a time. :func:`seed_of` makes every random
draw of a request reproducible from its parts.
"""

import datetime
import zlib

import numpy as np

from qslm_nova import decision
from qslm_nova.decision import options as decision_options
from qslm_nova import estimator
from qslm_nova.risk import assess as risk_assess
from qslm_nova import trust as trust_mod
from qslm_nova.trust import static


NOW = datetime.datetime(2026, 11, 25, 12, 0, 0,
                        tzinfo=datetime.timezone.utc)

# Flavor classes: (name, share, memory MiB, extra specs).
CLASSES = (
    ('gold-secure', 0.15, 8192, {
        'qslm:max_downtime_ms': '150', 'qslm:require_trusted_host': 'true',
        'qslm:min_link_security': 'private', 'qslm:dirty_rate_mibps': '64'}),
    ('gold', 0.15, 4096, {
        'qslm:max_downtime_ms': '250', 'qslm:min_link_security': 'shared',
        'qslm:dirty_rate_mibps': '32'}),
    ('silver-enc', 0.20, 4096, {
        'qslm:max_downtime_ms': '400', 'qslm:require_encryption': 'true',
        'qslm:dirty_rate_mibps': '32'}),
    ('silver-budget', 0.15, 4096, {
        'qslm:max_downtime_ms': '1000', 'qslm:downtime_budget_ms': '1500',
        'qslm:require_trusted_host': 'true', 'qslm:dirty_rate_mibps': '48'}),
    ('bronze', 0.20, 2048, {
        'qslm:max_downtime_ms': '3000', 'qslm:dirty_rate_mibps': '16'}),
    ('batch-secure', 0.15, 16384, {
        'qslm:max_downtime_ms': '5000', 'qslm:require_trusted_host': 'true',
        'qslm:require_encryption': 'true',
        'qslm:allowed_mechanisms': 'tls,ipsec',
        'qslm:dirty_rate_mibps': '128'}),
)


POLICIES = ('nova', 'trust-only', 'qslm', 'qslm-paper', 'qslm-strict',
            'qslm-expected', 'oracle')


# The shipped engine with one assumption of its worst case dropped: what
# each costs in placements and buys in SLA safety.
ABLATIONS = (
    ('declared dirty rate (worst_dirty_factor 1)',
     {'worst_dirty_factor': 1.0}),
    ('full bandwidth (worst_bandwidth_factor 1)',
     {'worst_bandwidth_factor': 1.0}),
    ('expected stop share (worst_stop_share = stop_share)',
     {'worst_stop_share': None}),
    ('no host jitter (worst_extra_ms 0)', {'worst_extra_ms': 0.0}),
    ('neither of the last two', {'worst_stop_share': None,
                                 'worst_extra_ms': 0.0}),
)


class PaperEngine(decision.Engine):
    """The engine with the paper's bound as the SLA test.

    Trust, path, mechanism and scoring are unchanged; the downtime held
    against the SLA is VMSize / LinkSpeed + confirmation + activation,
    and since that bound knows no convergence, neither does this variant.
    """

    def choose(self, *args):
        chosen = super().choose(*args)
        paper = chosen.paper_worst_ms
        chosen.expected_downtime_ms = paper.copy()
        chosen.worst_downtime_ms = paper.copy()
        chosen.race_downtime_ms = paper.copy()
        chosen.outcome = np.full_like(chosen.outcome,
                                      estimator.Outcome.COMPLETED)
        chosen.worst_outcome = np.full_like(chosen.worst_outcome,
                                            estimator.Outcome.COMPLETED)
        return chosen


class StrictEngine(decision.Engine):
    """Candidate fix: also deny when the worst case would not converge.

    The shipped engine denies only when the expected run aborts; a worst
    case that aborts is a note. This variant shows what denying it costs
    in placements and saves in failed migrations.
    """

    def judge(self, pol, remaining, chosen, nlevels, risk=None):
        v = super().judge(pol, remaining, chosen, nlevels, risk)
        v.allowed = v.allowed & ~np.isin(chosen.worst_outcome, (
            estimator.Outcome.ABORTED, estimator.Outcome.NO_CONVERGENCE))
        v.score = np.where(v.allowed, v.score, -1.0)
        return v

    def explain(self, d, v, j):
        super().explain(d, v, j)
        if not d.allowed and not d.reasons:
            # Denied by the rule above alone.
            d.deny('worst case would not converge (%s)' % d.worst_outcome)


def make_engine(topo, cls=decision.Engine, params=None, sla_estimate='worst',
                risk=None):
    """An engine over topo; without risk, one that holds sla_estimate
    (``sla_confidence`` empty): the named policies and ablations.
    """
    settings = decision.Settings(
        params=params or estimator.ModelParams(), sla_estimate=sla_estimate,
        risk=risk or risk_assess.RiskSettings(sla_confidence=None))
    provider = static.StaticTrustProvider(None)
    evaluator = trust_mod.TrustEvaluator([provider], 'all', 365 * 86400)
    return cls(settings, lambda: topo, evaluator)


def seed_of(*parts):
    return zlib.crc32(repr(parts).encode())


def mechanism_of(topo, label):
    """The (possibly combined) Mechanism of a decision's label."""
    if ' (+' in label:
        e2e, rest = label.split(' (+', 1)
        link = rest.split(' ', 1)[0]
        return (decision_options.TransportOption.of(
            topo.mechanisms[e2e], topo.mechanisms[link]).mechanism, e2e, link)
    return topo.mechanisms[label], label, None


def security_ok(topo, pol, src, dst, path, e2e, link):
    """Independent check of one placement; returns a list of problems."""
    problems = []
    hs, hd = topo.hosts[src], topo.hosts[dst]
    if pol.require_trusted_host and not (hs.trusted and hd.trusted):
        problems.append('untrusted host')
    mech = topo.mechanisms[e2e]
    if e2e not in hs.mechanisms or e2e not in hd.mechanisms:
        problems.append('mechanism not on both hosts')
    if e2e not in pol.allowed_mechanisms:
        problems.append('mechanism not allowed')
    if pol.require_encryption and not mech.protects:
        problems.append('not encrypted')
    if not mech.protects:
        for lvl, lmechs in zip(path.link_levels, path.link_mechanisms):
            if lvl >= pol.min_link_security:
                continue
            if (link is None or link not in lmechs or
                    link not in pol.allowed_mechanisms or
                    not topo.mechanisms[link].protects):
                problems.append('unprotected weak link')
                break
    return problems


def ablation_changes(change):
    base = estimator.ModelParams()
    return {k: (base.stop_share if v is None else v)
            for k, v in change.items()}
