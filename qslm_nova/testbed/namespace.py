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

"""A "host" on this machine: persistent mount, UTS and network namespaces.

The namespaces are bound to files under ``STATE/ns`` (and the network
namespace also to ``/run/netns/NAME``, so ``ip -n NAME`` works), so they
outlive the process that made them and any number of commands can enter
them with ``nsenter``. Inside, host directories of ``STATE`` are bound
over system paths (``/etc/libvirt``, ``/run``, ...), the host name is the
host's own and, with a network namespace, only its loopback and the veth
links made by :class:`VethLink` exist.

:func:`destroy` kills every process still in the namespaces (one by one,
by pid), unmounts and removes them; it is idempotent and works from the
state directory alone, so a crashed run is cleaned up by calling it again.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import time

from oslo_log import log as logging

from qslm_nova.testbed import TestbedError

LOG = logging.getLogger(__name__)
NS_KINDS = ('mnt', 'uts', 'net')
NETNS_DIR = '/run/netns'


def tool(name, package):
    for cand in (shutil.which(name), '/usr/sbin/' + name, '/sbin/' + name):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise TestbedError('the libvirt testbed needs %s (Debian package %s)'
                       % (name, package))


def run(cmd, what=None, timeout=60, check=True, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    if check and proc.returncode:
        raise TestbedError('%s failed (%s): %s' % (
            what or ' '.join(cmd), proc.returncode,
            (proc.stderr or proc.stdout).strip()[-800:]))
    return proc


def _is_mounted(path):
    path = os.path.realpath(path)
    with open('/proc/self/mountinfo') as f:
        return any(line.split()[4] == path for line in f)


class HostNamespace(object):
    """Namespaces of one emulated host, bound to files in *state_dir*.

    binds: (host path, path inside) pairs mounted inside at creation;
    directories are made on both sides when missing (an empty directory
    on this machine's root file system is the only trace outside
    *state_dir*). network: True for a network namespace of its own.
    """

    def __init__(self, name, state_dir, binds=(), network=True):
        if len(name) > 12 or not name.replace('-', '').isalnum():
            raise TestbedError('host name %r: use at most 12 letters, '
                               'digits or dashes' % name)
        self.name = name
        self.state_dir = os.path.abspath(state_dir)
        self.ns_dir = os.path.join(self.state_dir, 'ns')
        self.binds = list(binds)
        self.network = network
        self.netns = 'qslm-%s' % name if network else None

    def ns_file(self, kind):
        return os.path.join(self.ns_dir, kind)

    def create(self):
        if not os.geteuid() == 0:
            raise TestbedError('the libvirt testbed makes namespaces and '
                               'mounts: run it as root')
        destroy(self.state_dir, self.netns)
        os.makedirs(self.ns_dir, exist_ok=True)
        mount = tool('mount', 'mount')
        # A namespace file may only be bound on a private mount.
        run([mount, '--bind', self.ns_dir, self.ns_dir])
        run([mount, '--make-private', self.ns_dir])
        kinds = NS_KINDS if self.network else NS_KINDS[:2]
        for kind in kinds:
            open(self.ns_file(kind), 'w').close()
        script = ['set -e', 'mount --make-rprivate /']
        for src, dst in self.binds:
            if os.path.isdir(src):
                os.makedirs(dst, exist_ok=True)
            elif not os.path.exists(dst):
                raise TestbedError('cannot bind %s over %s: %s does not '
                                   'exist' % (src, dst, dst))
            script.append('mount --bind %s %s' % (_q(src), _q(dst)))
        script.append('hostname %s' % _q(self.name))
        if self.network:
            # /sys/class/net must show this namespace's devices.
            script += ['umount -l /sys', 'mount -t sysfs sysfs /sys',
                       'ip link set lo up']
        args = [tool('unshare', 'util-linux'), '--propagation', 'private',
                '--mount=%s' % self.ns_file('mnt'),
                '--uts=%s' % self.ns_file('uts')]
        if self.network:
            args.append('--net=%s' % self.ns_file('net'))
        try:
            run(args + ['sh', '-c', '\n'.join(script)],
                what='setting up the namespaces of %s' % self.name)
            if self.network:
                os.makedirs(NETNS_DIR, exist_ok=True)
                named = os.path.join(NETNS_DIR, self.netns)
                open(named, 'w').close()
                run([mount, '--bind', self.ns_file('net'), named])
        except TestbedError:
            destroy(self.state_dir, self.netns)
            raise
        return self

    def wrap(self, cmd):
        """*cmd* as a command line that runs inside the namespaces."""
        args = [tool('nsenter', 'util-linux'),
                '--mount=%s' % self.ns_file('mnt'),
                '--uts=%s' % self.ns_file('uts')]
        if self.network:
            args.append('--net=%s' % self.ns_file('net'))
        return args + ['--'] + list(cmd)

    def run(self, cmd, **kwargs):
        """Run *cmd* inside; raises TestbedError when it fails."""
        return run(self.wrap(cmd), what='%s on %s' % (cmd[0], self.name),
                   **kwargs)

    def popen(self, cmd, **kwargs):
        return subprocess.Popen(self.wrap(cmd), **kwargs)

    def pids(self):
        return pids_in(self.state_dir)

    def destroy(self):
        destroy(self.state_dir, self.netns)


def _q(text):
    return "'%s'" % str(text).replace("'", "'\\''")


def _ns_inodes(state_dir):
    inodes = {}
    for kind in NS_KINDS:
        path = os.path.join(state_dir, 'ns', kind)
        if os.path.exists(path) and _is_mounted(path):
            inodes[kind] = os.stat(path).st_ino
    return inodes


def pids_in(state_dir):
    """Pids of the processes in any namespace of *state_dir*."""
    inodes = _ns_inodes(state_dir)
    found = []
    if not inodes:
        return found
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        for kind, inode in inodes.items():
            try:
                link = os.readlink('/proc/%s/ns/%s' % (entry, kind))
            except OSError:
                break
            if link == '%s:[%d]' % (kind, inode):
                found.append(int(entry))
                break
    return found


def kill_all(state_dir, grace=5.0):
    """SIGTERM, then SIGKILL, every process in the namespaces."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = pids_in(state_dir)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            time.sleep(0.1)
            pids = pids_in(state_dir)
        if not pids:
            return
    if pids_in(state_dir):
        raise TestbedError('processes %s in %s survive SIGKILL'
                           % (pids_in(state_dir), state_dir))


def destroy(state_dir, netns=None):
    """Kill, unmount and remove the namespaces of *state_dir* (idempotent).

    The state directory's content (logs, disks) stays for inspection.
    """
    state_dir = os.path.abspath(state_dir)
    kill_all(state_dir)
    umount = tool('umount', 'mount')
    if netns:
        named = os.path.join(NETNS_DIR, netns)
        if os.path.exists(named):
            if _is_mounted(named):
                run([umount, named], check=False)
            os.unlink(named)
    ns_dir = os.path.join(state_dir, 'ns')
    for kind in NS_KINDS:
        path = os.path.join(ns_dir, kind)
        if os.path.exists(path) and _is_mounted(path):
            run([umount, path], what='unmounting %s' % path)
    if os.path.isdir(ns_dir):
        while _is_mounted(ns_dir):
            run([umount, ns_dir], what='unmounting %s' % ns_dir)
        shutil.rmtree(ns_dir, ignore_errors=True)


class VethLink(object):
    """A veth pair between two hosts' network namespaces, optionally shaped.

    *a* and *b* are (HostNamespace, address) pairs; the addresses share
    one /24. :meth:`shape` sets rate and delay on both ends (the delay is
    split evenly, so *delay_ms* is the round-trip time added) and may be
    called again to change them between migrations.
    """

    def __init__(self, a, b, prefix=24, tag=None):
        self.ends = [a, b]
        self.prefix = prefix
        tag = tag or hashlib.sha1(('%s/%s' % (a[0].name, b[0].name))
                                  .encode()).hexdigest()[:10]
        self.devs = ['qa-' + tag, 'qb-' + tag]

    def create(self):
        ip = tool('ip', 'iproute2')
        (ha, _), (hb, _) = self.ends
        run([ip, 'link', 'add', self.devs[0], 'netns', ha.netns, 'type',
             'veth', 'peer', 'name', self.devs[1], 'netns', hb.netns])
        for (host, addr), dev in zip(self.ends, self.devs):
            run([ip, '-n', host.netns, 'addr', 'add',
                 '%s/%d' % (addr, self.prefix), 'dev', dev])
            run([ip, '-n', host.netns, 'link', 'set', dev, 'up'])
        return self

    def shape(self, rate_mbps=0.0, delay_ms=0.0):
        """Rate (Mbit/s, 0 = unlimited) and added round-trip time."""
        tc = tool('tc', 'iproute2')
        for (host, _), dev in zip(self.ends, self.devs):
            run([tc, '-n', host.netns, 'qdisc', 'del', 'dev', dev, 'root'],
                check=False)
            parent = ['root']
            if rate_mbps > 0:
                rate = '%dkbit' % int(rate_mbps * 1000)
                burst = max(256 * 1024, int(rate_mbps * 1e6 / 8 * 0.002))
                run([tc, '-n', host.netns, 'qdisc', 'add', 'dev', dev,
                     'root', 'handle', '1:', 'htb', 'default', '10'])
                run([tc, '-n', host.netns, 'class', 'add', 'dev', dev,
                     'parent', '1:', 'classid', '1:10', 'htb', 'rate', rate,
                     'ceil', rate, 'burst', str(burst), 'cburst',
                     str(burst), 'quantum', '65536'])
                parent = ['parent', '1:10', 'handle', '10:']
            if delay_ms > 0:
                run([tc, '-n', host.netns, 'qdisc', 'add', 'dev', dev]
                    + parent + ['netem', 'delay', '%gms' % (delay_ms / 2.0),
                                'limit', '100000'],
                    what='adding %g ms with netem on %s (a kernel without '
                    'CONFIG_NET_SCH_NETEM cannot emulate latency)'
                    % (delay_ms, dev))
        return self
