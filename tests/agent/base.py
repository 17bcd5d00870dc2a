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

"""Agents on two real libvirt daemons, and migrations between them."""

import os
import queue
import tempfile
import threading
import time

import fixtures
import libvirt
import testtools

from qslm_nova.agent import cpuload
from qslm_nova.agent import dirtyrate
from qslm_nova.agent import libvirt_conn
from qslm_nova.agent import service
from qslm_nova.agent import spool as spool_mod
from qslm_nova.testbed import guest
from qslm_nova.testbed import libvirt_guest
from qslm_nova.testbed import libvirt_host
from tests import testbed

#: The flags Nova's libvirt driver migrates with (peer to peer, live).
NOVA_FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
              libvirt.VIR_MIGRATE_PERSIST_DEST |
              libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)


class Builder:
    """The profile part, off: these tests are about migrations."""

    facts = None

    def host(self, conn):
        self.facts = conn.getHostname()


class AgentTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.Timeout(600, gentle=True))
        testbed.hold_testbed_lock(self)
        self.base = tempfile.mkdtemp(prefix='qslm-agent-')
        self.addCleanup(os.system, 'rm -rf %s' % self.base)
        self.elf = libvirt_guest.build_elf(os.path.join(self.base, 'build'))

    def names(self, tag):
        base = 'ag%s%05d' % (tag, os.getpid() % 100000)
        return base + 'a', base + 'b'

    def pair(self, tag, tls=False, subnet='198.18.9'):
        """Two hosts joined by a 1 Gbit/s link; cleaned up at the end."""
        a, b, link = self._enter(libvirt_host.host_pair(
            self.base, tls=tls, names=self.names(tag), subnet=subnet))
        link.shape(rate_mbps=1000)
        return a, b, link

    def _enter(self, cm):
        value = cm.__enter__()
        self.addCleanup(cm.__exit__, None, None, None)
        return value

    def two_agents(self, tag, subnet, tls=False):
        """(a, b, link, agent of a, agent of b, conn to a, conn to b)."""
        a, b, link = self.pair(tag, tls=tls, subnet=subnet)
        ca, cb = a.connect(), b.connect()
        self.addCleanup(ca.close)
        self.addCleanup(cb.close)
        return a, b, link, self.agent(a, 'a'), self.agent(b, 'b'), ca, cb

    def agent(self, host, name, **kw):
        events = queue.Queue()
        watcher = libvirt_conn.LibvirtWatcher(host.uri, events)
        spool = spool_mod.Spool(os.path.join(self.base, 'state-' + name))
        agent = service.Agent(
            watcher, events, kw.pop('builder', Builder()), spool,
            cpuload.LoadMeter(),
            sampler=dirtyrate.DirtyRateSampler(watcher, 1),
            dirty_publisher=dirtyrate.Publisher(), **kw)
        self.addCleanup(watcher.close)
        self.addCleanup(spool.close)
        return agent

    def boot(self, host, conn, peer, memory=128, rate=8.0, wss=32.0):
        g = libvirt_guest.Guest(memory, guest.Workload(
            dirty_rate_mibps=rate, wss_mib=wss))
        g.name = 'ag-%s' % g.uuid[:8]
        return g, g.boot(host, conn, self.elf, peer=peer)

    @staticmethod
    def run_agents(agents, seconds, until=None):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for agent in agents:
                agent.tick(0.05)
            if until is not None and until():
                return True
        return False

    def migrate(self, dom, dest, agents, scheme='tcp', flags=0,
                during=None):
        """Migrate as Nova does while the agents tick; the error or None.
        """
        errors = []

        def go():
            try:
                dom.migrateToURI3(dest.peer_uri(scheme),
                                  {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 0},
                                  NOVA_FLAGS | flags)
            except libvirt.libvirtError as e:
                errors.append(e)

        t = threading.Thread(target=go)
        t.start()
        while t.is_alive():
            for agent in agents:
                agent.tick(0.05)
            if during is not None:
                during()
        t.join()
        return errors[0] if errors else None

    @staticmethod
    def spooled(agent):
        return [m for _k, m, _a in agent.spool.pending()]
