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

"""Two libvirt daemons in namespaces of their own, live-migrating.

Real libvirtd (Debian), real QEMU (TCG), Nova's migration flags
(peer-to-peer, live, persist on the destination, undefine on the source),
plain TCP and QEMU native TLS; then nothing may be left behind.
"""

import os
import tempfile
import time

import fixtures
import libvirt
import testtools

from qslm_nova.testbed import guest
from qslm_nova.testbed import libvirt_guest
from qslm_nova.testbed import libvirt_host
from qslm_nova.testbed import namespace
from tests import testbed
NOVA_FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
              libvirt.VIR_MIGRATE_PERSIST_DEST |
              libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)


def _names(tag):
    base = 't%s%05d' % (tag, os.getpid() % 100000)
    return base + 'a', base + 'b'


class TestLibvirtHosts(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.Timeout(300, gentle=True))
        testbed.hold_testbed_lock(self)
        self.base = tempfile.mkdtemp(prefix='qslm-lvhost-')
        self.addCleanup(os.system, 'rm -rf %s' % self.base)
        self.elf = libvirt_guest.build_elf(os.path.join(self.base, 'build'))

    def _assert_gone(self, hosts):
        with open('/proc/self/mountinfo') as f:
            mounts = f.read()
        self.assertNotIn(self.base, mounts)
        for h in hosts:
            self.assertEqual([], namespace.pids_in(h.state_dir))
            self.assertFalse(os.path.exists('/run/netns/qslm-' + h.name))
            self.assertIsNotNone(h.proc.poll())

    def _migrate(self, tls):
        names = _names('s' if tls else 'p')
        with libvirt_host.host_pair(self.base, tls=tls, names=names,
                                    subnet='198.18.7') as (a, b, link):
            link.shape(rate_mbps=1000)
            self.assertEqual(names[0], a.run(['hostname']).stdout.strip())
            ca, cb = a.connect(), b.connect()
            # Each daemon reports its own host UUID (libvirt refuses to
            # migrate between two hosts with the same one).
            self.assertNotEqual(a.config.host_uuid, b.config.host_uuid)
            self.assertIn('<uuid>%s</uuid>' % a.config.host_uuid,
                          ca.getCapabilities())
            self.assertIn('<uuid>%s</uuid>' % b.config.host_uuid,
                          cb.getCapabilities())
            g = libvirt_guest.Guest(
                64, guest.Workload(dirty_rate_mibps=4.0, wss_mib=32))
            dom = g.boot(a, ca, self.elf, peer=b)
            flags = NOVA_FLAGS | (libvirt.VIR_MIGRATE_TLS if tls else 0)
            params = {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 0}
            if tls:
                # QEMU's TLS is really demanded: without the destination's
                # server certificate the migration is refused.
                cert = b.host_path('/etc/pki/qemu/server-cert.pem')
                os.rename(cert, cert + '.away')
                self.assertRaises(libvirt.libvirtError, dom.migrateToURI3,
                                  b.peer_uri('tls'), params, flags)
                os.rename(cert + '.away', cert)
                self.assertTrue(dom.isActive())
            dom.migrateToURI3(b.peer_uri('tls' if tls else 'tcp'), params,
                              flags)
            moved = cb.lookupByUUIDString(g.uuid)
            self.assertEqual(libvirt.VIR_DOMAIN_RUNNING, moved.state()[0])
            self.assertTrue(moved.isPersistent())
            self.assertEqual([], ca.listAllDomains())
            stats = moved.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
            self.assertEqual(libvirt.VIR_DOMAIN_JOB_COMPLETED, stats['type'])
            self.assertGreater(stats['downtime'], 0)
            self.assertGreater(stats['time_elapsed'], stats['downtime'])
            self.assertGreater(stats['memory_processed'], 50 << 20)
            seen = len(g.progress(b))
            g.wait_progress(b, 30, after=seen, booted=False)
            ca.close()
            cb.close()
            hosts = (a, b)
        self._assert_gone(hosts)

    def test_p2p_migration_plain(self):
        self._migrate(tls=False)

    def test_p2p_migration_tls(self):
        self._migrate(tls=True)

    def test_host_network_peers_and_crash_cleanup(self):
        names = _names('h')
        with libvirt_host.host_pair(self.base, names=names,
                                    network=False) as (a, b, link):
            self.assertIsNone(link)
            out = a.run(['virsh', '-c', b.peer_uri('tcp'), 'hostname'])
            self.assertEqual(names[1], out.stdout.strip())
            # A crash: the daemons and namespaces stay behind ...
            pid = b.proc.pid
            state = b.state_dir
            self.assertIn(pid, namespace.pids_in(state))
            # ... and cleaning up from the state directory alone ends them,
            # twice without complaint.
            namespace.destroy(state)
            namespace.destroy(state)
            deadline = time.monotonic() + 10
            while b.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertIsNotNone(b.proc.poll())
            self.assertFalse(os.path.exists(os.path.join(state, 'ns')))
            hosts = (a, b)
        self._assert_gone(hosts)
