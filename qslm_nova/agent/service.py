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

"""The agent's main loop: one thread, a tick a second at most.

libvirt's events arrive on a queue (filled by libvirt's event thread);
the loop waits on it and, between events, does what is due: reconnect
to libvirt, read the CPU load, publish the profile, settle spooled
migrations with Nova, sample dirty rates. Everything is scheduled on the
monotonic clock, so a jump of the wall clock neither stops nor floods
the agent. Each step catches its own failures and logs them: the loop
keeps running whatever Nova, Placement or libvirt do.
"""

import dataclasses
import queue
import time

from oslo_log import log as logging

from qslm_nova.agent import ledger as ledger_mod
from qslm_nova.agent import tracker as tracker_mod
from qslm_nova.history import notifications
from qslm_nova import observed

LOG = logging.getLogger(__name__)
DAY_S = 86400.0


@dataclasses.dataclass
class Intervals:
    """The [qslm_agent] schedule, in seconds."""

    load: float = 30.0
    profile: float = 300.0
    dirty_rate: float = 300.0
    retry: float = 15.0
    retry_max: float = 600.0
    history_days: float = 365.0
    stats_wait: float = 30.0


class Agent:
    """Wires the parts; :meth:`tick` is one turn of the loop.

    ``placement`` (a PlacementWriter), ``charger`` (a LedgerCharger),
    ``nova`` (a NovaAPI for the observed dirty rates), ``sampler`` and
    ``dirty_publisher`` may be None: that part is off.
    """

    def __init__(self, watcher, events, builder, spool, load_meter,
                 placement=None, charger=None, nova=None, sampler=None,
                 dirty_publisher=None, emitter=None, intervals=None,
                 charge_outgoing=False, host=None, wall=time.time,
                 mono=time.monotonic):
        self.watcher = watcher
        self.events = events
        self.builder = builder
        self.spool = spool
        self.load_meter = load_meter
        self.placement = placement
        self.charger = charger
        self.nova = nova
        self.sampler = sampler
        self.dirty_publisher = dirty_publisher
        self.emitter = emitter
        self.intervals = intervals or Intervals()
        self.host = host
        self.wall = wall
        self.mono = mono
        self.tracker = tracker_mod.Tracker(
            watcher.completed_stats, watcher.job_active, charge_outgoing,
            self.intervals.stats_wait)
        self.connected = False
        now = mono()
        self.next = {'load': now, 'profile': now, 'dirty': now + 5.0,
                     'prune': now}
        self.load = None
        self.published_traits = None
        self._due = {key: now for key, _m, _a in spool.pending()}
        self._backoff = {}
        self._placement_failing = False

    # -- the loop -----------------------------------------------------------
    def run(self, stop, max_wait=1.0):
        LOG.info('qslm-nova-agent running (libvirt %s, %d migration(s) '
                 'waiting in the spool)', self.watcher.uri, len(self._due))
        while not stop.is_set():
            self.tick(max_wait)
        self.watcher.close()
        self.spool.close()

    def tick(self, max_wait=1.0):
        """Wait for an event up to ``max_wait`` s, then do what is due.

        While an incoming migration waits for libvirt's statistics the
        wait is short: the charge should not lag the migration.
        """
        if self.tracker.waiting():
            max_wait = min(max_wait, 0.05)
        try:
            first = self.events.get(timeout=max_wait)
        except queue.Empty:
            first = None
        while first is not None:
            self._guarded('handling a libvirt event', self._event, first)
            try:
                first = self.events.get_nowait()
            except queue.Empty:
                first = None
        for name, step in (('libvirt', self._libvirt),
                           ('migrations', self._poll),
                           ('load', self._load),
                           ('profile', self._profile),
                           ('spool', self._settle),
                           ('dirty rates', self._dirty),
                           ('history', self._prune)):
            self._guarded(name, step)

    def _guarded(self, what, fn, *args):
        try:
            fn(*args)
        except Exception:   # noqa: the loop outlives any one failure
            LOG.exception('qslm-nova-agent: %s failed; carrying on', what)

    # -- libvirt and migrations ---------------------------------------------
    def _libvirt(self):
        up = self.watcher.ensure()
        if up and not self.connected:
            self.builder.host(self.watcher.conn)
            found = self.watcher.catch_up(self.wall())
            for measured in found:
                self._keep(measured)
            self.next['profile'] = self.mono()
        self.connected = up

    def _event(self, ev):
        for measured in self.tracker.handle(ev):
            self._keep(measured)

    def _poll(self):
        for measured in self.tracker.poll(self.mono(), self.wall()):
            self._keep(measured)

    def _keep(self, measured):
        if self.spool.add(measured):
            LOG.info('Measured %s %s migration of %s: %s', measured.outcome
                     .value, 'incoming' if measured.role.value ==
                     'destination' else 'outgoing', measured.instance_uuid,
                     'downtime %.0f ms' % measured.downtime_ms
                     if measured.downtime_ms is not None
                     else (measured.note or 'downtime unknown'))
            self._due[measured.key] = self.mono()

    # -- load and profile ---------------------------------------------------
    def _load(self):
        now = self.mono()
        if now < self.next['load']:
            return
        self.next['load'] = now + self.intervals.load
        load = self.load_meter.sample()
        if load is None:
            return
        from qslm_nova.profile import traits
        if self.load is None or traits.load_trait_value(load) != \
                traits.load_trait_value(self.load):
            self.next['profile'] = min(self.next['profile'], now)
            parts = getattr(self.load_meter, 'parts', None)
            LOG.debug('CPU load now %.2f runnable threads per CPU%s: '
                      'publishing it', load,
                      '' if parts is None else ' (busy share %.2f, load '
                      'average per CPU %.2f)' % parts)
        self.load = load

    def _profile(self):
        now = self.mono()
        if self.placement is None or now < self.next['profile'] or \
                not self.connected or self.builder.facts is None:
            return
        self.next['profile'] = now + self.intervals.profile
        profile = self.builder.build(self.load, self.wall())
        wanted = self.builder.traits(profile)
        try:
            wrote = self.placement.publish(profile.node, wanted)
        except Exception as e:
            # Try again with the next load reading.
            self.next['profile'] = now + self.intervals.load
            if not self._placement_failing:
                LOG.warning('Cannot publish the host profile of %s to '
                            'Placement: %s', profile.node, e)
            self._placement_failing = True
            return
        if self._placement_failing:
            LOG.info('Host profile of %s published again', profile.node)
        self._placement_failing = False
        if wrote:
            LOG.debug('Published profile of %s: %s', profile.node,
                      ' '.join(sorted(wanted)))
        self.published_traits = wanted

    # -- the spool ----------------------------------------------------------
    def _settle(self):
        if self.charger is None or not self._due:
            return
        now = self.mono()
        due = {k for k, at in self._due.items() if at <= now}
        if not due:
            return
        for key, measured, attempts in self.spool.pending():
            if key not in due:
                continue
            self._settle_one(key, measured, attempts, now)

    def _settle_one(self, key, measured, attempts, now):
        age = max(self.wall() - measured.ended_at, 0.0)
        try:
            settled = self.charger.settle(key, measured, age)
        except ledger_mod.Retry as e:
            self.spool.failed(key, e)
            wait = min(self._backoff.get(key, self.intervals.retry / 2) * 2,
                       self.intervals.retry_max)
            self._backoff[key] = wait
            self._due[key] = now + wait
            log = LOG.warning if attempts in (0, 5, 50) else LOG.debug
            log('Migration %s of %s not settled yet (try %d, next in %.0f '
                's): %s', key, measured.instance_uuid, attempts + 1, wait, e)
            return
        self.spool.done(key, settled.migration_key, settled.to_dict())
        self._due.pop(key, None)
        self._backoff.pop(key, None)
        if self.emitter is not None:
            self.emitter.emit(notifications.MEASURED,
                              notifications.measured_payload(
                                  measured, settled, self.host))

    # -- dirty rates --------------------------------------------------------
    def _dirty(self):
        if self.sampler is None or not self.connected:
            return
        now = self.mono()
        if self.sampler.due is not None:
            self._publish_samples(self.sampler.collect(now, self.wall()))
            return
        if now >= self.next['dirty'] and self.intervals.dirty_rate > 0:
            self.next['dirty'] = now + self.intervals.dirty_rate
            self.sampler.start(now)

    def _publish_samples(self, samples):
        import datetime
        for sample in samples:
            if not self.dirty_publisher.wanted(sample):
                continue
            at = datetime.datetime.fromtimestamp(sample.wall,
                                                 datetime.timezone.utc)
            try:
                self.nova.set_metadata(sample.uuid, {
                    observed.KEY: observed.format_value(sample.mibps, at)})
            except Exception as e:
                LOG.debug('Observed dirty rate of %s not published: %s',
                          sample.uuid, e)
                continue
            self.dirty_publisher.published(sample)

    def _prune(self):
        now = self.mono()
        if now < self.next['prune']:
            return
        self.next['prune'] = now + DAY_S
        gone = self.spool.prune(self.wall() -
                                self.intervals.history_days * DAY_S)
        if gone:
            LOG.info('Forgot %d measured migrations older than %d days',
                     gone, self.intervals.history_days)
