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

"""A measured migration is charged once, on the right date."""

import datetime

from oslotest import base

from qslm_nova.agent import ledger
from qslm_nova.agent import records as r
from qslm_nova import policy
from tests.unit.agent import fakes

UTC = datetime.timezone.utc
UUID = 'aaaaaaaa-1111-2222-3333-444444444444'
END = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def measured(charge=300, role=r.Role.DESTINATION, ended=END, **kw):
    return r.MeasuredMigration(
        key='%s:in:100:200' % UUID, instance_uuid=UUID, role=role,
        outcome=r.Outcome.COMPLETED, ended_at=ended.timestamp(),
        downtime_ms=None if charge is None else float(charge),
        charge_ms=charge, **kw)


class LedgerTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.nova = fakes.FakeNovaAPI()
        self.nova.add_server(UUID, specs={policy.BUDGET: '2000'})
        self.nova.add_migration(UUID, 41, 'cmp-1', 'cmp-2',
                                END - datetime.timedelta(hours=5))
        self.nova.add_migration(UUID, 57, 'cmp-1', 'cmp-2',
                                END - datetime.timedelta(seconds=20),
                                updated=END)
        self.charger = ledger.LedgerCharger(self.nova, 'cmp-2',
                                            lookup_timeout_s=600)

    def meta(self):
        return self.nova.metadata(UUID)


class TestCharge(LedgerTestCase):

    def test_charged_once_under_novas_migration_id(self):
        done = self.charger.settle('k', measured(), 5)
        self.assertEqual(('57', 'charged 300 ms'),
                         (done.migration_key, done.result))
        self.assertEqual({policy.LEDGER_USED: '300',
                          policy.LEDGER_START: '2026-11-25',
                          policy.LEDGER_CHARGED: '57'}, self.meta())
        again = self.charger.settle('k', measured(), 6)
        self.assertEqual('already charged', again.result)
        self.assertEqual(1, len(self.nova.writes))

    def test_crash_after_nova_wrote_is_not_charged_twice(self):
        # The agent died after Nova took the write and before the spool
        # heard of it: the spool still has it pending; the retry finds
        # the key in the ledger.
        self.charger.settle('k', measured(), 5)
        fresh = ledger.LedgerCharger(self.nova, 'cmp-2')
        self.assertEqual('already charged',
                         fresh.settle('k', measured(), 9).result)
        self.assertEqual('300', self.meta()[policy.LEDGER_USED])

    def test_adds_to_the_period_and_rolls_it_over(self):
        self.nova.metadata(UUID).update({policy.LEDGER_USED: '1200',
                                         policy.LEDGER_START: '2026-11-10',
                                         policy.LEDGER_CHARGED: '3,9'})
        self.charger.settle('k', measured(), 5)
        self.assertEqual(('1500', '2026-11-10', '3,9,57'), (
            self.meta()[policy.LEDGER_USED],
            self.meta()[policy.LEDGER_START],
            self.meta()[policy.LEDGER_CHARGED]))
        # A period that ended (30 days by default) starts again on the
        # migration's date.
        self.nova.metadata(UUID).update({policy.LEDGER_USED: '1900',
                                         policy.LEDGER_START: '2026-10-01',
                                         policy.LEDGER_CHARGED: ''})
        self.charger.settle('k', measured(), 5)
        self.assertEqual(('300', '2026-11-25'), (
            self.meta()[policy.LEDGER_USED],
            self.meta()[policy.LEDGER_START]))

    def test_flavor_period(self):
        self.nova.servers[UUID][1][policy.PERIOD_DAYS] = '90'
        self.nova.metadata(UUID).update({policy.LEDGER_USED: '1900',
                                         policy.LEDGER_START: '2026-10-01'})
        self.charger.settle('k', measured(), 5)
        self.assertEqual('2200', self.meta()[policy.LEDGER_USED])

    def test_charged_keys_keep_the_newest_that_fit(self):
        keys = [str(10 ** 9 + n) for n in range(40)]
        value = ledger.format_charged(keys)
        self.assertLessEqual(len(value), 255)
        self.assertTrue(value.endswith(keys[-1]))
        self.assertEqual(keys[-len(value.split(',')):],
                         ledger.parse_charged(value))

    def test_source_pays_for_a_failed_migration(self):
        self.nova.add_migration(UUID, 60, 'cmp-2', 'cmp-3',
                                END - datetime.timedelta(seconds=30),
                                status='error')
        failed = measured(609, role=r.Role.SOURCE)
        done = self.charger.settle('k', failed, 5)
        self.assertEqual('60', done.migration_key)
        self.assertEqual('609', self.meta()[policy.LEDGER_USED])

    def test_nothing_to_charge_is_recorded_with_novas_id(self):
        done = self.charger.settle('k', measured(None), 5)
        self.assertEqual(('57', 'recorded'), (done.migration_key,
                                              done.result))
        self.assertEqual([], self.nova.writes)


class TestRetry(LedgerTestCase):

    def test_nova_down(self):
        self.nova.down = True
        e = self.assertRaises(ledger.Retry, self.charger.settle, 'k',
                              measured(), 5)
        self.assertIn('connection refused', str(e))

    def test_refused_says_which_role(self):
        self.nova.refused = True
        self.assertRaises(ledger.Retry, self.charger.settle, 'k',
                          measured(), 5)
        self.nova.refused = False
        self.charger.find_migration = lambda m: self.nova.migrations(
            UUID)[0]
        self.nova.before_write = lambda uuid: setattr(self.nova, 'refused',
                                                      True)
        with self.assertLogs('qslm_nova.agent.ledger', 'ERROR') as logs:
            self.assertRaises(ledger.Retry, self.charger.settle, 'k',
                              measured(), 5)
        self.assertIn('ledger_writer_roles', logs.output[0])

    def test_concurrent_writer_replaced_the_charge(self):
        self.nova.lose_writes = True
        e = self.assertRaises(ledger.Retry, self.charger.settle, 'k',
                              measured(), 5)
        self.assertIn('replaced by a concurrent ledger write', str(e))

    def test_no_record_yet_then_the_agents_own_key(self):
        self.nova.records.clear()
        self.assertRaises(ledger.Retry, self.charger.settle, 'k',
                          measured(), 5)
        with self.assertLogs('qslm_nova.agent.ledger', 'WARNING'):
            done = self.charger.settle('k', measured(), 601)
        self.assertTrue(done.migration_key.startswith('a'))
        self.assertEqual('300', self.meta()[policy.LEDGER_USED])
        again = ledger.LedgerCharger(self.nova, 'cmp-2',
                                     lookup_timeout_s=600)
        self.assertEqual('already charged',
                         again.settle('k', measured(), 700).result)

    def test_instance_gone(self):
        del self.nova.servers[UUID]
        self.nova.records.clear()
        done = self.charger.settle('k', measured(), 601)
        self.assertEqual('instance gone', done.result)


class TestDates(LedgerTestCase):

    def test_clock_jump_uses_novas_date(self):
        jumped = END + datetime.timedelta(days=365)
        self.nova.metadata(UUID).update({policy.LEDGER_USED: '1200',
                                         policy.LEDGER_START: '2026-11-10'})
        with self.assertLogs('qslm_nova.agent.ledger', 'WARNING') as logs:
            self.charger.settle('k', measured(ended=jumped), 5)
        self.assertIn("the ledger uses Nova's date", logs.output[0])
        # Charged into the running period, not a new one a year ahead.
        self.assertEqual(('1500', '2026-11-10'), (
            self.meta()[policy.LEDGER_USED],
            self.meta()[policy.LEDGER_START]))

    def test_clock_behind_finds_the_record_still(self):
        # A clock an hour and a half behind: the record is "created after
        # the end"; within the skew tolerance (1 h) it is not found...
        late = END - datetime.timedelta(hours=1.5)
        self.assertEqual(41, self.charger.find_migration(
            measured(ended=late)).id)
        # ... and found with a wider tolerance.
        wide = ledger.LedgerCharger(self.nova, 'cmp-2', skew_s=7200)
        self.assertEqual(57, wide.find_migration(measured(ended=late)).id)

    def test_found_later_uses_novas_time(self):
        m = measured(ended=END + datetime.timedelta(days=40),
                     time_guessed=True)
        self.assertEqual(END.date(), self.charger.charge_date(
            m, self.nova.migrations(UUID)[0]))
