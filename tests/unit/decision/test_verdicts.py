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

"""Holding the estimates against the SLA, and convergence."""

from qslm_nova import estimator
from qslm_nova.risk import assess
from tests.unit.decision.base import DecisionTestCase
from tests.unit import fixtures as fx


class TestDowntime(DecisionTestCase):

    def test_within_per_migration_maximum(self):
        d = self.decide('dst', flavor={'qslm:max_downtime_ms': '5000'})
        self.assertAllowed(d)
        self.assertEqual(5000, d.limit_ms)
        self.assertLessEqual(d.worst_downtime_ms, 5000)
        self.assertEqual('completed', d.outcome)

    def test_exceeds_per_migration_maximum(self):
        # The default: the pause held at sla_confidence 0.95.
        d = self.decide('dst', flavor={'qslm:max_downtime_ms': '1'})
        self.assertIn('0.95-confidence downtime', d.reasons[0])
        self.assertIn('exceeds the per-migration maximum of 1 ms '
                      '(qslm:max_downtime_ms)', d.reasons[0])
        self.assertLess(d.budget_left_ms, 0)

    def test_worst_estimate_setting(self):
        d = self.decide('dst', engine=fx.make_engine(
            risk=assess.RiskSettings(sla_confidence=None)),
            flavor={'qslm:max_downtime_ms': '1'})
        self.assertDenied(
            d, 'worst-case downtime %.0f ms exceeds the per-migration '
               'maximum of 1 ms (qslm:max_downtime_ms)'
               % d.worst_downtime_ms)

    def test_expected_estimate_setting(self):
        engine = fx.make_engine(
            sla_estimate='expected',
            risk=assess.RiskSettings(sla_confidence=None))
        d = self.decide('dst', engine=engine,
                        flavor={'qslm:max_downtime_ms': '1'})
        self.assertIn(
            'expected downtime %.0f ms exceeds the per-migration maximum '
            'of 1 ms (qslm:max_downtime_ms)' % d.expected_downtime_ms,
            d.reasons)

    def _budget(self, used, start):
        return fx.request(
            flavor={'qslm:downtime_budget_ms': '1000',
                    'qslm:budget_period_days': '30'},
            metadata={'qslm:downtime_used_ms': str(used),
                      'qslm:budget_period_start': start})

    def test_remaining_budget_suffices(self):
        d = self.engine.decide(self._budget(100, '2026-11-10'), ['dst'])[0]
        self.assertAllowed(d)
        self.assertEqual(900, d.remaining_budget_ms)
        self.assertEqual(900, d.limit_ms)

    def test_remaining_budget_exhausted(self):
        for engine, held in (
                (self.engine, '0.95-confidence downtime'),
                (fx.make_engine(risk=assess.RiskSettings(
                    sla_confidence=None)), 'worst-case downtime')):
            d = engine.decide(self._budget(990, '2026-11-10'), ['dst'])[0]
            self.assertFalse(d.allowed)
            self.assertEqual(1, len(d.reasons), d.reasons)
            self.assertIn(held, d.reasons[0])
            self.assertIn('exceeds the remaining SLA budget of 10 ms',
                          d.reasons[0])
            self.assertEqual(10, d.remaining_budget_ms)

    def test_ledger_period_rolls_over(self):
        # 2026-10-20 + 30 days = 2026-11-19 <= 2026-11-25: a new period.
        d = self.engine.decide(self._budget(990, '2026-10-20'), ['dst'])[0]
        self.assertAllowed(d)
        self.assertEqual(1000, d.remaining_budget_ms)

    def test_ledger_period_last_day_still_counts(self):
        # 2026-10-27 + 30 days = 2026-11-26 > 2026-11-25: same period.
        d = self.engine.decide(self._budget(990, '2026-10-27'), ['dst'])[0]
        self.assertFalse(d.allowed)
        self.assertEqual(10, d.remaining_budget_ms)

    def test_malformed_ledger_denies_when_budget_set(self):
        req = fx.request(flavor={'qslm:downtime_budget_ms': '1000'},
                         metadata={'qslm:downtime_used_ms': 'lots'})
        d = self.engine.decide(req, ['dst'])[0]
        self.assertDenied(
            d, "instance metadata qslm:downtime_used_ms: must be an integer "
               "from 0 to 9007199254740992, got 'lots'")

    def test_malformed_ledger_ignored_without_budget(self):
        req = fx.request(metadata={'qslm:downtime_used_ms': 'lots'})
        self.assertAllowed(self.engine.decide(req, ['dst'])[0])

    def test_score_ranks_faster_host_higher(self):
        flavor = {'qslm:max_downtime_ms': '5000'}
        ds = self.engine.decide(fx.request(flavor=flavor), ['dst', 'far'])
        self.assertTrue(all(d.allowed for d in ds))
        for d in ds:
            self.assertGreater(d.score, 0.0)
            self.assertLessEqual(d.score, 1.0)

    def test_decision_carries_estimates(self):
        d = self.decide('dst')
        self.assertAllowed(d)
        for field in ('expected_downtime_ms', 'worst_downtime_ms',
                      'total_time_s', 'bytes_sent', 'rate_mibps',
                      'paper_worst_ms'):
            self.assertGreater(getattr(d, field), 0.0, field)
        self.assertGreaterEqual(d.worst_downtime_ms, d.expected_downtime_ms)
        self.assertGreaterEqual(d.bytes_sent, 2048 * estimator.MIB)
        self.assertIn('allowed via none', d.summary)
        self.assertEqual('dst', d.to_dict()['host'])


class TestConvergence(DecisionTestCase):

    # 4 GiB guest dirtying 1 GiB/s over a 1 Gbit/s path never converges.
    HOT = {'qslm:dirty_rate_mibps': '1024'}

    def _engine(self, **libvirt):
        return fx.make_engine(libvirt=estimator.LibvirtSettings(**libvirt))

    def test_converging_migration_completes(self):
        d = self.decide('far', flavor={'qslm:dirty_rate_mibps': '1'})
        self.assertAllowed(d)
        self.assertEqual('completed', d.outcome)

    def test_non_converging_migration_aborted(self):
        d = self.decide('farplain', memory_mb=4096, flavor=self.HOT)
        self.assertEqual('aborted', d.outcome)
        self.assertFalse(d.allowed)
        self.assertEqual(1, len(d.reasons))
        self.assertEqual(
            'migration would not converge: the instance dirties memory '
            'faster than %.0f MiB/s can carry it and Nova would abort it '
            'after the completion timeout (live_migration_completion_timeout '
            '800 s/GiB)' % d.rate_mibps, d.reasons[0])

    def test_never_converging_without_timeout(self):
        engine = self._engine(completion_timeout_s=0)
        d = self.decide('farplain', engine=engine, memory_mb=4096,
                        flavor=self.HOT)
        self.assertEqual('no-convergence', d.outcome)
        self.assertEqual(['migration would never converge and no completion '
                          'timeout is set'], list(d.reasons))

    def test_force_complete_with_post_copy(self):
        engine = self._engine(timeout_action='force_complete',
                              permit_post_copy=True)
        d = self.decide('farplain', engine=engine, memory_mb=4096,
                        flavor=self.HOT)
        self.assertEqual('post-copy', d.outcome)
        self.assertAllowed(d)
        self.assertIn('completes only after Nova forces post-copy at the '
                      'completion timeout', d.notes)

    def test_force_complete_without_post_copy(self):
        engine = self._engine(timeout_action='force_complete',
                              permit_post_copy=False)
        d = self.decide('farplain', engine=engine, memory_mb=4096,
                        flavor=self.HOT)
        self.assertEqual('forced-pause', d.outcome)
        self.assertIn('completes only after Nova pauses the instance at the '
                      'completion timeout', d.notes)
        # The pause sends the whole dirty set: seconds, not milliseconds.
        self.assertGreater(d.expected_downtime_ms, 1000)

    def test_forced_pause_denied_by_maximum(self):
        engine = self._engine(timeout_action='force_complete')
        d = self.decide('farplain', engine=engine, memory_mb=4096,
                        flavor=dict(self.HOT,
                                    **{'qslm:max_downtime_ms': '1000'}))
        self.assertEqual('forced-pause', d.outcome)
        self.assertFalse(d.allowed)
