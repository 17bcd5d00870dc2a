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

from qslm_nova.risk import keys
from qslm_nova.risk import loss as loss_mod
from qslm_nova.risk import notes
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
    #: Per candidate, the index of the group of fast runs its race pause
    #: is also held by (``regimes.may_race``), or -1.
    race_member: np.ndarray


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
        race = getattr(chosen, 'race_downtime_ms', None)
        self.expected_ms = regimes_mod.base_pause(expected, race,
                                                  self.codes)
        self.raced = self.expected_ms > expected
        #: Per candidate, the race pause of a stop that may still race
        #: Nova's late first step (``regimes.may_race``), else NaN.
        self.race_ms = np.where(
            regimes_mod.may_race(self.codes, expected, race),
            np.asarray(expected if race is None else race, dtype=float),
            np.nan)
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
                          np.zeros(n, dtype=bool), [], [],
                          np.full(n, -1, dtype=int))
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
                       [], np.full(n, -1, dtype=int))

        def cell_transport(option, loaded):
            return (None if option < 0 else residuals_mod.loaded_name(
                transports[option], loaded))

        for k, (option, loaded, code) in enumerate(found):
            self._add_group(index, table, cell_transport(option, loaded),
                            regimes[code])
            nearest = index.near[-1]
            if (self.calibrates and self.share is not None and
                    nearest is not None):
                at = member == k
                index.outside[at] = nearest.outside(self.share[at])
        # A stop that may still race Nova's late first step: the fast
        # runs' group of its transport and load holds its race pause too.
        racing = np.flatnonzero(~np.isnan(self.race_ms))
        if len(racing):
            fast = {}
            for j in racing:
                key = (int(self._option[j]), int(cells[j, 1]))
                if key not in fast:
                    fast[key] = len(index.groups)
                    self._add_group(index, table, cell_transport(*key),
                                    regimes_mod.Regime.FAST)
                index.race_member[j] = fast[key]
        return index

    def _add_group(self, index, table, transport, regime):
        """Append the group (and bound) of *transport* and *regime*."""
        if self.calibrates:
            # The bound's group is group_for's: every group it may use
            # has at least MIN_RUNS runs.
            bound = table.bound(transport, regime, self.confidence)
        else:
            bound = residuals_mod.Bound(None, table.group_for(
                transport, regime, self.confidence))
        index.groups.append(bound.group)
        index.bounds.append(bound.ratio)
        index.floors.append(bound.floor)
        index.near.append(table.nearest(transport, regime))

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
    def floors(self):
        return self._index().floors

    @property
    def near(self):
        return self._index().near

    @property
    def race_member(self):
        return self._index().race_member

    def table(self):
        """The residuals (raises RiskDataError)."""
        return self._settings.table()

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

    def _per_group(self, fn, member=None):
        """fn(group, at) per group; *member*: each candidate's group
        index (-1: none, NaN out), default its own group's.
        """
        member = self.member if member is None else member
        out = np.full(len(self.expected_ms), np.nan)
        for g, group in enumerate(self.groups):
            at = member == g
            out[at] = fn(group, at)
        return out

    def _hold(self, pause_ms, member, past=None):
        """Per candidate, *pause_ms* times the bound of its group in
        *member* (as :meth:`_per_group`; NaN for none); past what that
        group's runs show (or where *past* is True), the worst case,
        never under their largest ratio.
        """
        q = np.append(np.asarray(self.bounds, dtype=float), np.nan)[member]
        if past is not None:
            q = np.where(past, np.inf, q)
        top = np.append([g.ratios[-1] for g in self.groups], np.nan)[member]
        with np.errstate(invalid='ignore'):
            out = np.where(np.isfinite(q), pause_ms * q,
                           np.maximum(self.worst_ms, pause_ms * top))
        return np.where(member >= 0, out, np.nan)

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

        # A guest that dirties more than its group's runs did is past
        # what they show, whatever its bound.
        out = self._hold(self.expected_ms, self.member, past=self.outside)
        return np.fmax(out, self.race_held_ms())

    def race_held_ms(self):
        """Per candidate, the pause held for its race pause if it is a
        stop that may still race Nova's late first step: the race pause
        times the fast runs' bound (past what they show, the worst case
        and their largest ratio); else NaN.
        """
        return self._once('race_held_ms', self._race_held_ms)

    def _race_held_ms(self):
        if self.error is not None or not self.calibrates:
            return np.full(len(self.expected_ms), np.nan)
        return self._hold(self.race_ms, self.race_member)

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
        own = self._per_group(
            lambda group, at: group.exceedance(ratio_limit[at]))
        # A stop that may still race: the larger with its race pause.
        race = self._per_group(
            lambda group, at: group.exceedance(
                self.max_downtime_ms / self.race_ms[at]), self.race_member)
        return np.fmax(own, race)

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
        return notes.describe(self, j)
