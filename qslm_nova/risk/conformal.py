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

"""The split-conformal reading of one group of residuals.

With ``n`` residuals (measured / expected pause) of runs the model never
learnt from, and a new migration exchangeable with them, the new ratio
stays at or under the ``k``-th smallest residual, ``k = ceil((n + 1)
c)``, with probability at least ``c``; and the share of runs beyond a
ratio ``x``, counted ``(#{r > x} + 1) / (n + 1)``, bounds the
probability that the new one lands beyond it. ``n`` runs cannot show a
confidence above ``n / (n + 1)`` nor a risk under ``1 / (n + 1)``:
:meth:`ResidualGroup.quantile` is infinite past it, and
:mod:`qslm_nova.risk.residuals` says which group stands for a migration.
"""

import dataclasses
import math

import numpy as np

#: A group with fewer runs does not stand for itself without a
#: confidence to meet (the mean and the risk of a handful of runs).
MIN_RUNS = 20


def rank_of(runs, confidence):
    """``ceil((runs + 1) * confidence)``, safe from float rounding."""
    return math.ceil((runs + 1) * confidence - 1e-9)


def runs_needed(confidence):
    """The fewest runs whose conformal quantile at confidence is finite.
    """
    if confidence is None:
        return MIN_RUNS
    n = max(int(confidence / (1.0 - confidence)) - 1, 1)
    while rank_of(n, confidence) > n:
        n += 1
    return max(n, MIN_RUNS)


@dataclasses.dataclass(frozen=True)
class ResidualGroup:
    """Residuals (measured / expected pause) of one group, sorted;
    share_max: the largest dirty share of its runs, None if unknown.
    """

    name: str
    ratios: np.ndarray
    share_max: float = None

    @property
    def runs(self):
        return len(self.ratios)

    @property
    def mean(self):
        return float(np.mean(self.ratios))

    def quantile(self, confidence):
        """The conformal bound of the ratio at confidence (inf if the
        group is too small for it).
        """
        k = rank_of(self.runs, confidence)
        return float(self.ratios[k - 1]) if k <= self.runs else math.inf

    def seen(self, confidence):
        """The conformal bound at confidence, or the largest ratio when
        the group is too small for it: what its own runs show, a floor
        for a bound read from a larger pool.
        """
        k = min(rank_of(self.runs, confidence), self.runs)
        return float(self.ratios[k - 1])

    def exceedance(self, ratio_limit):
        """Per element of ratio_limit, the conformal probability that a
        new run's ratio exceeds it: ``(#{r > x} + 1) / (n + 1)``.
        """
        x = np.asarray(ratio_limit, dtype=float)
        beyond = self.runs - np.searchsorted(self.ratios, x, side='right')
        return (beyond + 1.0) / (self.runs + 1.0)

    def outside(self, share):
        """Per element of share (a dirty share, NaN: unknown), True if
        it is larger than every run's of the group (never when the
        group's largest is unknown).
        """
        x = np.asarray(share, dtype=float)
        if self.share_max is None:
            return np.zeros(x.shape, dtype=bool)
        return x > self.share_max
