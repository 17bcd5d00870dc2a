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

"""Hold the estimates against the SLA, explain the verdicts, and score.

Vectorised over the estimated candidates: a migration that Nova would
abort at its completion timeout, or one that never converges, is denied;
the others are held against the per-migration maximum and the remaining
budget of the period. Allowed hosts get a score for ranking.
"""

import dataclasses
import enum

import numpy as np

from qslm_nova import estimator

Outcome = estimator.Outcome


class Convergence(enum.IntEnum):
    """Whether the expected run of a migration ends with the guest moved.
    """

    CONVERGES = 0
    ABORTED_AT_TIMEOUT = 1
    NEVER = 2


@dataclasses.dataclass
class Verdicts:
    """The judgement of the estimated candidates, as arrays over them."""

    held_ms: np.ndarray           # downtime held against the SLA
    convergence: np.ndarray       # Convergence per candidate
    over_max: np.ndarray          # held > the per-migration maximum
    over_remaining: np.ndarray    # held > the budget left this period
    max_downtime_ms: float        # the policy's maximum, or None
    remaining_ms: float           # the budget left, or None
    limit_ms: float               # the smaller of the two, or None
    allowed: np.ndarray
    score: np.ndarray
    # The request's settings (the source's [libvirt] options) for the
    # reasons; None: the engine's.
    settings: object = None
    # What the held downtime is, in reasons (default: sla_estimate's).
    held_what: str = None


def judge(pol, remaining, chosen, held, nlevels):
    """Hold the chosen estimates against the limits and score them.

    :param chosen: :class:`selection.ChosenEstimates` of the candidates.
    :param held: the downtime held against the SLA, per candidate.
    :param nlevels: how many levels above the lowest the topology has.
    """
    outcome = chosen.outcome
    n = len(held)
    convergence = np.where(
        outcome == Outcome.ABORTED, Convergence.ABORTED_AT_TIMEOUT.value,
        np.where(outcome == Outcome.NO_CONVERGENCE, Convergence.NEVER.value,
                 Convergence.CONVERGES.value))
    judged = convergence == Convergence.CONVERGES
    limits = []
    over_max = over_remaining = np.zeros(n, dtype=bool)
    if pol.max_downtime_ms is not None:
        limits.append(pol.max_downtime_ms)
        over_max = judged & (held > pol.max_downtime_ms)
    if remaining is not None:
        limits.append(remaining)
        over_remaining = judged & (held > remaining)
    limit = min(limits) if limits else None
    allowed = judged & ~over_max & ~over_remaining
    score = np.full(n, -1.0)
    ok = np.nonzero(allowed)[0]
    score[ok] = host_score(held[ok], limit, chosen.level[ok],
                           chosen.protects[ok], pol,
                           chosen.total_time_s[ok], nlevels)
    return Verdicts(held, convergence, over_max, over_remaining,
                    pol.max_downtime_ms, remaining, limit, allowed, score)


def explain(d, verdicts, j, settings):
    """Write verdict j (reasons, notes, limit, score) into Decision d."""
    convergence = verdicts.convergence[j]
    if convergence == Convergence.ABORTED_AT_TIMEOUT:
        d.deny('migration would not converge: the instance dirties '
               'memory faster than %.0f MiB/s can carry it and Nova '
               'would abort it after the completion timeout '
               '(live_migration_completion_timeout %d s/GiB)' % (
                   d.rate_mibps, settings.libvirt.completion_timeout_s))
        return
    if convergence == Convergence.NEVER:
        d.deny('migration would never converge and no completion '
               'timeout is set')
        return
    if d.worst_outcome in (Outcome.ABORTED.label,
                           Outcome.NO_CONVERGENCE.label):
        d.note('under the worst-case dirty rate the migration '
               'may not converge (Nova would %s it)' % (
                   'abort' if d.worst_outcome == Outcome.ABORTED.label
                   else 'never finish'))
    if d.outcome == Outcome.POST_COPY.label:
        d.note('completes only after Nova forces post-copy at '
               'the completion timeout')
    elif d.outcome == Outcome.FORCED_PAUSE.label:
        d.note('completes only after Nova pauses the instance '
               'at the completion timeout')
    what = verdicts.held_what or (
        'worst-case' if settings.sla_estimate == 'worst' else 'expected')
    held = float(verdicts.held_ms[j])
    if verdicts.over_max[j]:
        d.deny('%s downtime %.0f ms exceeds the per-migration '
               'maximum of %d ms (qslm:max_downtime_ms)' % (
                   what, held, verdicts.max_downtime_ms))
    if verdicts.over_remaining[j]:
        d.deny('%s downtime %.0f ms exceeds the remaining SLA '
               'budget of %d ms' % (what, held, verdicts.remaining_ms))
    d.limit_ms = verdicts.limit_ms
    d.allowed = bool(verdicts.allowed[j])
    if d.allowed:
        d.score = float(verdicts.score[j])


def host_score(held, limit, level, protects, pol, total, nlevels):
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
    headroom = np.minimum(np.maximum(
        (level - pol.min_link_security) / nlevels, 0.0), 1.0)
    quick = 1.0 / (1.0 + total / 60.0)
    return 0.6 * sla + 0.2 * headroom + 0.2 * quick
