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

"""The engine with risk: confidence, breach probability, loss ranking."""

import json
import os

import fixtures
import numpy as np

from qslm_nova import decision
from qslm_nova import estimator
from qslm_nova.risk import assess
from qslm_nova.risk import regimes
from qslm_nova.risk import residuals
from qslm_nova.risk import residuals_file
from tests.unit.decision import base
from tests.unit import fixtures as fx

PRICED = {'qslm:migration_cost_per_s': '10',
          'qslm:downtime_cost_per_s': '100',
          'qslm:max_downtime_ms': '2000'}


def fast_or_safe():
    """src to 'fast' (25 Gbit/s, shared level) or 'safe' (2 Gbit/s,
    isolated): headroom prefers safe, the migration time fast.
    """
    trusted = {'site': 'a', 'trusted': True, 'attested_at': fx.FRESH,
               'mechanisms': ['none', 'tls']}
    return fx.make_topology({
        'version': 1,
        'hosts': {'src': trusted, 'fast': trusted, 'safe': trusted},
        'nodes': {'sw': {'kind': 'switch', 'site': 'a'}},
        'links': [fx.link('src', 'sw', 25, 'isolated'),
                  fx.link('fast', 'sw', 25, 'shared'),
                  fx.link('safe', 'sw', 2, 'isolated')]})


def engine(topo=None, **risk):
    return fx.make_engine(topo, risk=assess.RiskSettings(**risk))


def base_of(d):
    """The pause Decision d's ratios multiply: the expected one, or a
    fast migration's pause had Nova's first step landed late.
    """
    code = regimes.Regime.codes(
        d.expected_downtime_ms, d.outcome, d.total_time_s)
    return float(regimes.base_pause(d.expected_downtime_ms,
                                    d.race_downtime_ms, code))


class TestDefaults(base.DecisionTestCase):

    def test_verdicts_and_scores_as_without_risk(self):
        hosts = ['dst', 'plain', 'far', 'farplain', 'rogue']
        for flavor in ({}, {'qslm:max_downtime_ms': '150'}, PRICED,
                       dict(PRICED, **{'qslm:max_downtime_ms': '90'})):
            plain = self.engine.decide(fx.request(flavor=flavor), hosts)
            # rank_by = expected_loss changes nothing for unpriced
            # flavors, and the default changes nothing for priced ones.
            for e in (engine(rank_by='expected_loss'), engine()):
                got = e.decide(fx.request(flavor=flavor), hosts)
                if e.settings.risk.rank_by == 'headroom' or not (
                        'qslm:migration_cost_per_s' in flavor):
                    np.testing.assert_array_equal(plain.score, got.score)
                np.testing.assert_array_equal(plain.allowed, got.allowed)
                for a, b in zip(plain, got):
                    self.assertEqual(a.reasons, b.reasons)
                    self.assertEqual(a.notes, b.notes)

    def test_every_estimate_reports_its_risk(self):
        d = self.decide('dst', flavor={'qslm:max_downtime_ms': '300'})
        self.assertAllowed(d)
        self.assertTrue(0 < d.exceed_probability < 0.1)
        # The default holds the pause at 0.95 confidence.
        bound = assess.RiskSettings().table().bound(
            residuals.TRANSPORT_OF_MECHANISM[d.mechanism],
            regimes.Regime.of(d.expected_downtime_ms,
                              total_s=d.total_time_s), 0.95)[0]
        self.assertAlmostEqual(300 - base_of(d) * bound, d.budget_left_ms)
        self.assertIsNone(d.expected_loss)
        # With sla_confidence empty, the worst case.
        w = self.decide('dst', engine(sla_confidence=None),
                        flavor={'qslm:max_downtime_ms': '300'})
        self.assertAlmostEqual(300 - w.worst_downtime_ms, w.budget_left_ms)
        # Its group is the finest with runs for the confidence: here
        # the 20-run one, the 1/21 floor over its runs.
        self.assertTrue(0 < w.exceed_probability < 0.1)
        # No maximum: nothing to exceed, no budget.
        d = self.decide('dst')
        self.assertIsNone(d.exceed_probability)
        self.assertIsNone(d.budget_left_ms)
        # The probability grows as the maximum falls.
        ps = [self.decide('dst', flavor={'qslm:max_downtime_ms': m})
              .exceed_probability for m in ('300', '100', '80', '60', '1')]
        self.assertEqual(ps, sorted(ps))
        self.assertEqual(1.0, ps[-1])


class _Option(object):
    def __init__(self, label):
        self.label = label


class _Chosen(object):
    """Two TCP candidates with the same expected pause, one on idle and
    one on loaded hosts.
    """

    def __init__(self, expected, loads, fixed=40.0, outcome=None,
                 total_s=60.0, race=None):
        self.expected_downtime_ms = np.array(expected, float)
        self.race_downtime_ms = (None if race is None else
                                 np.array(race, float))
        self.worst_downtime_ms = self.expected_downtime_ms * 2
        # A minute: none of the fast regime unless asked.
        self.total_time_s = np.broadcast_to(
            np.asarray(total_s, float), self.expected_downtime_ms.shape)
        self.option = np.zeros(len(expected), dtype=int)
        self.outcome = np.array(
            [estimator.Outcome[o.upper().replace('-', '_')].value
             for o in outcome or ['completed'] * len(expected)])
        self.options = [_Option('none')]
        self.loads, self.fixed = np.array(loads, float), fixed

    def idle_downtime_ms(self):
        return self.expected_downtime_ms - self.fixed * self.loads


class TestRegimeOfIdlePause(base.DecisionTestCase):

    def test_load_stretch_does_not_change_the_regime(self):
        # 120 ms on idle hosts is a long pause; 120 ms at load 1 is 80 ms
        # on idle hosts, a short one (the shipped residuals' regimes are
        # of the testbed's idle runs).
        risk = assess.Assessment(assess.RiskSettings(), {}, 300,
                                 _Chosen([120.0, 120.0], [0.0, 1.0]))
        table = assess.RiskSettings().table()
        want = [table.bound('tcp', regimes.Regime.LONG, 0.95)[0],
                table.bound('tcp', regimes.Regime.SHORT, 0.95)[0]]
        self.assertEqual(['tcp/long', 'tcp/short'],
                         [risk.groups[m].name for m in risk.member])
        np.testing.assert_allclose(np.multiply(120.0, want), risk.held_ms())


class TestFastRegime(base.DecisionTestCase):

    def test_a_migration_that_may_beat_novas_first_step_is_fast(self):
        # The same short pause: a migration expected to end within
        # FAST_MIGRATION_S may stop under QEMU's own limit before Nova's
        # first downtime step lands, so the fast runs bound it.
        # The fast runs' ratios are of the pause the model expects if
        # the guest stops under QEMU's own limit before that (here 180
        # ms): that pause times their bound is held.
        fast = regimes.FAST_MIGRATION_S - 0.1
        risk = assess.Assessment(
            assess.RiskSettings(), {}, 300,
            _Chosen([60.0, 60.0], [0.0, 0.0], total_s=[fast, 60.0],
                    race=[180.0, 60.0]))
        self.assertEqual(['tcp/fast', 'tcp/short'],
                         [risk.groups[m].name for m in risk.member])
        held = risk.held_ms()
        table = assess.RiskSettings().table()
        bound = table.bound('tcp', regimes.Regime.FAST, 0.95)
        ratio = bound.ratio
        self.assertAlmostEqual(180.0 * ratio, held[0])
        self.assertGreater(held[0], held[1])
        self.assertEqual(
            "pause held at 0.95 confidence: 180.0 ms, its pause if it "
            "stops before Nova's first downtime step lands, x %.2f (bound "
            "of %d measured tcp/fast runs)" % (ratio, bound.group.runs),
            risk.describe_bound(0))
        # Never under the expected pause: a race pause under it (Nova's
        # first step over QEMU's own limit) changes nothing.
        low = assess.Assessment(
            assess.RiskSettings(), {}, 300,
            _Chosen([60.0], [0.0], total_s=fast, race=[20.0]))
        self.assertAlmostEqual(60.0 * ratio, low.held_ms()[0])
        # Whatever its pause, but not a post-copy switch.
        self.assertEqual(
            [regimes.Regime.FAST, regimes.Regime.FAST,
             regimes.Regime.POST_COPY, regimes.Regime.LONG],
            [regimes.Regime.of(ms, end, t) for ms, end, t in (
                (50.0, None, fast), (500.0, 'completed', fast),
                (50.0, 'post-copy', fast), (500.0, None, None))])

    def test_a_stop_that_may_still_race_holds_its_race_pause_too(self):
        # Expected to end 6 s in, after Nova's late first step (5.5 s)
        # but within race_reach_s: a short stop, whose ratios are the
        # short stops', that may still race. The fast runs' bound of its
        # race pause is held too, here the larger; P exceed the larger.
        risk = assess.Assessment(
            assess.RiskSettings(), {}, 150,
            _Chosen([60.0, 60.0], [0.0, 0.0], total_s=[6.0, 6.0],
                    race=[180.0, 60.0]))
        self.assertEqual(['tcp/short', 'tcp/short'],
                         [risk.groups[m].name for m in risk.member])
        table = assess.RiskSettings().table()
        fast = table.bound('tcp', regimes.Regime.FAST, 0.95)
        short = table.bound('tcp', regimes.Regime.SHORT, 0.95)
        np.testing.assert_allclose(
            [180.0 * fast.ratio, 60.0 * short.ratio], risk.held_ms())
        p = risk.exceed_probability()
        self.assertAlmostEqual(
            float(fast.group.exceedance(150.0 / 180.0)), p[0])
        self.assertAlmostEqual(
            float(short.group.exceedance(150.0 / 60.0)), p[1])
        self.assertGreater(p[0], p[1])
        note = risk.describe_bound(0)
        self.assertIn("expected to end 6.00 s in, it may still stop before "
                      "Nova's late first step: 180.0 ms", note)
        self.assertIn('bound of %d measured tcp/fast runs' % fast.group.runs,
                      note)
        self.assertTrue(note.endswith(', held'), note)
        # No race pause over the expected one: its own group only.
        self.assertNotIn('late first step', risk.describe_bound(1))

    def test_may_race_is_of_stops_only(self):
        codes = [r.code for r in (regimes.Regime.SHORT, regimes.Regime.LONG,
                                  regimes.Regime.FAST,
                                  regimes.Regime.FORCED_PAUSE)]
        np.testing.assert_array_equal(
            [True, True, False, False],
            regimes.may_race(codes, [60.0] * 4, [180.0] * 4))
        np.testing.assert_array_equal(
            [False] * 4, regimes.may_race(codes, [60.0] * 4, [60.0] * 4))
        np.testing.assert_array_equal(
            [False] * 4, regimes.may_race(codes, [60.0] * 4, None))


class _GroupsFile(base.DecisionTestCase):

    def settings(self, groups, confidence=0.9):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'r.json')
        with open(path, 'w') as f:
            json.dump({'groups': groups}, f)
        return assess.RiskSettings(sla_confidence=confidence,
                                   residuals_file=path)

    def of_kind(self, groups, outcome, expected, confidence=0.9):
        """Two candidates expecting the same pause, the second ending in
        *outcome*: (their Assessment, their groups' names, the pauses
        their groups' bounds at *confidence* would hold).
        """
        chosen = _Chosen([expected, expected], [0.0, 0.0],
                         outcome=['completed', outcome])
        risk = assess.Assessment(self.settings(groups, confidence), {},
                                 100 * expected, chosen)
        names = [risk.groups[m].name for m in risk.member]
        table = risk._settings.table()
        return risk, names, [expected * table.groups[n].quantile(confidence)
                             for n in names]


class TestFastWithoutFastRuns(_GroupsFile):

    def test_a_file_without_fast_runs_holds_them_by_the_pool(self):
        # A residuals file written before the fast regime: its
        # transport's pool (of every regime) bounds a fast migration.
        short = [round(x, 3) for x in np.linspace(0.5, 1.0, 40)]
        long_ = [round(x, 3) for x in np.linspace(1.0, 2.0, 40)]
        risk = assess.Assessment(
            self.settings({'tcp/short': short, 'tcp/long': long_}, 0.9),
            {}, 300, _Chosen([60.0], [0.0], total_s=1.0))
        group = risk.groups[risk.member[0]]
        self.assertEqual('tcp', group.name)
        self.assertAlmostEqual(60.0 * group.quantile(0.9),
                               risk.held_ms()[0])


class TestPostCopyRegime(_GroupsFile):

    def test_a_switch_is_held_by_switches_or_the_worst_case(self):
        pre = [round(x, 3) for x in np.linspace(1.0, 1.2, 30)]
        post = [round(x, 3) for x in np.linspace(1.0, 3.0, 25)]
        risk, names, bounds = self.of_kind(
            {'tcp/short': pre, 'tcp/post-copy': post}, 'post-copy', 60.0)
        self.assertEqual(['tcp/short', 'tcp/post-copy'], names)
        np.testing.assert_allclose(bounds, risk.held_ms())
        # Past the switches' runs (0.97 needs 33), the worst case (2 x
        # the expected pause here), never under the largest switch (3 x),
        # though the pre-copy runs could bound it: they are no evidence
        # about a switch.
        risk = self.of_kind({'tcp/short': pre * 2, 'tcp/post-copy': post},
                            'post-copy', 60.0, 0.97)[0]
        held = risk.held_ms()
        self.assertLess(held[0], 60.0 * 1.21)
        self.assertEqual(180.0, held[1])
        self.assertTrue(risk.beyond_data(1))
        self.assertFalse(risk.beyond_data(0))
        self.assertEqual('a post-copy switch: sla_confidence 0.97 needs 33 '
                         'measured switches, 25 are known: the worst case '
                         'is held', risk.describe_bound(1))
        # The shipped residuals hold Nova's switches of the libvirt
        # testbed: a switch is bounded by them, not by the stops.
        risk = assess.Assessment(assess.RiskSettings(), {}, 300,
                                 _Chosen([60.0, 60.0], [0.0, 0.0],
                                         outcome=['completed', 'post-copy']))
        switches = risk._settings.table().groups['tcp/post-copy']
        self.assertGreater(switches.runs, 20)
        self.assertEqual('tcp/post-copy', risk.groups[risk.member[1]].name)
        self.assertAlmostEqual(60.0 * switches.quantile(0.95),
                               risk.held_ms()[1])
        self.assertFalse(risk.beyond_data(1))


class TestForcedPauseRegime(_GroupsFile):

    def test_a_forced_pause_is_held_by_forced_pauses_or_the_worst_case(
            self):
        # Nova's forced pause (its completion timeout passed) moves what
        # the guest dirtied and was never sent: the forced pauses bound
        # it, never the stops; past them, the worst case.
        groups = {
            'tcp/long': [round(x, 3) for x in np.linspace(1.0, 1.2, 60)],
            'tcp/forced-pause': [round(x, 3)
                                 for x in np.linspace(1.0, 4.0, 25)]}
        risk, names, bounds = self.of_kind(groups, 'forced-pause', 3000.0)
        self.assertEqual(['tcp/long', 'tcp/forced-pause'], names)
        np.testing.assert_allclose(bounds, risk.held_ms())
        self.assertGreater(bounds[1], 3000.0 * 1.2)
        # Past them, the worst case (2 x), never under the largest
        # forced pause (4 x), not the stops' (1.2 x).
        risk = self.of_kind(groups, 'forced-pause', 3000.0, 0.97)[0]
        self.assertEqual(12000.0, risk.held_ms()[1])
        self.assertEqual("Nova's forced pause: sla_confidence 0.97 needs "
                         "33 measured forced pauses, 25 are known: the "
                         "worst case is held", risk.describe_bound(1))
        # The shipped residuals keep the testbed's forced pauses apart:
        # the stops' tail no longer carries their 3.55x.
        risk = assess.Assessment(
            assess.RiskSettings(), {}, 20000,
            _Chosen([3000.0, 3000.0], [0.0, 0.0],
                    outcome=['completed', 'forced-pause']))
        shipped = risk._settings.table()
        self.assertEqual('tcp/forced-pause',
                         risk.groups[risk.member[1]].name)
        self.assertGreater(shipped.groups['forced-pause'].ratios[-1], 3.5)
        self.assertLess(shipped.groups['tcp/long'].ratios[-1], 1.1)


class TestSmallGroup(_GroupsFile):

    def test_the_note_names_the_runs_that_set_the_bound(self):
        # Twelve long runs up to 3 are too few for 0.95 (20 needed): the
        # pool of milder short runs bounds them, but never under their
        # own largest, and the note says whose number it is.
        long_ = [round(x, 3) for x in np.linspace(1.0, 3.0, 12)]
        short = [round(x, 4) for x in np.linspace(0.5, 1.0, 200)]
        risk = assess.Assessment(
            self.settings({'tcp/long': long_, 'tcp/short': short}, 0.95),
            {}, 1000, _Chosen([200.0, 50.0], [0.0, 0.0]))
        self.assertEqual(['tcp', 'tcp/short'],
                         [risk.groups[m].name for m in risk.member])
        self.assertLess(risk.groups[risk.member[0]].quantile(0.95), 3.0)
        np.testing.assert_allclose(
            [600.0, 50.0 * risk.groups[risk.member[1]].quantile(0.95)],
            risk.held_ms())
        self.assertEqual(
            'pause held at 0.95 confidence: expected x 3.00 (largest of '
            '12 measured tcp/long runs, over the bound of 212 tcp runs)',
            risk.describe_bound(0))
        self.assertIn('(bound of 200 measured tcp/short runs)',
                      risk.describe_bound(1))
        # At 0.8 the twelve runs show a bound of their own, the 11th.
        risk = assess.Assessment(
            self.settings({'tcp/long': long_, 'tcp/short': short}, 0.8),
            {}, 1000, _Chosen([200.0], [0.0]))
        self.assertIn('expected x %.2f (bound of 12 measured tcp/long '
                      'runs, over the bound of 212 tcp runs)' % long_[10],
                      risk.describe_bound(0))


class TestMechanismsTheTestbedDidNotRun(_GroupsFile):

    def test_tunnelled_is_held_by_its_own_runs_when_a_file_has_them(self):
        chosen = _Chosen([200.0], [0.0])
        chosen.options = [_Option('tunnelled (+ipsec on 1 link)')]
        tcp = [round(x, 3) for x in np.linspace(0.5, 1.0, 40)]
        tunnelled = [round(x, 3) for x in np.linspace(1.0, 2.0, 40)]
        risk = assess.Assessment(
            self.settings({'tcp/long': tcp, 'tunnelled/long': tunnelled},
                          0.95), {}, 1000, chosen)
        group = risk.groups[risk.member[0]]
        self.assertEqual('tunnelled/long', group.name)
        self.assertAlmostEqual(200.0 * group.quantile(0.95),
                               risk.held_ms()[0])
        # The shipped file has no tunnelled runs: the pool of every run
        # between idle hosts (between loaded ones, everything's).
        risk = assess.Assessment(assess.RiskSettings(), {}, 1000, chosen)
        self.assertEqual('idle', risk.groups[risk.member[0]].name)


class TestConfidence(base.DecisionTestCase):

    def allowed_count(self, confidence, flavor):
        hosts = sorted(fx.star_doc(40)['hosts'])
        topo = fx.make_topology(fx.star_doc(40))
        e = engine(topo, sla_confidence=confidence)
        ds = e.decide(fx.request(source=hosts[0], flavor=flavor),
                      hosts[1:])
        for d in ds:
            if d.allowed:
                # Allowed only when the breach probability fits.
                self.assertLessEqual(d.exceed_probability,
                                     1 - confidence + 1e-12)
        return int(np.count_nonzero(ds.allowed)), ds

    def test_higher_confidence_allows_fewer(self):
        e0 = self.decide('dst')
        limit = str(int(e0.expected_downtime_ms * 1.5))
        flavor = {'qslm:max_downtime_ms': limit}
        counts = [self.allowed_count(c, flavor)[0]
                  for c in (0.5, 0.8, 0.9, 0.95, 0.99)]
        self.assertEqual(counts, sorted(counts, reverse=True))
        self.assertGreater(counts[0], 0)
        self.assertEqual(0, counts[-1])

    def test_denial_names_the_confidence(self):
        e0 = self.decide('dst')
        # Just under the pause the shipped residuals hold at 0.95.
        bound = assess.RiskSettings().table().bound(
            residuals.TRANSPORT_OF_MECHANISM[e0.mechanism],
            regimes.Regime.of(e0.expected_downtime_ms), 0.95).ratio
        limit = int(e0.expected_downtime_ms * bound * 0.95)
        self.assertGreater(limit, 0)
        d = self.decide('dst', engine(sla_confidence=0.95),
                        flavor={'qslm:max_downtime_ms': str(limit)})
        self.assertFalse(d.allowed)
        self.assertIn('0.95-confidence downtime', d.reasons[0])
        self.assertIn('(qslm:max_downtime_ms)', d.reasons[0])
        self.assertLess(d.budget_left_ms, 0)
        self.assertTrue(any('pause held at 0.95 confidence' in n
                            for n in d.notes), d.notes)

    def test_flavor_may_only_raise_it(self):
        s = assess.RiskSettings(sla_confidence=0.9)
        self.assertEqual(0.99, s.confidence_for(
            {'qslm:sla_confidence': '0.99'}))
        self.assertEqual(0.9, s.confidence_for(
            {'qslm:sla_confidence': '0.6'}))
        self.assertEqual(0.9, s.confidence_for({}))
        unset = assess.RiskSettings(sla_confidence=None)
        self.assertEqual(0.7, unset.confidence_for(
            {'qslm:sla_confidence': '0.7'}))
        self.assertIsNone(unset.confidence_for({}))
        # The default: 0.95, raised and never lowered.
        self.assertEqual(0.95, assess.RiskSettings().confidence_for({}))
        self.assertEqual(0.95, assess.RiskSettings().confidence_for(
            {'qslm:sla_confidence': '0.7'}))
        # With the option empty, the flavor's key alone turns
        # calibration on.
        d = self.decide('dst', engine(sla_confidence=None),
                        flavor={'qslm:sla_confidence': '0.9',
                                'qslm:max_downtime_ms': '5000'})
        self.assertTrue(any('pause held at 0.9 confidence' in n
                            for n in d.notes), d.notes)

    def test_beyond_the_data_holds_the_worst_case(self):
        d = self.decide('dst', engine(sla_confidence=0.999),
                        flavor={'qslm:max_downtime_ms': '5000'})
        self.assertAllowed(d)
        # Never under the largest ratio measured (the shipped stops'
        # pool's: 1.81, a destination's slow resume).
        largest = residuals_file.load_cached().groups['all'].ratios[-1]
        self.assertGreater(largest, 1.5)
        self.assertAlmostEqual(5000 - d.budget_left_ms,
                               max(d.worst_downtime_ms,
                                   base_of(d) * largest),
                               places=6)
        self.assertTrue(any('needs 999 measured runs' in n
                            for n in d.notes), d.notes)

    def test_unreadable_residuals_hold_the_worst_case(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        missing = os.path.join(tmp, 'none.json')
        d = self.decide('dst', engine(sla_confidence=0.9,
                                      residuals_file=missing),
                        flavor={'qslm:max_downtime_ms': '5000'})
        self.assertAllowed(d)
        self.assertAlmostEqual(5000 - d.worst_downtime_ms, d.budget_left_ms)
        self.assertIsNone(d.exceed_probability)
        self.assertTrue(any('residuals unavailable' in n and missing in n
                            for n in d.notes), d.notes)


class TestOutsideTheRunsShares(base.DecisionTestCase):

    def residuals_file(self, share=None):
        """Every transport and regime: 30 ratios from 1 to 1.5; each
        group's largest dirty share *share* (None: the field is absent).
        """
        groups = {'%s/%s' % (t, r): [round(x, 3) for x in
                                     np.linspace(1.0, 1.5, 30)]
                  for t in ('tcp', 'tls', 'ssh') for r in ('short', 'long')}
        doc = {'groups': groups}
        if share is not None:
            doc['dirty_share_max'] = {name: share for name in groups}
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'r.json')
        with open(path, 'w') as f:
            json.dump(doc, f)
        return path

    def decide(self, share):
        return super().decide(
            'dst', engine(sla_confidence=0.9,
                          residuals_file=self.residuals_file(share)),
            flavor={'qslm:max_downtime_ms': '100000'})

    def test_a_guest_that_dirties_more_is_held_at_the_worst_case(self):
        inside = self.decide(None)
        held = 100000 - inside.budget_left_ms
        # The 28th of 30 ratios (ceil(31 x 0.9)).
        self.assertAlmostEqual(
            base_of(inside) * round(1 + 0.5 * 27 / 29, 3), held,
            places=6)
        share = float(residuals.dirty_share(
            inside.inputs.dirty_rate_mibps, inside.inputs.bandwidth_gbps))
        self.assertGreater(share, 0.0)
        # Runs that dirtied as much or more: the same bound.
        for at_most in (residuals.share_bound([share]), 1.0):
            d = self.decide(at_most)
            self.assertEqual(inside.budget_left_ms, d.budget_left_ms)
            self.assertTrue(any('pause held at 0.9 confidence' in n
                                for n in d.notes), d.notes)
        # Runs that all dirtied less: the worst case (and never under the
        # largest ratio), with the share in the note.
        d = self.decide(share / 2)
        self.assertAlmostEqual(
            max(d.worst_downtime_ms, base_of(d) * 1.5),
            100000 - d.budget_left_ms, places=6)
        self.assertGreater(100000 - d.budget_left_ms, held)
        note = [n for n in d.notes if 'outside the data' in n]
        self.assertEqual(1, len(note), d.notes)
        self.assertIn('dirties %.1f %% of its path' % (100 * share), note[0])
        self.assertIn('(at most %.1f %%)' % (50 * share), note[0])
        # The breach probability is still its group's.
        self.assertEqual(inside.exceed_probability, d.exceed_probability)

    def test_without_a_confidence_no_guard(self):
        e = engine(sla_confidence=None,
                   residuals_file=self.residuals_file(1e-6))
        plain = super().decide('dst', e)
        self.assertFalse(any('outside the data' in n for n in plain.notes),
                         plain.notes)


class TestLossRanking(base.DecisionTestCase):

    def test_rank_by_loss_changes_the_best_host(self):
        topo = fast_or_safe()
        req = fx.request(memory_mb=1024, flavor=PRICED)
        by_headroom = engine(topo).decide(req, ['fast', 'safe'])
        by_loss = engine(topo, rank_by='expected_loss').decide(
            req, ['fast', 'safe'])
        self.assertEqual('safe', by_headroom.best()[0].host)
        self.assertEqual('fast', by_loss.best()[0].host)
        fast, safe = by_loss
        self.assertLess(fast.expected_loss, safe.expected_loss)
        # The loss is reported whatever the ranking.
        self.assertEqual([d.expected_loss for d in by_loss],
                         [d.expected_loss for d in by_headroom])
        # Decision.score and the arrays agree (rank_key, best_index).
        self.assertEqual([d.score for d in by_loss], list(by_loss.score))
        self.assertEqual('fast', sorted(by_loss, key=decision.rank_key)[0]
                         .host)

    def test_loss_is_the_formula(self):
        d = self.decide('dst', flavor=PRICED)
        risk = assess.RiskSettings()
        table = risk.table()
        group = table.group_for(
            residuals.TRANSPORT_OF_MECHANISM[d.mechanism],
            regimes.Regime.of(d.expected_downtime_ms,
                              total_s=d.total_time_s),
            risk.sla_confidence)
        want = (100 * base_of(d) * group.mean / 1000 +
                10 * d.total_time_s)
        self.assertAlmostEqual(want, d.expected_loss)

    def test_breach_penalty_counts_the_probability(self):
        flavor = {'qslm:sla_breach_penalty': '1000',
                  'qslm:max_downtime_ms': '5000'}
        d = self.decide('dst', flavor=flavor)
        self.assertAlmostEqual(1000 * d.exceed_probability, d.expected_loss)


class TestBadKeys(base.DecisionTestCase):

    def test_malformed_or_huge_values_deny_naming_the_key(self):
        for key, value in (('qslm:sla_breach_penalty', '1e12'),
                           ('qslm:downtime_cost_per_s', '10000000000'),
                           ('qslm:migration_cost_per_s', '-1'),
                           ('qslm:sla_confidence', '1')):
            d = self.decide('dst', flavor={key: value})
            self.assertFalse(d.allowed)
            self.assertIn('flavor extra spec %s: must be a number' % key,
                          d.reasons[0])

    def test_only_the_flavor_prices(self):
        d = self.decide('dst', image={'qslm:downtime_cost_per_s': '5'},
                        metadata={'qslm:sla_confidence': '0.99'})
        self.assertAllowed(d)
        self.assertIsNone(d.expected_loss)
        self.assertIn('image property qslm:downtime_cost_per_s ignored: '
                      'SLA keys come from the flavor only', d.notes)
        self.assertIn('instance metadata qslm:sla_confidence ignored: SLA '
                      'keys come from the flavor only', d.notes)


class TestLoadedHosts(base.DecisionTestCase):
    """Runs between loaded hosts bound migrations between loaded hosts.
    """

    def residuals_file(self, loaded_ratio):
        """Idle runs from 1 to 1.2, loaded ones at *loaded_ratio*."""
        idle = [round(x, 3) for x in np.linspace(1.0, 1.2, 30)]
        doc = {'loaded_cpu_load': 3.0,
               'groups': {'tcp/long': idle, 'tcp/short': idle,
                          'tcp@loaded/long': [loaded_ratio] * 30,
                          'tcp@loaded/short': [loaded_ratio] * 30}}
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'r.json')
        with open(path, 'w') as f:
            json.dump(doc, f)
        return path

    def decide_at(self, dst_load, loaded_ratio=2.5):
        doc = fx.star_doc(1)
        doc['hosts']['src']['cpu_load'] = 0.5
        doc['hosts']['h0']['cpu_load'] = dst_load
        e = engine(fx.make_topology(doc), sla_confidence=0.9,
                   residuals_file=self.residuals_file(loaded_ratio))
        return super().decide('h0', e,
                              flavor={'qslm:max_downtime_ms': '100000'})

    def held(self, d):
        return 100000 - d.budget_left_ms

    #: The 28th of the 30 idle ratios (ceil(31 x 0.9)).
    IDLE_BOUND = round(1 + 0.2 * 27 / 29, 3)

    def test_the_busier_host_picks_the_group(self):
        idle = self.decide_at(2.9)
        self.assertAlmostEqual(idle.expected_downtime_ms * self.IDLE_BOUND,
                               self.held(idle), places=6)
        self.assertFalse(any('loaded' in n for n in idle.notes),
                         idle.notes)
        loaded = self.decide_at(3.0)
        self.assertAlmostEqual(loaded.expected_downtime_ms * 2.5,
                               self.held(loaded), places=6)
        note = [n for n in loaded.notes if 'pause held' in n]
        self.assertEqual(1, len(note), loaded.notes)
        self.assertIn('measured tcp@loaded/', note[0])
        self.assertIn('the busier host runs 3.00 threads per CPU, loaded '
                      'from 3', note[0])

    def test_a_loaded_host_is_never_held_under_an_idle_one(self):
        # Loaded runs better than the idle ones: the idle runs' bound.
        d = self.decide_at(4.0, loaded_ratio=0.5)
        self.assertAlmostEqual(d.expected_downtime_ms * self.IDLE_BOUND,
                               self.held(d), places=6)
        self.assertFalse(any('tcp@loaded' in n for n in d.notes), d.notes)
