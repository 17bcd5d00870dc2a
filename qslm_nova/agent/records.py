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

"""What the agent sees and keeps: libvirt's events and measured migrations.
"""

import dataclasses
import enum
import json

# libvirt's numbers (libvirt-domain.h); the tracker needs no libvirt module.
EVENT_STARTED = 2
EVENT_SUSPENDED = 3
EVENT_RESUMED = 4
EVENT_STOPPED = 5
STARTED_MIGRATED = 1
SUSPENDED_MIGRATED = 1
SUSPENDED_POSTCOPY = 7
RESUMED_MIGRATED = 1
RESUMED_POSTCOPY = 3
STOPPED_MIGRATED = 3
STOPPED_FAILED = 5
JOB_NONE = 0
JOB_COMPLETED = 3
OPERATION_MIGRATION_IN = 4
OPERATION_MIGRATION_OUT = 5


class Kind(enum.Enum):
    LIFECYCLE = 'lifecycle'
    JOB_COMPLETED = 'job-completed'
    ITERATION = 'iteration'


@dataclasses.dataclass(frozen=True)
class DomainEvent:
    """One libvirt domain event, stamped on arrival.

    ``wall`` is this host's clock (epoch seconds), ``mono`` its monotonic
    clock: pauses are measured on the monotonic one, so a clock jump
    cannot stretch or shrink them.
    """

    kind: Kind
    uuid: str
    wall: float
    mono: float
    event: int = None
    detail: int = None
    stats: dict = None


class Role(enum.Enum):
    DESTINATION = 'destination'
    SOURCE = 'source'


class Outcome(enum.Enum):
    COMPLETED = 'completed'
    FAILED = 'failed'


@dataclasses.dataclass(frozen=True)
class JobFigures:
    """libvirt's statistics of one migration job (``virDomainGetJobStats``).
    """

    operation: int = None
    downtime_ms: float = None
    total_ms: float = None
    setup_ms: float = None
    data_bytes: int = None
    memory_bps: float = None
    dirty_rate_mibps: float = None
    iterations: int = None
    postcopy_requests: int = None

    @classmethod
    def from_stats(cls, stats):
        """The figures of a job-stats dict; missing ones stay None."""
        stats = stats or {}

        def num(key, kind=float):
            value = stats.get(key)
            try:
                return None if value is None else kind(value)
            except (TypeError, ValueError):
                return None

        page = num('memory_page_size') or 4096.0
        pages = num('memory_dirty_rate')
        data = num('data_processed', int)
        return cls(
            operation=num('operation', int),
            downtime_ms=num('downtime'), total_ms=num('time_elapsed'),
            setup_ms=num('setup_time'),
            data_bytes=num('memory_processed', int) if data is None
            else data,
            memory_bps=num('memory_bps'),
            dirty_rate_mibps=(None if pages is None
                              else pages * page / 1048576.0),
            iterations=num('memory_iteration', int),
            postcopy_requests=num('memory_postcopy_requests', int))


@dataclasses.dataclass(frozen=True)
class MeasuredMigration:
    """One migration as this host saw it.

    :param key: the same migration seen twice (an event after a
        reconnect, the catch-up scan at start) has the same key.
    :param downtime_ms: libvirt's downtime of a completed migration, or
        the pause between the source's suspend and resume events of a
        failed one (0 when it never paused); None when unknown.
    :param charge_ms: what this agent charges to the instance's ledger
        (None: it charges nothing for this record).
    :param ended_at: this host's clock at the end (epoch seconds);
        ``time_guessed`` when the end was only found later (a catch-up).
    """

    key: str
    instance_uuid: str
    role: Role
    outcome: Outcome
    ended_at: float
    downtime_ms: float = None
    charge_ms: int = None
    figures: JobFigures = JobFigures()
    time_guessed: bool = False
    note: str = None

    def to_json(self):
        d = dataclasses.asdict(self)
        d['role'] = self.role.value
        d['outcome'] = self.outcome.value
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        d = json.loads(text)
        d['role'] = Role(d['role'])
        d['outcome'] = Outcome(d['outcome'])
        d['figures'] = JobFigures(**d.get('figures') or {})
        return cls(**d)
