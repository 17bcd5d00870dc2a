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

"""The testbed guest as a libvirt domain laid out the way Nova lays it out.

Kernel and console log live in ``INSTANCES/UUID/`` on each host (Nova's
``pre_live_migration`` makes the directory and fetches the kernel on the
destination; here :func:`place_kernel` copies it onto both), the domain is
defined persistently (type ``qemu``: TCG) and the guest's progress lines
go to its serial console file.
"""

import dataclasses
import os
import shutil
import time
import uuid as uuid_mod
from xml.sax import saxutils

from qslm_nova.testbed import guest as guest_mod
from qslm_nova.testbed import runner
from qslm_nova.testbed import TestbedError


@dataclasses.dataclass
class Guest(object):
    """One testbed instance: memory, workload, and where its files are."""

    memory_mib: int
    workload: guest_mod.Workload
    name: str = 'qslm-guest'
    uuid: str = dataclasses.field(
        default_factory=lambda: str(uuid_mod.uuid4()))

    def instance_dir(self, host):
        return os.path.join(host.config.instances_path, self.uuid)

    def kernel(self, host):
        return os.path.join(self.instance_dir(host), 'kernel')

    def console(self, host):
        return os.path.join(self.instance_dir(host), 'console.log')

    def qmp_socket(self, host):
        """The testbed's own QMP monitor (beside libvirt's), inside."""
        return os.path.join(self.instance_dir(host), 'qmp.sock')

    def console_text(self, host):
        try:
            with open(host.host_path(self.console(host)),
                      errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def xml(self, host):
        esc = saxutils.escape
        values = {
            'name': esc(self.name), 'uuid': self.uuid,
            'mem': self.memory_mib, 'kernel': esc(self.kernel(host)),
            'cmdline': esc(self.workload.cmdline()),
            'emulator': esc(runner.qemu_path()),
            'console': esc(self.console(host)),
            'qmp': esc(self.qmp_socket(host))}
        # A second QMP monitor for the testbed (events with QEMU's time
        # stamps, expected-downtime); libvirt marks the domain tainted
        # (custom-argv) but migrates it as any other.
        return '''<domain type='qemu'
 xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <memory unit='MiB'>%(mem)d</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%(kernel)s</kernel>
    <cmdline>%(cmdline)s</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>%(emulator)s</emulator>
    <serial type='file'>
      <source path='%(console)s'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-qmp'/>
    <qemu:arg value='unix:%(qmp)s,server=on,wait=off'/>
  </qemu:commandline>
</domain>
''' % values

    def place_kernel(self, elf, *hosts):
        for host in hosts:
            path = host.host_path(self.kernel(host))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            shutil.copyfile(elf, path)

    def boot(self, host, conn, elf, peer=None, timeout=120.0):
        """Define and start the domain on *host*; wait for READY."""
        import libvirt
        self.place_kernel(elf, *[h for h in (host, peer) if h is not None])
        try:
            dom = conn.defineXML(self.xml(host))
            dom.create()
        except libvirt.libvirtError as e:
            raise TestbedError('starting the guest on %s failed: %s; %s'
                               % (host.name, e, host.log_tail(500)))
        self.wait_progress(host, timeout)
        return dom

    def wait_progress(self, host, timeout, after=0, booted=True):
        """Wait until the console has more than *after* progress lines.

        booted: the guest booted on *host*, so its READY line must be
        there too (a migrated guest printed it on the source).
        """
        deadline = time.monotonic() + timeout
        while True:
            ready, points = guest_mod.parse_progress(self.console_text(host))
            if (ready or not booted) and len(points) > after:
                return len(points)
            if time.monotonic() > deadline:
                raise TestbedError(
                    'guest on %s: %d progress lines after %.0f s (wanted '
                    'more than %d); console: %r' % (
                        host.name, len(points), timeout, after,
                        self.console_text(host)[-300:]))
            time.sleep(0.1)

    def progress(self, host):
        return guest_mod.parse_progress(self.console_text(host))[1]


def build_elf(cache_dir):
    return guest_mod.build(cache_dir)
