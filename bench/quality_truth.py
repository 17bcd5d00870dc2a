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

"""What is true in the simulated cloud of ``python -m bench.bench_quality``.

Every policy is judged by the same truth (:class:`Truth`): a request's
actual dirty rate, each path's actual bandwidth, and per destination a
run-to-run ratio drawn from the testbed's real migrations
(:mod:`bench.noise`). :func:`oracle_feasible` knows that truth and says
whether any destination and mechanism meets the request.
"""

import random

import numpy as np

from bench import quality_policies as policies
from qslm_nova.decision import options as decision_options
from qslm_nova import estimator
from qslm_nova import policy as policy_mod
from qslm_nova.risk import regimes
from qslm_nova.risk import residuals


class Truth:
    """Actual dirty rate, per-path bandwidth and run noise of one request.

    The actual pause is the estimator's expected pause at the actual
    dirty rate and bandwidth, times a measured / expected ratio drawn
    from the testbed's real migrations (one per destination).
    """

    def __init__(self, seed, declared_dirty, params, noise, stress=False):
        rng = random.Random(seed)
        hi = 3.0 if stress else params.worst_dirty_factor
        self.dirty = declared_dirty * rng.uniform(0.25, hi)
        self.seed = seed
        self.low_bw = 0.5 if stress else params.worst_bandwidth_factor
        self.params = params
        self.noise = noise

    def downtime(self, req, dsts, paths, mech, e2e, loads, libvirt):
        """(true downtime ms, completed bool) per destination."""
        down, done, noise, _drawn = self.parts(req, dsts, paths, mech, e2e,
                                               loads, libvirt)
        return down * noise, done

    def parts(self, req, dsts, paths, mech, e2e, loads, libvirt):
        """(pause before noise ms, completed bool, noise ratio, the
        sorted ratios each noise was drawn from) per destination, for
        the (possibly combined) Mechanism *mech* whose end-to-end part
        is named *e2e*.
        """
        bw_f = np.array([random.Random(policies.seed_of(self.seed, d)).uniform(
            self.low_bw, 1.0) for d in dsts])
        bw = np.array([p.bottleneck_gbps for p in paths]) * bw_f
        rtt = np.array([p.rtt_ms for p in paths])
        est = estimator.estimate(req.memory_mb, self.dirty, bw, rtt, mech,
                                 np.asarray(loads), libvirt, self.params)
        done = np.isin(est.outcome, (estimator.Outcome.COMPLETED,
                                     estimator.Outcome.POST_COPY,
                                     estimator.Outcome.FORCED_PAUSE))
        # The runs most like each migration: its transport, and the
        # regime of its pause on idle hosts, as the engine groups them.
        transport = residuals.transport_of(e2e)
        kinds = tuple(regimes.Regime)
        codes = regimes.Regime.codes(
            estimator.idle_pause_ms(est.expected_downtime_ms, loads,
                                    self.params.fixed_pause_ms),
            est.outcome, est.total_time_s)
        drawn = [self.noise.ratios(transport, kinds[c])
                 for c in np.atleast_1d(codes)]
        noise = np.array([
            r[random.Random(policies.seed_of(self.seed, d, 'r')).randrange(
                len(r))] for d, r in zip(dsts, drawn)])
        # A fast migration's ratios are of its pause had Nova's first
        # step landed late (the larger), as the residuals learn them.
        base = regimes.base_pause(est.expected_downtime_ms,
                                  est.race_downtime_ms, codes)
        return np.where(done, base, 0.0), done, noise, drawn


def host_load(topo, host, settings):
    h = topo.hosts[host]
    return h.cpu_load if h.cpu_load is not None else \
        settings.default_host_cpu_load


def truth_of(topo, settings, req, seed, idx, noise, stress):
    pol = policy_mod.effective_policy(
        settings.defaults, topo.levels, topo.mechanisms,
        req.flavor_extra_specs, req.image_props, req.metadata)
    return pol, Truth(policies.seed_of(seed, idx), pol.dirty_rate_mibps,
                      settings.params, noise, stress)


def oracle_feasible(topo, eng, pol, req, cands, truth, limit, src_load,
                    settings):
    """True if some destination and mechanism meets security and truth.
    """
    if pol.require_trusted_host and not topo.hosts[req.source_host].trusted:
        return False
    src = topo.hosts[req.source_host]
    secure = topo.widest_paths(req.source_host, pol.min_link_security)
    anyway = topo.widest_paths(req.source_host, 0)
    groups = {}
    for dst in cands:
        if pol.require_trusted_host and not topo.hosts[dst].trusted:
            continue
        for search in (secure, anyway):
            path = topo.path_to(search, dst)
            if path is None:
                continue
            weak = search is anyway and path.weakest_level < \
                pol.min_link_security
            for opt in decision_options.transport_options(
                    topo.mechanisms, pol, src.mechanisms,
                    topo.hosts[dst].mechanisms,
                    (path.link_levels, path.link_mechanisms) if weak
                    else None):
                mech, e2e, link = policies.mechanism_of(topo, opt.label)
                if policies.security_ok(topo, pol, req.source_host, dst,
                                        path, e2e, link):
                    continue
                groups.setdefault(opt.label, (mech, e2e, []))[2].append(
                    (dst, path))
    feasible = False
    # The destination and option with the shortest pause before noise,
    # and that pause with its noise: what a policy that knows the actual
    # dirty rate and bandwidth, but not the run's noise, would pick; and
    # the ratios its noise was drawn from.
    known = (np.inf, np.inf, ())
    for mech, e2e, members in groups.values():
        dsts = [m[0] for m in members]
        loads = [max(src_load, host_load(topo, d, settings)) for d in dsts]
        base, done, drawn, ratios = truth.parts(
            req, dsts, [m[1] for m in members], mech, e2e, loads,
            settings.libvirt)
        down = base * drawn
        ok = done & ((down <= limit) if limit is not None else True)
        feasible = feasible or bool(np.any(ok))
        if np.any(done):
            k = int(np.argmin(np.where(done, base, np.inf)))
            if base[k] < known[0]:
                known = (float(base[k]), float(down[k]), ratios[k])
    return feasible, known
