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

"""Run one real live migration between two QEMU processes on loopback."""

import contextlib
import dataclasses
import os
import shutil
import subprocess
import tempfile
import time

from oslo_log import log as logging

from qslm_nova.testbed import guest as guest_mod
from qslm_nova.testbed import netns as netns_mod
from qslm_nova.testbed import qemu_record
from qslm_nova.testbed import qmp
from qslm_nova.testbed import TestbedError
from qslm_nova.testbed import transports

LOG = logging.getLogger(__name__)

QEMU = 'qemu-system-x86_64'
# Another QEMU binary for the testbed (raw and libvirt runs alike).
QEMU_ENV = 'QSLM_TESTBED_QEMU'
# max-bandwidth for "no cap" (QEMU's default would be 32 MiB/s).
UNLIMITED_BPS = 1 << 40
FINAL_STATES = ('completed', 'failed', 'cancelled')
# How the link speed is emulated: 'tc' shapes the loopback of a private
# network namespace (every phase runs at link speed, QEMU uncapped, as
# with Nova's default live_migration_bandwidth=0); 'qemu-cap' sets QEMU's
# max-bandwidth, which does not limit the final stop-and-copy.
LINK_MODES = ('tc', 'qemu-cap')

# CSV columns of one measurement, in order.
FIELDS = (
    'run_id', 'repeat', 'transport', 'transport_detail', 'link',
    'memory_mib',
    'touched_mib', 'dirty_rate_mibps', 'wss_mib', 'bandwidth_mbps',
    'downtime_limit_ms', 'auto_converge', 'postcopy', 'status',
    'total_time_ms', 'downtime_ms', 'setup_time_ms', 'expected_downtime_ms',
    'ram_transferred', 'ram_total', 'ram_duplicate', 'ram_normal',
    'ram_normal_bytes', 'ram_remaining', 'ram_downtime_bytes',
    'ram_precopy_bytes', 'dirty_pages_rate',
    'dirty_pages_rate_peak', 'dirty_sync_count', 'downtime_e2e_ms', 'ram_mbps',
    'postcopy_requests', 'qemu_dirty_rate_mibps', 'guest_rate_mibps',
    'dest_running', 'guest_alive_on_dest', 'wall_s', 'host_load1', 'error',
)


@dataclasses.dataclass
class MigrationSpec(object):
    memory_mib: int = 64
    workload: guest_mod.Workload = dataclasses.field(
        default_factory=guest_mod.Workload)
    bandwidth_mbps: float = 1000.0   # 0 = uncapped; Mbit/s (10^6 bit/s)
    downtime_limit_ms: int = 300
    transport: str = 'tcp'
    auto_converge: bool = False
    postcopy: bool = False
    repeat: int = 0
    timeout_s: float = 120.0
    measure_dirty_rate: bool = True
    ssh_cipher: str = transports.DEFAULT_SSH_CIPHER
    link: str = 'tc'

    @property
    def run_id(self):
        w = self.workload
        return '%s-m%d-d%g-b%g-l%d%s%s-r%d' % (
            self.transport, self.memory_mib, w.dirty_rate_mibps,
            self.bandwidth_mbps, self.downtime_limit_ms,
            '-ac' if self.auto_converge else '',
            '-pc' if self.postcopy else '', self.repeat) + (
                '-qcap' if self.link == 'qemu-cap' else '')


def check_qemu():
    """Return (path, version string) or raise TestbedError."""
    path = qemu_path()
    out = subprocess.run([path, '--version'], capture_output=True,
                         text=True, timeout=30).stdout
    return path, out.splitlines()[0] if out else 'unknown'


def qemu_path():
    """The testbed's QEMU binary, or raise TestbedError.

    ``$QSLM_TESTBED_QEMU`` when set (for example a newer QEMU unpacked by
    ``tools/testbed-qemu.sh``), else ``qemu-system-x86_64`` on the PATH.
    """
    wanted = os.environ.get(QEMU_ENV)
    if wanted:
        if not (os.path.isfile(wanted) and os.access(wanted, os.X_OK)):
            raise TestbedError('%s=%s is not an executable file'
                               % (QEMU_ENV, wanted))
        path = os.path.abspath(wanted)
    else:
        path = shutil.which(QEMU)
    if not path:
        raise TestbedError('the testbed needs %s (Debian package '
                           'qemu-system-x86)' % QEMU)
    return path


class _Qemu(object):
    def __init__(self, role, workdir, spec, elf, objects, incoming,
                 wrap=None):
        self.role = role
        self.sock = os.path.join(workdir, '%s.qmp' % role)
        self.debuglog = os.path.join(workdir, '%s.debugcon' % role)
        self.stderr_path = os.path.join(workdir, '%s.stderr' % role)
        path = qemu_path()
        cmd = [path, '-machine', 'pc,accel=tcg', '-cpu', 'qemu64',
               '-m', str(spec.memory_mib), '-smp', '1',
               '-nodefaults', '-no-user-config', '-display', 'none',
               '-kernel', elf, '-append', spec.workload.cmdline(),
               '-debugcon', 'file:%s' % self.debuglog,
               '-qmp', 'unix:%s,server=on,wait=off' % self.sock]
        for obj in objects:
            cmd += ['-object', obj]
        if incoming:
            cmd += ['-incoming', 'defer']
        self._err = open(self.stderr_path, 'w')
        if wrap is not None:
            cmd = wrap(cmd)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._err,
                                     stderr=subprocess.STDOUT)
        self.qmp = qmp.QMPClient(self.sock)

    def connect(self):
        try:
            self.qmp.connect()
        except TestbedError as e:
            raise TestbedError('%s QEMU: %s; stderr: %s'
                               % (self.role, e, self.stderr()))

    def stderr(self):
        try:
            with open(self.stderr_path) as f:
                return f.read().strip()[-2000:]
        except OSError:
            return ''

    def debugcon(self):
        try:
            with open(self.debuglog, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def stop(self):
        if self._err.closed:
            return
        if self.proc.poll() is None:
            try:
                self.qmp.execute('quit')
            except (TestbedError, OSError):
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.qmp.close()
        self._err.close()


def _wait_ready(vm, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if vm.proc.poll() is not None:
            raise TestbedError('source QEMU exited (%s): %s'
                               % (vm.proc.returncode, vm.stderr()))
        ready, points = guest_mod.parse_progress(vm.debugcon())
        if ready and points:
            return ready
        time.sleep(0.05)
    raise TestbedError('guest did not report READY within %.0f s; '
                       'debugcon: %r' % (timeout, vm.debugcon()[-300:]))


def _new_row(spec):
    """A row of FIELDS with what *spec* says, the rest empty."""
    w = spec.workload
    row = dict.fromkeys(FIELDS, '')
    row.update({
        'run_id': spec.run_id, 'repeat': spec.repeat,
        'transport': spec.transport, 'link': spec.link,
        'memory_mib': spec.memory_mib,
        'touched_mib': round(w.touched_mib(spec.memory_mib), 3),
        'dirty_rate_mibps': w.dirty_rate_mibps, 'wss_mib': w.wss_mib,
        'bandwidth_mbps': spec.bandwidth_mbps,
        'downtime_limit_ms': spec.downtime_limit_ms,
        'auto_converge': int(spec.auto_converge),
        'postcopy': int(spec.postcopy),
    })
    return row


def _configure(spec, tr, src, dst):
    """Migration capabilities and parameters on both QEMUs."""
    caps = [{'capability': 'events', 'state': True}]
    if spec.auto_converge:
        caps.append({'capability': 'auto-converge', 'state': True})
    if spec.postcopy:
        caps.append({'capability': 'postcopy-ram', 'state': True})
    for vm in (src, dst):
        vm.qmp.execute('migrate-set-capabilities', capabilities=caps)
        params = tr.migrate_parameters(vm.role)
        if vm.role == 'src':
            params['downtime-limit'] = int(spec.downtime_limit_ms)
            params['max-bandwidth'] = (
                int(spec.bandwidth_mbps * 1e6 / 8)
                if spec.bandwidth_mbps > 0 and spec.link == 'qemu-cap'
                else UNLIMITED_BPS)
        vm.qmp.execute('migrate-set-parameters', **params)


def run_migration(spec, workdir=None, keep=False):
    """Run one migration described by *spec*; return a dict of FIELDS."""
    if spec.transport not in transports.NAMES:
        raise TestbedError('unknown transport %r' % spec.transport)
    if spec.link not in LINK_MODES:
        raise TestbedError('unknown link emulation %r (known: %s)'
                           % (spec.link, ', '.join(LINK_MODES)))
    check_qemu()
    base = workdir or tempfile.mkdtemp(prefix='qslm-testbed-')
    os.makedirs(base, exist_ok=True)
    elf = guest_mod.build(os.path.join(base, 'guest-build'))
    rundir = tempfile.mkdtemp(prefix=spec.run_id + '-', dir=base)
    w = spec.workload
    row = _new_row(spec)
    started = time.monotonic()
    kwargs = {}
    if spec.transport == 'ssh':
        kwargs['cipher'] = spec.ssh_cipher
    src = dst = None
    try:
        with contextlib.ExitStack() as stack:
            ns = None
            if spec.link == 'tc':
                ns = stack.enter_context(
                    netns_mod.LinkEmulation(spec.bandwidth_mbps))
            tr = stack.enter_context(
                transports.get(spec.transport, rundir, netns=ns, **kwargs))
            row['transport_detail'] = tr.describe()
            if ns is not None:
                ns.shape(tr.link_port)
            wrap = ns.wrap if ns is not None else None
            dst = _Qemu('dst', rundir, spec, elf, tr.dst_objects, True, wrap)
            src = _Qemu('src', rundir, spec, elf, tr.src_objects, False,
                        wrap)
            # Stop the QEMUs before the namespace and transport go.
            stack.callback(_stop_all, [src, dst])
            dst.connect()
            src.connect()
            _wait_ready(src, 30)
            time.sleep(0.5)
            src.qmp.events.clear()
            if spec.measure_dirty_rate and w.dirty_rate_mibps > 0:
                rate = qemu_record.measure_dirty_rate(src)
                row['qemu_dirty_rate_mibps'] = (
                    '' if rate is None else round(rate, 3))
            elif spec.measure_dirty_rate:
                row['qemu_dirty_rate_mibps'] = 0.0
            _configure(spec, tr, src, dst)
            dst.qmp.execute('migrate-incoming', uri=tr.dst_uri)
            src.qmp.execute('migrate', uri=tr.src_uri)
            info = _poll(src, spec, row)
            qemu_record.record_query_migrate(row, info)
            if row['status'] != 'completed':
                row['error'] = info.get('error-desc', row['status'])
            # Every progress line comes after the fill: the whole run
            # on the source, before and during the migration.
            _, after = guest_mod.parse_progress(src.debugcon())
            row['guest_rate_mibps'] = round(
                qemu_record.guest_rate(after, w.hz), 3)
            if row['status'] == 'completed':
                qemu_record.check_destination(dst, row, src)
    except TestbedError as e:
        row['status'] = row['status'] or 'error'
        row['error'] = str(e)
        raise
    finally:
        _stop_all([src, dst])
        row['wall_s'] = round(time.monotonic() - started, 3)
        row['host_load1'] = round(os.getloadavg()[0], 2)
        if not keep and row.get('status') == 'completed':
            shutil.rmtree(rundir, ignore_errors=True)
        if not keep and workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    return row


def _stop_all(vms):
    for vm in vms:
        if vm is not None:
            vm.stop()


def _poll(src, spec, row):
    deadline = time.monotonic() + spec.timeout_s
    peak = 0
    postcopy_started = False
    while True:
        info = src.qmp.execute('query-migrate')
        status = info.get('status')
        ram = info.get('ram', {})
        peak = max(peak, ram.get('dirty-pages-rate', 0))
        row['dirty_pages_rate_peak'] = peak
        if status in FINAL_STATES:
            # QEMU sets 'completed' a moment before it fills in the
            # times; ask again until they are there.
            for _ in range(50):
                if status != 'completed' or info.get('total-time'):
                    break
                time.sleep(0.02)
                info = src.qmp.execute('query-migrate')
            return info
        if (spec.postcopy and not postcopy_started and status == 'active'
                and ram.get('dirty-sync-count', 0) >= 2):
            src.qmp.execute('migrate-start-postcopy')
            postcopy_started = True
        if time.monotonic() > deadline:
            src.qmp.execute('migrate_cancel')
            info = src.qmp.execute('query-migrate')
            info['status'] = 'timeout'
            return info
        time.sleep(0.02)
