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

"""The agent's libvirt connection: domain events in, and reconnects.

libvirt's event loop runs in a thread of its own (libvirt's default
implementation, registered once per process, as Nova's driver does on
native threads); the callbacks only stamp each event with both clocks
and put it on a queue the agent's main thread reads. A connection that
closes (libvirtd restarted, keepalive timeout) is noticed by libvirt's
close callback and reopened by :meth:`LibvirtWatcher.ensure`, with the
domain events registered again.
"""

import threading
import time

from oslo_log import log as logging

from qslm_nova.agent import records

LOG = logging.getLogger(__name__)

_loop_lock = threading.Lock()
_loop_started = False


def _libvirt():
    import libvirt
    return libvirt


def start_event_loop():
    """Register libvirt's default event loop and run it (once)."""
    global _loop_started
    libvirt = _libvirt()
    with _loop_lock:
        if _loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name='libvirt-events',
                         daemon=True).start()
        _loop_started = True


class LibvirtWatcher:
    """One connection to libvirtd with domain events on ``events``.

    :param events: a queue.Queue receiving :class:`records.DomainEvent`.
    """

    def __init__(self, uri, events, wall=time.time, mono=time.monotonic):
        self.uri = uri
        self.events = events
        self.wall = wall
        self.mono = mono
        self.conn = None
        self._lost = threading.Event()
        self._callbacks = []
        self._next_try = 0.0
        self._failures = 0

    # -- connection -------------------------------------------------------
    def ensure(self):
        """Connected (reopening a lost connection when due)? True/False."""
        if self.conn is not None and not self._lost.is_set():
            return True
        if self.conn is not None:
            LOG.warning('Connection to libvirt %s lost; reconnecting',
                        self.uri)
            self.close()
        now = self.mono()
        if now < self._next_try:
            return False
        try:
            self._open()
        except Exception as e:
            self._failures += 1
            wait = min(2 ** self._failures, 60)
            self._next_try = now + wait
            if self._failures == 1 or self._failures % 10 == 0:
                LOG.error('Cannot connect to libvirt %s (%s); trying again '
                          'every %d s at most', self.uri, e, wait)
            return False
        if self._failures:
            LOG.info('Connected to libvirt %s again after %d failed '
                     'attempts', self.uri, self._failures)
        self._failures = 0
        return True

    def _open(self):
        libvirt = _libvirt()
        start_event_loop()
        conn = libvirt.open(self.uri)
        self._lost.clear()
        try:
            conn.setKeepAlive(5, 3)
        except libvirt.libvirtError:
            pass
        conn.registerCloseCallback(self._closed, None)
        ids = libvirt
        for event_id, callback in (
                (ids.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle),
                (ids.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, self._job_completed),
                (ids.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
                 self._iteration)):
            self._callbacks.append(conn.domainEventRegisterAny(
                None, event_id, callback, None))
        self.conn = conn

    def close(self):
        conn, self.conn = self.conn, None
        callbacks, self._callbacks = self._callbacks, []
        if conn is None:
            return
        for cb in callbacks:
            try:
                conn.domainEventDeregisterAny(cb)
            except Exception:   # noqa: the connection may be gone
                pass
        try:
            conn.unregisterCloseCallback()
        except Exception:   # noqa
            pass
        try:
            conn.close()
        except Exception:   # noqa
            pass

    def lost(self):
        """Mark the connection lost (a call on it failed)."""
        self._lost.set()

    # -- callbacks (libvirt's event thread) -------------------------------
    def _closed(self, conn, reason, opaque):
        self._lost.set()

    def _put(self, kind, dom, **kw):
        try:
            uuid = dom.UUIDString()
        except Exception:   # noqa: a domain that is already gone
            return
        self.events.put(records.DomainEvent(kind, uuid, self.wall(),
                                            self.mono(), **kw))

    def _lifecycle(self, conn, dom, event, detail, opaque):
        self._put(records.Kind.LIFECYCLE, dom, event=event, detail=detail)

    def _job_completed(self, conn, dom, params, opaque):
        self._put(records.Kind.JOB_COMPLETED, dom, stats=dict(params))

    def _iteration(self, conn, dom, iteration, opaque):
        self._put(records.Kind.ITERATION, dom, detail=iteration)

    # -- reading (the agent's main thread) --------------------------------
    def _domain(self, uuid):
        libvirt = _libvirt()
        try:
            return self.conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            self.lost()
            raise

    def completed_stats(self, uuid):
        """The domain's completed-job statistics, kept for Nova too."""
        libvirt = _libvirt()
        if not self.ensure():
            return None
        try:
            dom = self._domain(uuid)
            if dom is None:
                return None
            return dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED |
                                libvirt.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED)
        except libvirt.libvirtError as e:
            LOG.debug('Completed-job statistics of %s unreadable: %s',
                      uuid, e)
            return None

    def job_active(self, uuid):
        """Whether the domain has a job (None: gone, or libvirt is away)."""
        libvirt = _libvirt()
        if not self.ensure():
            return True     # unknown: keep waiting
        try:
            dom = self._domain(uuid)
            if dom is None:
                return None
            return dom.jobInfo()[0] not in (libvirt.VIR_DOMAIN_JOB_NONE,
                                            libvirt.VIR_DOMAIN_JOB_COMPLETED)
        except libvirt.libvirtError:
            return True

    def running_domains(self):
        """[(uuid, domain)] of the running domains."""
        libvirt = _libvirt()
        if not self.ensure():
            return []
        try:
            doms = self.conn.listAllDomains(
                libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING)
        except libvirt.libvirtError as e:
            LOG.warning('Cannot list the domains of %s: %s', self.uri, e)
            self.lost()
            return []
        out = []
        for dom in doms:
            try:
                out.append((dom.UUIDString(), dom))
            except libvirt.libvirtError:
                continue    # vanished meanwhile
        return out

    def catch_up(self, wall):
        """Completed incoming migrations of the running domains.

        At start and after a reconnect: an instance that migrated here
        while the agent was away still has libvirt's completed-job
        statistics; their record has the same key as the live one, so
        the spool keeps each migration once.
        """
        from qslm_nova.agent import tracker
        libvirt = _libvirt()
        found = []
        for uuid, dom in self.running_domains():
            try:
                stats = dom.jobStats(
                    libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED |
                    libvirt.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED)
            except libvirt.libvirtError:
                continue
            if stats.get('type') == libvirt.VIR_DOMAIN_JOB_COMPLETED and \
                    stats.get('operation') == \
                    libvirt.VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN:
                found.append(tracker.incoming_record(uuid, stats, wall,
                                                     guessed=True))
        return found
