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

"""Estimate every transport option of every candidate; keep the best.

Candidates are grouped by option so that each option is estimated once,
vectorised over every candidate that may use it, and all groups go into
one estimator call (the model works element by element, so the results
equal separate calls). Per candidate the best option is the one that
completes (expected case, then worst case: completing beats post-copy,
then a forced pause, then aborting), then holds the lowest downtime
against the SLA, then takes the shortest time.
"""

import dataclasses

import numpy as np

from qslm_nova import estimator

Outcome = estimator.Outcome

#: The Estimate fields a decision carries.
ESTIMATE_FIELDS = ('expected_downtime_ms', 'worst_downtime_ms',
                   'total_time_s', 'bytes_sent', 'rate_mibps', 'outcome',
                   'worst_outcome', 'race_downtime_ms')

# Rank of each estimator outcome when choosing a transport option.
_RANK = np.empty(len(Outcome), dtype=int)
_RANK[[Outcome.COMPLETED, Outcome.POST_COPY, Outcome.FORCED_PAUSE,
       Outcome.ABORTED, Outcome.NO_CONVERGENCE]] = np.arange(5)


@dataclasses.dataclass
class ChosenEstimates:
    """The chosen option's estimates, as arrays over the planned
    candidates.

    ``option`` indexes ``options``; ``level`` is the weakest link level
    of the path; ``protects`` says whether the option encrypts.
    """

    expected_downtime_ms: np.ndarray
    worst_downtime_ms: np.ndarray
    total_time_s: np.ndarray
    bytes_sent: np.ndarray
    rate_mibps: np.ndarray
    outcome: np.ndarray
    worst_outcome: np.ndarray
    # The expected pause had Nova's first step landed late (Estimate).
    race_downtime_ms: np.ndarray = None
    paper_worst_ms: np.ndarray = None
    option: np.ndarray = None
    options: list = None
    level: np.ndarray = None
    protects: np.ndarray = None
    # Where each candidate's CPU load came from (hostfacts.LOAD_SOURCES
    # codes) and the PlannedPaths estimated, for the Decision's sources.
    load_source: np.ndarray = None
    paths: object = None
    # The estimates' ModelParams.fixed_pause_ms (on idle hosts).
    fixed_pause_ms: float = 0.0

    def held_downtime_ms(self, sla_estimate):
        """The downtime held against the SLA (``[qslm] sla_estimate``)."""
        return (self.worst_downtime_ms if sla_estimate == 'worst'
                else self.expected_downtime_ms)

    def idle_downtime_ms(self):
        """The expected pauses as on idle hosts (the residuals' regimes
        are of such pauses).
        """
        if self.paths is None:
            return self.expected_downtime_ms
        return estimator.idle_pause_ms(self.expected_downtime_ms,
                                       self.paths.cpu_load,
                                       self.fixed_pause_ms)


@dataclasses.dataclass
class PlannedPaths:
    """The path inputs of the planned candidates, as arrays.

    ``src_cipher`` and ``dst_cipher`` are the hosts' measured cipher
    throughput (Gbit/s per core, NaN where none is published; None: no
    host publishes one), ``streams`` the connections per candidate (None:
    one).
    """

    bandwidth_gbps: np.ndarray
    rtt_ms: np.ndarray
    cpu_load: np.ndarray
    weakest_level: np.ndarray
    src_cipher: float = np.nan
    dst_cipher: np.ndarray = None
    streams: np.ndarray = None

    def host_crypto(self, option, idx):
        """The cipher limit of option for candidates idx, or None for the
        option's own figure.

        An end-to-end cipher runs on the two hosts: each side's measured
        throughput replaces the figure for its side, the slower side
        limits; a link-level cipher (on gateways) keeps its figure.
        """
        e2e = option.end_to_end
        if self.dst_cipher is None or e2e is None or \
                not np.isfinite(e2e.crypto_gbps_per_core):
            return None
        figure = e2e.crypto_gbps_per_core
        src = figure if np.isnan(self.src_cipher) else self.src_cipher
        dst = self.dst_cipher[idx]
        crypto = np.minimum(src, np.where(np.isnan(dst), figure, dst))
        if option.link is not None:
            crypto = np.minimum(crypto, option.link.crypto_gbps_per_core)
        return crypto


def estimate_groups(req, pol, settings, groups, crypto=None, streams=None):
    """One estimator call for every option group.

    :param groups: (Mechanism, bandwidth, rtt, load) per option group.
    :param crypto: per group, the cipher limit per candidate, or None for
        the mechanism's own (:meth:`PlannedPaths.host_crypto`).
    :param streams: per group, connections per candidate (or None).
    :returns: per group, a dict of result arrays aligned with its inputs.
    """
    if not groups:
        return []
    sizes = [len(g[1]) for g in groups]
    measured = crypto is not None and any(c is not None for c in crypto)
    if len(groups) == 1 and not measured:
        mechanism = groups[0][0]
    else:
        mechanism = estimator.MechanismColumns.repeat(
            [g[0] for g in groups], sizes)
    if measured:
        mechanism.crypto_gbps_per_core = np.concatenate([
            np.full(m, g[0].crypto_gbps_per_core) if c is None else c
            for g, c, m in zip(groups, crypto, sizes)])
    est = estimator.estimate(
        req.memory_mb, pol.dirty_rate_mibps,
        np.concatenate([g[1] for g in groups]),
        np.concatenate([g[2] for g in groups]),
        mechanism,
        np.concatenate([g[3] for g in groups]),
        settings.libvirt, settings.params, touched_mb=req.touched_mb,
        disk_gb=req.disk_gb, working_set_mb=pol.working_set_mb,
        streams=None if streams is None else np.concatenate(streams))
    out, start = [], 0
    for m in sizes:
        out.append({name: getattr(est, name)[start:start + m]
                    for name in ESTIMATE_FIELDS})
        start += m
    return out


class _Best:
    """The best option so far per candidate, and its sort keys."""

    def __init__(self, n):
        self.completion = np.full(n, np.inf)
        self.worst_completion = np.full(n, np.inf)
        self.held = np.full(n, np.inf)
        self.total = np.full(n, np.inf)
        self.option = np.full(n, -1)
        self.fields = {name: np.zeros(n) for name in ESTIMATE_FIELDS}
        self.fields['outcome'] = np.zeros(n, dtype=int)
        self.fields['worst_outcome'] = np.zeros(n, dtype=int)

    def offer(self, idx, option, est, held):
        """Keep option for the candidates idx where it beats the best."""
        completion = _RANK[est['outcome']]
        worst_completion = _RANK[est['worst_outcome']]
        total = est['total_time_s']
        best_c, best_w = self.completion[idx], self.worst_completion[idx]
        best_h, best_t = self.held[idx], self.total[idx]
        better = (completion < best_c) | ((completion == best_c) & (
            (worst_completion < best_w) | ((worst_completion == best_w) & (
                (held < best_h) | ((held == best_h) & (total < best_t))))))
        better |= self.option[idx] < 0
        sel = idx[better]
        self.completion[sel] = completion[better]
        self.worst_completion[sel] = worst_completion[better]
        self.held[sel] = held[better]
        self.total[sel] = total[better]
        for name in ESTIMATE_FIELDS:
            self.fields[name][sel] = est[name][better]
        self.option[sel] = option


def choose(req, pol, settings, paths, option_of_key, key_options):
    """The best option of every planned candidate, with its estimates.

    :param paths: :class:`PlannedPaths` of the planned candidates.
    :param option_of_key: per planned candidate, its options' key.
    :param key_options: per key, the transport options (a tuple).
    """
    groups = {}
    for k, options in enumerate(key_options):
        for opt in options:
            groups.setdefault(opt.label, (opt, []))[1].append(k)
    labels = sorted(groups)
    members = [np.nonzero(np.isin(option_of_key, groups[label][1]))[0]
               for label in labels]
    options = [groups[label][0] for label in labels]
    estimates = estimate_groups(
        req, pol, settings,
        [(opt.mechanism, paths.bandwidth_gbps[idx], paths.rtt_ms[idx],
          paths.cpu_load[idx]) for opt, idx in zip(options, members)],
        crypto=[paths.host_crypto(opt, idx)
                for opt, idx in zip(options, members)],
        streams=(None if paths.streams is None else
                 [paths.streams[idx] for idx in members]))
    best = _Best(len(option_of_key))
    for g, (idx, est) in enumerate(zip(members, estimates)):
        held = (est['worst_downtime_ms'] if settings.sla_estimate == 'worst'
                else est['expected_downtime_ms'])
        best.offer(idx, g, est, held)
    return ChosenEstimates(
        paper_worst_ms=estimator.paper_worst_case_ms(
            req.memory_mb, paths.bandwidth_gbps, settings.params),
        option=best.option, options=options, level=paths.weakest_level,
        protects=np.array([opt.mechanism.protects for opt in options],
                          dtype=bool)[best.option],
        fixed_pause_ms=settings.params.fixed_pause_ms,
        **best.fields)
