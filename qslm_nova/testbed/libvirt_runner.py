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

"""One live migration between two libvirt hosts, driven by Nova's code.

The guest boots on the source host, QEMU's page-sampling dirty-rate
calculation measures it, then :func:`nova_monitor.live_migrate` moves it
with Nova's flags and monitor while the testbed's own QMP monitors on
both QEMUs record the guest's real pause (source STOP to destination
RESUME, QEMU's time stamps on this host's clock) and QEMU's
``expected-downtime``. One dict of :data:`FIELDS` per run.
"""

import contextlib
import dataclasses
import os
import shutil
import subprocess
import threading
import time

from oslo_log import log as logging

from qslm_nova.testbed import guest as guest_mod
from qslm_nova.testbed import hostload
from qslm_nova.testbed import libvirt_guest
from qslm_nova.testbed import libvirt_record
from qslm_nova.testbed import nova_monitor
from qslm_nova.testbed import qmp
from qslm_nova.testbed import TestbedError
from qslm_nova.testbed import threadshare

LOG = logging.getLogger(__name__)

FIELDS = (
    'run_id', 'group', 'label', 'repeat', 'transport', 'parallel',
    'memory_mib', 'touched_mib', 'workload', 'dirty_rate_mibps',
    'burst_rate_mibps', 'burst_on_ms', 'burst_off_ms', 'wss_mib',
    'bandwidth_mbps', 'rtt_ms', 'nova_downtime_ms', 'nova_downtime_steps',
    'nova_downtime_delay_s', 'nova_completion_timeout_s',
    'nova_timeout_action', 'post_copy', 'auto_converge', 'hogs',
    'outcome', 'status', 'flags', 'steps', 'downtime_log',
    'first_downtime_call_s', 'first_downtime_set_s',
    'downtime_set_failures', 'limit_at_stop_ms', 'qemu_start_s',
    'postcopy_at_s', 'pause_at_s', 'abort_at_s', 'stop_at_s',
    'libvirt_downtime_ms', 'libvirt_time_elapsed_ms',
    'libvirt_setup_ms', 'memory_processed', 'memory_total',
    'memory_iteration', 'memory_dirty_rate', 'postcopy_requests',
    'downtime_e2e_ms', 'switchover_ms', 'transfer_ms', 'dest_load_ms',
    'resume_ms', 'qemu_events', 'api_total_ms', 'resume_at_ms', 'handoff_ms',
    'expected_downtime_ms', 'qemu_dirty_rate_mibps', 'guest_rate_mibps',
    'guest_alive_on_dest', 'dest_progress_s', 'dest_qemu_cpu_s',
    'src_last_ticks', 'dest_ticks_in_memory',
    'dest_state', 'dest_console_tail', 'source_alive_after', 'event_loop',
    'load1_start', 'load1_end', 'cpu_busy', 'cpu_steal', 'cpus',
    'runnable_per_cpu',
) + threadshare.FIELDS + ('wall_s', 'error')
TRANSPORTS = ('tcp', 'tls')


@dataclasses.dataclass
class LibvirtSpec(object):
    """One configuration of a Nova-driven migration."""

    memory_mib: int = 1024
    workload: guest_mod.Workload = dataclasses.field(
        default_factory=guest_mod.Workload)
    bandwidth_mbps: float = 1000.0
    rtt_ms: float = 0.0
    transport: str = 'tcp'
    nova: nova_monitor.NovaSettings = dataclasses.field(
        default_factory=nova_monitor.NovaSettings)
    hogs: int = 0
    repeat: int = 0
    group: str = 'fit'
    label: str = 'steps'
    # The testbed aborts a migration still running after this long.
    deadline_s: float = 120.0

    @property
    def run_id(self):
        w, n = self.workload, self.nova
        burst = ('-on%doff%d' % (w.burst_on_ms, w.burst_off_ms)
                 if w.bursty else '')
        return ('%s-p%d-m%d-d%g-w%g%s-b%g-r%g-l%d-s%d-dl%d-t%d%s%s%s-h%d-'
                '%s-%d' % (
                    self.transport, n.parallel_connections, self.memory_mib,
                    w.dirty_rate_mibps, w.wss_mib, burst,
                    self.bandwidth_mbps, self.rtt_ms, n.downtime_ms,
                    n.downtime_steps, n.downtime_delay_s,
                    n.completion_timeout_s,
                    '-fc' if n.timeout_action == 'force_complete' else '',
                    '-pc' if n.permit_post_copy else '',
                    '-ac' if n.permit_auto_converge else '', self.hogs,
                    self.label, self.repeat))


def _base_row(spec):
    w, n = spec.workload, spec.nova
    row = dict.fromkeys(FIELDS, '')
    row.update({
        'run_id': spec.run_id, 'group': spec.group, 'label': spec.label,
        'repeat': spec.repeat, 'transport': spec.transport,
        'parallel': n.parallel_connections, 'memory_mib': spec.memory_mib,
        'touched_mib': round(w.touched_mib(spec.memory_mib), 3),
        'workload': 'bursty' if w.bursty else (
            'steady' if w.dirty_rate_mibps else 'idle'),
        'dirty_rate_mibps': round(w.mean_rate_mibps, 3),
        'burst_rate_mibps': w.dirty_rate_mibps,
        'burst_on_ms': w.burst_on_ms, 'burst_off_ms': w.burst_off_ms,
        'wss_mib': w.wss_mib, 'bandwidth_mbps': spec.bandwidth_mbps,
        'rtt_ms': spec.rtt_ms, 'nova_downtime_ms': n.downtime_ms,
        'nova_downtime_steps': n.downtime_steps,
        'nova_downtime_delay_s': n.downtime_delay_s,
        'nova_completion_timeout_s': n.completion_timeout_s,
        'nova_timeout_action': n.timeout_action,
        'post_copy': int(n.permit_post_copy),
        'auto_converge': int(n.permit_auto_converge), 'hogs': spec.hogs,
    })
    return row


class _DestWatcher(threading.Thread):
    """Connects to the destination QEMU's QMP socket as soon as it exists."""

    def __init__(self, path, deadline_s):
        super().__init__(daemon=True, name='qmp-dest')
        self.path = path
        self.deadline = time.monotonic() + deadline_s
        self.watcher = None
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.is_set() and (
                time.monotonic() < self.deadline):
            try:
                self.watcher = qmp.QMPWatcher(self.path).connect(wait=0.2)
                return
            except TestbedError:
                time.sleep(0.01)


def run(spec, src, dst, elf):
    """Run *spec* from host *src* to host *dst*; return a row of FIELDS."""
    import libvirt
    if spec.transport not in TRANSPORTS:
        raise TestbedError('transport %r: use one of %s'
                           % (spec.transport, ', '.join(TRANSPORTS)))
    if spec.nova.native_tls != (spec.transport == 'tls'):
        raise TestbedError('transport %s needs native_tls=%s'
                           % (spec.transport, spec.transport == 'tls'))
    row = _base_row(spec)
    started = time.monotonic()
    g = libvirt_guest.Guest(spec.memory_mib, spec.workload,
                            name='qslm-%s' % spec.label)
    # As nova-compute: libvirt's event loop runs before any connection.
    nova_monitor.start_event_loop()
    row['event_loop'] = 1
    csrc, cdst = src.connect(), dst.connect()
    refused = nova_monitor.refused_by_nova(spec.nova,
                                           qemu_version(csrc))
    if refused:
        for conn in (csrc, cdst):
            conn.close()
        raise TestbedError(refused)
    with contextlib.ExitStack() as stack:
        stack.callback(_cleanup, g, (src, csrc), (dst, cdst))
        stack.enter_context(hostload.CPUHogs((src, dst), spec.hogs))
        dom = g.boot(src, csrc, elf, peer=dst)
        g.wait_progress(src, 60, after=2)
        swatch = qmp.QMPWatcher(src.host_path(g.qmp_socket(src))).connect()
        stack.callback(swatch.close)
        row['qemu_dirty_rate_mibps'] = _dirty_rate(dom, libvirt)
        dwatch = _DestWatcher(dst.host_path(g.qmp_socket(dst)), 600)
        dwatch.start()
        stack.callback(_close_dest, dwatch)
        last = {}

        def on_poll():
            with contextlib.suppress(TestbedError):
                info = swatch.execute('query-migrate', timeout=1.0)
                if info.get('status') == 'active':
                    last.update(info)

        load = hostload.LoadSample.start()
        pidfile = '/run/libvirt/qemu/%s.pid' % g.name
        with threadshare.Sampler({'src': src.host_path(pidfile),
                                  'dst': dst.host_path(pidfile)}) as shares, \
                hostload.RunQueue() as queue:
            result = nova_monitor.live_migrate(
                dom, dst.name, spec.nova, spec.memory_mib, on_poll=on_poll,
                deadline_s=spec.deadline_s)
        row.update(load.stop().as_row())
        row.update(queue.as_row())
        row.update(shares.columns())
        libvirt_record.record_monitor(row, result)
        libvirt_record.record_qemu(row, result, swatch, dwatch)
        row['expected_downtime_ms'] = last.get('expected-downtime', '')
        if result.outcome in ('completed', 'forced-pause', 'post-copy'):
            moved = _moved(cdst, g, dst, result.outcome)
            stats = moved.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
            libvirt_record.record_stats(row, stats)
            _check_memory(row, g, src, dwatch, elf, result.outcome)
            _check_alive(row, g, dst, moved, dwatch)
        elif result.outcome == 'aborted':
            seen = len(g.progress(src))
            try:
                g.wait_progress(src, 10, after=seen)
                row['source_alive_after'] = 1
            except TestbedError:
                row['source_alive_after'] = 0
        points = g.progress(src)
        if len(points) >= 2:
            (t0, w0), (t1, w1) = points[0], points[-1]
            if t1 > t0:
                row['guest_rate_mibps'] = round(
                    (w1 - w0) * guest_mod.PAGE_BYTES / 2.0 ** 20 /
                    ((t1 - t0) / float(spec.workload.hz)), 3)
    _set_status(row, result)
    row['wall_s'] = round(time.monotonic() - started, 2)
    return row


def _moved(cdst, g, dst, outcome):
    """The guest's domain on *dst* after a migration that ended
    *outcome*; TestbedError when the destination has none.
    """
    import libvirt
    try:
        return cdst.lookupByUUIDString(g.uuid)
    except libvirt.libvirtError as e:
        # Seen once on QEMU 10: Nova's abort at the timeout raced the end
        # of the migration; the destination had no domain.
        raise TestbedError('the migration ended %s but %s has no such '
                           'domain: %s' % (outcome, dst.name, e))


def _dirty_rate(dom, libvirt, seconds=1):
    """QEMU's page-sampling dirty rate (MiB/s), '' when unavailable."""
    try:
        dom.startDirtyRateCalc(
            seconds, libvirt.VIR_DOMAIN_DIRTYRATE_MODE_PAGE_SAMPLING)
        deadline = time.monotonic() + seconds + 10
        while time.monotonic() < deadline:
            time.sleep(0.25)
            stats = dom.connect().domainListGetStats(
                [dom], libvirt.VIR_DOMAIN_STATS_DIRTYRATE)[0][1]
            if stats.get('dirtyrate.calc_status') == 2:  # measured
                return stats.get('dirtyrate.megabytes_per_second', '')
    except libvirt.libvirtError as e:
        LOG.warning('dirty-rate calculation failed: %s', e)
    return ''


def qemu_version(conn):
    """(major, minor, micro) of the hypervisor behind *conn*."""
    v = conn.getVersion()
    return (v // 1000000, v // 1000 % 1000, v % 1000)


def _set_status(row, result):
    row['status'] = 'ok' if result.outcome not in (
        'failed', 'testbed-timeout') else 'error'
    if row['guest_alive_on_dest'] == 0:
        # Migrated, but not seen running where it went: not a completed
        # migration (the report leaves it out; the campaign retries it).
        row['status'] = 'guest-not-running'
    failed_switch = [what for _, what, _ in result.events
                     if what == 'postcopy-failed']
    if failed_switch:
        row['error'] = (row['error'] + '; ' if row['error'] else '') + (
            'post-copy switch refused %d times' % len(failed_switch))


def _check_memory(row, g, src, dwatch, elf, outcome):
    """Does the destination's memory hold what the source last showed?

    ``src_last_ticks``: the tick count of the guest's last progress line
    on the source, printed before the stop; ``dest_ticks_in_memory``: its
    tick counter in the destination's RAM, read (HMP ``xp``) as the
    check begins. The counter only grows, so a smaller value means the
    destination received an older copy of that page than the source had
    when it stopped: a write the migration did not carry over. Not read
    after a post-copy switch (the page may still be on the source).
    """
    points = g.progress(src)
    if points:
        row['src_last_ticks'] = points[-1][0]
    if outcome == 'post-copy' or dwatch.watcher is None:
        return
    try:
        address = guest_mod.symbol_address(elf, 'ticks')
    except (TestbedError, OSError, subprocess.SubprocessError) as e:
        LOG.warning('guest symbol table unreadable: %s', e)
        return
    if address is None:
        return
    with contextlib.suppress(TestbedError, ValueError, IndexError):
        text = dwatch.watcher.execute(
            'human-monitor-command', timeout=2.0,
            **{'command-line': 'xp /1wu 0x%x' % address})
        row['dest_ticks_in_memory'] = int(str(text).split()[-1])


def _check_alive(row, g, dst, dom, dwatch, wait_s=10.0, late_s=50.0):
    """Is the guest running on the destination, and how do we know?

    The guest prints a progress line every 250 of its ticks on its serial
    console; a new line within *wait_s* is the proof. The domain's state
    (libvirt's state/reason, QEMU's status) is recorded; when no line
    comes, the check waits up to *late_s* more to tell a slow guest from
    a dead one: ``dest_progress_s`` is when the first line came (empty:
    none), ``dest_qemu_cpu_s`` the CPU time the destination QEMU used
    meanwhile, ``dest_console_tail`` the console's end.
    """
    with contextlib.suppress(Exception):
        state, reason = dom.state()
        row['dest_state'] = '%d/%d' % (state, reason)
    if dwatch.watcher is not None:
        with contextlib.suppress(TestbedError):
            status = dwatch.watcher.execute('query-status', timeout=2.0)
            row['dest_state'] += ' %s' % status.get('status')
    seen = len(g.progress(dst))
    begin = time.monotonic()
    cpu0 = _qemu_cpu_s(dst, g.name)
    try:
        g.wait_progress(dst, wait_s, after=seen, booted=False)
        row['guest_alive_on_dest'] = 1
    except TestbedError:
        row['guest_alive_on_dest'] = 0
        with contextlib.suppress(TestbedError):
            g.wait_progress(dst, late_s, after=seen, booted=False)
        cpu1 = _qemu_cpu_s(dst, g.name)
        if cpu0 is not None and cpu1 is not None:
            row['dest_qemu_cpu_s'] = round(cpu1 - cpu0, 2)
        row['dest_console_tail'] = g.console_text(dst)[-160:].replace(
            '\n', ' | ')
    if len(g.progress(dst)) > seen:
        row['dest_progress_s'] = round(time.monotonic() - begin, 2)


def _qemu_cpu_s(host, name):
    """CPU seconds the QEMU of domain *name* on *host* has used, or None."""
    try:
        with open(host.host_path('/run/libvirt/qemu/%s.pid' % name)) as f:
            pid = int(f.read().strip())
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(
            os.sysconf('SC_CLK_TCK'))
    except (OSError, ValueError, IndexError, TestbedError):
        return None


def _close_dest(dwatch):
    dwatch.stop_flag.set()
    dwatch.join(2)
    if dwatch.watcher is not None:
        dwatch.watcher.close()


def _cleanup(g, *sides):
    for host, conn in sides:
        with contextlib.suppress(Exception):
            dom = conn.lookupByUUIDString(g.uuid)
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        with contextlib.suppress(Exception):
            conn.close()
        shutil.rmtree(host.host_path(g.instance_dir(host)),
                      ignore_errors=True)
