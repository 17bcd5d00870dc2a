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

"""Real live migrations, one per transport: the machinery works.

Each test starts two QEMU processes (TCG) in a private network namespace
whose loopback is shaped to 1 Gbit/s, migrates the self-built guest
(64 MiB, dirtying 4 MiB/s, 50 ms downtime limit) and checks that the run
completes, its figures parse and hang together, and the guest runs on
the destination. How close the estimator comes is not a test's business
(a loaded machine measures noise): the campaign report prints it
(``qslm-nova-testbed report``, ``qslm-nova-testbed libvirt-report``);
each test attaches the estimate beside its measurement as a detail.
A machine that cannot do this (no QEMU, no sshd, no root for the
namespace) fails with a message naming what is missing.
"""

import fcntl
import json
import os

import fixtures
import testtools
from testtools import content

from qslm_nova.testbed import fit
from qslm_nova.testbed import guest
from qslm_nova.testbed import model
from qslm_nova.testbed import runner

MEMORY_MIB = 64
# Real migrations measure time: never two at once, even across the
# parallel stestr workers.
LOCK_PATH = '/tmp/qslm-nova-testbed-test.lock'


class TestRealMigration(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.Timeout(180, gentle=True))
        self.fitted = fit.load(fit.DEFAULT_PARAMS_PATH)

    def _lock(self):
        f = open(LOCK_PATH, 'a')
        self.addCleanup(f.close)
        fcntl.flock(f, fcntl.LOCK_EX)
        self.addCleanup(fcntl.flock, f, fcntl.LOCK_UN)

    def _migrate(self, transport):
        self._lock()
        spec = runner.MigrationSpec(
            memory_mib=MEMORY_MIB,
            workload=guest.Workload(dirty_rate_mibps=4.0,
                                    wss_mib=MEMORY_MIB - 8),
            bandwidth_mbps=1000.0, downtime_limit_ms=50,
            transport=transport, timeout_s=60)
        row = runner.run_migration(spec)
        self.addDetail('measurement', content.text_content(
            json.dumps(row, indent=1, sort_keys=True)))
        return row

    def _check(self, transport):
        row = self._migrate(transport)
        self.assertEqual('completed', row['status'], row['error'])
        # QEMU reports its downtime in whole ms and stops counting when the
        # source has written its last byte: 0 is a real reading (11 of the
        # campaign's 336 runs); the guest's pause is the end-to-end one.
        self.assertGreaterEqual(row['downtime_ms'], 0)
        self.assertGreater(row['downtime_e2e_ms'], 0)
        self.assertGreaterEqual(row['downtime_e2e_ms'], row['downtime_ms'])
        self.assertGreater(row['total_time_ms'], row['downtime_ms'])
        # At least the guest's non-zero memory crossed the link.
        self.assertGreater(row['ram_transferred'],
                           0.9 * row['touched_mib'] * 2 ** 20)
        self.assertEqual(1, row['dest_running'])
        self.assertEqual(1, row['guest_alive_on_dest'],
                         'the guest does not run on the destination')
        self.assertGreater(row['guest_rate_mibps'], 2.0)
        self.assertGreater(row['host_load1'], 0.0)
        # The estimate for this run is computed (the row maps onto the
        # model) and attached; its accuracy is the report's business.
        est = model.estimate_rows([{k: str(v) for k, v in row.items()}],
                                  self.fitted)[0]
        self.assertGreater(est['worst_downtime_ms'], 0.0)
        self.addDetail('estimate', content.text_content(
            'load %s: pause %.1f ms (estimate %.1f, worst %.1f), total '
            '%s ms (estimate %.0f)' % (
                row['host_load1'], row['downtime_e2e_ms'],
                est['downtime_ms'], est['worst_downtime_ms'],
                row['total_time_ms'], est['total_ms'])))

    def test_tcp(self):
        self._check('tcp')

    def test_tls(self):
        self._check('tls')

    def test_ssh(self):
        self._check('ssh')

    def test_report_shipped_campaign(self):
        path = os.path.join(os.path.dirname(fit.DEFAULT_PARAMS_PATH),
                            'campaign.csv')
        from qslm_nova.testbed import campaign
        from qslm_nova.testbed import report
        rows = campaign.read_rows(path)
        self.assertGreater(len(rows), 100)
        summary = report.evaluate(rows, self.fitted,
                                  self.fitted.holdout_repeat)
        held = summary['sets']['held-out']['overall']
        self.assertGreater(held['runs'], 30)
        self.assertIn('downtime_ape_median', held)
