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

"""What a Keylime look-up ends with: its outcome, cache entry and flight.

Bookkeeping shared by :class:`~qslm_nova.trust.keylime.
KeylimeTrustProvider`'s cache and pool; no I/O here.
"""

import dataclasses
import enum
import threading

from qslm_nova.trust import base
from qslm_nova.trust import keylime_http as http


class Outcome(enum.Enum):
    """How the look-up of one agent ended."""

    ANSWER = 'answer'         # the verifier answered for the agent
    UNUSABLE = 'unusable'     # it answered, but nothing usable
    DOWN = 'down'             # unreachable, HTTP error or timed out
    LATE = 'late'             # never asked: the deadline passed first


class Entry:
    """A cached answer (or failure) for one agent, until ``expires``."""

    __slots__ = ('state', 'outcome', 'expires')

    def __init__(self, state, outcome, expires):
        self.state, self.outcome, self.expires = state, outcome, expires


class Flight:
    """A look-up in progress, shared by the decisions that need it."""

    __slots__ = ('done', 'deadline', 'state', 'outcome')

    def __init__(self, deadline):
        self.done = threading.Event()
        self.deadline = deadline     # the latest of the waiting decisions
        self.state = self.outcome = None


def unknown(reason):
    """An unknown TrustState (counts as untrusted) with its reason."""
    return base.TrustState(None, None, reason)


def late(agent, timeout):
    """Unknown: *agent* had no answer before the decision's deadline."""
    return unknown('Keylime agent %s: no answer within the %.1f s '
                   'attestation deadline ([qslm_keylime] decision_timeout)'
                   % (agent, timeout))


def outcome_of(res):
    """(TrustState, Outcome) of a fetched TrustState or VerifierError."""
    if not isinstance(res, http.VerifierError):
        return res, Outcome.ANSWER
    if res.transport:
        return unknown('Keylime verifier unavailable: %s' % res), \
            Outcome.DOWN
    return unknown('Keylime verifier sent no usable answer: %s' % res), \
        Outcome.UNUSABLE


@dataclasses.dataclass(frozen=True)
class Tally:
    """What the fresh look-ups of one decision came to, for its logs."""

    late: int            # agents without an answer by the deadline
    unusable: int        # answers with nothing usable
    failure: str         # reason of the first DOWN look-up, or None
    first_unusable: str  # reason of the first UNUSABLE one, or None
    answered: bool       # the verifier answered at least once

    @classmethod
    def of(cls, found, fresh):
        """From {agent: TrustState} and {agent: fresh look-up's Outcome}."""
        def first(kind):
            return next((found[a].reason for a, o in fresh.items()
                         if o is kind), None)

        outcomes = list(fresh.values())
        return cls(late=outcomes.count(Outcome.LATE),
                   unusable=outcomes.count(Outcome.UNUSABLE),
                   failure=first(Outcome.DOWN),
                   first_unusable=first(Outcome.UNUSABLE),
                   answered=any(o in (Outcome.ANSWER, Outcome.UNUSABLE)
                                for o in outcomes))
