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

"""Residual groups: conformal quantiles, exceedance, pools, the file."""

import io
import json
import math
import os

import fixtures
import numpy as np
from oslotest import base

from qslm_nova import estimator
from qslm_nova.history import join
from qslm_nova.risk import conformal
from qslm_nova.risk import from_history
from qslm_nova.risk import learn
from qslm_nova.risk import regimes
from qslm_nova.risk import residuals
from qslm_nova.risk import residuals_file
from qslm_nova.testbed import campaign
from qslm_nova.testbed import fit
from qslm_nova.testbed import libvirt_runs


def group(values, name='tcp/long'):
    return conformal.ResidualGroup(name, np.sort(np.array(values, float)))


class TestGroup(base.BaseTestCase):

    def test_quantile_is_the_conformal_order_statistic(self):
        g = group(range(1, 20))       # 1..19, n = 19
        # ceil(20 * 0.9) = 18th smallest.
        self.assertEqual(18.0, g.quantile(0.9))
        self.assertEqual(10.0, g.quantile(0.5))
        # ceil(20 * 0.95) = 19 = n: the largest; 0.96 needs 20 runs.
        self.assertEqual(19.0, g.quantile(0.95))
        self.assertEqual(math.inf, g.quantile(0.96))

    def test_seen_is_the_bound_or_the_largest_past_it(self):
        g = group(range(1, 20))
        self.assertEqual(18.0, g.seen(0.9))
        self.assertEqual(19.0, g.seen(0.95))
        self.assertEqual(19.0, g.seen(0.999))
        self.assertEqual(2.0, group([2.0]).seen(0.5))

    def test_exceedance_counts_beyond_plus_one(self):
        g = group([1.0, 1.1, 1.2, 1.5, 3.0])
        p = g.exceedance([0.5, 1.1, 1.4, 3.0, np.inf])
        np.testing.assert_allclose([6 / 6., 4 / 6., 3 / 6., 1 / 6.,
                                    1 / 6.], p)

    def test_quantile_and_exceedance_agree(self):
        # x at or over the bound at c  <=>  exceedance(x) <= 1 - c.
        rng = np.random.default_rng(3)
        g = group(rng.lognormal(0.1, 0.3, 144))
        for c in (0.5, 0.8, 0.9, 0.95, 0.99):
            q = g.quantile(c)
            self.assertLessEqual(float(g.exceedance(q)), 1 - c + 1e-12)
            below = np.nextafter(q, 0)
            self.assertGreater(float(g.exceedance(below)), 1 - c)

    def test_runs_needed(self):
        self.assertEqual(conformal.MIN_RUNS, conformal.runs_needed(None))
        self.assertEqual(conformal.MIN_RUNS, conformal.runs_needed(0.9))
        self.assertEqual(99, conformal.runs_needed(0.99))
        self.assertEqual(999, conformal.runs_needed(0.999))
        for c in (0.9, 0.95, 0.99, 0.995, 0.999):
            n = conformal.runs_needed(c)
            self.assertTrue(math.isfinite(group(range(n)).quantile(c)))
            if n > conformal.MIN_RUNS:
                self.assertEqual(math.inf, group(range(n - 1)).quantile(c))


class TestTable(base.BaseTestCase):

    def table(self):
        return residuals.ResidualTable({
            ('tcp', 'short'): np.linspace(1, 2, 30),
            ('tcp', 'long'): np.linspace(1, 1.2, 10),
            ('tls', 'long'): np.linspace(1, 1.5, 70)})

    def test_pools(self):
        t = self.table()
        self.assertEqual(40, t.groups['tcp'].runs)
        self.assertEqual(110, t.groups['all'].runs)

    def test_finest_group_with_enough_runs(self):
        t = self.table()
        short, long_ = regimes.Regime.SHORT, regimes.Regime.LONG
        self.assertEqual('tcp/short', t.group_for('tcp', short).name)
        # 10 runs: too few to stand alone; the transport's pool.
        self.assertEqual('tcp', t.group_for('tcp', long_).name)
        # 0.99 needs 99 runs: only the pool of everything has them.
        self.assertEqual('all', t.group_for('tcp', short, 0.99).name)
        self.assertEqual('all', t.group_for('tls', long_, 0.99).name)
        self.assertEqual('tls/long', t.group_for('tls', long_, 0.95).name)
        # No data for the mechanism (ipsec): everything.
        self.assertEqual('all', t.group_for(None, short).name)
        # Past every pool: the largest, whose bound is infinite.
        self.assertEqual(math.inf,
                         t.group_for('tcp', short, 0.999).quantile(0.999))

    def test_bound_comes_from_the_group_for(self):
        # The assessment takes the bound's group as the candidate's group.
        t = self.table()
        for transport in ('tcp', 'tls', None):
            for regime in regimes.Regime:
                for c in (0.5, 0.9, 0.95, 0.97, 0.99, 0.999):
                    self.assertIs(t.group_for(transport, regime, c),
                                  t.bound(transport, regime, c)[1],
                                  (transport, regime, c))

    def test_bound_grows_with_the_confidence(self):
        # The group changes with the confidence (tcp/short, then tcp,
        # then all); the bound never falls.
        levels = np.linspace(0.5, 0.9999, 400)
        for t in (self.table(), residuals_file.load_cached()):
            for transport in ('tcp', 'tls', 'ssh', None):
                for regime in regimes.Regime:
                    bounds = [t.bound(transport, regime, c)[0]
                              for c in levels]
                    self.assertEqual(bounds, sorted(bounds),
                                     (transport, regime))
                    self.assertEqual(math.inf, bounds[-1])
        t = self.table()
        short = regimes.Regime.SHORT
        # At 0.97 tcp/short (30 runs) is too small, tcp (40) is used but
        # the bound keeps tcp/short's largest ratio.
        q, g, floor = t.bound('tcp', short, 0.97)
        self.assertEqual('tcp', g.name)
        self.assertEqual(2.0, q)
        # tcp's own bound is that largest ratio: no finer group sets it.
        self.assertIsNone(floor)
        # tcp/short's 0.9 bound is under its maximum; tcp's 0.97 bound
        # over a finer maximum is kept.
        t2 = residuals.ResidualTable({
            ('tcp', 'short'): np.linspace(1, 3, 25),
            ('tcp', 'long'): np.linspace(1, 1.1, 200)})
        self.assertEqual((3.0, 'tcp', 'tcp/short'), (
            t2.bound('tcp', short, 0.97).ratio,
            t2.bound('tcp', short, 0.97).group.name,
            t2.bound('tcp', short, 0.97).floor.name))
        self.assertLess(t2.groups['tcp'].quantile(0.97), 3.0)
        # The long runs' own group has the runs: no floor.
        self.assertIsNone(t2.bound('tcp', regimes.Regime.LONG,
                                   0.97).floor)

    def test_a_pool_never_holds_less_than_a_small_groups_runs(self):
        # Twelve long tls runs are too few to stand alone; their pool is
        # two thousand milder short runs. The bound keeps what the long
        # runs show: their own bound where it exists, else their largest.
        long_ = np.linspace(1, 3, 12)
        t = residuals.ResidualTable({
            ('tls', 'long'): long_,
            ('tls', 'short'): np.linspace(0.5, 1, 2000)})
        q, group, _floor = t.bound('tls', regimes.Regime.LONG, 0.99)
        self.assertEqual('tls', group.name)
        self.assertLess(group.quantile(0.99), 1.1)
        self.assertEqual(3.0, q)
        # At 0.8 the twelve runs show a bound of their own (the 11th).
        q, group, _floor = t.bound('tls', regimes.Regime.LONG, 0.8)
        self.assertEqual('tls', group.name)
        self.assertEqual(long_[10], q)
        self.assertEqual(long_[10], t.groups['tls/long'].seen(0.8))
        # The short runs stand for themselves, as before.
        q, group, _floor = t.bound('tls', regimes.Regime.SHORT, 0.99)
        self.assertEqual(('tls/short', group.quantile(0.99)),
                         (group.name, q))

    def test_regime(self):
        self.assertEqual(regimes.Regime.SHORT, regimes.Regime.of(99.9))
        self.assertEqual(regimes.Regime.LONG, regimes.Regime.of(100.0))
        for ms in (99.9, 100.0):
            # The outcome as the estimate's number, the enum or the
            # label a history record carries.
            for end in (estimator.Outcome.POST_COPY, 3, 'post-copy'):
                self.assertEqual(regimes.Regime.POST_COPY,
                                 regimes.Regime.of(ms, end))
            # Nova's forced pause, however long or fast the migration.
            for total_s in (None, 1.0, 60.0):
                self.assertEqual(regimes.Regime.FORCED_PAUSE,
                                 regimes.Regime.of(ms, 'forced-pause',
                                                   total_s))
            # An aborted migration, or an outcome no release names,
            # has no regime of its own.
            for end in ('aborted', 'cancelled', {'x': 1}, 99, None,
                        math.inf, math.nan):
                self.assertEqual(regimes.Regime.of(ms),
                                 regimes.Regime.of(ms, end))
        ends = ['completed', 'completed', 'post-copy', None, 'forced-pause']
        for outcome in (ends, [0, 0, 3, 0, 2], np.array([0, 0, 3, 0, 2])):
            np.testing.assert_array_equal(
                [0, 1, 2, 3, 4], regimes.Regime.codes(
                    [50, 500, 50, 50, 50], outcome, [60, 60, 60, 1, 1]))
        self.assertEqual(('short', 'long', 'post-copy', 'fast',
                          'forced-pause'),
                         tuple(r.value for r in regimes.Regime))

    def test_switches_and_forced_pauses_pool_only_with_their_kind(self):
        # A post-copy switch moves what the connections hold; Nova's
        # forced pause what the guest dirtied and never sent, seconds.
        # Neither is a pre-copy stop, nor each other: each regime pools
        # only with itself, the stops keep their own tail, and neither
        # takes another kind's bound.
        for regime, other in (('post-copy', 'forced-pause'),
                              ('forced-pause', 'post-copy')):
            kind = regimes.Regime(regime)
            t = residuals.ResidualTable({
                ('tcp', 'long'): np.linspace(1, 1.2, 40),
                ('tcp', other): np.linspace(1, 9, 40),
                ('tcp', regime): np.linspace(1, 3, 15),
                ('tls', regime): np.linspace(1, 4, 10)})
            self.assertEqual(40, t.groups['tcp'].runs)
            self.assertEqual(40, t.groups['all'].runs)
            self.assertEqual(25, t.groups[regime].runs)
            self.assertEqual(40, t.groups[other].runs)
            self.assertEqual(('tcp/' + regime, regime), t.chain('tcp', kind))
            self.assertEqual((regime,), t.chain(None, kind))
            # 15 runs: too few for 0.9; the regime's pool (25) stands for
            # it, never under what the group's own runs show, and over
            # the stops' largest.
            q, g, _floor = t.bound('tcp', kind, 0.9)
            self.assertEqual(regime, g.name)
            self.assertEqual(max(t.groups[regime].quantile(0.9),
                                 t.groups['tcp/' + regime].seen(0.9)), q)
            self.assertGreater(q, 1.2)
            self.assertLessEqual(q, 4.0)   # not the other kind's 9
            # Past the pool: infinite (the worst case), not the stops'
            # bound; the worst case is never under the kind's largest.
            beyond = t.bound('tls', kind, 0.97)
            self.assertEqual(math.inf, beyond.ratio)
            self.assertEqual(regime, beyond.group.name)
            self.assertEqual(4.0, beyond.group.ratios[-1])
            self.assertLessEqual(t.bound('tcp', regimes.Regime.LONG,
                                         0.95)[0], 1.2)
            # Without runs of the kind at all, the worst case.
            plain = residuals.ResidualTable({
                ('tcp', 'long'): np.linspace(1, 1.2, 40)})
            self.assertEqual(math.inf, plain.bound('tcp', kind, 0.5)[0])
            self.assertEqual('all', plain.largest('tcp', kind).name)

    def test_bad_documents_named(self):
        bad = [
            ([], 'expected an object'),
            ({'groups': {'udp/long': [1.0]}}, "group 'udp/long'"),
            ({'groups': {'tcp/medium': [1.0]}}, "group 'tcp/medium'"),
            ({'groups': {'tcp/long': []}}, 'group tcp/long: expected'),
            ({'groups': {'tcp/long': [1.0, 'x']}}, 'group tcp/long'),
            ({'groups': {'tcp/long': [-1.0]}}, 'group tcp/long'),
            ({'groups': {'tcp/long': [True]}}, 'group tcp/long'),
            ({'groups': {'tcp/long': [float('nan')]}}, 'group tcp/long'),
            ({'groups': {}}, 'no residuals'),
            ({'groups': {'tcp/post-copy': [1.0]}},
             'no residuals of pre-copy stops'),
            ({'groups': {'tcp@loaded/long': [1.0]}},
             'group tcp@loaded/long holds runs of loaded hosts but the '
             'file does not say loaded_cpu_load'),
            ({'groups': {'tcp@busy/long': [1.0]}}, "group 'tcp@busy/long'"),
            ({'groups': {'@loaded/long': [1.0]}}, "group '@loaded/long'"),
        ] + [({'loaded_cpu_load': bad, 'groups': {'tcp/long': [1.0]}},
              'loaded_cpu_load: expected a number of runnable threads')
             for bad in (0, -1.0, 16.5, '3', True, float('nan'), [3])]
        for doc, what in bad:
            e = self.assertRaises(residuals.RiskDataError,
                                  residuals_file.from_json, doc,
                                  'r.json')
            self.assertIn(what, str(e))

    def loaded_table(self):
        return residuals_file.from_json({
            'loaded_cpu_load': 3,
            'groups': {'tcp/long': list(np.linspace(1, 1.2, 30)),
                       'tcp@loaded/long': list(np.linspace(1, 3, 30)),
                       'tcp@loaded/short': [0.5] * 5,
                       'tcp@loaded/post-copy': [1.0] * 5}}, 'r.json')

    def test_loaded_hosts_runs_pool_apart_then_in_all(self):
        t = self.loaded_table()
        self.assertEqual(3.0, t.loaded_cpu_load)
        self.assertNotIn('loaded_cpu_load', t.origin)
        self.assertEqual(35, t.groups['tcp@loaded'].runs)
        # The transport's pool is of idle hosts' runs, and so is the pool
        # of every idle stop; all holds both.
        self.assertEqual(30, t.groups['tcp'].runs)
        self.assertEqual(30, t.groups['idle'].runs)
        self.assertEqual(65, t.groups['all'].runs)
        self.assertEqual(5, t.groups['post-copy'].runs)
        long, post = regimes.Regime.LONG, regimes.Regime.POST_COPY
        self.assertEqual(('tcp@loaded/long', 'tcp@loaded', 'all'),
                         t.chain('tcp@loaded', long))
        self.assertEqual(('tcp/long', 'tcp', 'idle', 'all'),
                         t.chain('tcp', long))
        self.assertEqual(('tcp@loaded/post-copy', 'post-copy'),
                         t.chain('tcp@loaded', post))
        # The busier host's load picks the name, from the file's load on.
        self.assertEqual('tcp', t.keyed('tcp', 2.99))
        self.assertEqual('tcp@loaded', t.keyed('tcp', 3.0))
        self.assertIsNone(t.keyed(None, 5.0))
        self.assertEqual('tcp', residuals.keyed('tcp', 9.0, None))
        np.testing.assert_array_equal([False, True, True],
                                      t.loaded([0.0, 3.0, 4.0]))
        self.assertEqual('tcp', residuals.base_transport('tcp@loaded'))

    def test_idle_bound_past_its_group_is_not_the_loaded_runs(self):
        # At 0.97 (32 runs needed) the idle long group is too small: its
        # transport's pool holds the idle runs only, whatever the loaded
        # hosts' runs did.
        t = residuals.ResidualTable(
            {('tcp', 'long'): np.linspace(1, 1.2, 30),
             ('tcp', 'short'): np.full(20, 0.5),
             ('tcp@loaded', 'long'): np.linspace(1, 3, 30)},
            loaded_cpu_load=3.0)
        q, group, _floor = t.bound('tcp', regimes.Regime.LONG, 0.97)
        self.assertEqual(('tcp', 50), (group.name, group.runs))
        self.assertAlmostEqual(1.2, q)
        # Between loaded hosts, the loaded runs' bound.
        q, group, _floor = t.bound('tcp@loaded', regimes.Regime.LONG,
                                   0.97)
        self.assertEqual('all', group.name)
        self.assertAlmostEqual(3.0, q)

    def test_idle_bound_past_its_transport_is_the_idle_runs(self):
        # At 0.97 (33 runs needed) neither the idle TCP runs (10) nor
        # their transport's pool can bound an idle TCP stop: every
        # transport's idle runs (35) do, before the loaded ones' tail
        # joins them in 'all'.
        t = residuals.ResidualTable(
            {('tcp', 'long'): np.linspace(1, 1.1, 10),
             ('tls', 'long'): np.linspace(1, 1.2, 25),
             ('tcp@loaded', 'long'): np.linspace(1, 3, 30)},
            loaded_cpu_load=3.0)
        q, group, _floor = t.bound('tcp', regimes.Regime.LONG, 0.97)
        self.assertEqual(('idle', 35), (group.name, group.runs))
        self.assertLessEqual(q, 1.2)
        # Past the idle runs (0.98 needs 49), all of them.
        q, group, _floor = t.bound('tcp', regimes.Regime.LONG, 0.98)
        self.assertEqual(('all', 65), (group.name, group.runs))
        self.assertGreater(q, 2.0)
        # A table that keeps every load together has no idle pool.
        together = residuals.ResidualTable(
            {('tcp', 'long'): np.linspace(1, 1.1, 10),
             ('tls', 'long'): np.linspace(1, 1.2, 25)})
        self.assertNotIn('idle', together.groups)
        self.assertEqual(('tcp/long', 'tcp', 'all'),
                         together.chain('tcp', regimes.Regime.LONG))

    def test_idle_forced_pause_past_its_group_is_the_idle_runs(self):
        # A regime of its own pools only with itself, but between idle
        # hosts first with its idle runs: at 0.97 (33 runs needed) the
        # idle TCP forced pauses (10) give way to every transport's idle
        # forced pauses (35), not to the crowded hosts' tail; past them
        # (0.98 needs 49), to every forced pause.
        forced = regimes.Regime.FORCED_PAUSE
        t = residuals.ResidualTable(
            {('tcp', 'forced-pause'): np.linspace(1, 1.5, 10),
             ('tls', 'forced-pause'): np.linspace(1, 1.7, 25),
             ('tcp@loaded', 'forced-pause'): np.linspace(1, 9, 30),
             ('tcp', 'long'): np.full(20, 0.5)},
            loaded_cpu_load=3.0)
        self.assertEqual(
            ('tcp/forced-pause', 'idle-forced-pause', 'forced-pause'),
            t.chain('tcp', forced))
        self.assertEqual(('tcp@loaded/forced-pause', 'forced-pause'),
                         t.chain('tcp@loaded', forced))
        q, group, _floor = t.bound('tcp', forced, 0.97)
        self.assertEqual(('idle-forced-pause', 35), (group.name, group.runs))
        self.assertLessEqual(q, 1.7)
        q, group, _floor = t.bound('tcp', forced, 0.98)
        self.assertEqual(('forced-pause', 65), (group.name, group.runs))
        self.assertGreater(q, 8.0)
        # A crowded host's forced pause is held to its own runs' tail.
        self.assertGreater(t.bound('tcp@loaded', forced, 0.9).ratio, 8.0)
        # Without the split by load there is one pool, as before.
        together = residuals.ResidualTable(
            {('tcp', 'forced-pause'): np.linspace(1, 1.5, 10),
             ('tcp', 'long'): np.full(20, 0.5)})
        self.assertEqual(('tcp/forced-pause', 'forced-pause'),
                         together.chain('tcp', forced))
        self.assertNotIn('idle-forced-pause', together.groups)

    def test_loaded_bound_is_the_loaded_runs_never_under_the_idle(self):
        t = self.loaded_table()
        long, short = regimes.Regime.LONG, regimes.Regime.SHORT
        q, group, _floor = t.bound('tcp@loaded', long, 0.9)
        self.assertEqual('tcp@loaded/long', group.name)
        self.assertEqual(group.quantile(0.9), q)
        self.assertGreater(q, t.bound('tcp', long, 0.9)[0])
        # Five loaded short runs at 0.5 are too few to stand alone; their
        # pool holds the loaded long runs too.
        self.assertEqual('tcp@loaded', t.bound('tcp@loaded', short,
                                               0.9)[1].name)
        # A table whose loaded runs paused less than the idle ones: the
        # idle runs' bound and group.
        better = residuals.ResidualTable(
            {('tcp', 'long'): np.linspace(1, 2, 30),
             ('tcp@loaded', 'long'): np.full(30, 0.5)},
            loaded_cpu_load=3.0)
        q, group, _floor = better.bound('tcp@loaded', long, 0.9)
        self.assertEqual(('tcp/long', better.groups['tcp/long'].quantile(
            0.9)), (group.name, q))

    def test_loaded_groups_need_the_load(self):
        e = self.assertRaises(
            residuals.RiskDataError, residuals.ResidualTable,
            {('tcp@loaded', 'long'): np.ones(3)})
        self.assertIn('tcp@loaded/long', str(e))

    def test_dirty_shares(self):
        # 64 MiB/s over 0.7 Gbit/s: 77 % of the link.
        self.assertAlmostEqual(0.767, float(residuals.dirty_share(64, 0.7)),
                               places=3)
        self.assertEqual(math.inf, float(residuals.dirty_share(1, 0.0)))
        self.assertEqual(0.1235, residuals.share_bound([0.1, 0.12341]))
        self.assertEqual(0.25, residuals.share_bound([0.25]))
        t = residuals.ResidualTable(
            {('tcp', 'short'): np.ones(30), ('tcp', 'long'): np.ones(30),
             ('tls', 'long'): np.ones(30),
             ('tls', 'post-copy'): np.ones(5)},
            shares={('tcp', 'short'): 0.1, ('tcp', 'long'): 0.4,
                    ('tls', 'post-copy'): 0.9})
        self.assertEqual(0.1, t.groups['tcp/short'].share_max)
        # A pool's largest is its parts' largest, unknown when one part's
        # is (tls/long has none).
        self.assertEqual(0.4, t.groups['tcp'].share_max)
        self.assertIsNone(t.groups['tls'].share_max)
        self.assertIsNone(t.groups['all'].share_max)
        self.assertEqual(0.9, t.groups['post-copy'].share_max)
        np.testing.assert_array_equal(
            [False, False, True, False],
            t.groups['tcp/short'].outside([0.05, 0.1, 0.11, np.nan]))
        # Unknown: nothing is outside.
        self.assertFalse(t.groups['all'].outside([1e9]).any())

    def test_the_nearest_group_decides_what_is_outside(self):
        short, post = regimes.Regime.SHORT, regimes.Regime.POST_COPY
        t = residuals.ResidualTable(
            {('tcp', 'short'): np.linspace(1, 2, 20),
             ('tcp', 'long'): np.linspace(1, 3, 30),
             ('tcp', 'post-copy'): np.ones(5)},
            shares={('tcp', 'short'): 0.1, ('tcp', 'long'): 0.5,
                    ('tcp', 'post-copy'): 0.2})
        self.assertEqual('tcp/short', t.nearest('tcp', short).name)
        # At 0.97 the bound comes from the transport's pool, whose runs
        # dirtied up to 50 %; a short pause dirtying 30 % is still unlike
        # the 20 short runs (at most 10 %), at every confidence: a higher
        # one never allows more.
        self.assertEqual('tcp', t.bound('tcp', short, 0.97)[1].name)
        np.testing.assert_array_equal([False, True],
                                      t.outside('tcp', short, [0.1, 0.3]))
        # No group of MIN_RUNS runs (5 switches): nothing is outside;
        # the bound is infinite anyway.
        self.assertIsNone(t.nearest('tcp', post))
        self.assertFalse(t.outside('tcp', post, [9.0]).any())
        from bench import frontier
        for share, want in ((0.3, [400.0] * 4), (0.05, None)):
            held = [frontier.held_pause(t, 'tcp', 80.0, 400.0, c,
                                        share=share)
                    for c in (0.5, 0.9, 0.95, 0.97)]
            self.assertEqual(sorted(held), held)
            if want is not None:
                self.assertEqual(want, held)
            else:
                self.assertLess(held[0], 400.0)

    def test_shares_from_the_file(self):
        doc = {'groups': {'tcp/long': [1.0, 2.0], 'tls/long': [1.5]},
               'dirty_share_max': {'tcp/long': 0.3},
               'what': 'test'}
        t = residuals_file.from_json(doc)
        self.assertEqual(0.3, t.groups['tcp/long'].share_max)
        self.assertIsNone(t.groups['tls/long'].share_max)
        self.assertEqual({'what': 'test'}, t.origin)
        # Without the field, as before: no group's largest is known.
        del doc['dirty_share_max']
        t = residuals_file.from_json(doc)
        self.assertIsNone(t.groups['tcp/long'].share_max)
        groups = {'tcp/long': [1.0]}
        for shares, what in (
                ([0.3], 'expected an object'),
                ({'tls/long': 0.3}, "'tls/long' is not one of the groups"),
                ({'tcp/long': -0.1}, 'tcp/long: expected a number'),
                ({'tcp/long': True}, 'tcp/long: expected a number'),
                ({'tcp/long': '0.3'}, 'tcp/long: expected a number'),
                ({'tcp/long': float('inf')}, 'tcp/long: expected a number'),
                ({'tcp/long': float('nan')}, 'tcp/long: expected a number')):
            e = self.assertRaises(
                residuals.RiskDataError, residuals_file.from_json,
                {'groups': groups, 'dirty_share_max': shares}, 'r.json')
            self.assertIn('r.json: dirty_share_max: ' + what, str(e))

    def test_unreadable_file(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'r.json')
        e = self.assertRaises(residuals.RiskDataError,
                              residuals_file.load, path)
        self.assertIn(path, str(e))
        with open(path, 'w') as f:
            f.write('{"groups": ')
        self.assertRaises(residuals.RiskDataError,
                          residuals_file.load, path)
        # Nested deeper than the JSON decoder recurses: the file's
        # fault, named, not an error the engine did not expect.
        with open(path, 'w') as f:
            f.write('{"groups": ' + '[' * 100000 + ']' * 100000 + '}')
        e = self.assertRaises(residuals.RiskDataError,
                              residuals_file.load, path)
        self.assertIn('%s: nested too deeply' % path, str(e))


class TestShippedFile(base.BaseTestCase):

    def test_shipped_file_is_what_learn_writes(self):
        # Generated from the libvirt testbed by the documented command,
        # not written by hand: learning again gives the same file.
        doc = learn.build_libvirt()
        with open(residuals_file.DEFAULT_PATH) as f:
            shipped = json.load(f)
        self.assertEqual(shipped, json.loads(json.dumps(doc)))

    def test_learn_writes_the_file(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        out = os.path.join(tmp, 'r.json')
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', open(os.devnull,
                                                                'w')))
        self.assertEqual(0, learn.main(['--out', out]))
        table = residuals_file.load(out)
        with open(out) as f:
            doc = json.load(f)
        # Every release's runs; the switches pool apart from the stops.
        self.assertEqual(sorted(q for q, _p in libvirt_runs.RELEASE_FITS),
                         sorted(doc['runs_per_qemu']))
        self.assertEqual(doc['runs'], sum(doc['runs_per_qemu'].values()))
        self.assertEqual(doc['runs'], table.groups['all'].runs +
                         table.groups['post-copy'].runs +
                         table.groups['forced-pause'].runs)
        self.assertGreater(table.groups['post-copy'].runs, 100)
        # Every forced pause the model expected is apart, and each of
        # the stops' groups that had them keeps a tail of its own.
        self.assertGreater(table.groups['forced-pause'].runs, 100)
        for stops in ('tcp/long', 'tls/long', 'tcp@loaded/long'):
            self.assertLess(table.groups[stops].ratios[-1], 1.7)
            self.assertGreater(table.groups[stops].ratios[-1], 0.9)
        # The runs were estimated at the testbed hosts' measured rates.
        rates = {q: libvirt_runs.host_rates(q)
                 for q, _p in libvirt_runs.RELEASE_FITS}
        self.assertEqual({q: round(r.gbps_per_core, 3)
                          for q, r in rates.items()},
                         doc['host_gbps_per_core'])
        self.assertEqual({q: round(r.tls_gbps_per_core, 3)
                          for q, r in rates.items()},
                         doc['host_tls_gbps_per_core'])

    def test_the_file_records_each_rate_as_measured(self):
        # A cipher no dearer than TCP is recorded as 'inf' (JSON has no
        # infinity); an unknown rate as None, which learning warns of.
        found = learn.Found()
        found.host_rates = {
            '10.0.2': libvirt_runs.HostRates(2.6236, math.inf),
            '7.2.22': libvirt_runs.HostRates(None, 3.9431)}
        doc = {key: learn._rates_json(found, field)
               for key, field in (
                   ('host_gbps_per_core', 'gbps_per_core'),
                   ('host_tls_gbps_per_core', 'tls_gbps_per_core'))}
        self.assertEqual({'host_gbps_per_core': {'10.0.2': 2.624,
                                                 '7.2.22': None},
                          'host_tls_gbps_per_core': {'10.0.2': 'inf',
                                                     '7.2.22': 3.943}},
                         doc)
        json.dumps(doc, allow_nan=False)
        lines = learn.fallbacks(doc)
        self.assertEqual(1, len(lines))
        self.assertIn('QEMU 7.2.22', lines[0])
        self.assertIn('migration_gbps_per_core', lines[0])

    def test_other_campaigns_bring_their_hosts_rate(self):
        # Campaigns of one release only: its hosts' rate is theirs, the
        # other release keeps the shipped one.
        path = os.path.join(campaign.DATA_DIR, 'libvirt-campaign-27.csv')
        doc = learn.build_libvirt([path])
        rows, _goodput = libvirt_runs.read_campaigns([path])
        self.assertEqual({'10.0.2': None, '7.2.22': round(
            libvirt_runs.host_rates('7.2.22', rows).gbps_per_core, 3)},
            doc['host_gbps_per_core'])
        self.assertNotEqual(doc['host_gbps_per_core']['7.2.22'], round(
            libvirt_runs.host_rates('7.2.22').gbps_per_core, 3))
        self.assertEqual({'10.0.2': None, '7.2.22': round(
            libvirt_runs.host_rates('7.2.22', rows).tls_gbps_per_core, 3)},
            doc['host_tls_gbps_per_core'])
        # The release they do not time is estimated at the shipped rates,
        # and learning says so.
        lines = learn.fallbacks(doc)
        self.assertEqual(2, len(lines))
        for line, option in zip(lines, ('migration_gbps_per_core',
                                        'crypto_gbps_per_core')):
            self.assertIn('QEMU 10.0.2', line)
            self.assertIn(option, line)
        self.assertEqual([], learn.fallbacks(learn.build_libvirt()))

    def test_learn_from_a_raw_campaign(self):
        # --csv learns the raw-QEMU testbed against its fit: only the
        # runs the fit never saw (repeats 2 and 3).
        tmp = self.useFixture(fixtures.TempDir()).path
        out = os.path.join(tmp, 'r.json')
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', open(os.devnull,
                                                                'w')))
        self.assertEqual(0, learn.main([
            '--csv', os.path.join(campaign.DATA_DIR, 'campaign.csv'),
            '--out', out]))
        table = residuals_file.load(out)
        self.assertEqual(fit.HOLDOUT_REPEAT, table.origin['holdout_repeat'])
        self.assertGreater(table.groups['all'].runs, 100)
        self.assertEqual(0.4474, table.groups['all'].share_max)

    def test_a_bad_source_is_a_clear_error(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        out = os.path.join(tmp, 'r.json')
        missing = os.path.join(tmp, 'none.csv')
        for argv in (['--csv', missing], ['--libvirt', missing]):
            self.assertEqual(2, learn.main(argv + ['--out', out]))
            self.assertIn('%s: no such file' % missing, err.getvalue())
        # A campaign without one usable run: no file, and why.
        empty = os.path.join(tmp, 'empty.csv')
        with open(os.path.join(campaign.DATA_DIR, 'campaign.csv')) as f:
            header = f.readline()
        with open(empty, 'w') as f:
            f.write(header)
        self.assertEqual(2, learn.main(['--csv', empty, '--out', out]))
        self.assertIn('no residuals of pre-copy stops', err.getvalue())
        self.assertFalse(os.path.exists(out))

    def test_loaded_runs_apart_or_together(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', open(os.devnull,
                                                                'w')))
        split, together = (os.path.join(tmp, n) for n in ('s', 't'))
        self.assertEqual(0, learn.main(['--out', split]))
        self.assertEqual(0, learn.main(['--loaded-cpu-load', '0',
                                        '--out', together]))
        split, together = (residuals_file.load(p)
                           for p in (split, together))
        self.assertEqual(learn.LOADED_CPU_LOAD, split.loaded_cpu_load)
        self.assertIsNone(together.loaded_cpu_load)
        self.assertFalse([n for n in together.groups if '@' in n])
        # The same runs: split in two, the idle and loaded hosts' pools
        # of a transport make its whole one, and all is whole.
        self.assertEqual(together.groups['all'].runs,
                         split.groups['all'].runs)
        for name in ('tcp', 'tls'):
            self.assertEqual(together.groups[name].runs,
                             split.groups[name].runs +
                             split.groups[name + '@loaded'].runs)
            self.assertEqual(
                together.groups[name + '/long'].runs,
                split.groups[name + '/long'].runs +
                split.groups[name + '@loaded/long'].runs)
        # The testbed's loaded hosts paused longer than the model said.
        self.assertGreater(split.groups['tcp@loaded/long'].quantile(0.95),
                           split.groups['tcp/long'].quantile(0.95))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', open(os.devnull,
                                                                'w')))
        for bad in ('-1', '17', 'nan', 'x'):
            e = self.assertRaises(SystemExit, learn.main, [
                '--loaded-cpu-load', bad, '--out', os.path.join(tmp, 'b')])
            self.assertEqual(2, e.code)

    def test_loaded_split(self):
        self.assertIsNone(learn.loaded_split(0))
        self.assertEqual(2.5, learn.loaded_split(2.5))
        for bad in (-1, 16.5, float('nan')):
            e = self.assertRaises(ValueError, learn.loaded_split, bad)
            self.assertIn('expected 0 to 16 runnable threads', str(e))

    def test_two_sources_are_refused(self):
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', open(os.devnull,
                                                                'w')))
        e = self.assertRaises(SystemExit, learn.main, [
            '--csv', 'a.csv', '--libvirt', 'b.csv'])
        self.assertEqual(2, e.code)

    def test_shipped_shares_are_the_runs_shares(self):
        # Every group says the largest dirty share of its runs: the
        # libvirt runs' dirty rate over their shaped links' bandwidth.
        rows, _goodput = libvirt_runs.read_campaigns(
            libvirt_runs.default_csvs())
        found, _per = learn.libvirt_residuals(rows)
        t = residuals_file.load_cached()
        for key, shares in found.shares.items():
            name = '%s/%s' % key
            self.assertEqual(residuals.share_bound(shares),
                             t.groups[name].share_max)
        self.assertGreater(t.groups['all'].share_max, 1.0)
        self.assertEqual(max(g.share_max for g in t.groups.values()),
                         t.groups['all'].share_max)

    def test_shipped_ratios_are_measured_pauses(self):
        t = residuals_file.load_cached()
        for g in t.groups.values():
            self.assertGreater(g.runs, 0)
            if g.name.endswith('/fast'):
                # Of the pause had Nova's first step landed late: no
                # fast run paused that long, most much less (the race is
                # one run in five).
                self.assertTrue(0.1 < g.mean < 0.5, (g.name, g.mean))
                self.assertLess(g.ratios[-1], 1.0)
            else:
                # Every group, crowded hosts' plain-TCP forced pauses too
                # (2.7 on average against the shipped 10 Gbit/s per
                # core; with the testbed hosts' measured rate 1.1).
                self.assertTrue(0.3 < g.mean < 2.0, (g.name, g.mean))


class TestHistoryResiduals(base.BaseTestCase):

    def pair(self, mechanism, expected, measured):
        return join.Pair({'mechanism': mechanism,
                          'expected_downtime_ms': expected},
                         {'downtime_ms': measured})

    def test_groups_by_transport_and_regime(self):
        found, skipped = from_history.history_residuals([
            self.pair('none', 50.0, 60.0),
            self.pair('tls', 200.0, 100.0),
            self.pair('none (+ipsec on 2 links)', 400.0, 400.0),
            # Mechanisms the testbed did not run have groups of their own.
            self.pair('ipsec', 50.0, 50.0),
            self.pair('tunnelled', 200.0, 300.0),
            # An operator's own mechanism, or nothing to divide by.
            self.pair('wireguard', 50.0, 50.0),
            self.pair('tls', 0.0, 10.0),
            self.pair('tls', 'n/a', 10.0),
        ])
        self.assertEqual({('tcp', 'short'): [1.2], ('tls', 'long'): [0.5],
                          ('tcp', 'long'): [1.0], ('ipsec', 'short'): [1.0],
                          ('tunnelled', 'long'): [1.5]}, found)
        self.assertEqual(3, skipped)

    def test_regime_of_the_idle_host_pause(self):
        # 120 ms expected on hosts at load 1: 80 ms of it would be paused
        # on idle hosts (40 ms fixed part, stretched x 2), so it counts
        # with the short pauses, like the testbed's idle runs.
        loaded = join.Pair({'mechanism': 'none',
                            'expected_downtime_ms': 120.0,
                            'inputs': {'fixed_pause_ms': 40.0,
                                       'cpu_load': 1.0}},
                           {'downtime_ms': 150.0})
        found, _ = from_history.history_residuals([
            loaded, self.pair('none', 120.0, 150.0)])
        self.assertEqual({('tcp', 'short'): [1.25], ('tcp', 'long'): [1.25]},
                         found)
        for bad in ({'fixed_pause_ms': None, 'cpu_load': 1.0},
                    {'fixed_pause_ms': 'x', 'cpu_load': 1.0},
                    {'fixed_pause_ms': 40.0, 'cpu_load': float('nan')}):
            pair = join.Pair({'mechanism': 'none',
                              'expected_downtime_ms': 120.0,
                              'inputs': bad}, {'downtime_ms': 150.0})
            found, _ = from_history.history_residuals([pair])
            self.assertEqual({('tcp', 'long'): [1.25]}, found, bad)

    def test_a_migration_expected_to_end_early_is_fast(self):
        # The estimate's migration time decides the fast regime, as the
        # engine's does; an estimate without one never is.
        def pair(total):
            return join.Pair({'mechanism': 'none',
                              'expected_downtime_ms': 50.0,
                              'total_time_s': total},
                             {'downtime_ms': 100.0})
        fast = regimes.FAST_MIGRATION_S - 0.5
        found, skipped = from_history.history_residuals([
            pair(fast), pair(30.0), pair(None), pair('n/a'),
            pair(float('nan'))])
        self.assertEqual({('tcp', 'fast'): [2.0],
                          ('tcp', 'short'): [2.0, 2.0, 2.0, 2.0]}, found)
        self.assertEqual(0, skipped)

    def test_shipped_fast_runs_are_the_testbeds(self):
        # Every shipped run the model expected to end within
        # FAST_MIGRATION_S is in a fast group, and no other is.
        rows, _goodput = libvirt_runs.read_campaigns(
            libvirt_runs.default_csvs())
        found, _per = learn.libvirt_residuals(rows)
        fast = {k: v for k, v in found.items() if k[1] == 'fast'}
        self.assertIn(('tcp', 'fast'), fast)
        t = residuals_file.load_cached()
        for key, ratios in fast.items():
            self.assertEqual([round(r, 4) for r in sorted(ratios)],
                             t.groups['%s/%s' % key].ratios.tolist())

    def test_loaded_hosts_learn_apart(self):
        def pair(load, measured):
            return join.Pair({'mechanism': 'tls',
                              'expected_downtime_ms': 200.0,
                              'inputs': {'fixed_pause_ms': 0.0,
                                         'cpu_load': load}},
                             {'downtime_ms': measured})
        pairs = [pair(0.5, 100.0), pair(3.0, 300.0), pair(7.0, 400.0),
                 pair('n/a', 200.0)]
        found, _ = from_history.history_residuals(pairs)
        # From 3 threads per CPU on; a load it cannot read is idle.
        self.assertEqual({('tls', 'long'): [0.5, 1.0],
                          ('tls@loaded', 'long'): [1.5, 2.0]}, found)
        found, _ = from_history.history_residuals(pairs, loaded_cpu_load=None)
        self.assertEqual({('tls', 'long'): [0.5, 1.5, 2.0, 1.0]}, found)
        doc, _ = from_history.history_document(pairs, ['h'])
        self.assertEqual(learn.LOADED_CPU_LOAD, doc['loaded_cpu_load'])
        table = residuals_file.from_json(doc)
        self.assertEqual(2, table.groups['tls@loaded/long'].runs)
        doc, _ = from_history.history_document(pairs, ['h'], None)
        self.assertNotIn('loaded_cpu_load', doc)

    def test_post_copy_estimates_learn_apart(self):
        # The regime is the estimate's: a migration expected to switch to
        # post-copy is of the post-copy regime, however long its pause.
        switched = join.Pair({'mechanism': 'tls', 'outcome': 'post-copy',
                              'expected_downtime_ms': 60.0},
                             {'downtime_ms': 150.0})
        # So is one expected to end in Nova's forced pause.
        forced = join.Pair({'mechanism': 'tls', 'outcome': 'forced-pause',
                            'expected_downtime_ms': 3000.0,
                            'total_time_s': 2.0},
                           {'downtime_ms': 6000.0})
        found, _ = from_history.history_residuals([
            switched, forced, self.pair('tls', 60.0, 66.0)])
        self.assertEqual({('tls', 'post-copy'): [2.5],
                          ('tls', 'forced-pause'): [2.0],
                          ('tls', 'short'): [1.1]}, found)

    def test_fast_estimates_learn_against_their_race_pause(self):
        # A fast migration's ratio is of the larger of its expected and
        # race pause, as the engine holds it; a slow one's, or one whose
        # estimate names no race pause, of its expected pause.
        def pair(total_s, race, measured=150.0):
            est = {'mechanism': 'none', 'expected_downtime_ms': 60.0,
                   'total_time_s': total_s}
            if race is not None:
                est['race_downtime_ms'] = race
            return join.Pair(est, {'downtime_ms': measured})
        found, _ = from_history.history_residuals([
            pair(2.0, 300.0), pair(2.0, 30.0), pair(2.0, None),
            pair(60.0, 300.0)])
        self.assertEqual({('tcp', 'fast'): [0.5, 2.5, 2.5],
                          ('tcp', 'short'): [2.5]}, found)

    def test_shares_of_the_estimates_inputs(self):
        def pair(expected, dirty, gbps):
            inputs = {'dirty_rate_mibps': dirty, 'bandwidth_gbps': gbps}
            return join.Pair({'mechanism': 'tls', 'inputs': inputs,
                              'expected_downtime_ms': expected},
                             {'downtime_ms': expected})
        found, _ = from_history.history_residuals([
            pair(200.0, 8.0, 1.0), pair(300.0, 32.0, 1.0),
            pair(50.0, 8.0, 10.0),
            # Unknown shares: the ratio counts, the share does not.
            pair(400.0, None, 1.0), pair(400.0, 8.0, 0.0),
            self.pair('tls', 400.0, 400.0)])
        self.assertEqual({('tls', 'long'): [1.0] * 5,
                          ('tls', 'short'): [1.0]}, found)
        self.assertEqual({('tls', 'long'): 0.2685,
                          ('tls', 'short'): 0.0068}, found.share_bounds())
        doc, _ = from_history.history_document([pair(200.0, 8.0, 1.0)], ['h'])
        self.assertEqual({'tls/long': 0.0672}, doc['dirty_share_max'])
        table = residuals_file.from_json(doc)
        self.assertEqual(0.0672, table.groups['all'].share_max)
        # Estimates without inputs: no largest share, no guard.
        doc, _ = from_history.history_document(
            [self.pair('tls', 200.0, 200.0)], ['h'])
        self.assertEqual({}, doc['dirty_share_max'])
        self.assertIsNone(
            residuals_file.from_json(doc).groups['all'].share_max)

    def test_nothing_usable_is_an_error(self):
        self.assertRaisesRegex(
            residuals.RiskDataError, 'no migration of the history',
            from_history.history_document, [self.pair('wireguard', 5.0, 5.0)],
            ['h'])

    def test_a_rewritten_file_is_read_again(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'r.json')
        doc, _ = from_history.history_document(
            [self.pair('tls', 100.0, 150.0)], ['h'])
        learn.write(doc, path)
        self.assertEqual([1.5], list(
            residuals_file.load_cached(path).groups['all'].ratios))
        doc, _ = from_history.history_document(
            [self.pair('tls', 100.0, 250.0), self.pair('tls', 100.0, 50.0)],
            ['h'])
        learn.write(doc, path)
        self.assertEqual([0.5, 2.5], list(
            residuals_file.load_cached(path).groups['all'].ratios))
        os.unlink(path)
        self.assertRaisesRegex(residuals.RiskDataError, path,
                               residuals_file.load_cached, path)
