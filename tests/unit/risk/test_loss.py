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

"""The monetary loss formula, and the keys that price it."""

import numpy as np
from oslotest import base

from qslm_nova import exception
from qslm_nova.risk import keys
from qslm_nova.risk import loss


class TestLoss(base.BaseTestCase):

    def test_worked_example_of_the_docs(self):
        # doc/source/risk.rst: 50 per second paused, 2000 per breach,
        # 0.5 per migration second; a pause of 80 ms expected, the mean
        # ratio 1.2, P(breach) 0.04, 6 s of migration.
        terms = loss.LossTerms(50.0, 2000.0, 0.5)
        value = terms.expected_loss(80.0 * 1.2, 0.04, 6.0)
        self.assertAlmostEqual(50 * 0.096 + 2000 * 0.04 + 0.5 * 6, value)
        self.assertAlmostEqual(87.8, float(value))

    def test_vectorised(self):
        terms = loss.LossTerms(10.0, 100.0, 1.0)
        got = terms.expected_loss(np.array([100.0, 0.0]),
                                  np.array([0.5, 0.0]), np.array([2., 0.]))
        np.testing.assert_allclose([1.0 + 50.0 + 2.0, 0.0], got)

    def test_unknown_breach_probability_counts_as_breach(self):
        terms = loss.LossTerms(0.0, 100.0, 0.0)
        self.assertEqual(100.0, float(terms.expected_loss(0.0, np.nan, 0)))
        # Without a penalty it does not matter.
        self.assertEqual(0.0, float(loss.LossTerms().expected_loss(
            0.0, np.nan, 0.0)))

    def test_of_flavor(self):
        terms = loss.LossTerms.of_flavor({
            'qslm:downtime_cost_per_s': ' 50 ',
            'qslm:sla_breach_penalty': '2000.5', 'other': 'x'})
        self.assertEqual(loss.LossTerms(50.0, 2000.5, 0.0), terms)
        self.assertTrue(terms.priced)
        self.assertFalse(loss.LossTerms.of_flavor({}).priced)
        self.assertFalse(loss.LossTerms.of_flavor(
            {'qslm:migration_cost_per_s': '0'}).priced)

    def test_rank_score_falls_with_the_loss(self):
        s = loss.rank_score([0.0, 0.1, 5.0, 1e9])
        self.assertEqual(1.0, s[0])
        self.assertTrue(np.all(np.diff(s) < 0))
        self.assertTrue(np.all(s > 0))


class TestKeys(base.BaseTestCase):

    def test_bounds_named(self):
        for key in keys.KEYS:
            for bad in ('-1', '1e3', 'NaN', 'inf', '0x10', '1_0', '',
                        '\u0661', str(key.maximum * 10), 'x' * 300):
                e = self.assertRaises(exception.PolicyValueError,
                                      key.parse, key.name, bad)
                self.assertIn(key.name, str(e))
                self.assertIn('must be a number from', str(e))

    def test_confidence_range(self):
        c = keys.SLA_CONFIDENCE
        self.assertEqual(0.99, c.parse(c.name, '0.99'))
        for bad in ('0.4', '1', '1.0', '0.99995'):
            self.assertRaises(exception.PolicyValueError, c.parse, c.name,
                              bad)

    def test_read_ignores_malformed(self):
        self.assertIsNone(keys.read({'qslm:sla_confidence': 'high'},
                                    keys.SLA_CONFIDENCE))
        self.assertIsNone(keys.read(None, keys.SLA_CONFIDENCE))
