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

"""What the decision answers: a verdict per candidate destination."""

import collections.abc
import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class EstimateInputs:
    """Every input of one candidate's estimate, to run the model again.

    The calibration history (``qslm_nova.history``) refits the model's
    constants by estimating past migrations again from these.
    ``mechanism`` holds the chosen transport's cost fields (cipher per
    core, None for none; the hosts' measured figure where published),
    ``libvirt`` the source's [libvirt] options.
    """

    memory_mb: float
    touched_mb: float
    disk_gb: float
    dirty_rate_mibps: float
    bandwidth_gbps: float
    rtt_ms: float
    cpu_load: float
    streams: float
    mechanism: dict
    libvirt: dict
    working_set_mb: float = None
    # confirmation_ms + activation_ms on idle hosts: the history puts a
    # migration in the regime of its idle-host pause with it.
    fixed_pause_ms: float = None


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
    # The expected pause had Nova's first downtime step landed late.
    race_downtime_ms: float = None
    total_time_s: float = None
    bytes_sent: float = None
    rate_mibps: float = None
    outcome: str = None
    worst_outcome: str = None
    limit_ms: float = None
    remaining_budget_ms: float = None
    paper_worst_ms: float = None
    score: float = -1.0
    # Where the transport, [libvirt] options, cipher, CPU load and dirty
    # rate of this decision came from: a hostfacts.FigureSources, or None
    # when the candidate was not estimated. ``str()`` of it is one line.
    sources: object = None
    # The inputs of the estimate (EstimateInputs), or None.
    inputs: object = None
    # Risk (qslm_nova.risk): P(pause > qslm:max_downtime_ms), the limit
    # left after the pause held, the expected monetary loss.
    exceed_probability: float = None
    budget_left_ms: float = None
    expected_loss: float = None

    def deny(self, reason):
        self.allowed = False
        self.reasons += (reason,)

    def note(self, text):
        self.notes += (text,)

    @property
    def summary(self):
        if not self.allowed:
            return 'denied: ' + '; '.join(self.reasons)
        if self.expected_downtime_ms is None:
            return 'allowed'  # a move judged on trust alone (moves.py)
        return 'allowed via %s, downtime %.0f ms expected, %.0f ms ' \
               'worst' % (self.mechanism, self.expected_downtime_ms,
                          self.worst_downtime_ms)

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


def rank_key(d):
    """Sort key of allowed Decisions, best first: :func:`best_index`'s
    rule (the highest score, then the lower worst-case downtime, then the
    host name).
    """
    worst = d.worst_downtime_ms
    return (-d.score, math.inf if worst is None else worst, d.host)


def best_index(hosts, allowed, score, worst_downtime_ms):
    """The best allowed candidate, by the one rule every caller uses.

    The highest score wins; among equal scores the lower worst-case
    downtime, then the host name first in sort order (so the answer does
    not depend on the order Nova lists the candidates in).

    :returns: (index of the best, number allowed), or (None, 0).
    """
    at = np.flatnonzero(allowed)
    if not at.size:
        return None, 0
    top = at[score[at] == score[at].max()]
    if top.size > 1:
        worst = worst_downtime_ms[top]
        top = top[worst == worst.min()]
    if top.size == 1:
        return int(top[0]), int(at.size)
    return min(top.tolist(), key=hosts.__getitem__), int(at.size)


class Decisions(collections.abc.Sequence):
    """The decisions of one request: one per candidate, in order.

    ``allowed`` (bool), ``score`` (float, -1 where denied) and
    ``worst_downtime_ms`` (inf where not estimated) are numpy arrays over
    the candidates, computed for all of them at once; that is all the
    scheduler reads. The :class:`Decision` of a candidate, with its path,
    estimates, reasons and notes, is built from the same computation when
    first asked for (by index or iteration) and then kept, so callers may
    amend it (the arrays keep the engine's verdict).
    """

    def __init__(self, hosts, allowed, score, make, worst_downtime_ms=None):
        self.hosts = hosts
        self.allowed = allowed
        self.score = score
        if worst_downtime_ms is None:
            worst_downtime_ms = np.full(len(hosts), np.inf)
        self.worst_downtime_ms = worst_downtime_ms
        self._make = make
        self._made = {}

    @classmethod
    def uniform(cls, hosts, make, allowed=False, score=-1.0):
        """Every candidate alike (a request-wide verdict)."""
        n = len(hosts)
        return cls(hosts, np.full(n, allowed, dtype=bool),
                   np.full(n, score), make)

    @classmethod
    def of(cls, decisions):
        """Decisions from :class:`Decision` objects already built.

        In their order; the arrays follow each one's verdict.
        """
        decisions = list(decisions)
        worst = [d.worst_downtime_ms for d in decisions]
        return cls([d.host for d in decisions],
                   np.array([d.allowed for d in decisions], dtype=bool),
                   np.array([d.score if d.allowed else -1.0
                             for d in decisions], dtype=float),
                   decisions.__getitem__,
                   np.array([np.inf if w is None else w for w in worst],
                            dtype=float))

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
        """(the best allowed Decision, how many are allowed); (None, 0)
        when none is.

        Only the best one is built: the API pre-check needs no more. The
        rule is :func:`best_index`.
        """
        i, count = best_index(self.hosts, self.allowed, self.score,
                              self.worst_downtime_ms)
        return (None, 0) if i is None else (self[i], count)

    def __repr__(self):
        return 'Decisions(%d hosts, %d allowed)' % (
            len(self.hosts), int(np.count_nonzero(self.allowed)))
