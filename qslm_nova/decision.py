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

"""The QSLM decision: may this instance live-migrate to that host?

For one request (instance, source host, candidate hosts) the engine

1. builds the instance's effective policy and downtime ledger;
2. checks trust of the source and every candidate (when required);
3. finds, with one search from the source, the widest available path
   that meets the minimum link security, or else the widest path at all,
   which then needs a protecting mechanism;
4. lists the mechanisms both hosts support and the policy allows (plus
   link-level ones covering the weak links) and estimates each, vectorised
   over all candidates, keeping the lowest expected downtime;
5. holds the estimate against the per-migration maximum, the remaining
   budget of the period and Nova's completion timeout;
6. returns one :class:`Decision` per candidate, with every reason.

Nothing here imports Nova; the scheduler filter, weigher and API
pre-check are thin adapters around :class:`Engine`.
"""

import dataclasses
import datetime
import threading

import numpy as np

from qslm_nova import estimator
from qslm_nova import exception
from qslm_nova import policy as policy_mod
from qslm_nova import topology as topology_mod
from qslm_nova import trust as trust_mod


@dataclasses.dataclass
class MigrationRequest:
    """What the decision needs to know about one live migration."""

    instance_uuid: str
    source_host: str
    memory_mb: int
    flavor_extra_specs: dict = dataclasses.field(default_factory=dict)
    image_props: dict = dataclasses.field(default_factory=dict)
    metadata: dict = dataclasses.field(default_factory=dict)
    touched_mb: float = None
    disk_gb: float = 0.0
    now: datetime.datetime = None


@dataclasses.dataclass(slots=True)
class Decision:
    """The verdict for one candidate destination."""

    host: str
    allowed: bool = False
    # Tuples: thousands of decisions per request, most never denied or
    # annotated, then share the empty tuple instead of allocating lists.
    reasons: tuple = ()
    notes: tuple = ()
    mechanism: str = None
    path: tuple = ()
    weakest_link: str = None
    bottleneck_gbps: float = None
    rtt_ms: float = None
    expected_downtime_ms: float = None
    worst_downtime_ms: float = None
    total_time_s: float = None
    bytes_sent: float = None
    rate_mibps: float = None
    outcome: str = None
    worst_outcome: str = None
    limit_ms: float = None
    remaining_budget_ms: float = None
    paper_worst_ms: float = None
    score: float = -1.0

    def deny(self, reason):
        self.allowed = False
        self.reasons += (reason,)

    def note(self, text):
        self.notes += (text,)

    @property
    def summary(self):
        if self.allowed:
            return 'allowed via %s, downtime %.0f ms expected, %.0f ms ' \
                   'worst' % (self.mechanism, self.expected_downtime_ms,
                              self.worst_downtime_ms)
        return 'denied: ' + '; '.join(self.reasons)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def fresh(cls, host, notes=()):
        """A new undecided Decision for host with these notes (a tuple).

        The engine makes one per candidate host, thousands per request;
        the generated ``__init__`` with positional arguments is the
        quickest way to fill every slot.
        """
        return cls(host, False, (), tuple(notes))


@dataclasses.dataclass(frozen=True)
class Settings:
    defaults: policy_mod.Defaults = dataclasses.field(
        default_factory=policy_mod.Defaults)
    libvirt: estimator.LibvirtSettings = dataclasses.field(
        default_factory=estimator.LibvirtSettings)
    params: estimator.ModelParams = dataclasses.field(
        default_factory=estimator.ModelParams)
    fail_closed: bool = True
    sla_estimate: str = 'worst'
    default_host_cpu_load: float = 0.3

    @classmethod
    def from_conf(cls, group):
        return cls(defaults=policy_mod.Defaults.from_conf(group),
                   libvirt=estimator.LibvirtSettings.from_conf(group),
                   params=estimator.ModelParams.from_conf(group),
                   fail_closed=group.fail_closed,
                   sla_estimate=group.sla_estimate,
                   default_host_cpu_load=group.default_host_cpu_load)


class _Option:
    """One way to carry the stream.

    An end-to-end mechanism, optionally with a link-level mechanism on the
    links below the required security level.
    """

    __slots__ = ('label', 'mechanism')

    def __init__(self, label, mechanism):
        self.label = label
        self.mechanism = mechanism


def _combine(end_to_end, link):
    if link is None:
        return _Option(end_to_end.name, end_to_end)
    merged = dataclasses.replace(
        end_to_end,
        name='%s+%s' % (end_to_end.name, link.name),
        crypto_gbps_per_core=min(end_to_end.crypto_gbps_per_core,
                                 link.crypto_gbps_per_core),
        overhead_bytes_per_packet=(end_to_end.overhead_bytes_per_packet +
                                   link.overhead_bytes_per_packet),
        handshake_rtts=end_to_end.handshake_rtts + link.handshake_rtts,
        buffered_mb=end_to_end.buffered_mb + link.buffered_mb)
    return _Option('%s (+%s on weak links)' % (end_to_end.name, link.name),
                   merged)


class Engine:
    """Computes decisions. Thread-safe; holds no per-request state."""

    def __init__(self, settings, topology_source, trust_evaluator):
        """Create an engine.

        :param topology_source: a callable returning the current Topology
            (e.g. ``TopologyStore.get``); it may raise TopologyError.
        """
        self.settings = settings
        self._topology = topology_source
        self.trust = trust_evaluator

    # -- helpers ----------------------------------------------------------
    def _may_skip(self, pol):
        """True if an unverifiable request may pass unchecked.

        Only with ``[qslm] fail_closed = False`` and only for instances
        with no trust, encryption, link or downtime requirement.
        """
        if self.settings.fail_closed:
            return False
        return pol is not None and not pol.demanding

    def _unchecked(self, d, reason, pol):
        if self._may_skip(pol):
            d.allowed = True
            d.score = 0.0
            d.note('not checked ([qslm] fail_closed is False): ' +
                   reason)
        else:
            d.deny(reason)

    def decide(self, req, candidates, host_info=None):
        """Return one Decision per candidate, in the same order."""
        candidates = list(candidates)
        now = req.now or datetime.datetime.now(datetime.timezone.utc)
        try:
            topo = self._topology()
        except exception.TopologyError as e:
            # Without a topology, judge the policy against the defaults to
            # know whether the instance needs protection.
            pol = policy_mod.policy_without_topology(
                self.settings.defaults, req.flavor_extra_specs,
                req.image_props, req.metadata)
            if pol.errors:
                pol = None
            decisions = [Decision(h) for h in candidates]
            for d in decisions:
                self._unchecked(d, 'topology unavailable: %s' % e.errors[0],
                                pol)
            return decisions
        pol = policy_mod.effective_policy(
            self.settings.defaults, topo.levels, topo.mechanisms,
            req.flavor_extra_specs, req.image_props, req.metadata)
        fresh = Decision.fresh
        notes = tuple(pol.notes)
        decisions = [fresh(h, notes) for h in candidates]
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
            for d in decisions:
                for reason in common:
                    d.deny(reason)
            return decisions
        src = topo.hosts.get(req.source_host)
        if src is None:
            for d in decisions:
                self._unchecked(d, 'source host %s is not in the topology '
                                'file' % req.source_host, pol)
            return decisions

        trust = {}
        if pol.require_trusted_host:
            names = [req.source_host] + [c for c in candidates
                                         if c in topo.hosts]
            trust = self.trust.evaluate(names, topo, now, host_info)
            ok, why = trust[req.source_host]
            if not ok:
                for d in decisions:
                    d.deny('source host %s is not trusted (%s); the '
                           'instance requires trusted hosts' % (
                               req.source_host, why))
                return decisions

        secure = topo.widest_paths(req.source_host, pol.min_link_security)
        anyway = (secure if pol.min_link_security == 0 else
                  topo.widest_paths(req.source_host, 0))
        required = topo.level_name(pol.min_link_security)

        # Per candidate: path and the transport options it may use. The
        # options depend only on the destination's mechanisms and, for a
        # path below the required level, the links of the path: memoised
        # for this request.
        plans = []   # (index, PathInfo, [options])
        option_memo = {}
        for i, (host, d) in enumerate(zip(candidates, decisions)):
            dst = topo.hosts.get(host)
            if dst is None:
                self._unchecked(d, 'host %s is not in the topology file'
                                % host, pol)
                continue
            if host == req.source_host:
                d.deny('host %s is the source host' % host)
                continue
            if pol.require_trusted_host:
                ok, why = trust[host]
                if not ok:
                    d.deny('host %s is not trusted (%s); the instance '
                           'requires trusted hosts' % (host, why))
                    continue
            path = topo.path_to(secure, host)
            weak = path is None
            if weak:
                path = topo.path_to(anyway, host)
            if path is None:
                d.deny('no path from %s to %s in the topology' % (
                    req.source_host, host))
                continue
            d.path = path.nodes
            d.weakest_link = topo.level_name(path.weakest_level)
            d.bottleneck_gbps = path.bottleneck_gbps
            d.rtt_ms = path.rtt_ms
            key = ((dst.mechanisms, path.link_levels, path.link_mechanisms)
                   if weak else dst.mechanisms)
            options = option_memo.get(key)
            if options is None:
                options = self._options(topo, pol, src, dst, path, weak)
                option_memo[key] = options
            if not options:
                d.deny(self._no_option_reason(topo, pol, src, dst, weak,
                                              required))
                continue
            plans.append((i, path, options))
        if plans:
            self._estimate(req, topo, pol, plans, decisions, remaining)
        return decisions

    def _options(self, topo, pol, src, dst, path, weak):
        names = sorted(src.mechanisms & dst.mechanisms &
                       pol.allowed_mechanisms)
        weak_links = [m for lvl, m in zip(path.link_levels,
                                          path.link_mechanisms)
                      if lvl < pol.min_link_security]
        link_level = set()
        if weak_links:
            link_level = set.intersection(*(set(m) for m in weak_links))
            link_level &= pol.allowed_mechanisms
        options = []
        for name in names:
            mech = topo.mechanisms[name]
            if pol.require_encryption and not mech.protects:
                continue
            if not weak or mech.protects:
                options.append(_combine(mech, None))
                continue
            for lname in sorted(link_level):
                lmech = topo.mechanisms[lname]
                if lmech.protects:
                    options.append(_combine(mech, lmech))
        return options

    def _no_option_reason(self, topo, pol, src, dst, weak, required):
        both = sorted(src.mechanisms & dst.mechanisms)
        allowed = sorted(pol.allowed_mechanisms)
        if weak:
            what = ('every path from %s to %s crosses links weaker than the '
                    'required %s' % (src.name, dst.name, required))
        else:
            what = 'the instance requires encryption'
        return ('%s and no protecting mechanism is both supported by the two '
                'hosts (%s) and allowed by the policy (%s)' % (
                    what, ', '.join(both) or 'none in common',
                    ', '.join(allowed) or 'none'))

    def _estimate(self, req, topo, pol, plans, decisions, remaining):
        st = self.settings
        params = st.params
        # Group candidates by option so that each option is estimated once,
        # vectorised over every candidate that may use it.
        groups = {}
        for pos, (i, path, options) in enumerate(plans):
            for opt in options:
                groups.setdefault(opt.label, (opt, []))[1].append(pos)
        n = len(plans)
        default_load = st.default_host_cpu_load

        def load(name):
            value = topo.hosts[name].cpu_load
            return default_load if value is None else value

        src_load = load(req.source_host)
        bw_all = np.array([p[1].bottleneck_gbps for p in plans])
        rtt_all = np.array([p[1].rtt_ms for p in plans])
        load_all = np.maximum(src_load, np.array(
            [load(decisions[p[0]].host) for p in plans]))
        # Completing beats aborting (expected, then worst case); then the
        # lowest downtime held against the SLA, then the shortest time.
        rank = np.array([0, 3, 2, 1, 4])   # by estimator outcome index
        best = {name: np.full(n, np.inf) for name in ('r1', 'r2', 'held',
                                                      'total')}
        chosen = {name: np.zeros(n) for name in (
            'exp', 'worst', 'total', 'bytes', 'rate')}
        chosen_outcome = np.zeros(n, dtype=int)
        chosen_worst_outcome = np.zeros(n, dtype=int)
        chosen_group = np.full(n, -1)
        labels = sorted(groups)
        for g, label in enumerate(labels):
            opt, members = groups[label]
            idx = np.array(members)
            est = estimator.estimate(
                req.memory_mb, pol.dirty_rate_mibps, bw_all[idx],
                rtt_all[idx], opt.mechanism, load_all[idx], st.libvirt,
                params, touched_mb=req.touched_mb, disk_gb=req.disk_gb)
            held = (est.worst_downtime_ms if st.sla_estimate == 'worst'
                    else est.expected_downtime_ms)
            r1, r2 = rank[est.outcome], rank[est.worst_outcome]
            b1, b2 = best['r1'][idx], best['r2'][idx]
            bh, bt = best['held'][idx], best['total'][idx]
            better = (r1 < b1) | ((r1 == b1) & (
                (r2 < b2) | ((r2 == b2) & (
                    (held < bh) | ((held == bh) & (
                        est.total_time_s < bt))))))
            better |= chosen_group[idx] < 0
            sel = idx[better]
            best['r1'][sel], best['r2'][sel] = r1[better], r2[better]
            best['held'][sel] = held[better]
            best['total'][sel] = est.total_time_s[better]
            chosen['exp'][sel] = est.expected_downtime_ms[better]
            chosen['worst'][sel] = est.worst_downtime_ms[better]
            chosen['total'][sel] = est.total_time_s[better]
            chosen['bytes'][sel] = est.bytes_sent[better]
            chosen['rate'][sel] = est.rate_mibps[better]
            chosen_outcome[sel] = est.outcome[better]
            chosen_worst_outcome[sel] = est.worst_outcome[better]
            chosen_group[sel] = g
        paper = estimator.paper_worst_case_ms(
            req.memory_mb, bw_all, params).tolist()
        nlevels = max(len(topo.levels) - 1, 1)
        cols = {k: v.tolist() for k, v in chosen.items()}
        outcomes = chosen_outcome.tolist()
        worst_outcomes = chosen_worst_outcome.tolist()
        group_of = chosen_group.tolist()
        names = estimator.OUTCOMES
        for pos, (i, path, options) in enumerate(plans):
            opt = groups[labels[group_of[pos]]][0]
            d = decisions[i]
            d.mechanism = opt.label
            d.expected_downtime_ms = cols['exp'][pos]
            d.worst_downtime_ms = cols['worst'][pos]
            d.total_time_s = cols['total'][pos]
            d.bytes_sent = cols['bytes'][pos]
            d.rate_mibps = cols['rate'][pos]
            d.outcome = names[outcomes[pos]]
            d.worst_outcome = names[worst_outcomes[pos]]
            d.paper_worst_ms = paper[pos]
            d.remaining_budget_ms = remaining
            self._judge(d, pol, remaining, path, opt, nlevels)

    def _judge(self, d, pol, remaining, path, opt, nlevels):
        st = self.settings
        lv = st.libvirt
        if d.outcome in ('aborted', 'no-convergence'):
            if d.outcome == 'aborted':
                d.deny('migration would not converge: the instance dirties '
                       'memory faster than %.0f MiB/s can carry it and Nova '
                       'would abort it after the completion timeout '
                       '(live_migration_completion_timeout %d s/GiB)' % (
                           d.rate_mibps, lv.completion_timeout_s))
            else:
                d.deny('migration would never converge and no completion '
                       'timeout is set')
            return
        if d.worst_outcome in ('aborted', 'no-convergence'):
            d.note('under the worst-case dirty rate the migration '
                   'may not converge (Nova would %s it)' % (
                       'abort' if d.worst_outcome == 'aborted'
                       else 'never finish'))
        if d.outcome == 'post-copy':
            d.note('completes only after Nova forces post-copy at '
                   'the completion timeout')
        elif d.outcome == 'forced-pause':
            d.note('completes only after Nova pauses the instance '
                   'at the completion timeout')
        held = (d.worst_downtime_ms if st.sla_estimate == 'worst'
                else d.expected_downtime_ms)
        what = ('worst-case' if st.sla_estimate == 'worst' else
                'expected')
        limits = []
        if pol.max_downtime_ms is not None:
            limits.append(pol.max_downtime_ms)
            if held > pol.max_downtime_ms:
                d.deny('%s downtime %.0f ms exceeds the per-migration '
                       'maximum of %d ms (qslm:max_downtime_ms)' % (
                           what, held, pol.max_downtime_ms))
        if remaining is not None:
            limits.append(remaining)
            if held > remaining:
                d.deny('%s downtime %.0f ms exceeds the remaining SLA '
                       'budget of %d ms' % (what, held, remaining))
        d.limit_ms = min(limits) if limits else None
        if d.reasons:
            d.allowed = False
            return
        d.allowed = True
        d.score = self._score(d, held, pol, path, opt, nlevels)

    @staticmethod
    def _score(d, held, pol, path, opt, nlevels):
        """Rank allowed hosts: larger margins score higher (0..1).

        * SLA margin (60 %): share of the downtime limit left after the
          estimate, or 1 / (1 + downtime in s) without a limit;
        * security headroom (20 %): levels the path's weakest link sits
          above the required one; an encrypting mechanism lifts a weaker
          path to the required level, not beyond;
        * migration time (20 %): 1 / (1 + total time / 60 s), since a long
          migration loads the network and risks the timeout.
        """
        if d.limit_ms:
            sla = max(d.limit_ms - held, 0.0) / d.limit_ms
        else:
            sla = 1.0 / (1.0 + held / 1000.0)
        level = path.weakest_level
        if opt.mechanism.protects:
            level = max(level, pol.min_link_security)
        sec = min(max((level - pol.min_link_security) / nlevels, 0.0), 1.0)
        quick = 1.0 / (1.0 + d.total_time_s / 60.0)
        return 0.6 * sla + 0.2 * sec + 0.2 * quick


_ENGINE_LOCK = threading.Lock()
_ENGINE = {'key': None, 'engine': None}


def engine_from_conf(conf, topology_source=None):
    """Build an Engine from the [qslm] options.

    :param topology_source: callable returning the Topology; default: a
        TopologyStore of ``[qslm] topology_file``.
    """
    group = conf.qslm
    if topology_source is None:
        topology_source = topology_mod.TopologyStore(group.topology_file).get
    providers = trust_mod.load_providers(conf, group.trust_providers)
    evaluator = trust_mod.TrustEvaluator(
        providers, group.trust_combination, group.max_attestation_age)
    return Engine(Settings.from_conf(group), topology_source, evaluator)


def _conf_key(conf):
    group = conf.qslm
    return tuple((name, repr(group[name])) for name in sorted(group))


def get_engine(conf):
    """The process-wide Engine for the current [qslm] options.

    Built on first use and rebuilt when an option changes (thread-safe);
    the topology store inside it keeps reloading its file on change.
    """
    key = _conf_key(conf)
    current = _ENGINE
    if current['key'] == key:
        return current['engine']
    with _ENGINE_LOCK:
        if _ENGINE['key'] != key:
            _ENGINE['engine'] = engine_from_conf(conf)
            _ENGINE['key'] = key
        return _ENGINE['engine']


def reset_engine():
    """Forget the process-wide Engine (tests, option changes)."""
    with _ENGINE_LOCK:
        _ENGINE['key'] = None
        _ENGINE['engine'] = None
