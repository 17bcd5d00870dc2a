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

"""The agent's loop keeps going whatever fails, and loses no charge.

libvirt, Placement and Nova are stand-ins here (the real ones are in
tests/agent and tests/functional); the clocks are the test's.
"""

import datetime
import queue

import fixtures
from oslotest import base

from qslm_nova.agent import dirtyrate
from qslm_nova.agent import ledger
from qslm_nova.agent import records as r
from qslm_nova.agent import service
from qslm_nova.agent import spool as spool_mod
from qslm_nova import policy
from qslm_nova.profile import model
from tests.unit.agent import fakes
from tests.unit.agent import test_tracker

UUID = test_tracker.UUID
UTC = datetime.timezone.utc


class Clock:
    def __init__(self):
        self.mono = 100.0
        self.wall = 1796160000.0

    def advance(self, s):
        self.mono += s
        self.wall += s


class Watcher:
    """A LibvirtWatcher stand-in: up or down, stats on demand."""

    uri = 'qemu:///test'

    def __init__(self):
        self.up = True
        self.conn = object()
        self.stats = dict(test_tracker.STATS)
        self.closed = 0

    def ensure(self):
        return self.up

    def completed_stats(self, uuid):
        return self.stats if self.up else None

    def job_active(self, uuid):
        return False

    def catch_up(self, wall):
        return []

    def running_domains(self):
        return []

    def close(self):
        self.closed += 1


class Builder:
    facts = None

    def host(self, conn):
        self.facts = 'facts'

    def build(self, load, now):
        return model.HostProfile('cmp-2', transport='tls', accepts_tls=True,
                                 cpu_load=load, seen_at=int(now))

    @staticmethod
    def traits(profile):
        from qslm_nova.profile import traits
        return traits.encode(profile)


class Placement:
    def __init__(self):
        self.down = False
        self.published = []

    def publish(self, node, wanted):
        if self.down:
            raise RuntimeError('Placement unreachable')
        self.published.append(wanted)
        return True


class Meter:
    def __init__(self):
        self.load = 0.2

    def sample(self):
        return self.load


class AgentTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.clock = Clock()
        self.events = queue.Queue()
        self.watcher = Watcher()
        self.nova = fakes.FakeNovaAPI()
        self.nova.add_server(UUID, specs={policy.BUDGET: '5000'})
        self.nova.add_migration(
            UUID, 57, 'cmp-1', 'cmp-2',
            datetime.datetime.fromtimestamp(self.clock.wall - 20, UTC))
        self.placement = Placement()
        self.meter = Meter()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.agent = self.make()

    def make(self):
        spool = spool_mod.Spool(self.state, clock=lambda: self.clock.wall)
        self.addCleanup(spool.close)
        return service.Agent(
            self.watcher, self.events, Builder(), spool, self.meter,
            placement=self.placement,
            charger=ledger.LedgerCharger(self.nova, 'cmp-2'),
            intervals=service.Intervals(load=10, profile=300, retry=15,
                                        retry_max=120),
            host='cmp-2', wall=lambda: self.clock.wall,
            mono=lambda: self.clock.mono)

    def migrate_here(self):
        for event, detail in ((r.EVENT_STARTED, r.STARTED_MIGRATED),
                              (r.EVENT_RESUMED, r.RESUMED_MIGRATED)):
            self.events.put(r.DomainEvent(
                r.Kind.LIFECYCLE, UUID, self.clock.wall, self.clock.mono,
                event=event, detail=detail))

    def ticks(self, n, step=1.0):
        for _ in range(n):
            self.agent.tick(0)
            self.clock.advance(step)

    def used(self):
        return self.nova.metadata(UUID).get(policy.LEDGER_USED)


class TestCharging(AgentTestCase):

    def test_migration_charged_from_the_event(self):
        self.migrate_here()
        self.ticks(1)
        self.assertEqual('369', self.used())
        self.assertEqual({'done': 1}, self.agent.spool.counts())

    def test_nova_down_then_back_loses_nothing(self):
        self.nova.down = True
        self.migrate_here()
        with self.assertLogs('qslm_nova.agent.service', 'WARNING') as logs:
            self.ticks(60)
        self.assertIn('not settled yet (try 1', logs.output[0])
        self.assertIsNone(self.used())
        # Backing off: a few tries in a minute, not sixty.
        attempts = self.agent.spool.pending()[0][2]
        self.assertLess(attempts, 6)
        self.nova.down = False
        self.ticks(130)
        self.assertEqual('369', self.used())
        self.assertEqual({'done': 1}, self.agent.spool.counts())

    def test_agent_restart_settles_what_was_spooled(self):
        self.nova.down = True
        self.migrate_here()
        self.ticks(2)
        self.agent.spool.close()
        self.nova.down = False
        self.agent = self.make()
        self.ticks(1)
        self.assertEqual('369', self.used())

    def test_wall_clock_jump_neither_stops_nor_floods(self):
        self.nova.down = True
        self.migrate_here()
        self.ticks(1)
        before = self.agent.spool.pending()[0][2]
        self.clock.wall += 365 * 86400.0
        self.ticks(30)
        self.clock.wall -= 2 * 365 * 86400.0
        self.ticks(30)
        after = self.agent.spool.pending()[0][2]
        # Retries follow the monotonic clock: a few in a minute.
        self.assertLess(after - before, 6)
        self.assertGreater(after, before)


class TestFaults(AgentTestCase):

    def test_placement_down_keeps_the_loop_and_retries(self):
        self.placement.down = True
        with self.assertLogs('qslm_nova.agent.service', 'WARNING') as logs:
            self.ticks(25)
        self.assertEqual(1, len([o for o in logs.output
                                 if 'Cannot publish' in o]))
        self.placement.down = False
        self.ticks(11)
        self.assertTrue(self.placement.published)

    def test_load_step_publishes_again(self):
        self.ticks(1)
        self.assertEqual(1, len(self.placement.published))
        self.ticks(20)
        self.assertEqual(1, len(self.placement.published))
        self.meter.load = 0.71
        self.ticks(11)
        self.assertEqual(2, len(self.placement.published))
        self.assertIn('CUSTOM_QSLM_MIG_CPU_LOAD_PCT_75',
                      self.placement.published[-1])
        # A saturated host: runnable threads per CPU, above 100 %.
        self.meter.load = 2.6
        self.meter.parts = (1.0, 2.6)
        with self.assertLogs('qslm_nova.agent.service', 'DEBUG') as logs:
            self.ticks(11)
        self.assertIn('CPU load now 2.60 runnable threads per CPU (busy '
                      'share 1.00, load average per CPU 2.60)',
                      '\n'.join(logs.output))
        self.assertEqual(3, len(self.placement.published))
        self.assertIn('CUSTOM_QSLM_MIG_CPU_LOAD_PCT_275',
                      self.placement.published[-1])

    def test_libvirt_down_then_up(self):
        self.watcher.up = False
        self.ticks(5)
        self.assertFalse(self.agent.connected)
        self.assertEqual([], self.placement.published)
        self.watcher.up = True
        self.ticks(1)
        self.assertTrue(self.agent.connected)
        self.assertTrue(self.placement.published)

    def test_a_step_that_raises_is_logged_and_the_rest_runs(self):
        self.agent.charger.settle = None     # not callable: a bug
        self.migrate_here()
        with self.assertLogs('qslm_nova.agent.service', 'ERROR') as logs:
            self.ticks(2)
        self.assertIn('spool failed; carrying on', logs.output[0])
        self.assertTrue(self.placement.published)
        self.assertEqual(1, len(self.agent.spool.pending()))

    def test_dirty_rate_publication_keeps_going_without_nova(self):
        pub = dirtyrate.Publisher(change=0.25, refresh_s=450)
        self.agent.dirty_publisher = pub
        self.agent.nova = self.nova
        self.nova.down = True
        self.agent._publish_samples([dirtyrate.Sample(UUID, 10.0,
                                                      self.clock.wall)])
        self.assertEqual([], self.nova.writes)
        self.nova.down = False
        self.agent._publish_samples([dirtyrate.Sample(UUID, 10.0,
                                                      self.clock.wall)])
        self.assertEqual(1, len(self.nova.writes))
        # Unchanged and recent: not written again; changed: written.
        self.agent._publish_samples([dirtyrate.Sample(UUID, 11.0,
                                                      self.clock.wall)])
        self.assertEqual(1, len(self.nova.writes))
        self.agent._publish_samples([dirtyrate.Sample(UUID, 20.0,
                                                      self.clock.wall)])
        self.assertEqual(2, len(self.nova.writes))
        self.assertTrue(self.nova.metadata(UUID)[policy.OBSERVED_DIRTY_RATE]
                        .startswith('20.00@'))
