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

"""The scheduler's estimate and the agent's measurement meet by migration id.

In-process Nova: QSLMWeigher publishes the estimates of the best allowed
destinations as oslo.messaging notifications (oslo.messaging's in-memory
``test`` driver records them) with the id of Nova's migration record;
the agent's measured payload for that migration joins them.
"""

import datetime
import time

from nova import conf as nova_conf
import oslo_messaging
from oslo_messaging.notify import _impl_test

from qslm_nova.agent import ledger
from qslm_nova.agent import nova as nova_mod
from qslm_nova.agent import records as r
from qslm_nova.history import join
from qslm_nova.history import notifications
from qslm_nova.history import refit
from qslm_nova.scheduler import history as sched_history
from tests.functional import test_precheck
from tests.functional import test_scheduler


class EstimateHistoryTest(test_scheduler.QSLMSchedulerTestBase):

    def configure(self):
        super().configure()
        # Registers [oslo_messaging_notifications], as a service's first
        # notifier does.
        oslo_messaging.get_notification_transport(nova_conf.CONF,
                                                  url='fake:/')
        self.flags(driver=['test'], group='oslo_messaging_notifications')
        self.flags(history_estimates=2, group='qslm')
        _impl_test.reset()
        sched_history._EMITTER.clear()
        self.addCleanup(sched_history._EMITTER.clear)

    def estimates(self, count, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m['payload'] for _c, m, _p, _r in
                     _impl_test.NOTIFICATIONS
                     if m['event_type'] == notifications.ESTIMATE]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        self.fail('%d estimate notifications did not come' % count)

    def test_estimate_and_measurement_join_by_migration_id(self):
        server = self.boot()
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assertEqual('completed', mig['status'])
        found = self.estimates(2)
        self.assertEqual({mig['id']}, {e['migration_id'] for e in found})
        self.assertEqual({server['id']}, {e['instance_uuid'] for e in found})
        chosen = [e for e in found
                  if e['destination_host'] == mig['dest_compute']]
        self.assertEqual(1, len(chosen))
        estimate = chosen[0]
        self.assertEqual('compute-a1', estimate['source_host'])
        inputs = estimate['inputs']
        self.assertEqual(1024.0, inputs['memory_mb'])
        self.assertEqual('[qslm]', estimate['sources']['libvirt'])
        # What the destination's agent reports for that migration.
        measured = r.MeasuredMigration(
            key='k', instance_uuid=server['id'], role=r.Role.DESTINATION,
            outcome=r.Outcome.COMPLETED, ended_at=time.time(),
            downtime_ms=estimate['expected_downtime_ms'] * 1.3,
            charge_ms=1, figures=r.JobFigures(
                total_ms=estimate['total_time_s'] * 1000.0))
        record = nova_mod.MigrationRecord(
            mig['id'], mig.get('uuid'), mig['source_compute'],
            mig['dest_compute'], mig['status'], None)
        payload = notifications.measured_payload(
            measured, ledger.Settled(str(mig['id']), 'charged 1 ms', record),
            mig['dest_compute'])
        pairs, alone = join.join(join.History(found, [payload]))
        self.assertEqual([], alone)
        self.assertEqual(estimate, pairs[0].estimate)
        # The model, run again on the published inputs with the same
        # constants, gives what the scheduler estimated.
        from qslm_nova.testbed import model
        exp, worst, total = refit.estimate_pair(pairs[0], model.Fitted())
        self.assertAlmostEqual(estimate['expected_downtime_ms'], exp)
        self.assertAlmostEqual(estimate['worst_downtime_ms'], worst)
        self.assertAlmostEqual(estimate['total_time_s'], total)

    def test_nothing_without_a_driver(self):
        self.flags(driver=[], group='oslo_messaging_notifications')
        sched_history._EMITTER.clear()
        server = self.boot()
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assertEqual('completed', mig['status'])
        time.sleep(0.5)
        self.assertEqual([], [m for _c, m, _p, _r in _impl_test.NOTIFICATIONS
                              if m['event_type'].startswith('qslm.')])


class ForcedEstimateTest(test_precheck.PreCheckTestBase):
    """A forced move bypasses the scheduler: the pre-check publishes."""

    SERVER_SPECS = {}

    def configure(self):
        super().configure()
        oslo_messaging.get_notification_transport(nova_conf.CONF,
                                                  url='fake:/')
        self.flags(driver=['test'], group='oslo_messaging_notifications')
        _impl_test.reset()
        notifications._API.clear()
        self.addCleanup(notifications._API.clear)

    def test_forced_migration_estimate_joins_by_time(self):
        server, mig, _t = self.live_migrate_and_wait(
            self.server, 'compute-a2', force=True)
        self.assertEqual('completed', mig['status'])
        deadline = time.monotonic() + 30
        found = []
        while not found and time.monotonic() < deadline:
            found = [m['payload'] for _c, m, _p, _r in
                     _impl_test.NOTIFICATIONS
                     if m['event_type'] == notifications.ESTIMATE]
            time.sleep(0.05)
        estimate, = found
        self.assertEqual(('api', None, 'compute-a2', server['id']),
                         (estimate['decided_by'], estimate['migration_id'],
                          estimate['destination_host'],
                          estimate['instance_uuid']))
        measured = {'instance_uuid': server['id'],
                    'migration_id': str(mig['id']), 'role': 'destination',
                    'outcome': 'completed', 'downtime_ms': 90.0,
                    'ended_at': datetime.datetime.now(
                        datetime.timezone.utc).isoformat(),
                    'destination_host': 'compute-a2',
                    'source_host': 'compute-a1'}
        pairs, alone = join.join(join.History([estimate], [measured]))
        self.assertEqual(([], estimate), (alone, pairs[0].estimate))
