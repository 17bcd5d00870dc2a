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

"""The syntax of qslm: values, hostile values and the ledger's arithmetic.

Issue 15 item 6: huge numbers, NaN, infinities, negative zero, unicode
digits, odd blanks and booleans, dates at the ends of the calendar must
be clear errors naming the key, never an exception in the decision.
"""

import datetime

from oslotest import base

from qslm_nova import exception
from qslm_nova import policy
from qslm_nova import policy_values as values
from tests.unit import fixtures as fx

HUGE = '1' + '0' * 309            # 10^309: beyond every float
HOSTILE_NUMBERS = (
    HUGE, '1' + '0' * 5000, '1e309', '1e3', 'nan', 'NaN', 'inf',
    '-inf', 'Infinity', '-0', '-0.0', '+5', '1_000', '\u0661\u0662',
    '\uff11\uff12', '\u00a05', '5\u2003', '0x10', '1.', '.5', '', ' ',
    '5 5', '5\x00', True, False, None, [5], {'a': 1}, 10 ** 400,
    float('nan'), float('inf'), -1, 2 ** 31, 2 ** 63)


class TestShowValue(base.BaseTestCase):

    def test_short_values_verbatim(self):
        self.assertEqual("'abc'", exception.show_value('abc'))
        self.assertEqual('5', exception.show_value(5))
        self.assertEqual('nan', exception.show_value(float('nan')))

    def test_long_and_huge_values_cut(self):
        self.assertEqual("'%s'... (310 characters)" % HUGE[:40],
                         exception.show_value(HUGE))
        self.assertEqual('an integer of about 400 digits',
                         exception.show_value(10 ** 400))
        # str(10 ** 5000) would raise ValueError in Python 3.11.
        self.assertIn('digits', exception.show_value(10 ** 5000))
        self.assertEqual('a value of type list',
                         exception.show_value([[[1]]]))

    def test_error_names_key_with_short_value(self):
        e = exception.PolicyValueError('qslm:max_downtime_ms', HUGE, 'bad')
        self.assertEqual("qslm:max_downtime_ms: bad, got '%s'... (310 "
                         "characters)" % HUGE[:40], str(e))
        e = exception.PolicyValueError('k\n' * 100, 'v', 'bad')
        self.assertTrue(str(e).startswith("'k\\nk\\n"), str(e))


class TestParsers(base.BaseTestCase):

    def refused(self, parser, value, *args):
        e = self.assertRaises(exception.PolicyValueError, parser, 'qslm:k',
                              value, *args)
        self.assertTrue(str(e).startswith('qslm:k: '), str(e))
        self.assertLess(len(str(e)), 300)
        return e

    def test_bool(self):
        for text in ('true', 'True', ' yes ', 'on', '1', 'T', 'y', True,
                     1, '\ttrue\n'):
            self.assertIs(True, values.parse_bool('k', text), text)
        for text in ('false', 'NO', 'off', '0', 'f', False, 0):
            self.assertIs(False, values.parse_bool('k', text), text)
        for bad in ('maybe', '', '2', '\uff54\uff52\uff55\uff45', 'tru e',
                    'true\x00', 'yes!', '\u212a', 'tr\u0131e', 2, 1.0,
                    None, ['true'], 'true' * 100):
            e = self.refused(values.parse_bool, bad)
            self.assertIn('must be true or false', str(e))

    def test_int(self):
        self.assertEqual(5, values.parse_int('k', ' 5 ', 1))
        self.assertEqual(7, values.parse_int('k', '007', 1))
        self.assertEqual(0, values.parse_int('k', '0', 0))
        self.assertEqual(values.MAX_MS,
                         values.parse_int('k', str(values.MAX_MS), 1))
        self.assertEqual(12, values.parse_int('k', 12, 1))
        for bad in HOSTILE_NUMBERS + ('0', '1.5', 'x'):
            e = self.refused(values.parse_int, bad, 1)
            self.assertIn('must be an integer from 1 to 2147483647', str(e))

    def test_float(self):
        self.assertEqual(2.5, values.parse_float('k', '2.5', 0.0))
        self.assertEqual(0.0, values.parse_float('k', ' 0 ', 0.0))
        self.assertEqual(16.0, values.parse_float('k', 16, 0.0))
        zero = values.parse_float('k', -0.0, 0.0)
        self.assertEqual('0.0', repr(zero))      # not -0.0
        self.assertEqual(values.MAX_DIRTY_RATE,
                         values.parse_float('k', '1048576', 0.0))
        for bad in HOSTILE_NUMBERS + ('1048576.5', 'x', '-1'):
            if bad in ('-0', '-0.0', -1):
                continue
            e = self.refused(values.parse_float, bad, 0.0)
            self.assertIn('must be a number from 0.0 to 1048576.0', str(e))
        self.refused(values.parse_float, -1, 0.0)
        self.refused(values.parse_float, '-0', 0.0)

    def test_name(self):
        self.assertEqual('private', values.parse_name('k', ' Private '))
        for bad in ('pri vate', '', 'priv\u0101te', 'a;b', 'x' * 256,
                    ['private'], '\u212aelvin'):
            e = self.refused(values.parse_name, bad)
            self.assertIn('must be a name of lower-case letters', str(e))

    def test_name_list(self):
        self.assertEqual(['tls', 'ssh'],
                         values.parse_name_list('k', 'TLS, ssh'))
        for bad in ('', 'tls,,ssh', 'tls;ssh', ',', 't\u013as', 'tls,' * 80,
                    ('tls',)):
            e = self.refused(values.parse_name_list, bad)
            self.assertIn('must be a comma-separated list', str(e))

    def test_date(self):
        self.assertEqual(datetime.date(2026, 11, 10),
                         values.parse_date('k', '2026-11-10'))
        self.assertEqual(datetime.date(2026, 11, 10),
                         values.parse_date('k', '2026-11-10T23:30:00+05:00'))
        # West of UTC the UTC date is the next day: the later one counts.
        self.assertEqual(datetime.date(2026, 11, 11),
                         values.parse_date('k', '2026-11-10T23:30:00-05:00'))
        self.assertEqual(datetime.date(9999, 12, 31),
                         values.parse_date('k', '9999-12-31T23:00:00-05:00'))
        self.assertEqual(datetime.date(9999, 12, 31),
                         values.parse_date('k', '9999-12-31'))
        self.assertEqual(datetime.date(1, 1, 1),
                         values.parse_date('k', '0001-01-01T00:00:00+01:00'))
        for bad in ('last week', '0000-01-01', '2026-02-30', '2026-13-01',
                    '10000-01-01', '2026-11-10garbage', '2026-11-10T25:00',
                    '\u0662\u0660\u0662\u0666-11-10', '20261110', '',
                    '2026-11-10T' + '0' * 300, 20261110, None):
            e = self.refused(values.parse_date, bad)
            self.assertIn('must be an ISO 8601 date (YYYY-MM-DD)', str(e))


class TestLedgerLimits(base.BaseTestCase):

    TODAY = datetime.date(2026, 11, 25)

    def test_extreme_start_dates(self):
        # date.min is 739,000 days ago: a period of 10^9 days still runs.
        for start, rolled in ((datetime.date.min, True),
                              (datetime.date.max, False)):
            ledger = policy.Ledger(700, start)
            for days in (1, values.MAX_PERIOD_DAYS, 10 ** 9, 10 ** 30):
                want = 1000 if rolled and days < 10 ** 6 else 300
                self.assertEqual(want, ledger.remaining_ms(1000, days,
                                                           self.TODAY),
                                 (start, days))
                ledger.record(5, days, self.TODAY)

    def test_record_saturates(self):
        ledger = policy.Ledger(values.MAX_LEDGER_MS - 1, self.TODAY)
        meta = ledger.record(10 ** 6, 30, self.TODAY)
        self.assertEqual(str(values.MAX_LEDGER_MS),
                         meta[policy.LEDGER_USED])
        back = policy.parse_ledger(meta)
        self.assertEqual([], back.errors)
        self.assertEqual(0, back.remaining_ms(values.MAX_MS, 30, self.TODAY))

    def test_record_refuses_bad_downtime(self):
        for bad in (float('nan'), float('inf'), -1, True, '5', None,
                    values.MAX_LEDGER_MS + 1, 1e308):
            self.assertRaises(exception.PolicyValueError,
                              policy.Ledger().record, bad, 30, self.TODAY)

    def test_ledger_values_refused_with_key(self):
        ledger = policy.parse_ledger({
            policy.LEDGER_USED: HUGE, policy.LEDGER_START: '9999-99-99'})
        self.assertEqual(2, len(ledger.errors))
        self.assertIn('qslm:downtime_used_ms: must be an integer',
                      ledger.errors[0])
        self.assertIn('qslm:budget_period_start: must be an ISO 8601 date',
                      ledger.errors[1])


class TestKeys(base.BaseTestCase):

    def effective(self, **sources):
        return policy.effective_policy(
            policy.Defaults(), policy.DEFAULT_LEVELS,
            policy.BUILTIN_MECHANISMS, **sources)

    def test_misspelt_qslm_keys_are_errors(self):
        for key in ('QSLM:require_trusted_host', ' qslm:require_encryption',
                    'Qslm:min_link_security'):
            pol = self.effective(metadata={key: 'true'})
            self.assertEqual(1, len(pol.errors), key)
            self.assertIn('qslm keys are written in lower case', pol.errors[0])

    def test_unknown_key_shown_short(self):
        pol = self.effective(image_props={'qslm:' + 'x' * 250: '1'})
        self.assertIn("unknown qslm key", pol.errors[0])
        # The key shortened; the list of known keys as it is.
        known = len(', '.join(policy.FLAVOR_KEYS))
        self.assertLess(len(pol.errors[0]), known + 150)


class TestHugeValuesInDecision(base.BaseTestCase):
    """The values of issue 15 item 6: a denial naming the key, no raise."""

    def test_denied_with_reason(self):
        engine = fx.make_engine()
        cases = (
            ({'flavor': {policy.MAX_DOWNTIME: HUGE}}, policy.MAX_DOWNTIME),
            ({'flavor': {policy.BUDGET: HUGE}}, policy.BUDGET),
            ({'flavor': {policy.BUDGET: '1000',
                         policy.PERIOD_DAYS: '1000000000'}},
             policy.PERIOD_DAYS),
            ({'flavor': {policy.DIRTY_RATE: '1e308'}}, policy.DIRTY_RATE),
            ({'flavor': {policy.BUDGET: '1000'},
              'metadata': {policy.LEDGER_USED: '1' + '0' * 400}},
             policy.LEDGER_USED),
            ({'flavor': {policy.BUDGET: '1000'},
              'metadata': {policy.LEDGER_START: '10000-01-01'}},
             policy.LEDGER_START),
            ({'image': {policy.REQUIRE_TRUSTED: 'ｔｒｕｅ'}},
             policy.REQUIRE_TRUSTED),
            ({'metadata': {policy.DIRTY_RATE: 'nan'}}, policy.DIRTY_RATE),
        )
        for kw, key in cases:
            d = fx.decide_one(engine, 'dst', **kw)
            self.assertFalse(d.allowed, kw)
            self.assertIn(key + ': must be', d.reasons[0])

    def test_extreme_but_valid_values_decide(self):
        engine = fx.make_engine()
        for start in ('9999-12-31', '0001-01-01'):
            d = fx.decide_one(engine, 'dst', flavor={
                policy.MAX_DOWNTIME: str(values.MAX_MS),
                policy.BUDGET: str(values.MAX_MS),
                policy.PERIOD_DAYS: str(values.MAX_PERIOD_DAYS)},
                metadata={policy.LEDGER_USED: str(values.MAX_LEDGER_MS),
                          policy.LEDGER_START: start})
            if start.startswith('9999'):
                # Everything used in a period that has not even started.
                self.assertFalse(d.allowed)
                self.assertIn('remaining SLA budget of 0 ms', d.reasons[0])
            else:
                self.assertTrue(d.allowed, d.reasons)
