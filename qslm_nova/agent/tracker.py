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

"""Live migrations as libvirt's domain events show them on one host.

What libvirt 9 emits (measured on the testbed's daemons, see
tests/agent/): on the destination, STARTED/MIGRATED when the incoming
QEMU starts, RESUMED/MIGRATED (or RESUMED/POSTCOPY) when the instance
runs there, STOPPED/FAILED if the migration fails; its completed-job
statistics (downtime, time, data) are readable once it runs. On the
source, MIGRATION_ITERATION per pre-copy round, SUSPENDED/MIGRATED at the
switch-over, then STOPPED/MIGRATED and JOB_COMPLETED (with the same
statistics) on success, or RESUMED when a paused migration fails. A
migration cancelled before the switch-over shows nothing on the source
but the end of its job.

So the destination's agent measures a completed migration (libvirt's
downtime), the source's a failed one (the pause between its suspend and
resume events, on the monotonic clock). The :class:`Tracker` turns
events into :class:`records.MeasuredMigration`; it calls libvirt only
through the two functions it is given, so it is tested with recorded
events as well as with a live daemon.
"""

import dataclasses

from oslo_log import log as logging

from qslm_nova.agent import records as r

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class _Incoming:
    started_wall: float
    resumed_mono: float = None
    resumed_wall: float = None


@dataclasses.dataclass
class _Outgoing:
    started_mono: float
    paused_mono: float = None
    paused_wall: float = None
    stopped_wall: float = None
    stopped_mono: float = None


class Tracker:
    """Migrations in progress on this host, and what they measured.

    :param completed_stats: ``uuid -> dict or None``: the domain's
        completed-job statistics (read without clearing them).
    :param job_active: ``uuid -> True/False/None``: whether the domain
        has a job running (None: the domain is gone).
    :param charge_outgoing: also charge completed migrations from here.
    :param stats_wait_s: how long to wait for an incoming migration's
        statistics after the instance resumed.
    """

    def __init__(self, completed_stats, job_active, charge_outgoing=False,
                 stats_wait_s=30.0):
        self.completed_stats = completed_stats
        self.job_active = job_active
        self.charge_outgoing = charge_outgoing
        self.stats_wait_s = stats_wait_s
        self.incoming = {}
        self.outgoing = {}

    # -- events -----------------------------------------------------------
    def handle(self, ev):
        """Take one DomainEvent; return the MeasuredMigrations it ends."""
        if ev.kind == r.Kind.ITERATION:
            self.outgoing.setdefault(ev.uuid, _Outgoing(ev.mono))
            return []
        if ev.kind == r.Kind.JOB_COMPLETED:
            return self._job_completed(ev)
        return self._lifecycle(ev)

    def _lifecycle(self, ev):
        e, d = ev.event, ev.detail
        if e == r.EVENT_STARTED and d == r.STARTED_MIGRATED:
            self.incoming[ev.uuid] = _Incoming(ev.wall)
        elif e == r.EVENT_SUSPENDED and d in (r.SUSPENDED_MIGRATED,
                                              r.SUSPENDED_POSTCOPY):
            out = self.outgoing.setdefault(ev.uuid, _Outgoing(ev.mono))
            if out.paused_mono is None:
                out.paused_mono, out.paused_wall = ev.mono, ev.wall
        elif e == r.EVENT_RESUMED:
            return self._resumed(ev)
        elif e == r.EVENT_STOPPED and d == r.STOPPED_MIGRATED:
            out = self.outgoing.get(ev.uuid)
            if out is not None:
                out.stopped_wall, out.stopped_mono = ev.wall, ev.mono
        elif e == r.EVENT_STOPPED and ev.uuid in self.incoming and \
                self.incoming[ev.uuid].resumed_mono is None:
            # The incoming QEMU ended before the instance ran here
            # (failed, cancelled, or destroyed).
            inc = self.incoming.pop(ev.uuid)
            return [r.MeasuredMigration(
                key='%s:in-failed:%.3f' % (ev.uuid, inc.started_wall),
                instance_uuid=ev.uuid, role=r.Role.DESTINATION,
                outcome=r.Outcome.FAILED, ended_at=ev.wall,
                note='incoming migration ended before the instance ran '
                     'here (the source measures its pause)')]
        return []

    def _resumed(self, ev):
        out = self.outgoing.get(ev.uuid)
        if out is not None and out.paused_mono is not None and \
                out.stopped_wall is None:
            # The source runs again: the migration failed after pausing.
            del self.outgoing[ev.uuid]
            pause = max((ev.mono - out.paused_mono) * 1000.0, 0.0)
            return [r.MeasuredMigration(
                key='%s:out-failed:%.3f' % (ev.uuid, out.paused_wall),
                instance_uuid=ev.uuid, role=r.Role.SOURCE,
                outcome=r.Outcome.FAILED, ended_at=ev.wall,
                downtime_ms=pause, charge_ms=int(round(pause)),
                note='failed after pausing the instance %.0f ms' % pause)]
        inc = self.incoming.get(ev.uuid)
        if inc is not None and ev.detail in (r.RESUMED_MIGRATED,
                                             r.RESUMED_POSTCOPY):
            inc.resumed_mono, inc.resumed_wall = ev.mono, ev.wall
            return self._incoming_done(ev.uuid, ev.mono)
        return []

    def _job_completed(self, ev):
        figures = r.JobFigures.from_stats(ev.stats)
        if figures.operation != r.OPERATION_MIGRATION_OUT:
            return []
        out = self.outgoing.pop(ev.uuid, None)
        downtime = figures.downtime_ms
        charge = None
        if self.charge_outgoing and downtime is not None:
            charge = int(round(downtime))
        return [r.MeasuredMigration(
            key=_stats_key(ev.uuid, 'out', ev.stats),
            instance_uuid=ev.uuid, role=r.Role.SOURCE,
            outcome=r.Outcome.COMPLETED,
            ended_at=ev.wall if out is None or out.stopped_wall is None
            else out.stopped_wall,
            downtime_ms=downtime, charge_ms=charge, figures=figures)]

    # -- polling ----------------------------------------------------------
    def waiting(self):
        """An incoming migration ran here and its statistics are awaited.
        """
        return any(inc.resumed_mono is not None
                   for inc in self.incoming.values())

    def poll(self, mono, wall):
        """Look at migrations waiting for libvirt; return those that ended.

        Incoming ones wait for their completed statistics; outgoing ones
        that never paused end when their job does.
        """
        done = []
        for uuid in list(self.incoming):
            if self.incoming[uuid].resumed_mono is not None:
                done.extend(self._incoming_done(uuid, mono))
        for uuid, out in list(self.outgoing.items()):
            if out.paused_mono is not None or out.stopped_wall is not None:
                if out.stopped_mono is not None and \
                        mono - out.stopped_mono > self.stats_wait_s:
                    # Completed, but no JOB_COMPLETED event came.
                    del self.outgoing[uuid]
                continue
            active = self.job_active(uuid)
            if active:
                continue
            del self.outgoing[uuid]
            if active is None:
                continue
            done.append(r.MeasuredMigration(
                key='%s:out-failed:%.3f' % (uuid, out.started_mono),
                instance_uuid=uuid, role=r.Role.SOURCE,
                outcome=r.Outcome.FAILED, ended_at=wall, downtime_ms=0.0,
                note='ended before the switch-over: no pause'))
        return done

    def _incoming_done(self, uuid, mono):
        inc = self.incoming[uuid]
        stats = self.completed_stats(uuid)
        figures = r.JobFigures.from_stats(stats)
        if stats and stats.get('type', r.JOB_COMPLETED) == r.JOB_COMPLETED \
                and figures.operation == r.OPERATION_MIGRATION_IN:
            del self.incoming[uuid]
            return [incoming_record(uuid, stats, inc.resumed_wall)]
        if mono - inc.resumed_mono > self.stats_wait_s:
            del self.incoming[uuid]
            LOG.warning('Instance %s migrated here but libvirt gave no '
                        'completed-job statistics within %.0f s: its '
                        'downtime is unknown and not charged', uuid,
                        self.stats_wait_s)
            return [r.MeasuredMigration(
                key='%s:in-nostats:%.3f' % (uuid, inc.started_wall),
                instance_uuid=uuid, role=r.Role.DESTINATION,
                outcome=r.Outcome.COMPLETED, ended_at=inc.resumed_wall,
                note='no completed-job statistics from libvirt')]
        return []


def _stats_key(uuid, direction, stats):
    stats = stats or {}
    return '%s:%s:%s:%s' % (uuid, direction, stats.get('time_elapsed'),
                            stats.get('data_processed',
                                      stats.get('memory_processed')))


def incoming_record(uuid, stats, ended_at, guessed=False):
    """The MeasuredMigration of a completed incoming migration's stats."""
    figures = r.JobFigures.from_stats(stats)
    charge = (None if figures.downtime_ms is None
              else int(round(figures.downtime_ms)))
    return r.MeasuredMigration(
        key=_stats_key(uuid, 'in', stats), instance_uuid=uuid,
        role=r.Role.DESTINATION, outcome=r.Outcome.COMPLETED,
        ended_at=ended_at, downtime_ms=figures.downtime_ms,
        charge_ms=charge, figures=figures, time_guessed=guessed)
