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
                   'worst_outcome')

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
    paper_worst_ms: np.ndarray = None
    option: np.ndarray = None
    options: list = None
    level: np.ndarray = None
    protects: np.ndarray = None

    def held_downtime_ms(self, sla_estimate):
        """The downtime held against the SLA (``[qslm] sla_estimate``)."""
        return (self.worst_downtime_ms if sla_estimate == 'worst'
                else self.expected_downtime_ms)


@dataclasses.dataclass
class PlannedPaths:
    """The path inputs of the planned candidates, as arrays."""

    bandwidth_gbps: np.ndarray
    rtt_ms: np.ndarray
    cpu_load: np.ndarray
    weakest_level: np.ndarray


def estimate_groups(req, pol, settings, groups):
    """One estimator call for every option group.

    :param groups: (Mechanism, bandwidth, rtt, load) per option group.
    :returns: per group, a dict of result arrays aligned with its inputs.
    """
    if not groups:
        return []
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
        settings.libvirt, settings.params, touched_mb=req.touched_mb,
        disk_gb=req.disk_gb)
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
    estimates = estimate_groups(req, pol, settings, [
        (groups[label][0].mechanism, paths.bandwidth_gbps[idx],
         paths.rtt_ms[idx], paths.cpu_load[idx])
        for label, idx in zip(labels, members)])
    best = _Best(len(option_of_key))
    for g, (idx, est) in enumerate(zip(members, estimates)):
        held = (est['worst_downtime_ms'] if settings.sla_estimate == 'worst'
                else est['expected_downtime_ms'])
        best.offer(idx, g, est, held)
    options = [groups[label][0] for label in labels]
    return ChosenEstimates(
        paper_worst_ms=estimator.paper_worst_case_ms(
            req.memory_mb, paths.bandwidth_gbps, settings.params),
        option=best.option, options=options, level=paths.weakest_level,
        protects=np.array([opt.mechanism.protects for opt in options],
                          dtype=bool)[best.option],
        **best.fields)
