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

"""The risk of every estimated candidate of one request, as arrays.

What the engine asks of this package: the pause to hold against the SLA
at the asked confidence (when one is set), each candidate's probability
of pausing longer than ``qslm:max_downtime_ms``, its expected monetary
loss, and the scores for ranking by that loss. Candidates are grouped by
transport and regime, so the work is a few numpy operations per group
whatever the number of hosts.
"""

import dataclasses
import typing

import numpy as np

from qslm_nova.risk import conformal
from qslm_nova.risk import keys
from qslm_nova.risk import loss as loss_mod
from qslm_nova.risk import regimes as regimes_mod
from qslm_nova.risk import residuals as residuals_mod
from qslm_nova.risk import residuals_file

RANK_BY = ('headroom', 'expected_loss')
#: ``[qslm] sla_confidence``'s default.
DEFAULT_CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class RiskSettings:
    """``[qslm] sla_confidence``, ``rank_by`` and ``residuals_file``."""

    sla_confidence: float = DEFAULT_CONFIDENCE
    rank_by: str = 'headroom'
    residuals_file: str = None

    @classmethod
    def from_conf(cls, group):
        return cls(group.sla_confidence, group.rank_by,
                   group.residuals_file)

    def confidence_for(self, flavor_specs):
        """The confidence a flavor's migrations must meet: the option's,
        raised (never lowered) by ``qslm:sla_confidence``.
        """
        asked = keys.read(flavor_specs, keys.SLA_CONFIDENCE)
        levels = [c for c in (self.sla_confidence, asked) if c is not None]
        return max(levels) if levels else None

    def table(self):
        """The residuals; raises RiskDataError."""
        return residuals_file.load_cached(
            self.residuals_file or residuals_file.DEFAULT_PATH)


class _Index(typing.NamedTuple):
    """What the verdicts of one request read from the residuals, per
    group of candidates alike (option, load class, regime).
    """

    #: Per group, the residual group it is judged by.
    groups: list
    #: Per group, the ratio held at the confidence (None without one).
    bounds: list
    #: Per candidate, the index of its group.
    member: np.ndarray
    #: Why the residuals could not be read, or None.
    error: str
    #: Per candidate, True if its guest dirties more than its nearest
    #: runs did.
    outside: np.ndarray
    #: Per group, those nearest runs' group (``ResidualTable.nearest``).
    near: list
    #: Per group, the finer group whose own runs set its bound, or None.
    floors: list


class Assessment:
    """The risk of the estimated candidates of one request.

    :param chosen: the engine's ChosenEstimates (arrays over the
        estimated candidates).
    :param dirty_rate_mibps: the guest's dirty rate the estimates used
        (None: no candidate is judged outside the runs' dirty shares).
    """

    def __init__(self, settings, flavor_specs, max_downtime_ms, chosen,
                 dirty_rate_mibps=None):
        self.confidence = settings.confidence_for(flavor_specs)
        self.terms = loss_mod.LossTerms.of_flavor(flavor_specs)
        self.rank_by_loss = (settings.rank_by == 'expected_loss' and
                             self.terms.priced)
        self.max_downtime_ms = max_downtime_ms
        expected = np.asarray(chosen.expected_downtime_ms, float)
        # Regimes are of the pause on idle hosts, as the testbed's runs
        # that the shipped residuals come from; a post-copy switch and
        # Nova's forced pause are regimes of their own.
        self.total_s = np.asarray(chosen.total_time_s, float)
        self.codes = regimes_mod.Regime.codes(
            chosen.idle_downtime_ms(), chosen.outcome, self.total_s)
        self.post_copy = self.codes == regimes_mod.Regime.POST_COPY.code
        self.forced = self.codes == regimes_mod.Regime.FORCED_PAUSE.code
        #: The pause the residuals' ratios multiply: the expected one,
        #: or for a fast migration the pause it has if it stops under
        #: QEMU's own limit before Nova's first step lands (the fast
        #: runs' ratios are of that pause).
        self.expected_ms = regimes_mod.base_pause(
            expected, getattr(chosen, 'race_downtime_ms', None), self.codes)
        self.raced = self.expected_ms > expected
        self.worst_ms = np.asarray(chosen.worst_downtime_ms, float)
        paths = getattr(chosen, 'paths', None)
        self.share = (None if paths is None or dirty_rate_mibps is None
                      else residuals_mod.dirty_share(
                          dirty_rate_mibps, paths.bandwidth_gbps))
        # The busier host's load the estimates used: the residuals of
        # loaded hosts are a group of their own.
        self.cpu_load = np.broadcast_to(np.asarray(
            np.nan if paths is None else paths.cpu_load, dtype=float),
            self.expected_ms.shape)
        self._settings = settings
        self._option = np.asarray(chosen.option, dtype=int)
        self._options = chosen.options or ()
        self._memo = {}
        if self.calibrates or self.rank_by_loss:
            self._index()    # what the verdicts need, now
        # else only when a Decision is built (the scheduler builds none).

    def _index(self):
        """The request's :class:`_Index`, found once."""
        return self._once('index', self._group)

    def _group(self):
        n = len(self.expected_ms)
        try:
            table = self._settings.table()
        except residuals_mod.RiskDataError as e:
            return _Index([], [], np.zeros(0, dtype=int), str(e),
                          np.zeros(n, dtype=bool), [], [])
        # One group per (option, load class, regime) present, then per
        # candidate the index of its group.
        transports = [residuals_mod.transport_of(opt.label)
                      for opt in self._options]
        regimes = tuple(regimes_mod.Regime)
        cells = np.stack([
            self._option, table.loaded(self.cpu_load).astype(int),
            self.codes],
            axis=1).reshape(n, 3)
        found, member = np.unique(cells, axis=0, return_inverse=True)
        member = member.reshape(n)
        index = _Index([], [], member, None, np.zeros(n, dtype=bool), [],
                       [])
        for k, (option, loaded, code) in enumerate(found):
            regime = regimes[code]
            transport = (None if option < 0 else residuals_mod.loaded_name(
                transports[option], loaded))
            if self.calibrates:
                # The bound's group is group_for's: every group it may
                # use has at least MIN_RUNS runs.
                bound = table.bound(transport, regime, self.confidence)
            else:
                bound = residuals_mod.Bound(None, table.group_for(
                    transport, regime, self.confidence))
            index.groups.append(bound.group)
            index.bounds.append(bound.ratio)
            index.floors.append(bound.floor)
            nearest = table.nearest(transport, regime)
            index.near.append(nearest)
            if (self.calibrates and self.share is not None and
                    nearest is not None):
                at = member == k
                index.outside[at] = nearest.outside(self.share[at])
        return index

    @property
    def groups(self):
        return self._index().groups

    @property
    def bounds(self):
        return self._index().bounds

    @property
    def member(self):
        return self._index().member

    @property
    def error(self):
        """Why the residuals could not be read, or None."""
        return self._index().error

    @property
    def outside(self):
        """Per candidate, True if its guest dirties a larger share of its
        path than every run of its nearest group (the finest that stands
        for itself, ``ResidualTable.nearest``): not exchangeable with
        them, it is held at the worst case.
        """
        return self._index().outside

    @property
    def calibrates(self):
        """True if a confidence decides the pause held against the SLA.
        """
        return self.confidence is not None

    def _once(self, name, compute):
        # A request's Decisions are built one by one, maybe by several
        # threads: each array is computed once (a race computes it twice).
        found = self._memo.get(name)
        if found is None:
            found = self._memo.setdefault(name, compute())
        return found

    def _per_group(self, fn):
        out = np.full(len(self.expected_ms), np.nan)
        for g, group in enumerate(self.groups):
            at = self.member == g
            out[at] = fn(group, at)
        return out

    def held_ms(self):
        """The pause held against the SLA at the confidence: the expected
        pause times the conformal bound of its group's ratio. Past what
        the measured runs can show (or without them, or for a guest that
        dirties more than they did) the model's worst case, and never
        under the largest ratio measured.
        """
        return self._once('held_ms', self._held_ms)

    def _held_ms(self):
        if self.error is not None:
            return self.worst_ms.copy()

        def bound(g, at):
            q = self.bounds[g]
            if np.isfinite(q):
                return self.expected_ms[at] * q
            return np.maximum(self.worst_ms[at],
                              self.expected_ms[at] * self.groups[g].ratios[-1])
        out = np.full(len(self.expected_ms), np.nan)
        for g in range(len(self.groups)):
            at = self.member == g
            out[at] = bound(g, at)
        far = self.outside
        if far.any():
            top = np.array([g.ratios[-1] for g in self.groups])
            out[far] = np.maximum(
                self.worst_ms[far],
                self.expected_ms[far] * top[self.member[far]])
        return out

    def beyond_data(self, j):
        """True if candidate j's confidence is more than its runs show,
        or its guest dirties more than theirs did.
        """
        if self.error is not None:
            return True
        return (not np.isfinite(self.bounds[self.member[j]]) or
                bool(self.outside[j]))

    def exceed_probability(self):
        """P(pause > qslm:max_downtime_ms) per candidate; 0 without a
        maximum, NaN when the residuals are unavailable.
        """
        return self._once('exceed_probability', self._exceed_probability)

    def _exceed_probability(self):
        n = len(self.expected_ms)
        if self.max_downtime_ms is None:
            return np.zeros(n)
        if self.error is not None:
            return np.full(n, np.nan)
        with np.errstate(divide='ignore'):
            ratio_limit = np.where(self.expected_ms > 0,
                                   self.max_downtime_ms / self.expected_ms,
                                   np.inf)
        return self._per_group(
            lambda group, at: group.exceedance(ratio_limit[at]))

    def mean_pause_ms(self):
        """The expected pause corrected by its group's mean ratio."""
        return self._once('mean_pause_ms', self._mean_pause_ms)

    def _mean_pause_ms(self):
        if self.error is not None:
            return self.worst_ms.copy()
        return self._per_group(
            lambda group, at: self.expected_ms[at] * group.mean)

    def expected_loss(self):
        """E[loss] per candidate (:mod:`qslm_nova.risk.loss`); NaN when
        the flavor prices nothing.
        """
        return self._once('expected_loss', self._expected_loss)

    def _expected_loss(self):
        if not self.terms.priced:
            return np.full(len(self.expected_ms), np.nan)
        return self.terms.expected_loss(
            self.mean_pause_ms(), self.exceed_probability(), self.total_s)

    def rank(self, allowed, score):
        """The scores to rank by: the headroom scores as they are, or,
        with ``rank_by = expected_loss`` and a priced flavor, the loss
        scores of the allowed candidates.
        """
        if not self.rank_by_loss:
            return score
        out = np.full(len(score), -1.0)
        out[allowed] = loss_mod.rank_score(self.expected_loss()[allowed])
        return out

    def describe_bound(self, j):
        """A note on how candidate j's held pause was found."""
        if self.error is not None:
            return ('residuals unavailable (%s): the worst case is held'
                    % self.error)
        group = self.groups[self.member[j]]
        if self.outside[j]:
            near = self._index().near[self.member[j]]
            return ('the guest dirties %.1f %% of its path\'s bandwidth, '
                    'more than any of the %d measured %s runs (at most '
                    '%.1f %%): outside the data, the worst case is held'
                    % (100.0 * self.share[j], near.runs, near.name,
                       100.0 * near.share_max))
        if self.beyond_data(j) and (self.post_copy[j] or self.forced[j]):
            what = (('a post-copy switch', 'switches',
                     regimes_mod.POST_COPY_POOL) if self.post_copy[j] else
                    ("Nova's forced pause", 'forced pauses',
                     regimes_mod.FORCED_PAUSE_POOL))
            own = self._settings.table().groups.get(what[2])
            return ('%s: sla_confidence %g needs %d measured %s, %d are '
                    'known: the worst case is held' % (
                        what[0], self.confidence,
                        conformal.runs_needed(self.confidence), what[1],
                        own.runs if own else 0))
        if self.beyond_data(j):
            return ('sla_confidence %g needs %d measured runs, %d %s runs '
                    'are known: the worst case is held' % (
                        self.confidence,
                        conformal.runs_needed(self.confidence),
                        group.runs, group.name))
        bound = self.bounds[self.member[j]]
        floor = self._index().floors[self.member[j]]
        base = ('expected' if not self.raced[j] else
                "%.1f ms, its pause if it stops before Nova's first "
                'downtime step lands,' % self.expected_ms[j])
        if floor is not None:
            # A finer group's own runs hold more than the pool's bound.
            return ('pause held at %g confidence: %s x %.2f (%s of '
                    '%d measured %s runs, over the bound of %d %s runs%s)'
                    % (self.confidence, base, bound,
                       'largest' if bound == floor.ratios[-1] else 'bound',
                       floor.runs, floor.name, group.runs, group.name,
                       self._load_note(j)))
        return ('pause held at %g confidence: %s x %.2f (bound of '
                '%d measured %s runs%s)' % (
                    self.confidence, base, bound, group.runs, group.name,
                    self._load_note(j)))

    def _load_note(self, j):
        """Why candidate j is in the groups of loaded hosts, or ''."""
        table = self._settings.table()
        if not table.loaded(self.cpu_load[j]):
            return ''
        return ('; the busier host runs %.2f threads per CPU, loaded '
                'from %g' % (self.cpu_load[j], table.loaded_cpu_load))


def explain(d, risk, j, held_ms):
    """Write candidate j's risk into its Decision d (the engine's
    builder calls it after the verdict).
    """
    p = float(risk.exceed_probability()[j])
    if risk.max_downtime_ms is not None and not np.isnan(p):
        d.exceed_probability = p
    if d.limit_ms is not None:
        d.budget_left_ms = d.limit_ms - held_ms
    if d.allowed and risk.terms.priced:
        d.expected_loss = float(risk.expected_loss()[j])
    if risk.calibrates and (d.allowed or d.limit_ms is not None):
        d.note(risk.describe_bound(j))
    elif risk.error is not None:
        d.note('no breach probability: residuals unavailable (%s)'
               % risk.error)
