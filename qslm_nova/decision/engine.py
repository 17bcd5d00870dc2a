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

import dataclasses
import datetime
import threading

import numpy as np

from qslm_nova.decision import builder as builder_mod
from qslm_nova.decision import hostfacts
from qslm_nova.decision import options as options_mod
from qslm_nova.decision import result
from qslm_nova.decision import screen as screen_mod
from qslm_nova.decision import selection
from qslm_nova.decision import settings as settings_mod
from qslm_nova.decision import verdicts as verdicts_mod
from qslm_nova import exception
from qslm_nova import observed
from qslm_nova import policy as policy_mod
from qslm_nova.risk import assess as risk_assess
from qslm_nova import topology as topology_mod
from qslm_nova import trust as trust_mod

Decision = result.Decision
Decisions = result.Decisions
Stage = screen_mod.Stage


class Engine:
    """Computes decisions. Thread-safe; holds no per-request state."""

    def __init__(self, settings, topology_source, trust_evaluator,
                 profiles=None):
        """Create an engine.

        :param topology_source: a callable returning the current Topology
            (e.g. ``TopologyStore.get``); it may raise TopologyError.
        :param profiles: a :class:`qslm_nova.profile.ProfileStore` of the
            hosts' published migration profiles, or None.
        """
        self.settings = settings
        self.topology_source = topology_source
        self.trust = trust_evaluator
        self.profiles = profiles
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
        pol, notes, dirty_source = self._dirty_rate(req, pol, notes, now)
        facts = hostfacts.RequestFacts(
            topo, src, self.settings, self.profiles,
            node=req.source_node, now_epoch=now.timestamp())
        facts.dirty_rate_source = dirty_source
        notes += tuple(facts.notes)
        try:
            found = screen_mod.screen(candidates, topo, pol, src,
                                      self.trust, now, host_info,
                                      self.options_memo, facts)
        except screen_mod.SourceUntrusted as e:
            return self._denied_all(candidates, [
                'source host %s is not trusted (%s); the instance requires '
                'trusted hosts' % (src.name, e.reason)], notes)
        return self._judge_planned(req, topo, pol, src, remaining, notes,
                                   candidates, found)

    def _dirty_rate(self, req, pol, notes, now):
        """The policy with a fresh observed dirty rate, and the notes.

        The compute agent's observation replaces the hint of the flavor,
        image, metadata or default (the policy's ``dirty_rate_mibps``).
        """
        rate, why = observed.fresh_rate(
            req.metadata, now, self.settings.observed_dirty_rate_max_age)
        if why:
            return pol, notes + (why,), hostfacts.POLICY
        if rate is None:
            return pol, notes, hostfacts.POLICY
        note = ('dirty rate %.2f MiB/s observed by the compute agent %.0f s '
                'ago (the hint was %.2f MiB/s)' % (
                    rate.mibps, max(rate.age_s(now), 0.0),
                    pol.dirty_rate_mibps))
        pol = dataclasses.replace(pol, dirty_rate_mibps=rate.mibps)
        return pol, notes + (note,), hostfacts.OBSERVED

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
                pol.max_downtime_ms, chosen, pol.dirty_rate_mibps)
            verdicts = self.judge(pol, remaining, chosen,
                                  max(len(topo.levels) - 1, 1), risk)
            verdicts.score = risk.rank(verdicts.allowed, verdicts.score)
            if found.facts is not None:
                verdicts.settings = found.facts.request_settings
            allowed[found.planned] = verdicts.allowed
            score[found.planned] = verdicts.score
            worst[found.planned] = chosen.worst_downtime_ms
        builder = builder_mod.DecisionBuilder(
            self, topo, pol, src, remaining, notes, candidates, found,
            chosen, verdicts, req, risk)
        return Decisions(candidates, allowed, score, builder,
                         worst_downtime_ms=worst)

    # -- steps a variant may replace (bench/bench_quality.py does) -------
    def choose(self, req, topo, pol, src, found):
        """The best transport option of every planned candidate.

        :returns: :class:`selection.ChosenEstimates`
        """
        hosts, on_secure = found.planned_hosts, found.planned_on_secure
        secure, any_level = found.secure, found.any_level
        facts = found.facts or hostfacts.RequestFacts(topo, src,
                                                      self.settings)
        cpu_load, load_source = facts.cpu_load(hosts)
        ciphers = facts.ciphers(hosts)
        paths = selection.PlannedPaths(
            bandwidth_gbps=np.where(on_secure, secure.bottleneck_gbps[hosts],
                                    any_level.bottleneck_gbps[hosts]),
            rtt_ms=2.0 * np.where(on_secure, secure.latency_ms[hosts],
                                  any_level.latency_ms[hosts]),
            cpu_load=cpu_load,
            weakest_level=np.where(on_secure, secure.weakest[hosts],
                                   any_level.weakest[hosts]),
            src_cipher=np.nan if ciphers is None else ciphers[0],
            dst_cipher=None if ciphers is None else ciphers[1],
            streams=facts.streams(hosts))
        chosen = selection.choose(req, pol, facts.request_settings, paths,
                                  found.planned_option_key,
                                  found.key_options)
        chosen.load_source = load_source
        chosen.paths = paths
        return chosen

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
        verdicts_mod.explain(d, verdicts, j,
                             verdicts.settings or self.settings)


def engine_from_conf(conf, topology_source=None, profiles=None):
    """Build an Engine from the [qslm] options.

    :param topology_source: callable returning the Topology; default: a
        TopologyStore of ``[qslm] topology_file``.
    :param profiles: the ProfileStore of published host profiles;
        default: the process's, read with its ``[placement]``
        credentials (none without them, or with ``[qslm]
        host_profiles = False``).
    """
    group = conf.qslm
    if topology_source is None:
        topology_source = topology_mod.TopologyStore.from_conf(group).get
    if profiles is None:
        from qslm_nova.profile import service as profile_service
        profiles = profile_service.store_from_conf(conf)
    providers = trust_mod.load_providers(conf, group.trust_providers)
    evaluator = trust_mod.TrustEvaluator(
        providers, group.trust_combination, group.max_attestation_age)
    return Engine(settings_mod.Settings.from_conf(group), topology_source,
                  evaluator, profiles=profiles)


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
