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

"""The engine: one request in, a Decision per candidate out."""

import datetime
import threading

import numpy as np

from qslm_nova.decision import options as options_mod
from qslm_nova.decision import result
from qslm_nova.decision import screen as screen_mod
from qslm_nova.decision import selection
from qslm_nova.decision import settings as settings_mod
from qslm_nova.decision import verdicts as verdicts_mod
from qslm_nova import estimator
from qslm_nova import exception
from qslm_nova import policy as policy_mod
from qslm_nova.risk import assess as risk_assess
from qslm_nova import topology as topology_mod
from qslm_nova import trust as trust_mod

Decision = result.Decision
Decisions = result.Decisions
Stage = screen_mod.Stage


class Engine:
    """Computes decisions. Thread-safe; holds no per-request state."""

    def __init__(self, settings, topology_source, trust_evaluator):
        """Create an engine.

        :param topology_source: a callable returning the current Topology
            (e.g. ``TopologyStore.get``); it may raise TopologyError.
        """
        self.settings = settings
        self.topology_source = topology_source
        self.trust = trust_evaluator
        self.options_memo = options_mod.OptionsMemo()

    # -- request-wide verdicts ------------------------------------------
    def may_skip(self, pol):
        """True if an unverifiable request may pass unchecked.

        Only with ``[qslm] fail_closed = False`` and only for instances
        with no trust, encryption, link or downtime requirement.
        """
        if self.settings.fail_closed:
            return False
        return pol is not None and not pol.demanding

    def mark_unchecked(self, d, reason, pol):
        if self.may_skip(pol):
            d.allowed = True
            d.score = 0.0
            d.note('not checked ([qslm] fail_closed is False): ' +
                   reason)
        else:
            d.deny(reason)

    def _unchecked_all(self, candidates, reason, pol, notes=()):
        def make(i):
            d = Decision.fresh(candidates[i], notes)
            self.mark_unchecked(d, reason, pol)
            return d

        skip = self.may_skip(pol)
        return Decisions.uniform(candidates, make, skip,
                                 0.0 if skip else -1.0)

    @staticmethod
    def _denied_all(candidates, reasons, notes=()):
        def make(i):
            return Decision(candidates[i], False, tuple(reasons), notes)

        return Decisions.uniform(candidates, make)

    # -- the decision -----------------------------------------------------
    def decide(self, req, candidates, host_info=None):
        """Return the Decisions, one per candidate, in the same order."""
        candidates = list(candidates)
        now = req.now or datetime.datetime.now(datetime.timezone.utc)
        try:
            topo = self.topology_source()
        except exception.TopologyError as e:
            # Without a topology, judge the policy against the defaults to
            # know whether the instance needs protection.
            pol = policy_mod.policy_without_topology(
                self.settings.defaults, req.flavor_extra_specs,
                req.image_props, req.metadata)
            if pol.errors:
                pol = None
            return self._unchecked_all(
                candidates, 'topology unavailable: %s' % e.errors[0], pol)
        pol = policy_mod.effective_policy(
            self.settings.defaults, topo.levels, topo.mechanisms,
            req.flavor_extra_specs, req.image_props, req.metadata)
        notes = tuple(pol.notes)
        common = list(pol.errors)
        ledger = policy_mod.parse_ledger(req.metadata)
        remaining = None
        if pol.downtime_budget_ms is not None:
            common.extend(ledger.errors)
            remaining = ledger.remaining_ms(
                pol.downtime_budget_ms, pol.budget_period_days, now.date())
        if not isinstance(req.memory_mb, (int, float)) or req.memory_mb <= 0:
            common.append('instance memory %r MiB is not a positive number'
                          % (req.memory_mb,))
        if common:
            return self._denied_all(candidates, common, notes)
        src = topo.hosts.get(req.source_host)
        if src is None:
            return self._unchecked_all(
                candidates, 'source host %s is not in the topology file'
                % req.source_host, pol, notes)
        try:
            found = screen_mod.screen(candidates, topo, pol, src,
                                      self.trust, now, host_info,
                                      self.options_memo)
        except screen_mod.SourceUntrusted as e:
            return self._denied_all(candidates, [
                'source host %s is not trusted (%s); the instance requires '
                'trusted hosts' % (src.name, e.reason)], notes)
        return self._judge_planned(req, topo, pol, src, remaining, notes,
                                   candidates, found)

    def _judge_planned(self, req, topo, pol, src, remaining, notes,
                       candidates, found):
        """Estimate, judge and score the planned candidates together."""
        n = len(candidates)
        allowed = np.zeros(n, dtype=bool)
        score = np.full(n, -1.0)
        worst = np.full(n, np.inf)
        if self.may_skip(pol):
            allowed[~found.known] = True
            score[~found.known] = 0.0
        chosen = verdicts = risk = None
        if len(found.planned):
            chosen = self.choose(req, topo, pol, src, found)
            risk = risk_assess.Assessment(
                self.settings.risk, req.flavor_extra_specs,
                pol.max_downtime_ms, chosen)
            verdicts = self.judge(pol, remaining, chosen,
                                  max(len(topo.levels) - 1, 1), risk)
            verdicts.score = risk.rank(verdicts.allowed, verdicts.score)
            allowed[found.planned] = verdicts.allowed
            score[found.planned] = verdicts.score
            worst[found.planned] = chosen.worst_downtime_ms
        builder = _DecisionBuilder(self, topo, pol, src, remaining, notes,
                                   candidates, found, chosen, verdicts, risk)
        return Decisions(candidates, allowed, score, builder,
                         worst_downtime_ms=worst)

    # -- steps a variant may replace (bench/bench_quality.py does) -------
    def choose(self, req, topo, pol, src, found):
        """The best transport option of every planned candidate.

        :returns: :class:`selection.ChosenEstimates`
        """
        st = self.settings
        hosts, on_secure = found.planned_hosts, found.planned_on_secure
        secure, any_level = found.secure, found.any_level
        default_load = st.default_host_cpu_load
        src_load = default_load if src.cpu_load is None else src.cpu_load
        loads = topo.host_cpu_load[hosts]
        paths = selection.PlannedPaths(
            bandwidth_gbps=np.where(on_secure, secure.bottleneck_gbps[hosts],
                                    any_level.bottleneck_gbps[hosts]),
            rtt_ms=2.0 * np.where(on_secure, secure.latency_ms[hosts],
                                  any_level.latency_ms[hosts]),
            cpu_load=np.maximum(src_load, np.where(np.isnan(loads),
                                                   default_load, loads)),
            weakest_level=np.where(on_secure, secure.weakest[hosts],
                                   any_level.weakest[hosts]))
        return selection.choose(req, pol, st, paths,
                                found.planned_option_key, found.key_options)

    def judge(self, pol, remaining, chosen, nlevels, risk=None):
        """Hold the chosen estimates against the SLA and score them.

        :param risk: the request's risk_assess.Assessment; with a
            confidence it decides the pause held.
        """
        if risk is not None and risk.calibrates:
            verdicts = verdicts_mod.judge(pol, remaining, chosen,
                                          risk.held_ms(), nlevels)
            verdicts.held_what = '%g-confidence' % risk.confidence
            return verdicts
        held = chosen.held_downtime_ms(self.settings.sla_estimate)
        return verdicts_mod.judge(pol, remaining, chosen, held, nlevels)

    def explain(self, d, verdicts, j):
        """Write verdict j of the planned candidates into Decision d."""
        verdicts_mod.explain(d, verdicts, j, self.settings)


class _DecisionBuilder:
    """Builds the Decision of candidate i of a request when asked."""

    def __init__(self, engine, topo, pol, src, remaining, notes,
                 candidates, found, chosen, verdicts, risk=None):
        self.engine = engine
        self.topo = topo
        self.pol = pol
        self.src = src
        self.remaining = remaining
        self.notes = notes
        self.candidates = candidates
        self.found = found
        self.chosen = chosen
        self.verdicts = verdicts
        self.risk = risk

    def __call__(self, i):
        host = self.candidates[i]
        found = self.found
        stage = found.stage[i]
        if stage == Stage.PLANNED:
            return self.planned(i, host)
        d = Decision.fresh(host, self.notes)
        if stage == Stage.UNKNOWN_HOST:
            self.engine.mark_unchecked(
                d, 'host %s is not in the topology file' % host, self.pol)
        elif stage == Stage.SOURCE_HOST:
            d.deny('host %s is the source host' % host)
        elif stage == Stage.UNTRUSTED:
            d.deny('host %s is not trusted (%s); the instance requires '
                   'trusted hosts' % (host, found.trust.reason(
                       int(found.trust_row[i]))))
        elif stage == Stage.NO_PATH:
            d.deny('no path from %s to %s in the topology' % (
                self.src.name, host))
        else:   # Stage.NO_OPTION
            self.set_path(d, i, host)
            d.deny(options_mod.no_option_reason(
                self.pol, self.src, self.topo.hosts[host],
                not found.from_secure[i], found.required_level))
        return d

    def set_path(self, d, i, host):
        found = self.found
        search = found.secure if found.from_secure[i] else found.any_level
        path = self.topo.path_to(search, host)
        d.path = path.nodes
        d.weakest_link = self.topo.level_name(path.weakest_level)
        d.bottleneck_gbps = path.bottleneck_gbps
        d.rtt_ms = path.rtt_ms

    def planned(self, i, host):
        """The Decision of an estimated candidate, judged."""
        j = int(self.found.planned_row[i])
        chosen = self.chosen
        d = Decision.fresh(host, self.notes)
        self.set_path(d, i, host)
        d.mechanism = chosen.options[chosen.option[j]].label
        d.expected_downtime_ms = float(chosen.expected_downtime_ms[j])
        d.worst_downtime_ms = float(chosen.worst_downtime_ms[j])
        d.total_time_s = float(chosen.total_time_s[j])
        d.bytes_sent = float(chosen.bytes_sent[j])
        d.rate_mibps = float(chosen.rate_mibps[j])
        d.outcome = estimator.Outcome(chosen.outcome[j]).label
        d.worst_outcome = estimator.Outcome(chosen.worst_outcome[j]).label
        d.paper_worst_ms = float(chosen.paper_worst_ms[j])
        d.remaining_budget_ms = self.remaining
        self.engine.explain(d, self.verdicts, j)
        if self.risk is not None:
            risk_assess.explain(d, self.risk, j,
                                float(self.verdicts.held_ms[j]))
        return d


def engine_from_conf(conf, topology_source=None):
    """Build an Engine from the [qslm] options.

    :param topology_source: callable returning the Topology; default: a
        TopologyStore of ``[qslm] topology_file``.
    """
    group = conf.qslm
    if topology_source is None:
        topology_source = topology_mod.TopologyStore.from_conf(group).get
    providers = trust_mod.load_providers(conf, group.trust_providers)
    evaluator = trust_mod.TrustEvaluator(
        providers, group.trust_combination, group.max_attestation_age)
    return Engine(settings_mod.Settings.from_conf(group), topology_source,
                  evaluator)


class EngineCache:
    """The Engine of one process for the current [qslm] options.

    Owned by the adapter that serves requests (the scheduler's filter and
    weigher share one, the API pre-check has its own). Built on first use
    and rebuilt when an option changes (thread-safe); the topology store
    inside the engine keeps reloading its file on change.
    """

    def __init__(self, factory=engine_from_conf):
        self._factory = factory
        self._lock = threading.Lock()
        self._current = (None, None)    # (options key, engine)

    @staticmethod
    def _key(conf):
        group = conf.qslm
        return tuple((name, repr(group[name])) for name in sorted(group))

    def get(self, conf):
        key = self._key(conf)
        current = self._current
        if current[0] == key:
            return current[1]
        with self._lock:
            if self._current[0] != key:
                self._current = (key, self._factory(conf))
            return self._current[1]

    def reset(self):
        """Forget the Engine (tests, option changes)."""
        with self._lock:
            self._current = (None, None)
