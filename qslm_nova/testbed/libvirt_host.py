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

"""A libvirtd of its own, as if on another host, on this one machine.

:class:`LibvirtHost` runs Debian's libvirtd in a
:class:`~qslm_nova.testbed.namespace.HostNamespace` with private
``/etc/libvirt``, ``/etc/pki``, ``/etc/hosts``, ``/run``,
``/var/lib/libvirt``, ``/var/cache/libvirt``, ``/var/log/libvirt`` and
Nova's instances path, its own host name and ``host_uuid`` (the only
thing libvirt compares to refuse a migration to "the same host"), and
either a network namespace of its own (peers reach it over a
:class:`~qslm_nova.testbed.namespace.VethLink`) or this machine's network
(then its ports are shifted by ``port_offset``). QEMU runs as root, without
cgroups or a security driver, and writes its console and log files itself
(no virtlogd).

Usage::

    with libvirt_host.host_pair('/tmp/tb', tls=True) as (a, b, link):
        link.shape(rate_mbps=1000, delay_ms=1)
        conn = libvirt.open(a.uri)          # from outside, unix socket
        dom.migrateToURI3(b.peer_uri('tls'), params, flags)  # peer-to-peer
        a.run(['virsh', 'list'])            # inside a's namespaces

A nova-compute can live in the same namespaces (``a.popen([...])``): it
sees the libvirtd at ``qemu:///system``, its instances path, and the
peer by host name through the private ``/etc/hosts``.
"""

import contextlib
import dataclasses
import os
import shutil
import subprocess
import time
import uuid

from oslo_log import log as logging

from qslm_nova.testbed import libvirt_tls
from qslm_nova.testbed import namespace
from qslm_nova.testbed import TestbedError

LOG = logging.getLogger(__name__)

TCP_PORT = 16509
TLS_PORT = 16514
MIGRATION_PORT_MIN = 49152
INSTANCES_PATH = '/var/lib/nova/instances'
# Private directories: name under the state directory -> path inside.
PRIVATE_DIRS = (
    ('etc-libvirt', '/etc/libvirt'),
    ('etc-pki', '/etc/pki'),
    ('run', '/run'),
    ('var-lib-libvirt', '/var/lib/libvirt'),
    ('var-cache-libvirt', '/var/cache/libvirt'),
    ('var-log-libvirt', '/var/log/libvirt'),
)


@dataclasses.dataclass
class HostConfig(object):
    """How to run one libvirt host.

    address: where peers reach it (its veth address with a network
    namespace of its own, else 127.0.0.1); hosts: other names for
    /etc/hosts (name -> address); port_offset: added to libvirt's and
    QEMU's ports (needed only when hosts share this machine's network).
    """

    name: str
    state_dir: str
    address: str = '127.0.0.1'
    network: bool = True
    tls: bool = False
    hosts: dict = dataclasses.field(default_factory=dict)
    port_offset: int = 0
    host_uuid: str = dataclasses.field(
        default_factory=lambda: str(uuid.uuid4()))
    instances_path: str = INSTANCES_PATH
    log_level: int = 3


class LibvirtHost(object):
    """Start, use and stop one libvirtd in namespaces of its own."""

    def __init__(self, config, ca=None):
        self.config = config
        self.ca = ca
        self.state_dir = os.path.abspath(config.state_dir)
        binds = [(self.private(n), inside) for n, inside in PRIVATE_DIRS]
        binds.append((self.private('instances'), config.instances_path))
        binds.append((self.private('hosts'), '/etc/hosts'))
        self.ns = namespace.HostNamespace(config.name, self.state_dir,
                                          binds, network=config.network)
        self.proc = None

    @property
    def name(self):
        return self.config.name

    def private(self, name):
        """This machine's path of a private directory (see PRIVATE_DIRS)."""
        return os.path.join(self.state_dir, name)

    def host_path(self, inside):
        """This machine's path for a path inside a private directory."""
        mounts = PRIVATE_DIRS + (('instances', self.config.instances_path),)
        for name, root in sorted(mounts, key=lambda m: -len(m[1])):
            if inside == root or inside.startswith(root.rstrip('/') + '/'):
                return os.path.join(self.private(name),
                                    os.path.relpath(inside, root))
        raise TestbedError('%s is not in a private directory of %s'
                           % (inside, self.name))

    @property
    def socket_path(self):
        return self.host_path('/run/libvirt/libvirt-sock')

    @property
    def uri(self):
        """Connection URI usable from this machine's root namespaces."""
        return 'qemu+unix:///system?socket=%s' % self.socket_path

    def port(self, scheme):
        base = {'tcp': TCP_PORT, 'tls': TLS_PORT}[scheme]
        return base + self.config.port_offset

    def peer_uri(self, scheme='tcp'):
        """URI a peer's libvirtd (or nova-compute) uses to reach this one."""
        if scheme == 'tls' and not self.config.tls:
            raise TestbedError('%s was started without TLS' % self.name)
        where = self.name
        if self.config.port_offset:
            where = '%s:%d' % (where, self.port(scheme))
        return 'qemu+%s://%s/system' % (scheme, where)

    def wrap(self, cmd):
        return self.ns.wrap(cmd)

    def run(self, cmd, **kwargs):
        return self.ns.run(cmd, **kwargs)

    def popen(self, cmd, **kwargs):
        return self.ns.popen(cmd, **kwargs)

    def start(self, timeout=60.0):
        self.ns.destroy()
        for name, _ in PRIVATE_DIRS + (('instances', None),):
            path = self.private(name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            os.makedirs(path)
        shutil.copytree('/etc/libvirt', self.private('etc-libvirt'),
                        dirs_exist_ok=True)
        for sub in ('run/libvirt', 'run/lock', 'var-lib-libvirt/qemu',
                    'var-cache-libvirt/qemu', 'var-log-libvirt/qemu'):
            os.makedirs(self.private(sub), exist_ok=True)
        self._write_config()
        if self.config.tls:
            if self.ca is None:
                raise TestbedError('%s: TLS needs a CertificateAuthority'
                                   % self.name)
            self.ca.issue(self.private('etc-pki'), self.name,
                          [self.config.address])
        self.ns.create()
        self._spawn(timeout)
        return self

    def _spawn(self, timeout, mode='w'):
        log = open(self.host_path('/var/log/libvirt/libvirtd.stderr'), mode)
        try:
            self.proc = self.popen(
                [namespace.tool('libvirtd', 'libvirt-daemon-system'),
                 '--listen'], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        finally:
            log.close()
        self._wait_ready(timeout)

    def restart_daemon(self, timeout=60.0, down_s=0.0):
        """Stop libvirtd alone and start it again after ``down_s``.

        The guests' QEMU processes keep running; the new daemon finds
        them again, as after ``systemctl restart libvirtd``.
        """
        self._end_daemon()
        time.sleep(down_s)
        self._spawn(timeout, mode='a')

    def _end_daemon(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _write_config(self):
        c = self.config
        listen = '0.0.0.0' if c.network else c.address
        with open(self.host_path('/etc/libvirt/libvirtd.conf'), 'w') as f:
            f.write('\n'.join([
                'host_uuid = "%s"' % c.host_uuid,
                'listen_tcp = 1',
                'listen_tls = %d' % int(c.tls),
                'listen_addr = "%s"' % listen,
                'tcp_port = "%d"' % self.port('tcp'),
                'tls_port = "%d"' % self.port('tls'),
                # Testbed only: any process that reaches the port (this
                # host's namespace and its peers) may manage the daemon.
                'auth_tcp = "none"',
                'auth_tls = "none"',
                'unix_sock_rw_perms = "0700"',
                'log_outputs = "%d:file:/var/log/libvirt/libvirtd.log"'
                % c.log_level, '']))
        mig = MIGRATION_PORT_MIN + 64 * c.port_offset
        with open(self.host_path('/etc/libvirt/qemu.conf'), 'w') as f:
            f.write('\n'.join([
                'user = "root"', 'group = "root"',
                'dynamic_ownership = 0', 'remember_owner = 0',
                'security_driver = "none"',
                'cgroup_controllers = [ ]',
                'namespaces = [ ]',
                'stdio_handler = "file"',
                'migration_port_min = %d' % mig,
                'migration_port_max = %d' % (mig + 63),
                'default_tls_x509_verify = 1', '']))
        names = {'localhost': '127.0.0.1', c.name: c.address}
        names.update(c.hosts)
        with open(self.private('hosts'), 'w') as f:
            for name, addr in names.items():
                f.write('%s %s\n' % (addr, name))

    def _wait_ready(self, timeout):
        import libvirt
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise TestbedError('libvirtd of %s exited (%s): %s' % (
                    self.name, self.proc.returncode, self.log_tail()))
            if os.path.exists(self.socket_path):
                try:
                    libvirt.open(self.uri).close()
                    return
                except libvirt.libvirtError as e:
                    LOG.debug('%s not ready: %s', self.name, e)
            if time.monotonic() > deadline:
                raise TestbedError('libvirtd of %s not ready within %.0f s:'
                                   ' %s' % (self.name, timeout,
                                            self.log_tail()))
            time.sleep(0.1)

    def log_tail(self, chars=2000):
        text = ''
        for name in ('libvirtd.stderr', 'libvirtd.log'):
            try:
                with open(self.host_path('/var/log/libvirt/' + name),
                          errors='replace') as f:
                    text += f.read()[-chars:]
            except OSError:
                pass
        return text.strip()[-chars:]

    def connect(self):
        import libvirt
        return libvirt.open(self.uri)

    def stop(self):
        """Destroy the domains, stop libvirtd, remove the namespaces."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                conn = self.connect()
                for dom in conn.listAllDomains():
                    with contextlib.suppress(Exception):
                        if dom.isActive():
                            dom.destroy()
                conn.close()
            self._end_daemon()
        self.ns.destroy()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@contextlib.contextmanager
def host_pair(base_dir, tls=False, names=('lvsrc', 'lvdst'),
              subnet='198.18.0', network=True):
    """Two libvirt hosts that know each other; yields (a, b, link).

    With *network*, each has a network namespace and the two are joined
    by a veth link (*subnet*.1 and *subnet*.2; link is a VethLink); else
    both use this machine's network with shifted ports (link is None).
    """
    base_dir = os.path.abspath(base_dir)
    addrs = (['%s.1' % subnet, '%s.2' % subnet] if network
             else ['127.0.0.1', '127.0.0.1'])
    ca = (libvirt_tls.CertificateAuthority(os.path.join(base_dir, 'ca'))
          if tls else None)
    hosts = []
    for i, name in enumerate(names):
        cfg = HostConfig(name=name,
                         state_dir=os.path.join(base_dir, name),
                         address=addrs[i], network=network, tls=tls,
                         hosts={names[1 - i]: addrs[1 - i]},
                         port_offset=0 if network else i + 1)
        hosts.append(LibvirtHost(cfg, ca))
    link = None
    try:
        with contextlib.ExitStack() as stack:
            for h in hosts:
                stack.enter_context(h)
            if network:
                link = namespace.VethLink((hosts[0].ns, addrs[0]),
                                          (hosts[1].ns, addrs[1])).create()
            yield hosts[0], hosts[1], link
    finally:
        for h in hosts:
            h.ns.destroy()
