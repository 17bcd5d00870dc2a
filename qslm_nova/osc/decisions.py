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


"""Decisions of the engine as rows: one column set for every command.

``plan``, ``check`` and ``migrate --dry-run`` print the same columns with
the same values; ``--long`` adds the model's details. In JSON, YAML, CSV
and value output each key is the column's header and each value what the
table shows, as a number, boolean or list: milliseconds and seconds
rounded to 0.1, Gbit/s to 0.01, a downtime that never converges as null.
"""

import math

from cliff import columns
import numpy as np

from qslm_nova import decision

DEFAULT_COLUMNS = ('Server', 'Host', 'Allowed', 'Mechanism', 'Downtime ms',
                   'Worst ms', 'Total s', 'Reasons')
LONG_COLUMNS = ('Weakest link', 'Budget left ms', 'Path',
                'Bottleneck Gbit/s', 'RTT ms', 'Rate MiB/s', 'Sent GiB',
                'Outcome', 'Worst outcome', 'Limit ms', 'Paper bound ms',
                'Score', 'P exceed', 'Left ms', 'Expected loss')


class Number(columns.FormattableColumn):
    """A rounded number; infinity (never converges) shows as ``inf``."""

    align = 'r'
    digits = 1

    def __init__(self, value):
        super().__init__(value)
        self._rounded = (None if value is None or not math.isfinite(value)
                         else round(float(value), self.digits))

    def human_readable(self):
        if self._value is None:
            return '-'
        if self._rounded is None:
            return 'inf'
        return '%.*f' % (self.digits, self._rounded)

    def machine_readable(self):
        return self._rounded

    @property
    def sort_value(self):
        """The value for sorting: no value sorts last."""
        return math.inf if self._value is None else self._value

    def __lt__(self, other):
        return self.sort_value < other.sort_value


class Hundredths(Number):
    digits = 2


class Thousandths(Number):
    digits = 3


class Probability(Number):
    """A probability, to four places."""

    digits = 4


class Whole(Number):
    digits = 0

    def machine_readable(self):
        return None if self._rounded is None else int(self._rounded)


class YesNo(columns.FormattableColumn):
    """``yes``/``NO`` in a table, a boolean elsewhere."""

    def human_readable(self):
        return 'yes' if self._value else 'NO'

    def machine_readable(self):
        return bool(self._value)


class Lines(columns.FormattableColumn):
    """A list, one entry per line in a table."""

    def human_readable(self):
        return '\n'.join(self._value) or '-'

    def machine_readable(self):
        return list(self._value)


class Path(columns.FormattableColumn):
    """Nodes from source to destination, ``a > b > c`` in a table."""

    separator = ' > '

    def human_readable(self):
        return self.separator.join(self._value) or '-'

    def machine_readable(self):
        return list(self._value)


class Between(Path):
    """The two ends of a link, ``a - b``."""

    separator = ' - '


class Commas(Path):
    """A short list, ``a, b`` in a table."""

    separator = ', '


def column_names(long=False):
    return DEFAULT_COLUMNS + (LONG_COLUMNS if long else ())


def row(server_name, d, long=False):
    """The row of one Decision."""
    values = [server_name, d.host, YesNo(d.allowed), d.mechanism,
              Number(d.expected_downtime_ms), Number(d.worst_downtime_ms),
              Number(d.total_time_s),
              Lines(list(d.reasons) + ['note: ' + n for n in d.notes])]
    if long:
        sent = None if d.bytes_sent is None else d.bytes_sent / 2.0 ** 30
        values += [d.weakest_link, Whole(d.remaining_budget_ms),
                   Path(d.path), Hundredths(d.bottleneck_gbps),
                   Thousandths(d.rtt_ms), Number(d.rate_mibps),
                   Hundredths(sent), d.outcome, d.worst_outcome,
                   Whole(d.limit_ms), Number(d.paper_worst_ms),
                   Thousandths(d.score), Probability(d.exceed_probability),
                   Number(d.budget_left_ms), Hundredths(d.expected_loss)]
    return tuple(values)


def request_for(server, now):
    return decision.MigrationRequest(
        instance_uuid=server.uuid, source_host=server.host,
        memory_mb=server.flavor.ram_mb,
        flavor_extra_specs=server.flavor.extra_specs,
        image_props=server.image_properties, metadata=server.metadata,
        touched_mb=server.touched_mb, now=now)


class Found:
    """The decisions for one server, and which of them to build.

    The engine computes the verdicts of all candidates as arrays and
    builds a candidate's full Decision (path, estimates, reasons) only
    when asked; selecting the allowed or the best ones from the arrays
    first keeps ``plan --best N`` over thousands of hosts quick.
    """

    def __init__(self, decisions, allowed, score):
        self.decisions = decisions
        self.allowed = allowed
        self.score = score

    def __len__(self):
        return len(self.decisions)

    def all(self):
        return list(self.decisions)

    def allowed_only(self):
        return [self.decisions[int(i)] for i in np.flatnonzero(self.allowed)]

    def best(self, count=1):
        """The ``count`` allowed decisions ranked best, best first."""
        at = np.flatnonzero(self.allowed)
        if not at.size:
            return []
        scores = self.score[at]
        if at.size > count:
            # Every candidate that can still rank in the first ``count``
            # (ties with the last included); decision.rank_key orders them.
            floor = np.sort(scores)[::-1][count - 1]
            at = at[scores >= floor]
        return sorted((self.decisions[int(i)] for i in at),
                      key=decision.rank_key)[:count]


def decide(src, engine, server, now, hosts=None):
    """Found decisions for server over hosts (default: every candidate).

    A live cloud's host that is not an enabled, up nova-compute service
    is denied whatever the topology says.
    """
    cands = src.candidates(server) if hosts is None else list(hosts)
    decisions = engine.decide(request_for(server, now), cands,
                              src.host_info())
    allowed = np.array(decisions.allowed, dtype=bool)
    score = np.array(decisions.score, dtype=float)
    if src.live:
        up = set(src.compute_hosts())
        for i, host in enumerate(cands):
            if host not in up and host != server.host:
                d = decisions[i]
                d.deny('host %s is not an enabled, up nova-compute service'
                       % host)
                d.score = -1.0
                allowed[i] = False
                score[i] = -1.0
    return Found(decisions, allowed, score)
