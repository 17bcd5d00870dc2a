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

"""The agent measures real migrations between two libvirt daemons."""

import time

import libvirt

from qslm_nova.agent import records as r
from tests.agent import base


class TestMeasuredMigrations(base.AgentTestCase):

    def test_completed_migration_measured_on_both_sides(self):
        a, b, _link, src, dst, ca, cb = self.two_agents('c', '198.18.11')
        g, dom = self.boot(a, ca, b)
        self.run_agents([src, dst], 1)
        self.assertIsNone(self.migrate(dom, b, [src, dst]))
        self.run_agents([src, dst], 10, until=lambda: (
            self.spooled(src) and self.spooled(dst)))
        # Read as Nova's monitor would (clearing them): the agent read
        # them before and left them for Nova.
        libvirt_says = cb.lookupByUUIDString(g.uuid).jobStats(
            libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        self.assertIn('downtime', libvirt_says)
        incoming, = self.spooled(dst)
        outgoing, = self.spooled(src)
        # The destination charges libvirt's downtime of the migration.
        self.assertEqual((g.uuid, r.Role.DESTINATION, r.Outcome.COMPLETED),
                         (incoming.instance_uuid, incoming.role,
                          incoming.outcome))
        self.assertEqual(libvirt_says['downtime'], incoming.downtime_ms)
        self.assertEqual(libvirt_says['downtime'], incoming.charge_ms)
        self.assertEqual(libvirt_says['time_elapsed'],
                         incoming.figures.total_ms)
        self.assertGreater(incoming.figures.data_bytes, 100 << 20)
        # The source saw the same migration in its job-completed event
        # and only records it.
        self.assertEqual(incoming.downtime_ms, outgoing.downtime_ms)
        self.assertIsNone(outgoing.charge_ms)
        self.assertEqual(r.OPERATION_MIGRATION_OUT,
                         outgoing.figures.operation)

    def test_failed_migration_charges_the_pause(self):
        a, b, link, src, dst, ca, cb = self.two_agents('f', '198.18.12')
        g, dom = self.boot(a, ca, b, memory=64)
        # A downtime limit of five minutes on a 4 Mbit/s link: QEMU pauses
        # the guest at once and would copy for two minutes, so however
        # loaded the machine, the incoming QEMU is destroyed during that
        # pause; the migration fails with the source paused, and the
        # source resumes it.
        link.shape(rate_mbps=4)
        dom.migrateSetMaxDowntime(300000)
        killed = []

        def kill_incoming_once_paused():
            out = src.tracker.outgoing.get(g.uuid)
            if killed or out is None or out.paused_mono is None:
                return
            time.sleep(0.5)
            cb.lookupByUUIDString(g.uuid).destroy()
            killed.append(time.monotonic())

        error = self.migrate(dom, b, [src, dst],
                             during=kill_incoming_once_paused)
        self.assertIsNotNone(error)
        self.assertTrue(killed)
        self.run_agents([src, dst], 10, until=lambda: self.spooled(src))
        failed, = self.spooled(src)
        self.assertEqual((r.Role.SOURCE, r.Outcome.FAILED),
                         (failed.role, failed.outcome))
        # Paused from the switch-over until libvirt resumed it: at least
        # the half second before the kill.
        self.assertGreater(failed.charge_ms, 500)
        self.assertLess(failed.charge_ms, 30000)
        self.assertEqual(libvirt.VIR_DOMAIN_RUNNING, dom.state()[0])
        incoming, = self.spooled(dst)
        self.assertEqual((r.Outcome.FAILED, None),
                         (incoming.outcome, incoming.charge_ms))

    def test_cancelled_migration_recorded_without_a_pause(self):
        a, b, link, src, dst, ca, _cb = self.two_agents('x', '198.18.13')
        g, dom = self.boot(a, ca, b, memory=64)
        link.shape(rate_mbps=20)
        started = []

        def cancel_once_running():
            if not started and g.uuid in src.tracker.outgoing:
                started.append(True)
                dom.abortJob()

        self.assertIsNotNone(self.migrate(dom, b, [src, dst],
                                          during=cancel_once_running))
        self.run_agents([src, dst], 10, until=lambda: self.spooled(src))
        cancelled, = self.spooled(src)
        self.assertEqual((r.Outcome.FAILED, 0.0, None),
                         (cancelled.outcome, cancelled.downtime_ms,
                          cancelled.charge_ms))


class TestRestarts(base.AgentTestCase):

    def test_libvirt_restart_and_an_agent_that_was_away(self):
        a, b, _link, src, dst, ca, _cb = self.two_agents('r', '198.18.14')
        g, dom = self.boot(a, ca, b, memory=64)
        self.run_agents([src, dst], 1)
        self.assertTrue(dst.connected)
        # libvirtd of the destination goes away for two seconds: the
        # agent keeps running, says so, and reconnects by itself.
        with self.assertLogs('qslm_nova.agent.libvirt_conn',
                             'WARNING') as logs:
            b.restart_daemon(down_s=2.0)
            self.run_agents([dst], 4, until=lambda: not dst.connected)
            self.run_agents([dst], 30, until=lambda: dst.connected)
        self.assertTrue(dst.connected)
        self.assertIn('Connection to libvirt', logs.output[0])
        # The destination's agent is away during the migration ...
        self.assertIsNone(self.migrate(dom, b, [src]))
        self.assertEqual([], self.spooled(dst))
        dst.watcher.close()
        dst.connected = False
        while not dst.events.empty():
            dst.events.get()
        # ... and finds it when it is back, from libvirt's statistics.
        self.run_agents([dst], 5, until=lambda: self.spooled(dst))
        found, = self.spooled(dst)
        self.assertTrue(found.time_guessed)
        self.assertEqual(r.Outcome.COMPLETED, found.outcome)
        self.assertGreater(found.charge_ms, 0)
        # Found again at the next reconnection: still one record.
        dst.watcher.close()
        dst.connected = False
        self.run_agents([dst], 2)
        self.assertEqual(1, len(self.spooled(dst)))


class TestDirtyRate(base.AgentTestCase):

    def test_page_sampling_and_its_blind_spot(self):
        found = self.two_agents('d', '198.18.15')
        a, b, link, agent, b_agent, ca, _cb = found
        # 8 MiB/s over 16 MiB of pages: a working set of a multiple of
        # 128 pages makes the testbed guest write the same byte values
        # every pass; one page more makes them change.
        _g, changing = self.boot(a, ca, b, memory=64, wss=16 + 1 / 256.)
        _g, same = self.boot(a, ca, b, memory=64, wss=16.0)
        _g, idle = self.boot(a, ca, b, memory=64, rate=0.0)
        _g, gone = self.boot(a, ca, b, memory=64, rate=0.0)
        self.run_agents([agent], 3)
        sampler = agent.sampler
        rates = {}
        for round_ in range(3):
            self.assertEqual(4, sampler.start(time.monotonic()))
            if round_ == 2:
                gone.destroy()      # vanishes mid-sample
            time.sleep(sampler.calc_seconds + 0.6)
            for s in sampler.collect(time.monotonic(), time.time()):
                rates.setdefault(s.uuid, []).append(s.mibps)
        self.assertEqual(3, len(rates[changing.UUIDString()]))
        self.assertEqual(2, len(rates[gone.UUIDString()]))
        seen_changing = max(rates[changing.UUIDString()])
        seen_same = max(rates[same.UUIDString()])
        self.assertGreater(seen_changing, 2.0)
        # The blind spot: identical rewrites look (almost) clean ...
        self.assertLess(seen_same, seen_changing / 3.0)
        # ... while a migration sends the rewritten pages again as much
        # as the changed ones: more than an idle guest's data.
        link.shape(rate_mbps=200)
        sent = {}
        for dom in (idle, changing, same):
            uuid = dom.UUIDString()
            self.assertIsNone(self.migrate(dom, b, [agent, b_agent]))
            self.run_agents([b_agent], 10, until=lambda: any(
                m.instance_uuid == uuid for m in self.spooled(b_agent)))
            sent[uuid] = [m.figures.data_bytes for m in self.spooled(b_agent)
                          if m.instance_uuid == uuid][0]
        extra_same = sent[same.UUIDString()] - sent[idle.UUIDString()]
        extra_changing = (sent[changing.UUIDString()] -
                          sent[idle.UUIDString()])
        self.assertGreater(extra_same, 4 << 20)
        self.assertGreater(extra_same, 0.5 * extra_changing)
