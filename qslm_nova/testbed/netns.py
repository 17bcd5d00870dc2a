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

"""Link emulation: a private network namespace whose loopback is shaped.

QEMU's ``max-bandwidth`` only limits the pre-copy rounds; the final
stop-and-copy runs unlimited, so it does not behave like a slow link.
Shaping the loopback device of a network namespace of our own with
``tc`` (token bucket, optionally netem delay) emulates a real link for
every phase, and touches no interface outside that namespace.
"""

import itertools
import os
import shutil
import subprocess
import sys
import time

from oslo_log import log as logging

from qslm_nova.testbed import TestbedError

LOG = logging.getLogger(__name__)

_counter = itertools.count()


def _need(tool):
    path = shutil.which(tool) or ('/usr/sbin/' + tool
                                  if os.path.exists('/usr/sbin/' + tool)
                                  else None)
    if not path:
        raise TestbedError('link emulation needs %s (Debian package '
                           'iproute2)' % tool)
    return path


class LinkEmulation(object):
    """Context manager: a namespace whose loopback runs at *rate_mbps*."""

    def __init__(self, rate_mbps, delay_ms=0.0):
        self.rate_mbps = float(rate_mbps)
        self.delay_ms = float(delay_ms)
        self.name = 'qslm-tb-%d-%d' % (os.getpid(), next(_counter))
        self._ip = None

    def _run(self, *args):
        proc = subprocess.run(list(args), capture_output=True, text=True)
        if proc.returncode:
            raise TestbedError(
                'link emulation failed (needs root with CAP_NET_ADMIN and '
                'CAP_SYS_ADMIN, and iproute2): %s: %s'
                % (' '.join(args), proc.stderr.strip()))
        return proc.stdout

    def __enter__(self):
        self._ip = _need('ip')
        _need('tc')
        if os.geteuid() != 0:
            raise TestbedError('link emulation with tc in a network '
                               'namespace needs root; run as root or use '
                               'QEMU max-bandwidth only (link=qemu-cap)')
        self._run(self._ip, 'netns', 'add', self.name)
        try:
            self._run(self._ip, '-n', self.name, 'link', 'set', 'lo', 'up')
        except TestbedError:
            self.__exit__()
            raise
        return self

    def shape(self, port):
        """Limit traffic to TCP port *port* (the link leg) to the rate.

        Only the leg that crosses the emulated link is shaped: an SSH
        tunnel's local hops (QEMU to ssh, sshd to QEMU) stay on the
        hosts' own loopback in a real deployment, so they stay fast here.
        """
        if self.rate_mbps <= 0:
            return
        tc = _need('tc')
        rate = '%dkbit' % int(self.rate_mbps * 1000)
        # Bucket: 256 KiB (room for GSO bursts) or 2 ms of the rate.
        burst = max(256 * 1024, int(self.rate_mbps * 1e6 / 8 * 0.002))
        # HTB without a default class: unclassified traffic (the hosts'
        # local hops, ACKs) goes out directly, unshaped.
        self._run(tc, '-n', self.name, 'qdisc', 'add', 'dev', 'lo', 'root',
                  'handle', '1:', 'htb')
        self._run(tc, '-n', self.name, 'class', 'add', 'dev', 'lo',
                  'parent', '1:', 'classid', '1:10', 'htb', 'rate', rate,
                  'ceil', rate, 'burst', str(burst), 'cburst', str(burst),
                  'quantum', '65536')
        if self.delay_ms > 0:
            try:
                self._run(tc, '-n', self.name, 'qdisc', 'add', 'dev', 'lo',
                          'parent', '1:10', 'handle', '10:', 'netem',
                          'delay', '%gms' % (self.delay_ms / 2.0),
                          'limit', '100000')
            except TestbedError as e:
                raise TestbedError('emulating %g ms round-trip time needs '
                                   'the netem qdisc, which this kernel '
                                   'lacks: %s' % (self.delay_ms, e))
        self._run(tc, '-n', self.name, 'filter', 'add', 'dev', 'lo',
                  'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
                  'match', 'ip', 'dport', str(int(port)), '0xffff',
                  'flowid', '1:10')

    def __exit__(self, *exc):
        if self._ip:
            subprocess.run([self._ip, 'netns', 'del', self.name],
                           capture_output=True)

    def wrap(self, cmd):
        return [self._ip, 'netns', 'exec', self.name] + list(cmd)

    def wait_port(self, port, timeout=10.0, proc=None, what='service'):
        """Wait until something listens on 127.0.0.1:port in the netns."""
        probe = ('import socket,sys\n'
                 's=socket.socket()\n'
                 's.settimeout(0.5)\n'
                 'sys.exit(s.connect_ex(("127.0.0.1",%d)))\n' % port)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise TestbedError('%s exited with %s before listening on '
                                   '%d' % (what, proc.returncode, port))
            rc = subprocess.run(self.wrap([sys.executable, '-c', probe]),
                                capture_output=True).returncode
            if rc == 0:
                return
            time.sleep(0.05)
        raise TestbedError('%s did not listen on 127.0.0.1:%d within '
                           '%.0f s' % (what, port, timeout))


# TCP payload probe. "both": sink and sender in one process on
# 127.0.0.1; "sink" / "send": the two ends on either side of a link.
GOODPUT_SCRIPT = '''
import socket, sys, threading, time
mode, addr, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(
    sys.argv[4])
def sink(srv):
    c, _ = srv.accept()
    while c.recv(1 << 20):
        pass
if mode in ("sink", "both"):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    if mode == "sink":
        sink(srv)
        sys.exit(0)
    threading.Thread(target=sink, args=(srv,), daemon=True).start()
s = socket.create_connection((addr, port), 10)
buf = bytes(1 << 16)
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < secs:
    s.sendall(buf)
    n += len(buf)
print(n * 8 / (time.monotonic() - t0) / 1e6)
'''


def measure_goodput(rate_mbps, seconds=1.5, port=4440):
    """TCP payload Mbit/s one stream gets through the emulated link."""
    with LinkEmulation(rate_mbps) as ns:
        ns.shape(port)
        proc = subprocess.run(
            ns.wrap([sys.executable, '-c', GOODPUT_SCRIPT, 'both',
                     '127.0.0.1', str(port), str(seconds)]),
            capture_output=True, text=True, timeout=seconds + 30)
        if proc.returncode:
            raise TestbedError('goodput probe failed: %s'
                               % proc.stderr.strip()[-500:])
        return float(proc.stdout.strip())
