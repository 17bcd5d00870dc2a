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

"""nova-compute with Nova's libvirt driver, one libvirtd per host.

Each compute host is a :class:`qslm_nova.testbed.libvirt_host.LibvirtHost`:
Debian's libvirtd in mount and UTS namespaces of its own (private
``/etc/libvirt``, ``/run``, ``/var/lib/libvirt``, instances path, host
name, ``host_uuid``), sharing this machine's network so that it and its
nova-compute reach the control plane on 127.0.0.1. Each host has its own
loopback address (cmp-1 127.0.0.11, cmp-2 127.0.0.12, ...), on which its
libvirtd listens on the standard port; every host's ``/etc/hosts`` names
them all, so Nova's own migration URI ``qemu+tcp://cmp-2/system`` reaches
the peer. nova-compute runs inside its host's namespaces (``nsenter``):
it sees its libvirtd at ``qemu:///system`` and its instances at
``/var/lib/nova/instances``, the same path on every host, and the disks
are not shared, so Nova block-migrates them.

Guests are TCG (``virt_type = qemu``): the testbed's tiny multiboot guest
kernel (Glance image with ``kernel_id``) with a 1 MiB disk.
"""

import os

from qslm_nova.testbed import guest as guest_mod
from qslm_nova.testbed import libvirt_host
from qslm_nova.testbed import namespace

import nova_services

#: Dirty rate of the guest the scenarios migrate (MiB/s): small enough for
#: TCG on a shared machine to converge, large enough to need rounds.
GUEST_DIRTY_RATE_MIBPS = 2.0


def address(index):
    return '127.0.0.%d' % (11 + index)


def host_dir(state, host):
    return os.path.join(state.dir, 'data', 'libvirt', host)


class LibvirtDriver(object):
    """Starts a libvirtd per host and wraps nova-compute into it."""

    name = 'libvirt'
    compute_driver = 'libvirt.LibvirtDriver'

    def __init__(self, state, hosts):
        self.state = state
        self.hosts = list(hosts)
        names = {h: address(i) for i, h in enumerate(self.hosts)}
        self.libvirt = {}
        for host in self.hosts:
            cfg = libvirt_host.HostConfig(
                name=host, state_dir=host_dir(state, host),
                address=names[host], network=False,
                hosts={h: a for h, a in names.items() if h != host})
            self.libvirt[host] = libvirt_host.LibvirtHost(cfg)

    def start(self):
        for host in self.hosts:
            self.libvirt[host].start(timeout=120)

    def options(self, host):
        return {
            'DEFAULT': {'instances_path': libvirt_host.INSTANCES_PATH,
                        'my_ip': self.libvirt[host].config.address},
            'libvirt': {
                'virt_type': 'qemu',
                'connection_uri': 'qemu:///system',
                'cpu_mode': 'custom',
                'cpu_models': 'qemu64',
                'live_migration_scheme': 'tcp',
            },
            'vnc': {'enabled': False},
            'serial_console': {'enabled': False},
            # Root already: privsep's helper needs no sudo/rootwrap.
            'nova_sys_admin': {'helper_command': self._privsep()},
        }

    def _privsep(self):
        return os.path.join(self.state.venv, 'bin', 'privsep-helper')

    def wrap(self, host, argv):
        return self.libvirt[host].wrap(argv)

    def socket(self, host):
        return self.libvirt[host].socket_path

    def images(self, state):
        """The testbed guest's kernel, and a 1 MiB disk that boots it."""
        data = os.path.join(state.dir, 'data')
        kernel = guest_mod.build(os.path.join(data, 'guest-build'))
        disk = os.path.join(data, 'empty-disk.raw')
        with open(disk, 'wb') as f:
            f.truncate(1024 * 1024)
        workload = guest_mod.Workload(dirty_rate_mibps=GUEST_DIRTY_RATE_MIBPS,
                                      wss_mib=8.0)
        return [
            nova_services.GuestImage('qslm-guest-kernel', kernel, 'aki',
                                     'aki', {}, {}),
            nova_services.GuestImage(
                'qslm-guest', disk, 'raw', 'bare',
                {'hw_machine_type': 'pc',
                 'os_command_line': workload.cmdline(),
                 'qslm:dirty_rate_mibps': str(GUEST_DIRTY_RATE_MIBPS)},
                {'kernel_id': 'qslm-guest-kernel'}),
        ]

    def describe(self):
        return {host: {'libvirt_socket': self.socket(host),
                       'address': self.libvirt[host].config.address}
                for host in self.hosts}


def teardown(state_dir):
    """Kill and unmount every host's namespaces (also after a crash)."""
    base = os.path.join(state_dir, 'data', 'libvirt')
    if not os.path.isdir(base):
        return []
    done = []
    for host in sorted(os.listdir(base)):
        path = os.path.join(base, host)
        # A host whose namespaces still exist has an "ns" directory.
        if os.path.isdir(os.path.join(path, 'ns')):
            done.append(host)
        namespace.destroy(path)
    return done
