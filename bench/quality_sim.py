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

"""The simulated cloud of ``python -m bench.bench_quality``.

A generated cloud receives a stream of requests (:func:`make_requests`);
each policy of :data:`bench.quality_policies.POLICIES` decides every
request against the same truth (:class:`bench.quality_truth.Truth`: the
actual dirty rate, bandwidth and run noise), the oracle knows that
truth, and :func:`simulate` counts what each policy placed and what it
broke (:class:`_Tally`, :func:`_report`). With residuals learnt from a
simulated history (:func:`learn_history`) the frontier
(:mod:`bench.frontier`) judges the calibrated bound the same way.
"""

import dataclasses
import os
import random
import statistics
import tempfile
import time
import typing

import numpy as np

import bench
from bench import frontier
from bench import quality_policies as policies
from bench import quality_truth
from bench import real_runs
from bench import topogen
from qslm_nova import decision
from qslm_nova import estimator
from qslm_nova.history import join
from qslm_nova.history import notifications
from qslm_nova import policy as policy_mod
from qslm_nova.risk import from_history
from qslm_nova.risk import learn
from qslm_nova import topology as topology_mod


def make_cloud(hosts, sites, seed):
    doc = topogen.generate(hosts, sites=sites, fabric='mixed', seed=seed,
                           trusted_share=0.8)
    return doc, topology_mod.parse(doc, 'generated')


def make_requests(topo, count, seed):
    rng = random.Random(seed)
    names = sorted(topo.hosts)
    trusted = [h for h in names if topo.hosts[h].trusted]
    out = []
    for i in range(count):
        x = rng.random()
        for name, share, mem, specs in policies.CLASSES:
            x -= share
            if x <= 0:
                break
        pol_trust = specs.get('qslm:require_trusted_host') == 'true'
        src = rng.choice(trusted if pol_trust else names)
        metadata = {}
        if 'qslm:downtime_budget_ms' in specs:
            used = int(rng.uniform(0, 0.97) *
                       int(specs['qslm:downtime_budget_ms']))
            metadata = {policy_mod.LEDGER_USED: str(used),
                        policy_mod.LEDGER_START: '2026-11-20'}
        out.append((name, decision.MigrationRequest(
            instance_uuid='vm-%05d' % i, source_host=src, memory_mb=mem,
            flavor_extra_specs=dict(specs), metadata=metadata,
            now=policies.NOW)))
    return out


def _limit(pol, req):
    ledger = policy_mod.parse_ledger(req.metadata)
    remaining = ledger.remaining_ms(pol.downtime_budget_ms,
                                    pol.budget_period_days,
                                    policies.NOW.date())
    limits = [x for x in (pol.max_downtime_ms, remaining) if x is not None]
    return min(limits) if limits else None


def learn_history(topo, eng, count, seed, noise, stress, path):
    """Residuals of a simulated history of the cloud, written to path.

    ``count`` earlier requests (their own seed), each placed on the best
    host of ``eng`` and measured by the truth: the estimate at decision
    time (the payload the scheduler publishes, its inputs included) and
    the measured pause, paired and turned into a residuals file by the
    code of ``qslm-nova calibrate --from-history --residuals-out``.
    :returns: the residuals document and how many pairs were left out.
    """
    settings = eng.settings
    names = sorted(topo.hosts)
    pairs = []
    for idx, (_cls, req) in enumerate(make_requests(topo, count, seed)):
        pol, truth = quality_truth.truth_of(topo, settings, req, seed, idx,
                                            noise, stress)
        cands = [h for h in names if h != req.source_host]
        allowed = [d for d in eng.decide(req, cands) if d.allowed]
        if not allowed:
            continue
        best, route, mech, e2e, _link = _placement(
            topo, req, pol, allowed)
        load = max(quality_truth.host_load(topo, req.source_host, settings),
                   quality_truth.host_load(topo, best.host, settings))
        down, done = truth.downtime(req, [best.host], [route], mech, e2e,
                                    [load], settings.libvirt)
        if done[0]:
            pairs.append(join.Pair(
                notifications.estimate_payload(
                    best, req.instance_uuid, req.source_host, policies.NOW),
                {'downtime_ms': float(down[0])}))
    doc, left_out = from_history.history_document(pairs, ['simulated history'])
    learn.write(doc, path)
    return doc, left_out


def simulate(hosts=300, sites=4, count=1200, seed=11, stress=False,
             noise=None, history=None, only=None, residuals_file=None):
    """:param noise: the :class:`bench.noise.Noise` of the truth (default
        :func:`nova_driven_noise`'s, per group).
    :param history: earlier requests the history residuals are
        learned from (default twice ``count``).
    :param only: the policies to run (default all; the oracle and the
        informed policy always run).
    :param residuals_file: what the ``qslm@c`` policies read (default
        the shipped file).
    """
    if noise is None:
        noise = real_runs.nova_driven_noise()
    # The history's residuals file lives as long as the run.
    with tempfile.TemporaryDirectory(prefix='qslm-bench-quality-') as tmp:
        return _simulate(hosts, sites, count, seed, stress, noise,
                         history or 2 * count,
                         os.path.join(tmp, 'residuals.json'), only,
                         residuals_file)


class _Case(typing.NamedTuple):
    """One request as every policy meets it."""

    cls: str
    req: object
    pol: object
    truth: quality_truth.Truth
    limit: float
    cands: list
    src_load: float


class _Tally:
    """What each policy placed and broke over the requests of one run.
    """

    def __init__(self, topo, settings, names):
        self.topo = topo
        self.settings = settings
        self.stats = {p: {'placed': 0, 'good': 0, 'security_violations': 0,
                          'sla_worst_aborted': 0, 'beyond_held': 0,
                          'sla_violations': 0, 'expected_violations': 0.0,
                          'failed_migrations': 0,
                          'downtime': [], 'by_class': {}}
                      for p in names}
        #: The shipped engine's (expected pause, true pause) per placement.
        self.estimates = []

    def judge(self, case, policy, dst, path, mech, e2e, link, dec=None):
        """Count *policy*'s placement of *case* on *dst* (*dec*: its
        Decision, for the engines).
        """
        s = self.stats[policy]
        bc = s['by_class'].setdefault(case.cls, [0, 0, 0, 0])
        bc[0] += 1
        s['placed'] += 1
        bad = policies.security_ok(self.topo, case.pol, case.req.source_host,
                                   dst, path, e2e, link)
        if bad:
            s['security_violations'] += 1
            bc[1] += 1
        load = max(case.src_load,
                   quality_truth.host_load(self.topo, dst, self.settings))
        base, done, drawn, groups = case.truth.parts(
            case.req, [dst], [path], mech, e2e, [load], self.settings.libvirt)
        down = base * drawn
        if not done[0]:
            # Nova aborts it at the completion timeout: no downtime, but
            # the migration the operator asked for did not happen.
            s['failed_migrations'] += 1
            bc[3] += 1
            return
        s['downtime'].append(float(down[0]))
        # The violation this placement risked, whatever the draw.
        s['expected_violations'] += frontier.exceedance(
            groups[0], float(base[0]), case.limit)
        if (dec is not None and dec.budget_left_ms is not None and
                down[0] > dec.limit_ms - dec.budget_left_ms):
            # Over the pause held against the limit.
            s['beyond_held'] += 1
        if case.limit is not None and down[0] > case.limit:
            s['sla_violations'] += 1
            bc[2] += 1
            if dec is not None and dec.worst_outcome in (
                    'aborted', 'no-convergence'):
                # Before edda874 the engine's worst-case downtime of such
                # a run fell back to its expected downtime.
                s['sla_worst_aborted'] += 1
        elif not bad:
            s['good'] += 1
        if policy == 'qslm':
            self.estimates.append((dec.expected_downtime_ms,
                                   float(down[0])))

    def baselines(self, case, rng, only):
        """Plain Nova and trust-only: a random host, Nova's transport
        over the widest path.
        """
        topo, req = self.topo, case.req
        anyway = topo.widest_paths(req.source_host, 0)
        trusted = [h for h in case.cands if topo.hosts[h].trusted]
        for policy, pool in (('nova', case.cands),
                             ('trust-only', trusted
                              if case.pol.require_trusted_host
                              else case.cands)):
            if not pool:
                continue
            dst = rng.choice(pool)
            if only is not None and policy not in only:
                continue
            path = topo.path_to(anyway, dst)
            both = topo.hosts[req.source_host].mechanisms & \
                topo.hosts[dst].mechanisms
            e2e = 'tls' if 'tls' in both else 'none'
            self.judge(case, policy, dst, path, topo.mechanisms[e2e], e2e,
                       None)

    def engines(self, case, engines, only):
        """Each engine places on its best-scored allowed host."""
        for policy, eng in engines:
            if only is not None and policy not in only:
                continue
            allowed = [d for d in eng.decide(case.req, case.cands)
                       if d.allowed]
            if not allowed:
                continue
            best, path, mech, e2e, link = _placement(
                self.topo, case.req, case.pol, allowed)
            self.judge(case, policy, best.host, path, mech, e2e, link, best)


def _engines(topo, seed, stress, noise, history, hist_path,
             residuals_file):
    """(the shipped engine, every engine policy by name, the history
    residuals' document and runs left out).
    """
    qslm = policies.make_engine(topo)
    risky = policies.make_engine(topo, sla_estimate='expected')
    base = estimator.ModelParams()
    ablated = tuple(
        (name, policies.make_engine(topo, params=dataclasses.replace(
            base, **policies.ablation_changes(change))))
        for name, change in policies.ABLATIONS)
    hist_doc, hist_left = learn_history(
        topo, risky, history, policies.seed_of(seed, 'history'), noise,
        stress, hist_path)
    confident = tuple(
        frontier.engines(topo, policies.make_engine, residuals_file) +
        frontier.engines(topo, policies.make_engine, hist_path,
                         frontier.HISTORY_NAMES))
    engines = ((('qslm', qslm),
                ('qslm-paper', policies.make_engine(
                    topo, policies.PaperEngine)),
                ('qslm-strict', policies.make_engine(
                    topo, policies.StrictEngine)),
                ('qslm-expected', risky)) + ablated + confident)
    return qslm, engines, hist_doc, hist_left


def _simulate(hosts, sites, count, seed, stress, noise, history,
              hist_path, only=None, residuals_file=None):
    doc, topo = make_cloud(hosts, sites, seed)
    qslm, engines, hist_doc, hist_left = _engines(
        topo, seed, stress, noise, history, hist_path, residuals_file)
    informed = frontier.Informed()
    settings = qslm.settings
    names = sorted(topo.hosts)
    tally = _Tally(topo, settings, _policy_names())
    # Margin over the pause before noise -> [placed, SLA violations].
    margins = {m: [0, 0] for m in (1.0, 1.5, 2.0, 2.1, 2.25, 2.5, 3.0,
                                   float(noise.pool[-1]))}
    oracle = tally.stats['oracle']
    t_start = time.perf_counter()
    for idx, (cls, req) in enumerate(make_requests(topo, count, seed)):
        pol, truth = quality_truth.truth_of(topo, settings, req, seed, idx,
                                            noise, stress)
        case = _Case(cls, req, pol, truth, _limit(pol, req),
                     [h for h in names if h != req.source_host],
                     quality_truth.host_load(topo, req.source_host, settings))
        tally.baselines(case, random.Random(
            policies.seed_of(seed, idx, 'pick')), only)
        tally.engines(case, engines, only)
        # Oracle: any destination and option that truly works.
        feasible, known = quality_truth.oracle_feasible(
            topo, qslm, pol, req, case.cands, truth, case.limit,
            case.src_load, settings)
        informed.add(known, case.limit)
        for m, row in margins.items():
            # Known rates, margin m against the noise: placed when the
            # shortest pause before noise times m meets the limit.
            if np.isfinite(known[0]) and (
                    case.limit is None or known[0] * m <= case.limit):
                row[0] += 1
                if case.limit is not None and known[1] > case.limit:
                    row[1] += 1
        if feasible:
            oracle['placed'] += 1
            oracle['good'] += 1
            oracle['by_class'].setdefault(cls, [0, 0, 0, 0])[0] += 1
    elapsed = time.perf_counter() - t_start
    out = _report(tally.stats, tally.estimates, count, hosts, sites, seed,
                  stress, elapsed, doc)
    out['known_rates'] = [
        {'margin': m, 'placed': row[0], 'sla_violations': row[1],
         'of_oracle': (row[0] / float(out['policies']['oracle']['placed'])
                       if out['policies']['oracle']['placed'] else None)}
        for m, row in sorted(margins.items())]
    out['frontier'] = frontier.trace(out, informed)
    out['history_residuals'] = {
        'runs': hist_doc['runs'], 'left_out': hist_left,
        'groups': {k: len(v) for k, v in hist_doc['groups'].items()}}
    out['testbed_ratio'] = noise.summary()
    return out


def _placement(topo, req, pol, allowed):
    """(best Decision by score, its path, mechanism, end-to-end and link
    mechanism names) among the allowed ones.
    """
    best = max(allowed, key=lambda d: d.score)
    mech, e2e, link = policies.mechanism_of(topo, best.mechanism)
    return best, _path_of(topo, req.source_host, best, pol), mech, e2e, link


def _path_of(topo, src, d, pol):
    secure = topo.widest_paths(src, pol.min_link_security)
    path = topo.path_to(secure, d.host)
    if path is None or path.nodes != tuple(d.path):
        path = topo.path_to(topo.widest_paths(src, 0), d.host)
    assert path.nodes == tuple(d.path), (path.nodes, d.path)
    return path


def _report(stats, estimates, count, hosts, sites, seed, stress, elapsed,
            doc):
    oracle = stats['oracle']['placed']
    out = {'commit': bench.source_commit(),
           'requests': count, 'hosts': hosts, 'sites': sites, 'seed': seed,
           'stress': stress, 'elapsed_s': elapsed,
           'trusted_hosts': sum(1 for h in doc['hosts'].values()
                                if h['trusted']),
           'classes': {c[0]: {'share': c[1], 'memory_mb': c[2],
                              'extra_specs': c[3]} for c in policies.CLASSES},
           'policies': {}}
    for p in _policy_names():
        s = stats[p]
        down = s['downtime']
        out['policies'][p] = {
            'placed': s['placed'],
            'share_placed': s['placed'] / float(count),
            'good': s['good'],
            'of_oracle': s['placed'] / float(oracle) if oracle else None,
            'good_of_oracle': s['good'] / float(oracle) if oracle else None,
            'security_violations': s['security_violations'],
            'sla_violations': s['sla_violations'],
            'expected_violations': s['expected_violations'],
            'sla_violations_worst_case_aborts': s['sla_worst_aborted'],
            'beyond_held': s['beyond_held'],
            'failed_migrations': s['failed_migrations'],
            'mean_downtime_ms': statistics.mean(down) if down else None,
            'p95_downtime_ms': (float(np.percentile(down, 95))
                                if down else None),
            'by_class': s['by_class'],
        }
    if estimates:
        ratio = [t / e for e, t in estimates if e > 0]
        out['qslm_truth_over_expected'] = {
            'median': statistics.median(ratio),
            'p95': float(np.percentile(ratio, 95)), 'max': max(ratio)}
    return out


def _policy_names():
    """Every policy a simulation counts, in the report's order."""
    return (policies.POLICIES + tuple(a[0] for a in policies.ABLATIONS) +
            frontier.NAMES + frontier.HISTORY_NAMES)
