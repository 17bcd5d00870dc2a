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

"""The spool keeps every measured migration through crashes and damage."""

import json
import os
import sqlite3

import fixtures
from oslotest import base

from qslm_nova.agent import records as r
from qslm_nova.agent import spool as spool_mod


def measured(n, charge=300):
    return r.MeasuredMigration(
        key='uuid-%d:in:1:2' % n, instance_uuid='uuid-%d' % n,
        role=r.Role.DESTINATION, outcome=r.Outcome.COMPLETED,
        ended_at=1000.0 + n, downtime_ms=float(charge), charge_ms=charge,
        figures=r.JobFigures(operation=4, downtime_ms=float(charge)))


class SpoolTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.path = self.useFixture(fixtures.TempDir()).path
        self.spool = self.open()

    def open(self):
        s = spool_mod.Spool(self.path)
        self.addCleanup(s.close)
        return s

    def reopen(self):
        self.spool.close()
        self.spool = self.open()
        return self.spool


class TestSpool(SpoolTestCase):

    def test_pending_then_done_then_history(self):
        self.assertTrue(self.spool.add(measured(1)))
        self.assertFalse(self.spool.add(measured(1)))
        self.spool.add(measured(2))
        self.assertEqual(['uuid-1:in:1:2', 'uuid-2:in:1:2'],
                         [k for k, _m, _a in self.spool.pending()])
        self.spool.failed('uuid-1:in:1:2', 'Nova away')
        self.spool.done('uuid-1:in:1:2', '42', {'result': 'charged 300 ms'})
        self.assertEqual([('uuid-2:in:1:2', 0)],
                         [(k, a) for k, _m, a in self.spool.pending()])
        (m, mid, result, _at), = self.spool.history()
        self.assertEqual((measured(1), '42'), (m, mid))
        self.assertEqual({'result': 'charged 300 ms'}, json.loads(result))

    def test_survives_a_restart(self):
        self.spool.add(measured(1))
        self.spool.add(measured(2))
        self.spool.done('uuid-2:in:1:2', '7', {'result': 'recorded'})
        s = self.reopen()
        self.assertEqual(['uuid-1:in:1:2'], [k for k, _m, _a in s.pending()])
        self.assertEqual({'pending': 1, 'done': 1}, s.counts())

    def test_wal_and_full_sync(self):
        db = sqlite3.connect(self.spool.db_path)
        self.addCleanup(db.close)
        self.assertEqual('wal', db.execute('PRAGMA journal_mode')
                         .fetchone()[0])
        self.assertEqual(2, self.spool.db.execute('PRAGMA synchronous')
                         .fetchone()[0])


class TestDamage(SpoolTestCase):

    def test_corrupt_database_is_rebuilt_from_the_journal(self):
        for n in range(5):
            self.spool.add(measured(n))
        self.spool.done('uuid-0:in:1:2', '40', {'result': 'charged'})
        self.spool.close()
        with open(self.spool.db_path, 'r+b') as f:
            f.write(b'this is not a database' * 50)
        with self.assertLogs('qslm_nova.agent.spool', 'ERROR') as logs:
            s = self.open()
        self.assertIn('is corrupt', logs.output[0])
        self.assertIn('rebuilt from its journal', logs.output[0])
        self.assertEqual(4, len(s.pending()))
        self.assertEqual('40', s.history()[0][1])
        aside = [n for n in os.listdir(self.path) if '.corrupt-' in n]
        self.assertTrue(aside)
        self.spool = s

    def test_torn_journal_line_is_skipped(self):
        self.spool.add(measured(1))
        self.spool.close()
        with open(self.spool.journal_path, 'a') as f:
            f.write('{"op": "add", "key": "uuid-2:in')
        os.unlink(self.spool.db_path)
        with self.assertLogs('qslm_nova.agent.spool', 'WARNING') as logs:
            s = self.open()
        self.assertIn('Skipped 1 unreadable line', logs.output[0])
        self.assertEqual(['uuid-1:in:1:2'], [k for k, _m, _a in s.pending()])
        self.spool = s

    def test_crash_between_journal_and_database(self):
        # The journal got the record, the database never did.
        self.spool.close()
        with open(self.spool.journal_path, 'a') as f:
            f.write(json.dumps({'op': 'add', 'key': measured(3).key,
                                'record': measured(3).to_json(),
                                'at': 5.0}) + '\n')
        s = self.open()
        self.assertEqual([measured(3)], [m for _k, m, _a in s.pending()])
        self.spool = s

    def test_lost_done_makes_it_pending_again(self):
        # A rebuild from a journal without the last "done" line: the
        # charge is tried again (the ledger's charged keys stop it).
        self.spool.add(measured(1))
        self.spool.done(measured(1).key, '9', {'result': 'charged'})
        with open(self.spool.journal_path) as f:
            first = f.readline()
        self.spool.close()
        with open(self.spool.journal_path, 'w') as f:
            f.write(first)
        os.unlink(self.spool.db_path)
        s = self.open()
        self.assertEqual([measured(1).key], [k for k, _m, _a in s.pending()])
        self.spool = s

    def test_prune_compacts_the_journal(self):
        clock = [1000.0]
        self.spool.clock = lambda: clock[0]
        for n in range(3):
            self.spool.add(measured(n))
            self.spool.done(measured(n).key, str(n), {'result': 'charged'})
            clock[0] += 100
        self.spool.add(measured(9))
        self.assertEqual(2, self.spool.prune(1150.0))
        with open(self.spool.journal_path) as f:
            self.assertEqual(3, len(f.readlines()))
        s = self.reopen()
        self.assertEqual(1, len(s.history()))
        self.assertEqual(1, len(s.pending()))
