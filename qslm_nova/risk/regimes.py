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

"""The regimes the residuals are grouped by, and the pause their ratios
are of (:mod:`qslm_nova.risk.residuals` keeps the groups).

A migration's regime follows from the model's own estimate: how it
expects the migration to end (a post-copy switch and Nova's forced pause
are regimes of their own, each pooling only with itself), how long it
expects it to take (``fast``: it may stop under QEMU's own limit before
Nova's first downtime step lands) and its expected pause on idle hosts
(``short`` under ``SHORT_PAUSE_MS``, else ``long``).
"""

import enum

import numpy as np

from qslm_nova import estimator

#: Expected pauses under this many ms are the ``short`` regime.
SHORT_PAUSE_MS = 100.0
#: A pre-copy migration the model expects to end within this many
#: seconds is the ``fast`` regime, whatever its pause: in about one
#: testbed run in five Nova's first downtime step landed with libvirt's
#: next keepalive (5 s) after Nova's first poll (up to 0.5 s), and a
#: guest that stops before it does so under QEMU's own limit (the
#: estimate's ``race_downtime_ms`` is of such a stop).
FAST_MIGRATION_S = estimator.ModelParams.late_first_step_s
Outcome = estimator.Outcome
_BY_LABEL = {o.label: int(o) for o in Outcome}


def _outcome_number(outcome):
    if outcome is None:
        return int(Outcome.COMPLETED)
    if isinstance(outcome, str):
        return _BY_LABEL.get(outcome, -1)
    try:
        return int(outcome)
    except (TypeError, ValueError, OverflowError):
        return -1


def outcome_numbers(outcome):
    """The :class:`Outcome` numbers of *outcome*: one outcome or an
    array of them, each None (it completes), an Outcome, its number or
    its label. A label no outcome has (a history record's) is -1;
    neither it nor a number no outcome has is a regime of its own.
    """
    ends = np.asarray(outcome)
    if ends.dtype.kind in 'iu':
        return ends.astype(int)
    return np.vectorize(_outcome_number, otypes=[int])(ends)


#: The pool of the post-copy regime's groups (they join no other pool).
POST_COPY_POOL = 'post-copy'
#: The pool of the forced-pause regime's groups (they join no other).
FORCED_PAUSE_POOL = 'forced-pause'
#: The regimes that pool only with themselves, and their pools.
OWN_POOLS = {'post-copy': POST_COPY_POOL, 'forced-pause': FORCED_PAUSE_POOL}


class Regime(enum.Enum):
    SHORT = 'short'
    LONG = 'long'
    POST_COPY = 'post-copy'
    FAST = 'fast'
    FORCED_PAUSE = 'forced-pause'

    @classmethod
    def of(cls, expected_ms, outcome=None, total_s=None):
        """The regime of a migration whose expected pause is
        *expected_ms*; *outcome*: how the model expects it to end (an
        :class:`~qslm_nova.estimator.Outcome`, its number or its label;
        None: it completes), whose post-copy switch and forced pause
        are regimes of their own; *total_s*: the time the model expects
        it to take (None: not known, never ``fast``).
        """
        return _BY_CODE[int(cls.codes(expected_ms, outcome, total_s))]

    @staticmethod
    def codes(expected_ms, outcome=None, total_s=None):
        """:meth:`of` for arrays: per migration, the index of its regime
        in ``tuple(Regime)``; *outcome* per migration or one for all.
        """
        ends = outcome_numbers(outcome)
        short = np.asarray(expected_ms, dtype=float) < SHORT_PAUSE_MS
        fast = (False if total_s is None else
                np.asarray(total_s, dtype=float) < FAST_MIGRATION_S)
        return np.where(
            ends == Outcome.POST_COPY, Regime.POST_COPY.code,
            np.where(ends == Outcome.FORCED_PAUSE, Regime.FORCED_PAUSE.code,
                     np.where(fast, Regime.FAST.code,
                              np.where(short, Regime.SHORT.code,
                                       Regime.LONG.code))))

    @property
    def own_pool(self):
        """The pool of a regime that pools only with itself, or None.
        """
        return OWN_POOLS.get(self.value)

    @property
    def code(self):
        """The regime's number in :meth:`codes`' arrays."""
        return _CODES[self]


# Regimes by their codes (their order in the class), and the reverse.
_BY_CODE = tuple(Regime)
_CODES = {regime: i for i, regime in enumerate(_BY_CODE)}

#: The code of the fast regime.
FAST_CODE = Regime.FAST.code


def may_race(codes, expected_ms, race_ms):
    """Per migration, True if it is a stop of another regime than
    ``fast`` (``short`` or ``long``: *codes* as :meth:`Regime.codes`)
    that may still stop under QEMU's own limit before Nova's late first
    step, with a longer pause: the model expects it to end within
    ``ModelParams.race_reach_s`` (a run faster than the model expects
    reaches the step in time), and so its race pause *race_ms* (the
    estimate's ``race_downtime_ms``; None: not known) is longer than
    *expected_ms*. Its ratios stay those of its regime; the fast runs'
    bound of its race pause is held too when it is the larger.
    """
    codes = np.asarray(codes)
    if race_ms is None:
        return np.zeros(codes.shape, dtype=bool)
    stop = (codes == Regime.SHORT.code) | (codes == Regime.LONG.code)
    race = np.nan_to_num(np.asarray(race_ms, dtype=float), nan=0.0)
    return stop & (race > np.asarray(expected_ms, dtype=float))


def base_pause(expected_ms, race_ms, codes):
    """The pause a migration's ratios are of, per migration: the
    expected pause, but for a fast one (regime *codes*, see
    :meth:`Regime.codes`) the larger of it and *race_ms*, the pause the
    model expects if the guest stops under QEMU's own limit before
    Nova's late first step (the estimate's ``race_downtime_ms``; None:
    not known, the expected pause).
    """
    expected = np.asarray(expected_ms, dtype=float)
    if race_ms is None:
        return expected
    race = np.asarray(race_ms, dtype=float)
    return np.where(np.asarray(codes) == FAST_CODE,
                    np.fmax(expected, race), expected)
