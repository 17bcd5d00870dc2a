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

"""Migrations from libvirt's events, as libvirt 9 emitted them.

The sequences are those the testbed's two daemons emitted (tests/agent
runs them live); here they are replayed with made-up times.
"""

from oslotest import base

from qslm_nova.agent import records as r
from qslm_nova.agent import tracker

UUID = '941bbfdc-ec06-4bcc-9d08-b997d1fe7f44'
# The completed-job statistics libvirt 9.0 gave for a 128 MiB TCG guest.
STATS = {'operation': 4, 'time_elapsed': 9448, 'downtime': 369,
         'downtime_net': 332, 'setup_time': 2, 'data_processed': 142028507,
         'memory_processed': 142028507, 'memory_bps': 65499525,
         'memory_dirty_rate': 0, 'memory_iteration': 4,
         'memory_page_size': 4096, 'type': 3}


def lifecycle(event, detail, at):
    return r.DomainEvent(r.Kind.LIFECYCLE, UUID, 1000.0 + at, at,
                         event=event, detail=detail)


class Libvirt:
    """What the tracker asks libvirt, with answers set by the test."""

    def __init__(self):
        self.stats = None
        self.active = True

    def completed_stats(self, uuid):
        return self.stats

    def job_active(self, uuid):
        return self.active


class TrackerTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.lv = Libvirt()
        self.tracker = tracker.Tracker(self.lv.completed_stats,
                                       self.lv.job_active, stats_wait_s=30)

    def feed(self, *events):
        out = []
        for ev in events:
            out.extend(self.tracker.handle(ev))
        return out


class TestDestination(TrackerTestCase):

    def test_completed_incoming_is_charged_libvirts_downtime(self):
        self.lv.stats = STATS
        done = self.feed(lifecycle(r.EVENT_STARTED, r.STARTED_MIGRATED, 0),
                         lifecycle(0, 0, 9.0),      # defined (persistent)
                         lifecycle(r.EVENT_RESUMED, r.RESUMED_MIGRATED, 9.5))
        self.assertEqual(1, len(done))
        m = done[0]
        self.assertEqual((r.Role.DESTINATION, r.Outcome.COMPLETED, 369.0,
                          369, 1009.5),
                         (m.role, m.outcome, m.downtime_ms, m.charge_ms,
                          m.ended_at))
        self.assertEqual(9448.0, m.figures.total_ms)
        self.assertEqual(142028507, m.figures.data_bytes)
        self.assertEqual({}, self.tracker.incoming)

    def test_statistics_that_come_late_are_waited_for(self):
        done = self.feed(lifecycle(r.EVENT_STARTED, r.STARTED_MIGRATED, 0),
                         lifecycle(r.EVENT_RESUMED, r.RESUMED_POSTCOPY, 5))
        self.assertEqual([], done)
        self.assertTrue(self.tracker.waiting())
        self.assertEqual([], self.tracker.poll(10, 1010))
        self.lv.stats = STATS
        done = self.tracker.poll(12, 1012)
        self.assertEqual(369, done[0].charge_ms)
        self.assertFalse(self.tracker.waiting())

    def test_not_waiting_before_the_instance_runs_here(self):
        self.assertFalse(self.tracker.waiting())
        self.feed(lifecycle(r.EVENT_STARTED, r.STARTED_MIGRATED, 0))
        self.assertFalse(self.tracker.waiting())

    def test_no_statistics_means_no_charge(self):
        with self.assertLogs('qslm_nova.agent.tracker', 'WARNING') as logs:
            self.feed(lifecycle(r.EVENT_STARTED, r.STARTED_MIGRATED, 0),
                      lifecycle(r.EVENT_RESUMED, r.RESUMED_MIGRATED, 5))
            done = self.tracker.poll(36, 1036)
        self.assertIsNone(done[0].charge_ms)
        self.assertIn('downtime is unknown and not charged', logs.output[0])

    def test_incoming_that_never_ran_here(self):
        done = self.feed(lifecycle(r.EVENT_STARTED, r.STARTED_MIGRATED, 0),
                         lifecycle(r.EVENT_STOPPED, r.STOPPED_FAILED, 3))
        self.assertEqual(r.Outcome.FAILED, done[0].outcome)
        self.assertIsNone(done[0].charge_ms)
        self.assertEqual({}, self.tracker.incoming)

    def test_statistics_of_an_outgoing_job_are_not_an_incoming_one(self):
        self.lv.stats = dict(STATS, operation=5)
        self.feed(lifecycle(r.EVENT_STARTED, r.STARTED_MIGRATED, 0),
                  lifecycle(r.EVENT_RESUMED, r.RESUMED_MIGRATED, 5))
        self.assertEqual([], self.tracker.poll(6, 1006))


class TestSource(TrackerTestCase):

    def job_completed(self, at, **stats):
        values = dict(STATS, operation=5)
        values.update(stats)
        return r.DomainEvent(r.Kind.JOB_COMPLETED, UUID, 1000.0 + at, at,
                             stats=values)

    def iteration(self, at, n):
        return r.DomainEvent(r.Kind.ITERATION, UUID, 1000.0 + at, at,
                             detail=n)

    def test_completed_outgoing_recorded_not_charged(self):
        done = self.feed(self.iteration(0, 1), self.iteration(1.2, 2),
                         lifecycle(r.EVENT_SUSPENDED, r.SUSPENDED_MIGRATED,
                                   1.4),
                         lifecycle(r.EVENT_STOPPED, r.STOPPED_MIGRATED, 3.8),
                         self.job_completed(3.8))
        self.assertEqual(1, len(done))
        self.assertEqual((r.Role.SOURCE, r.Outcome.COMPLETED, 369.0, None),
                         (done[0].role, done[0].outcome,
                          done[0].downtime_ms, done[0].charge_ms))
        self.assertEqual({}, self.tracker.outgoing)

    def test_charge_outgoing(self):
        self.tracker.charge_outgoing = True
        done = self.feed(self.job_completed(3.8))
        self.assertEqual(369, done[0].charge_ms)

    def test_failed_after_pausing_charges_the_pause(self):
        done = self.feed(self.iteration(0, 1),
                         lifecycle(r.EVENT_SUSPENDED, r.SUSPENDED_MIGRATED,
                                   20.0),
                         lifecycle(r.EVENT_RESUMED, r.RESUMED_MIGRATED,
                                   20.609))
        self.assertEqual((r.Outcome.FAILED, 609),
                         (done[0].outcome, done[0].charge_ms))
        self.assertIn('failed after pausing the instance 609 ms',
                      done[0].note)

    def test_pause_is_measured_on_the_monotonic_clock(self):
        # The wall clock jumps a year between suspend and resume.
        suspend = r.DomainEvent(r.Kind.LIFECYCLE, UUID, 1000.0, 50.0,
                                event=r.EVENT_SUSPENDED,
                                detail=r.SUSPENDED_MIGRATED)
        resume = r.DomainEvent(r.Kind.LIFECYCLE, UUID, 1000.0 + 3.2e7, 50.25,
                               event=r.EVENT_RESUMED,
                               detail=r.RESUMED_MIGRATED)
        self.assertEqual(250, self.feed(suspend, resume)[0].charge_ms)

    def test_cancelled_before_the_switch_over(self):
        self.feed(self.iteration(0, 1))
        self.assertEqual([], self.tracker.poll(1, 1001))
        self.lv.active = False
        done = self.tracker.poll(2, 1002)
        self.assertEqual((r.Outcome.FAILED, 0.0, None),
                         (done[0].outcome, done[0].downtime_ms,
                          done[0].charge_ms))

    def test_domain_gone_while_watched(self):
        self.feed(self.iteration(0, 1))
        self.lv.active = None
        self.assertEqual([], self.tracker.poll(1, 1001))
        self.assertEqual({}, self.tracker.outgoing)

    def test_same_migration_twice_has_one_key(self):
        first = self.feed(self.job_completed(3.8))[0]
        again = self.feed(self.job_completed(9.0))[0]
        self.assertEqual(first.key, again.key)
        self.assertNotEqual(first.key, tracker.incoming_record(
            UUID, STATS, 1003.8).key)

    def test_unknown_job_kinds_are_ignored(self):
        self.assertEqual([], self.feed(self.job_completed(1, operation=7)))
        self.assertEqual([], self.feed(lifecycle(r.EVENT_RESUMED, 0, 1)))
