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

"""Live-migrate a libvirt domain with Nova 34's own libvirt driver code.

Not a re-implementation: a ``LibvirtDriver`` object made without its
``__init__`` (no connection, no host) supplies Nova's own
``_parse_migration_flags`` (from the ``[libvirt]`` options set here),
``_live_migration_uri`` and ``_live_migration_monitor``; the monitor calls
``nova.virt.libvirt.migration``'s ``downtime_steps``, ``update_downtime``,
``should_trigger_timeout_action``, ``run_tasks`` (force-complete: post-copy
or pause) and ``find_job_type`` every 0.5 s, exactly as in a
nova-compute. The migration itself runs in a thread through Nova's
``Guest.migrate`` (``migrateToURI3`` with Nova's flags and parameters),
as ``_live_migration_operation`` does. Only the database objects are
stand-ins (their ``save()`` records nothing), and the Guest records the
time of every downtime change, post-copy switch, pause and abort.

As in nova-compute (``nova.virt.libvirt.host``), libvirt's default event
loop runs in a native thread of its own (:func:`start_event_loop`; call it
before opening the connections). It matters: libvirt's client library
can lose the wake-up of a call made while another thread (here
``migrateToURI3``) waits for its reply, and then only the next message
from the daemon sends it. With an event loop the daemon's keepalive
messages come every few seconds, so such a call is late by seconds;
without one, it waits until the migration ends (the first testbed
campaign, run without, saw Nova's monitor blocked in its first
``migrateSetMaxDowntime`` in 16 of 81 runs).

This is the only testbed module that imports Nova (lazily).
"""

import collections
import concurrent.futures
import dataclasses
import threading
import time

from qslm_nova import estimator
from qslm_nova.testbed import TestbedError

# One set of [libvirt] overrides at a time in this process.
_CONF_LOCK = threading.Lock()
_EVENT_LOOP_LOCK = threading.Lock()
_event_loop = []
TIMEOUT_ACTIONS = estimator.TIMEOUT_ACTIONS


@dataclasses.dataclass(frozen=True)
class NovaSettings(object):
    """The nova.conf ``[libvirt]`` live-migration options of a run."""

    downtime_ms: int = 500
    downtime_steps: int = 10
    downtime_delay_s: int = 75
    completion_timeout_s: int = 800
    timeout_action: str = 'abort'
    permit_post_copy: bool = False
    permit_auto_converge: bool = False
    native_tls: bool = False
    parallel_connections: int = 1
    bandwidth_mibps: int = 0

    def __post_init__(self):
        if self.timeout_action not in TIMEOUT_ACTIONS:
            raise TestbedError('timeout_action %r: use one of %s'
                               % (self.timeout_action,
                                  ', '.join(TIMEOUT_ACTIONS)))

    def conf(self):
        """Option name -> value for nova.conf's [libvirt] group."""
        return {
            'virt_type': 'qemu',
            'live_migration_downtime': self.downtime_ms,
            'live_migration_downtime_steps': self.downtime_steps,
            'live_migration_downtime_delay': self.downtime_delay_s,
            'live_migration_completion_timeout': self.completion_timeout_s,
            'live_migration_timeout_action': self.timeout_action,
            'live_migration_permit_post_copy': self.permit_post_copy,
            'live_migration_permit_auto_converge':
                self.permit_auto_converge,
            'live_migration_with_native_tls': self.native_tls,
            'live_migration_parallel_connections':
                self.parallel_connections,
            'live_migration_bandwidth': self.bandwidth_mibps,
        }


@dataclasses.dataclass
class MonitorResult(object):
    """What Nova's monitor did and saw (times: seconds since the epoch)."""

    outcome: str = 'unknown'
    flags: int = 0
    started: float = 0.0
    ended: float = 0.0
    api_returned: float = 0.0
    steps: list = dataclasses.field(default_factory=list)
    events: list = dataclasses.field(default_factory=list)
    error: str = ''

    def first(self, name):
        for t, what, _ in self.events:
            if what == name:
                return t
        return None


def _nova():
    try:
        import libvirt
        import nova.conf
        from nova.virt.libvirt import driver
        from nova.virt.libvirt import guest
        from nova.virt.libvirt import migration
    except ImportError as e:
        raise TestbedError('driving migrations like Nova needs nova and '
                           'libvirt-python in this environment: %s' % e)
    return libvirt, nova.conf.CONF, driver, guest, migration


class _Flavor(object):
    def __init__(self, memory_mb):
        self.memory_mb = memory_mb


class _Record(object):
    """Stand-in for a Nova object: attributes, and a save() that keeps."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def save(self):
        pass

    def __contains__(self, name):
        return name in self.__dict__

    def get(self, name, default=None):
        return self.__dict__.get(name, default)


def _recording_guest(guest_mod, dom, result):
    """Nova's Guest, noting when Nova changes the migration."""

    class RecordingGuest(guest_mod.Guest):
        def _note(self, what, value=None):
            result.events.append((time.time(), what, value))

        def migrate_configure_max_downtime(self, mstime):
            self._note('downtime-call', mstime)
            try:
                super().migrate_configure_max_downtime(mstime)
            except Exception as e:
                # Nova logs this and carries on as if the limit were set.
                self._note('downtime-failed', (mstime, str(e)[:200]))
                raise
            self._note('downtime', mstime)

        def migrate_start_postcopy(self):
            try:
                super().migrate_start_postcopy()
            except Exception as e:
                self._note('postcopy-failed', str(e)[:200])
                raise
            self._note('postcopy')

        def pause(self):
            self._note('pause')
            super().pause()

        def abort_job(self):
            self._note('abort')
            super().abort_job()

        def get_job_info(self):
            info = super().get_job_info()
            self._note('poll', info.type)
            return info

        def get_power_state(self, host):
            return self._domain.state()[0]

    return RecordingGuest(dom)


def start_event_loop():
    """Run libvirt's default event loop in a daemon thread, once.

    What ``nova.virt.libvirt.host`` does when nova-compute starts; only
    connections opened afterwards use it (their keepalive included).
    """
    import libvirt
    with _EVENT_LOOP_LOCK:
        if _event_loop:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()
        thread = threading.Thread(target=run, name='libvirt-events',
                                  daemon=True)
        thread.start()
        _event_loop.append(thread)


def refused_by_nova(settings, qemu_version):
    """Why nova-compute would refuse to start with *settings*, or None.

    Nova's ``init_host`` refuses parallel connections together with
    post-copy on a QEMU older than its
    ``MIN_MULTIFD_WITH_POSTCOPY_QEMU_VERSION`` (read from Nova here).
    :param qemu_version: (major, minor, micro).
    """
    _, _, driver, _, _ = _nova()
    minimum = driver.MIN_MULTIFD_WITH_POSTCOPY_QEMU_VERSION
    if (settings.parallel_connections > 1 and settings.permit_post_copy
            and tuple(qemu_version) < tuple(minimum)):
        return ('Nova refuses live_migration_parallel_connections > 1 with '
                'post-copy on QEMU %s (needs %s)' % (
                    '.'.join(map(str, qemu_version)),
                    '.'.join(map(str, minimum))))
    return None


def live_migrate(dom, dest_host, settings, memory_mb, on_poll=None,
                 deadline_s=120.0):
    """Migrate *dom* to *dest_host* (a name) the way nova-compute does.

    on_poll: called with no argument at each of the monitor's polls
    (every 0.5 s, from the monitor's thread), e.g. to sample QEMU.
    deadline_s: the testbed aborts the job after this long (outcome
    ``testbed-timeout``), whatever Nova's settings say.
    Returns a MonitorResult; raises TestbedError only for set-up errors.
    """
    libvirt, conf, driver, guest_mod, migration_mod = _nova()
    with _CONF_LOCK:
        for name, value in settings.conf().items():
            conf.set_override(name, value, group='libvirt')
        try:
            return _run(libvirt, conf, driver, guest_mod, migration_mod, dom,
                        dest_host, memory_mb, on_poll, deadline_s)
        finally:
            for name in settings.conf():
                conf.clear_override(name, group='libvirt')


def _run(libvirt, conf, driver, guest_mod, migration_mod, dom, dest_host,
         memory_mb, on_poll, deadline_s):
    result = MonitorResult()
    # Nova's driver without __init__ (no compute host, no connection):
    # only its migration methods run, and they are private to Nova.
    drv = driver.LibvirtDriver.__new__(driver.LibvirtDriver)
    drv.active_migrations = {}
    no_vpmems = (lambda instance, prefix=None: [])
    drv._host = None  # nova-private: no Host; the monitor never uses it
    drv._get_vpmems = no_vpmems  # nova-private: guests have no vPMEM
    drv._parse_migration_flags()  # nova-private: Nova's flags from CONF
    flags = drv._live_migration_flags  # nova-private: what it computed
    result.flags = flags
    guest = _recording_guest(guest_mod, dom, result)
    if on_poll is not None:
        real = guest.get_job_info

        def get_job_info():
            on_poll()
            return real()
        guest.get_job_info = get_job_info
    instance = _Record(uuid=dom.UUIDString(), flavor=_Flavor(memory_mb),
                       vm_state='active', progress=0)
    migration = _Record(status='running')
    migrate_data = _Record(migration=migration, block_migration=False)
    drv.active_migrations[instance.uuid] = collections.deque()
    data_gb = drv._live_migration_data_gb  # nova-private: GiB Nova counts
    steps = list(migration_mod.downtime_steps(data_gb(instance, [])))
    result.steps = steps
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    outcome = {}

    def post_method(context, instance, dest, block_migration, data):
        outcome['post'] = time.time()

    def recover_method(context, instance, dest, data,
                       migration_status='error'):
        outcome['recover'] = (time.time(), migration_status)

    uri = driver.LibvirtDriver._live_migration_uri  # nova-private: URI
    monitor = drv._live_migration_monitor  # nova-private: Nova's monitor

    def operation():
        try:
            guest.migrate(uri(dest_host),
                          migrate_uri=None, flags=flags, migrate_disks=[],
                          destination_xml=xml,
                          bandwidth=conf.libvirt.live_migration_bandwidth,
                          parallel=(conf.libvirt.
                                    live_migration_parallel_connections))
        finally:
            result.api_returned = time.time()

    def watchdog():
        result.events.append((time.time(), 'testbed-abort', None))
        try:
            dom.abortJob()
        except libvirt.libvirtError:
            pass

    pool = concurrent.futures.ThreadPoolExecutor(1, 'nova-migrate')
    result.started = time.time()
    future = pool.submit(operation)
    timer = threading.Timer(deadline_s, watchdog)
    timer.daemon = True
    timer.start()
    try:
        monitor(None, instance, guest, dest_host, post_method,
                recover_method, False, migrate_data, future, [])
        future.result()
    except Exception as e:
        result.error = str(e)[:500]
    finally:
        timer.cancel()
        pool.shutdown(wait=True)
    result.ended = time.time()
    result.outcome = _outcome(result, outcome)
    return result


def _outcome(result, seen):
    names = [what for _, what, _ in result.events]
    if 'testbed-abort' in names:
        return 'testbed-timeout'
    if 'post' in seen:
        if 'postcopy' in names:
            return 'post-copy'
        if 'pause' in names:
            return 'forced-pause'
        return 'completed'
    if 'abort' in names:
        return 'aborted'
    return 'failed'
