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
6. returns :class:`Decisions`: ``allowed`` and ``score`` as numpy arrays
   over the candidates, and one :class:`Decision` per candidate, with
   every reason, built from the same computation when asked for.

Every step runs on numpy arrays over all candidates (thousands in a
large cloud): the candidates are mapped to the topology's host numbers
once, and trust, paths and per-host data are read from arrays, so that
the scheduler pays no Python work per host beyond that look-up.

Nothing here imports Nova; the scheduler filter, weigher and API
pre-check are thin adapters around :class:`Engine`.
"""

import collections.abc
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

    @classmethod
    def for_instance(cls, instance, image_prop_prefix, flavor=None,
                     disk_gb=0.0):
        """The request of a Nova instance object (read by attribute).

        :param image_prop_prefix: Nova's prefix of image properties in
            system metadata (``nova.utils.SM_IMAGE_PROP_PREFIX``).
        :param flavor: the flavor to judge; default the instance's.
        """
        flavor = flavor or instance.flavor
        return cls(
            instance_uuid=instance.uuid,
            source_host=instance.host,
            memory_mb=flavor.memory_mb,
            flavor_extra_specs=dict(flavor.extra_specs or {}),
            image_props=policy_mod.image_properties(
                instance.system_metadata, image_prop_prefix),
            metadata=dict(instance.metadata or {}),
            disk_gb=disk_gb)


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


# Why a candidate left the running before the estimate (see _screen).
_PLAN, _UNKNOWN, _SOURCE, _UNTRUSTED, _NO_PATH, _NO_OPTION = range(6)
# The Estimate fields a decision carries.
_FIELDS = ('expected_downtime_ms', 'worst_downtime_ms', 'total_time_s',
           'bytes_sent', 'rate_mibps', 'outcome', 'worst_outcome')
# Rank of each estimator outcome when choosing a transport option:
# completing beats post-copy, then a forced pause, then aborting.
_RANK = np.empty(len(estimator.OUTCOMES), dtype=int)
_RANK[[estimator.COMPLETED, estimator.POST_COPY, estimator.FORCED_PAUSE,
       estimator.ABORTED, estimator.NO_CONVERGENCE]] = np.arange(5)


class Decisions(collections.abc.Sequence):
    """The decisions of one request: one per candidate, in order.

    ``allowed`` (bool) and ``score`` (float, -1 where denied) are numpy
    arrays over the candidates, computed for all of them at once; that is
    all the scheduler reads. The :class:`Decision` of a candidate, with
    its path, estimates, reasons and notes, is built from the same
    computation when first asked for (by index or iteration) and then
    kept, so callers may amend it (the arrays keep the engine's verdict).
    """

    def __init__(self, hosts, allowed, score, make):
        self.hosts = hosts
        self.allowed = allowed
        self.score = score
        self._make = make
        self._made = {}

    @classmethod
    def uniform(cls, hosts, make, allowed=False, score=-1.0):
        """Every candidate alike (a request-wide verdict)."""
        n = len(hosts)
        return cls(hosts, np.full(n, allowed, dtype=bool),
                   np.full(n, score), make)

    def __len__(self):
        return len(self.hosts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self.hosts)))]
        n = len(self.hosts)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError('decision index out of range')
        made = self._made.get(i)
        if made is None:
            # Two threads may build the same one: the first stored wins.
            made = self._made.setdefault(i, self._make(i))
        return made

    def __iter__(self):
        for i in range(len(self.hosts)):
            yield self[i]

    def __eq__(self, other):
        if isinstance(other, (Decisions, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None

    def best(self):
        """(Decision with the highest score among the allowed, how many
        are allowed); (None, 0) when none is.

        Only the best one is built: the API pre-check needs no more.
        Ties go to the first candidate, as ``max()`` over the list would.
        """
        at = np.flatnonzero(self.allowed)
        if not at.size:
            return None, 0
        return self[int(at[np.argmax(self.score[at])])], int(at.size)

    def __repr__(self):
        return 'Decisions(%d hosts, %d allowed)' % (
            len(self.hosts), int(np.count_nonzero(self.allowed)))


class _Verdicts:
    """The judgement of the estimated candidates, as arrays."""

    __slots__ = ('held', 'conv', 'over_max', 'over_rem', 'max_ms',
                 'remaining', 'limit', 'allowed', 'score')


# At most this many transport option lists are remembered per topology.
_OPTIONS_MEMO_MAX = 65536


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
        # (topology, {key: transport options}): see _options_memo().
        self._options_seen = (None, {})

    def _options_memo(self, topo):
        """Transport options already worked out on this topology.

        They depend only on the two hosts' mechanisms, the policy's
        mechanism rules and minimum level, and the pattern of a weak path
        (numbered by the topology): a handful of keys serve every request.
        A new topology starts afresh; a full memo is emptied.
        """
        seen = self._options_seen
        if seen[0] is not topo or len(seen[1]) >= _OPTIONS_MEMO_MAX:
            # Benign race: a concurrent request may install its own; each
            # keeps using the dict it took.
            seen = self._options_seen = (topo, {})
        return seen[1]

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

    def _unchecked_all(self, candidates, reason, pol, notes=()):
        def make(i):
            d = Decision.fresh(candidates[i], notes)
            self._unchecked(d, reason, pol)
            return d

        skip = self._may_skip(pol)
        return Decisions.uniform(candidates, make, skip,
                                 0.0 if skip else -1.0)

    @staticmethod
    def _denied_all(candidates, reasons, notes=()):
        def make(i):
            return Decision(candidates[i], False, tuple(reasons), notes)

        return Decisions.uniform(candidates, make)

    def decide(self, req, candidates, host_info=None):
        """Return the Decisions, one per candidate, in the same order."""
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
        return self._screen(req, topo, pol, src, remaining, now, notes,
                            candidates, host_info)

    def _screen(self, req, topo, pol, src, remaining, now, notes,
                candidates, host_info):
        """Every check over all candidates at once, as numpy arrays.

        Each candidate leaves the running at its first failing check
        (``stage``); the rest are estimated, judged and scored
        vectorised. Reasons are only formatted when a Decision is built.
        """
        n = len(candidates)
        source = req.source_host
        pos = topo.host_positions(candidates)
        stage = np.full(n, _PLAN, dtype=np.int8)
        known = pos >= 0
        stage[~known] = _UNKNOWN
        src_i = topo.host_index[source]
        is_src = known & (pos == src_i)
        stage[is_src] = _SOURCE
        live = known & ~is_src

        verdicts = None
        trust_at = None
        if pol.require_trusted_host:
            at = np.nonzero(known)[0]
            names = [source] + (candidates if len(at) == n else
                                [candidates[i] for i in at.tolist()])
            verdicts = self.trust.screen(
                names, topo, now, host_info,
                index=np.concatenate(([src_i], pos[at])).astype(np.intp))
            if not verdicts.ok[0]:
                return self._denied_all(candidates, [
                    'source host %s is not trusted (%s); the instance '
                    'requires trusted hosts' % (source,
                                                verdicts.reason(0))], notes)
            trust_at = np.full(n, -1, dtype=np.intp)
            trust_at[at] = np.arange(1, len(at) + 1)
            trusted = np.zeros(n, dtype=bool)
            trusted[at] = verdicts.ok[1:]
            stage[live & ~trusted] = _UNTRUSTED
            live &= trusted

        secure = topo.widest_paths(source, pol.min_link_security)
        anyway = (secure if pol.min_link_security == 0 else
                  topo.widest_paths(source, 0))
        required = topo.level_name(pol.min_link_security)

        # Paths: the secure one if any, else the weak one, else none.
        li = np.nonzero(live)[0]
        hp = pos[li]
        sec = secure.reach[hp]
        weak = ~sec & anyway.reach[hp]
        stage[li[~sec & ~weak]] = _NO_PATH
        keep = sec | weak
        li, hp, sec, weak = li[keep], hp[keep], sec[keep], weak[keep]
        from_secure = np.zeros(n, dtype=bool)
        from_secure[li] = sec

        # Transport options depend only on the destination's mechanisms
        # and, on a weak path, on the levels and link mechanisms of its
        # links (the search's pattern): one list per distinct pair. (The
        # topology's pattern list only grows; this search's numbers are
        # all below its length.)
        npat = len(anyway.patterns) + 1
        mset = topo.host_mechanism_set[hp]
        wpat = np.where(weak, anyway.pattern[hp], -1)
        key = mset * npat + wpat + 1
        _keys, first, key_of = np.unique(key, return_index=True,
                                         return_inverse=True)
        memo = self._options_memo(topo)
        rules = (src.mechanisms, pol.allowed_mechanisms,
                 pol.require_encryption, pol.min_link_security)
        key_options = []
        for m, p in zip(mset[first].tolist(), wpat[first].tolist()):
            k = (rules, m, p)
            options = memo.get(k)
            if options is None:
                options = memo[k] = tuple(self._options(
                    topo, pol, src, topo.mechanism_sets[m],
                    None if p < 0 else anyway.patterns[p]))
            key_options.append(options)
        none = np.array([not o for o in key_options], dtype=bool)[key_of]
        stage[li[none]] = _NO_OPTION
        plan = ~none
        plan_pos = li[plan]
        plan_of = np.full(n, -1, dtype=np.intp)
        plan_of[plan_pos] = np.arange(len(plan_pos))

        allowed = np.zeros(n, dtype=bool)
        score = np.full(n, -1.0)
        if self._may_skip(pol):
            allowed[~known] = True
            score[~known] = 0.0
        est = None
        if len(plan_pos):
            est = self._estimate(req, topo, pol, src, hp[plan], secure,
                                 anyway, sec[plan], key_of[plan],
                                 key_options)
            v = est['verdicts'] = self._verdicts(
                pol, remaining, est, max(len(topo.levels) - 1, 1))
            allowed[plan_pos] = v.allowed
            score[plan_pos] = v.score

        def make(i):
            host = candidates[i]
            code = stage[i]
            if code == _PLAN:
                j = int(plan_of[i])
                d = self._planned(topo, est, j, host, notes,
                                  topo.path_to(secure if from_secure[i]
                                               else anyway, host),
                                  remaining)
                self._apply(d, est['verdicts'], j)
                return d
            d = Decision.fresh(host, notes)
            if code == _UNKNOWN:
                self._unchecked(d, 'host %s is not in the topology file'
                                % host, pol)
            elif code == _SOURCE:
                d.deny('host %s is the source host' % host)
            elif code == _UNTRUSTED:
                d.deny('host %s is not trusted (%s); the instance '
                       'requires trusted hosts' % (
                           host, verdicts.reason(int(trust_at[i]))))
            elif code == _NO_PATH:
                d.deny('no path from %s to %s in the topology' % (
                    source, host))
            else:   # _NO_OPTION
                search = secure if from_secure[i] else anyway
                self._set_path(d, topo.path_to(search, host), topo)
                d.deny(self._no_option_reason(
                    topo, pol, src, topo.hosts[host],
                    not from_secure[i], required))
            return d

        return Decisions(candidates, allowed, score, make)

    @staticmethod
    def _set_path(d, path, topo):
        d.path = path.nodes
        d.weakest_link = topo.level_name(path.weakest_level)
        d.bottleneck_gbps = path.bottleneck_gbps
        d.rtt_ms = path.rtt_ms

    def _planned(self, topo, est, j, host, notes, path, remaining):
        """The Decision of estimated candidate j, not yet judged."""
        d = Decision.fresh(host, notes)
        self._set_path(d, path, topo)
        d.mechanism = est['options'][est['group'][j]].label
        d.expected_downtime_ms = float(est['expected_downtime_ms'][j])
        d.worst_downtime_ms = float(est['worst_downtime_ms'][j])
        d.total_time_s = float(est['total_time_s'][j])
        d.bytes_sent = float(est['bytes_sent'][j])
        d.rate_mibps = float(est['rate_mibps'][j])
        d.outcome = estimator.OUTCOMES[est['outcome'][j]]
        d.worst_outcome = estimator.OUTCOMES[est['worst_outcome'][j]]
        d.paper_worst_ms = float(est['paper_worst_ms'][j])
        d.remaining_budget_ms = remaining
        return d

    def _options(self, topo, pol, src, dst_mechanisms, weak):
        """The transport options to a destination.

        :param dst_mechanisms: the mechanisms the destination supports.
        :param weak: None on a path as secure as required, else the path's
            (link levels, link mechanisms).
        """
        names = sorted(src.mechanisms & dst_mechanisms &
                       pol.allowed_mechanisms)
        weak_links = [] if weak is None else [
            m for lvl, m in zip(*weak) if lvl < pol.min_link_security]
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

    def _estimate_groups(self, req, pol, groups):
        """One estimator call for every option group.

        :param groups: (Mechanism, bw, rtt, load) per option group.
        :returns: per group, a dict of result arrays aligned with its
            inputs.

        Each option group would cost the model's fixed loop overhead on
        its own: all go into one call with a mechanism per element (the
        model works element by element, and runs the many candidates that
        share a path and rate once, so the results equal separate calls).
        """
        if not groups:
            return []
        st = self.settings
        sizes = [len(g[1]) for g in groups]
        mechanism = (groups[0][0] if len(groups) == 1 else
                     estimator.MechanismColumns.repeat(
                         [g[0] for g in groups], sizes))
        est = estimator.estimate(
            req.memory_mb, pol.dirty_rate_mibps,
            np.concatenate([g[1] for g in groups]),
            np.concatenate([g[2] for g in groups]),
            mechanism,
            np.concatenate([g[3] for g in groups]),
            st.libvirt, st.params, touched_mb=req.touched_mb,
            disk_gb=req.disk_gb)
        out, start = [], 0
        for m in sizes:
            out.append({name: getattr(est, name)[start:start + m]
                        for name in _FIELDS})
            start += m
        return out

    def _estimate(self, req, topo, pol, src, hp, secure, anyway, sec,
                  key_of, key_options):
        """Estimate every option of every planned candidate; keep the best.

        :returns: a dict of arrays over the planned candidates: the
            chosen option's estimates, ``group`` (index into
            ``options``), ``level`` (weakest link level) and ``protects``.
        """
        st = self.settings
        params = st.params
        # Group candidates by option so that each option is estimated once,
        # vectorised over every candidate that may use it.
        groups = {}
        for k, options in enumerate(key_options):
            for opt in options:
                groups.setdefault(opt.label, (opt, []))[1].append(k)
        n = len(hp)
        default_load = st.default_host_cpu_load
        src_load = (default_load if src.cpu_load is None
                    else src.cpu_load)
        bw_all = np.where(sec, secure.bottleneck_gbps[hp],
                          anyway.bottleneck_gbps[hp])
        rtt_all = 2.0 * np.where(sec, secure.latency_ms[hp],
                                 anyway.latency_ms[hp])
        loads = topo.host_cpu_load[hp]
        load_all = np.maximum(src_load, np.where(np.isnan(loads),
                                                 default_load, loads))
        # Completing beats aborting (expected, then worst case); then the
        # lowest downtime held against the SLA, then the shortest time.
        best = {name: np.full(n, np.inf) for name in ('r1', 'r2', 'held',
                                                      'total')}
        chosen = {name: np.zeros(n) for name in _FIELDS}
        chosen['outcome'] = np.zeros(n, dtype=int)
        chosen['worst_outcome'] = np.zeros(n, dtype=int)
        chosen_group = np.full(n, -1)
        labels = sorted(groups)
        members = [np.nonzero(np.isin(key_of, groups[label][1]))[0]
                   for label in labels]
        estimates = self._estimate_groups(req, pol, [
            (groups[label][0].mechanism, bw_all[idx], rtt_all[idx],
             load_all[idx]) for label, idx in zip(labels, members)])
        for g, label in enumerate(labels):
            idx, est = members[g], estimates[g]
            held = self._held(est)
            total = est['total_time_s']
            r1, r2 = _RANK[est['outcome']], _RANK[est['worst_outcome']]
            b1, b2 = best['r1'][idx], best['r2'][idx]
            bh, bt = best['held'][idx], best['total'][idx]
            better = (r1 < b1) | ((r1 == b1) & (
                (r2 < b2) | ((r2 == b2) & (
                    (held < bh) | ((held == bh) & (total < bt))))))
            better |= chosen_group[idx] < 0
            sel = idx[better]
            best['r1'][sel], best['r2'][sel] = r1[better], r2[better]
            best['held'][sel] = held[better]
            best['total'][sel] = total[better]
            for name in _FIELDS:
                chosen[name][sel] = est[name][better]
            chosen_group[sel] = g
        options = [groups[label][0] for label in labels]
        chosen['paper_worst_ms'] = estimator.paper_worst_case_ms(
            req.memory_mb, bw_all, params)
        chosen['group'] = chosen_group
        chosen['options'] = options
        chosen['level'] = np.where(sec, secure.weakest[hp],
                                   anyway.weakest[hp])
        chosen['protects'] = np.array(
            [opt.mechanism.protects for opt in options],
            dtype=bool)[chosen_group]
        return chosen

    def _held(self, est):
        """The downtime held against the SLA (``[qslm] sla_estimate``)."""
        return (est['worst_downtime_ms'] if self.settings.sla_estimate ==
                'worst' else est['expected_downtime_ms'])

    def _verdicts(self, pol, remaining, est, nlevels):
        """Hold the estimates against the limits and score, vectorised.

        :param est: arrays over the candidates: ``expected_downtime_ms``,
            ``worst_downtime_ms``, ``total_time_s``, ``outcome``,
            ``level`` (the path's weakest link level) and ``protects``
            (the chosen mechanism encrypts).
        """
        v = _Verdicts()
        v.held = held = self._held(est)
        outcome = est['outcome']
        n = len(held)
        # 1: aborted at Nova's completion timeout; 2: never converges.
        v.conv = np.where(outcome == estimator.ABORTED, 1, np.where(
            outcome == estimator.NO_CONVERGENCE, 2, 0))
        judged = v.conv == 0
        limits = []
        v.over_max = v.over_rem = np.zeros(n, dtype=bool)
        if pol.max_downtime_ms is not None:
            limits.append(pol.max_downtime_ms)
            v.over_max = judged & (held > pol.max_downtime_ms)
        if remaining is not None:
            limits.append(remaining)
            v.over_rem = judged & (held > remaining)
        v.max_ms = pol.max_downtime_ms
        v.remaining = remaining
        v.limit = min(limits) if limits else None
        v.allowed = judged & ~v.over_max & ~v.over_rem
        v.score = np.full(n, -1.0)
        ok = np.nonzero(v.allowed)[0]
        v.score[ok] = self._score(held[ok], v.limit, est['level'][ok],
                                  est['protects'][ok], pol,
                                  est['total_time_s'][ok], nlevels)
        return v

    def _apply(self, d, v, j):
        """Write verdict j (reasons, notes, limit, score) into Decision d.
        """
        st = self.settings
        lv = st.libvirt
        conv = v.conv[j]
        if conv:
            if conv == 1:
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
        what = ('worst-case' if st.sla_estimate == 'worst' else
                'expected')
        held = float(v.held[j])
        if v.over_max[j]:
            d.deny('%s downtime %.0f ms exceeds the per-migration '
                   'maximum of %d ms (qslm:max_downtime_ms)' % (
                       what, held, v.max_ms))
        if v.over_rem[j]:
            d.deny('%s downtime %.0f ms exceeds the remaining SLA '
                   'budget of %d ms' % (what, held, v.remaining))
        d.limit_ms = v.limit
        d.allowed = bool(v.allowed[j])
        if d.allowed:
            d.score = float(v.score[j])

    @staticmethod
    def _score(held, limit, level, protects, pol, total, nlevels):
        """Rank allowed hosts: larger margins score higher (0..1).

        * SLA margin (60 %): share of the downtime limit left after the
          estimate, or 1 / (1 + downtime in s) without a limit;
        * security headroom (20 %): levels the path's weakest link sits
          above the required one; an encrypting mechanism lifts a weaker
          path to the required level, not beyond;
        * migration time (20 %): 1 / (1 + total time / 60 s), since a long
          migration loads the network and risks the timeout.

        Vectorised: ``held``, ``level`` (weakest link level), ``protects``
        (the mechanism encrypts) and ``total`` are arrays over the hosts.
        """
        if limit:
            sla = np.maximum(limit - held, 0.0) / limit
        else:
            sla = 1.0 / (1.0 + held / 1000.0)
        level = np.where(protects, np.maximum(level, pol.min_link_security),
                         level)
        sec = np.minimum(np.maximum(
            (level - pol.min_link_security) / nlevels, 0.0), 1.0)
        quick = 1.0 / (1.0 + total / 60.0)
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
        topology_source = topology_mod.TopologyStore.from_conf(group).get
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
