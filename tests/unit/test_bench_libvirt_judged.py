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

"""The libvirt-judged decisions of bench_quality learn out of sample."""

import dataclasses
import math

import numpy as np
import testtools

from bench import frontier
from bench import libvirt_judged
from qslm_nova.risk import regimes
from qslm_nova.risk import residuals


def _runs(configurations, ratios, expected=50.0, worst=500.0,
          outcome=None, share=None, load=None):
    runs = libvirt_judged.LibvirtRuns.__new__(libvirt_judged.LibvirtRuns)
    n = len(configurations)
    runs.paths, runs.rows, runs.left_out = [], [{}] * n, 0
    runs.qemu, runs.shipped = '10.0.2', False
    runs.configuration = list(configurations)
    runs.loaded_cpu_load = 3.0
    runs.load = list(load or [0.5] * n)
    runs.transport = [residuals.keyed('tcp', x, 3.0) for x in runs.load]
    runs.outcome = list(outcome or ['completed'] * n)
    runs.expected = np.full(n, expected)
    runs.idle = np.full(n, expected)
    runs.worst = np.full(n, worst)
    runs.race = runs.expected.copy()   # no race: none is fast
    runs.total_s = np.full(n, 60.0)   # none of the fast regime
    runs.paper = np.full(n, worst * 2)
    runs.measured = runs.expected * np.asarray(ratios, dtype=float)
    runs.share = list(share or [0.1] * n)
    return runs


class TestLibvirtJudged(testtools.TestCase):

    def test_a_configuration_never_learns_from_its_own_runs(self):
        # 40 configurations of ratio 1.0 and one whose two runs are 3x:
        # its own bound must not see the 3x, every other one must.
        configs = ['c%d' % i for i in range(40)] + ['odd', 'odd']
        runs = _runs(configs, [1.0] * 40 + [3.0, 3.0])
        tables = runs.tables()
        odd = tables[-1].groups[residuals.ALL]
        self.assertEqual(40, odd.runs)
        self.assertEqual(1.0, odd.ratios[-1])
        other = tables[0].groups[odd.name]
        self.assertEqual(41, other.runs)
        self.assertEqual(3.0, other.ratios[-1])

    def test_judged_counts(self):
        configs = ['c%d' % i for i in range(40)]
        ratios = np.linspace(0.8, 1.6, 40)
        res = libvirt_judged.judge(_runs(configs, ratios), (60, 1000))
        self.assertEqual('10.0.2', res['qemu'])
        self.assertIn('QEMU 10.0.2:', libvirt_judged.format_judged(res))
        # Every run meets 1000 ms; at 60 ms those under ratio 1.2 do.
        self.assertEqual(40 + int(np.sum(50 * ratios <= 60)), res['oracle'])
        self.assertEqual(80, res['fixed']['expected pause']['allowed'])
        self.assertEqual(
            int(np.sum(50 * ratios > 60)),
            res['fixed']['expected pause']['sla_violations'])
        # The worst case (500 ms) is allowed at 1000 ms only, never wrong.
        self.assertEqual(40, res['fixed']['worst case']['allowed'])
        self.assertEqual(0, res['fixed']['worst case']['sla_violations'])
        for p in res['qslm']:
            # Each held bound is at least the expected pause and a
            # confidence's calibration is a share of the runs.
            self.assertGreaterEqual(p['allowed'], 40)
            self.assertLessEqual(p['beyond'], 1 - p['confidence'] + 0.05)

    def test_switches_neither_learn_from_nor_teach_stops(self):
        # 40 pre-copy stops at ratio 1 and 5 post-copy switches at 3: a
        # stop's bound never sees the 3x; a switch, with too few of its
        # kind for any confidence, holds the worst case.
        configs = ['c%d' % i for i in range(45)]
        switched = ['completed'] * 40 + ['post-copy'] * 5
        runs = _runs(configs, [1.0] * 40 + [3.0] * 5, outcome=switched)
        tables = runs.tables()
        self.assertEqual(39, tables[0].groups[residuals.ALL].runs)
        self.assertEqual(1.0, tables[0].groups[residuals.ALL].ratios[-1])
        self.assertEqual(5, tables[0].groups['post-copy'].runs)
        held = runs.held(tables, 0.9)
        np.testing.assert_allclose(50.0, held[:40])
        np.testing.assert_allclose(500.0, held[40:])

    def test_forced_pauses_neither_learn_from_nor_teach_stops(self):
        # 40 pre-copy stops at ratio 1 and 5 forced pauses at 4: a stop's
        # bound never sees the 4x; a forced pause, with too few of its
        # kind for any confidence, holds the worst case.
        configs = ['c%d' % i for i in range(45)]
        forced = ['completed'] * 40 + ['forced-pause'] * 5
        runs = _runs(configs, [1.0] * 40 + [4.0] * 5, outcome=forced)
        tables = runs.tables()
        self.assertEqual(1.0, tables[0].groups[residuals.ALL].ratios[-1])
        self.assertEqual(5, tables[0].groups['forced-pause'].runs)
        self.assertEqual(4, tables[-1].groups['forced-pause'].runs)
        held = runs.held(tables, 0.9)
        np.testing.assert_allclose(50.0, held[:40])
        np.testing.assert_allclose(500.0, held[40:])

    def test_a_configuration_dirtying_more_holds_the_worst_case(self):
        # 40 configurations dirtying 10 % of their link and one dirtying
        # 60 %: its runs are unlike every other configuration's, so the
        # worst case is held for them; the others keep their bound, as
        # the 60 % runs teach them their share.
        configs = ['c%d' % i for i in range(40)] + ['hot', 'hot']
        runs = _runs(configs, [1.0] * 42, share=[0.1] * 40 + [0.6, 0.6])
        tables = runs.tables()
        self.assertEqual(0.1, tables[-1].groups[residuals.ALL].share_max)
        self.assertEqual(0.6, tables[0].groups[residuals.ALL].share_max)
        held = runs.held(tables, 0.9)
        np.testing.assert_allclose(50.0, held[:40])
        np.testing.assert_allclose(500.0, held[40:])

    def test_a_shipped_table_judges_every_run_alike(self):
        # The shipped file's table is the same for every run: a run's own
        # ratio is in it, unlike the other configurations' tables.
        configs = ['c%d' % i for i in range(40)]
        runs = _runs(configs, np.linspace(0.8, 1.6, 40))
        runs.shipped = True
        tight = residuals.ResidualTable({
            ('tcp', regimes.Regime.SHORT.value): np.full(40, 1.0)})
        res = libvirt_judged.judge(runs, (60, 1000), shipped_table=tight)
        self.assertTrue(res['shipped'])
        self.assertEqual(len(res['qslm']), len(res['shipped_file']))
        at_09 = res['shipped_file'][0]
        # Held at the expected pause (ratio 1.0): allowed wherever the
        # expected pause is, so the runs over ratio 1.2 break 60 ms.
        self.assertEqual(80, at_09['allowed'])
        self.assertEqual(int(np.sum(np.linspace(0.8, 1.6, 40) > 1.2)),
                         at_09['sla_violations'])
        text = libvirt_judged.format_judged(res)
        self.assertIn('What ships', text)
        self.assertIn('shipped@0.9 ', text)
        self.assertIn('qslm@0.9 ', text)

    def test_shipped_constants_keep_the_testbed_facts(self):
        from qslm_nova import estimator
        from qslm_nova.testbed import fit
        from qslm_nova.testbed import libvirt_runs
        fitted = fit.load(libvirt_judged.PARAMS_QEMU10)
        shipped = libvirt_runs.shipped_constants(fitted)
        self.assertEqual(estimator.ModelParams(), shipped.params)
        self.assertEqual({}, shipped.crypto_gbps_per_core)
        self.assertEqual({}, shipped.buffered_mb)
        self.assertEqual(fitted.link_goodput_mbps, shipped.link_goodput_mbps)
        self.assertNotEqual(fitted.params, shipped.params)
        # The hosts' rates per core, when given, are the constants of
        # the machine's that replace shipped ones: each on its own.
        hosts = libvirt_runs.shipped_constants(
            fitted, libvirt_runs.HostRates(gbps_per_core=2.5))
        self.assertEqual(dataclasses.replace(
            estimator.ModelParams(), migration_gbps_per_core=2.5),
            hosts.params)
        self.assertEqual({}, hosts.crypto_gbps_per_core)
        hosts = libvirt_runs.shipped_constants(
            fitted, libvirt_runs.HostRates(tls_gbps_per_core=2.8))
        self.assertEqual(estimator.ModelParams(), hosts.params)
        self.assertEqual({'tls': 2.8}, hosts.crypto_gbps_per_core)
        # The TLS runs are estimated with the measured cipher, not the
        # built-in mechanism's.
        from qslm_nova.testbed import model
        self.assertEqual(2.8, model.mechanism_for(
            'tls', hosts).crypto_gbps_per_core)
        self.assertNotEqual(2.8, model.mechanism_for(
            'tls', shipped).crypto_gbps_per_core)

    def test_the_hosts_rate_is_their_receiving_threads(self):
        from qslm_nova.testbed import libvirt_runs

        def run(gbit, cpu_s, parallel=1, transport='tcp', qemu='10.0.2'):
            return {'qemu': qemu, 'transport': transport, 'status': 'ok',
                    'event_loop': '1', 'parallel': parallel,
                    'memory_processed': gbit * 1.25e8,
                    'dst_recv_run_s': cpu_s}
        rows = [run(8.0, 4.0), run(8.0, 2.0), run(8.0, 3.2), run(8.0, 1.0),
                run(8.0, 8.0),
                # Not the plain stream's: TLS's, several connections',
                # another release's.
                run(8.0, 0.1, transport='tls'), run(8.0, 0.1, parallel=2),
                run(8.0, 0.1, qemu='7.2.22')]
        # The median of 2, 4, 2.5, 8 and 1 Gbit per CPU second.
        self.assertEqual(2.5, libvirt_runs.host_rates(
            '10.0.2', rows).gbps_per_core)
        # Fewer than five timed runs: not known.
        self.assertIsNone(libvirt_runs.host_rates(
            '7.2.22', rows).gbps_per_core)
        self.assertIsNone(libvirt_runs.host_rates(
            '10.0.2', rows[1:]).gbps_per_core)
        # The machine's: every campaign's runs, 2.6 to 2.7 on both; TLS
        # costs the thread more on top (2.8 and 3.9 Gbit/s per core of
        # cipher alone).
        for qemu, _path in libvirt_runs.RELEASE_FITS:
            rates = libvirt_runs.host_rates(qemu)
            self.assertTrue(2.5 < rates.gbps_per_core < 2.8, (qemu, rates))
            self.assertTrue(2.5 < rates.tls_gbps_per_core < 4.5,
                            (qemu, rates))

    def test_the_cipher_rate_is_what_tls_adds(self):
        from qslm_nova.testbed import libvirt_runs

        def run(cpu_s, transport):
            return {'qemu': '10.0.2', 'transport': transport,
                    'status': 'ok', 'event_loop': '1', 'parallel': 1,
                    'memory_processed': 8.0 * 1.25e8,
                    'dst_recv_run_s': cpu_s}
        # 8 Gbit at 2 Gbit per CPU second over TCP, 1 over TLS: the
        # cipher's own second per 2 Gbit is 2 Gbit/s per core.
        rows = [run(4.0, 'tcp')] * 5 + [run(8.0, 'tls')] * 5
        self.assertEqual(libvirt_runs.HostRates(2.0, 2.0),
                         libvirt_runs.host_rates('10.0.2', rows))
        # TLS no dearer than TCP: the cipher costs nothing.
        rows = [run(4.0, 'tcp')] * 5 + [run(3.0, 'tls')] * 5
        self.assertEqual(math.inf, libvirt_runs.host_rates(
            '10.0.2', rows).tls_gbps_per_core)
        # Four timed TLS runs: the cipher is not known, the rate is.
        self.assertEqual(libvirt_runs.HostRates(2.0, None),
                         libvirt_runs.host_rates('10.0.2', rows[:9]))

    def test_other_releases_teach_but_never_the_same_configuration(self):
        # The shipped file learns every release's runs: a release's bound
        # learns from the other's too, less the configuration judged.
        ten = _runs(['c%d' % i for i in range(30)], [1.0] * 30)
        seven = _runs(['c0', 'x1'], [4.0, 2.0])
        tables = ten.tables(others=[seven])
        # c0's table: 29 of its own release, x1 of the other; c0's run
        # of the other release is left out with the configuration.
        pool = tables[0].groups[residuals.ALL]
        self.assertEqual(30, pool.runs)
        self.assertEqual(2.0, pool.ratios[-1])
        self.assertEqual(31, tables[1].groups[residuals.ALL].runs)
        self.assertEqual(4.0, tables[1].groups[residuals.ALL].ratios[-1])

    def test_the_regime_is_the_idle_pause_s(self):
        # 120 ms expected on a loaded host, 80 ms on an idle one: a short
        # pause, learnt and held as such, as the engine does.
        runs = _runs(['c%d' % i for i in range(41)], [1.0] * 41,
                     expected=120.0)
        runs.idle = np.full(41, 80.0)
        tables = runs.tables()
        self.assertIn('tcp/short', tables[0].groups)
        self.assertNotIn('tcp/long', tables[0].groups)
        np.testing.assert_allclose(120.0, runs.held(tables, 0.9))

    def test_loaded_hosts_runs_bound_their_own(self):
        # 40 configurations on idle hosts at ratio 1 and 30 on hosts with
        # 4 threads per CPU at ratio 2: each kind is held to its own
        # runs' bound; a loaded run is never held under an idle one.
        configs = ['c%d' % i for i in range(70)]
        runs = _runs(configs, [1.0] * 40 + [2.0] * 30,
                     load=[0.5] * 40 + [4.0] * 30)
        tables = runs.tables()
        self.assertEqual(29, tables[-1].groups['tcp@loaded/short'].runs)
        self.assertEqual(40, tables[-1].groups['tcp/short'].runs)
        # The transport's pool is the idle runs'; all holds both.
        self.assertEqual(40, tables[-1].groups['tcp'].runs)
        self.assertEqual(69, tables[-1].groups[residuals.ALL].runs)
        held = runs.held(tables, 0.9)
        np.testing.assert_allclose(50.0, held[:40])
        np.testing.assert_allclose(100.0, held[40:])
        # The judge prints both, the one pool as the baseline.
        res = libvirt_judged.judge(runs, (60, 120))
        self.assertEqual(len(res['qslm']), len(res['one_pool']))
        self.assertIn('one-pool@0.9 ', libvirt_judged.format_judged(res))
        idle_only = res['qslm'][0]['allowed'] - res['one_pool'][0]['allowed']
        self.assertEqual(40, idle_only)   # 50 ms <= 60 ms, 100 ms is not
        # Unsplit, the idle runs' bound would be the loaded ones' 2x.
        runs.transport = ['tcp'] * 70
        runs.loaded_cpu_load = None
        unsplit = runs.tables()
        self.assertIsNone(unsplit[0].loaded_cpu_load)
        np.testing.assert_allclose(100.0, runs.held(unsplit, 0.9)[:40])

    def test_the_learnt_margin_pools_every_kind_but_its_own_runs(self):
        # 40 stops at ratio 1 and 5 forced pauses at 4: one margin for
        # every run, learnt from the other configurations' runs of any
        # kind, so past its 0.9 rank a stop is held at the forced
        # pauses' 4x, and no run ever sees its own ratio.
        configs = ['c%d' % i for i in range(45)]
        outcome = ['completed'] * 40 + ['forced-pause'] * 5
        runs = _runs(configs, [1.0] * 40 + [4.0] * 5, outcome=outcome)
        np.testing.assert_allclose(50.0, runs.learnt_margin(0.8))
        # 0.9 of 44 other runs: rank 41 of 44, a forced pause's 4x.
        np.testing.assert_allclose(200.0, runs.learnt_margin(0.9))
        # A configuration alone at 4x learns only the others' 1.0.
        odd = _runs(configs[:41], [1.0] * 40 + [4.0])
        np.testing.assert_allclose(
            [200.0] * 40 + [50.0], odd.learnt_margin(0.999))
        # Other releases teach it too, less the configuration judged:
        # c40's 8x teaches the others, not c40, which learns x1's 4x.
        seven = _runs(['c40', 'x1'], [8.0, 4.0])
        np.testing.assert_allclose(
            [400.0] * 40 + [200.0], odd.learnt_margin(0.999, [seven]))
        res = libvirt_judged.judge(runs, (60, 1000))
        self.assertEqual([p['confidence'] for p in res['qslm']],
                         [p['confidence'] for p in res['learnt']])
        self.assertIn('learnt margin', libvirt_judged.format_judged(res))

    def test_step_frontier_names_the_counts_a_policy_cannot_reach(self):
        informed = [{'sla_violations': 0, 'of_oracle': 0.5},
                    {'sla_violations': 2, 'of_oracle': 0.8}]
        qslm = [{'sla_violations': 1, 'of_oracle': 0.7},
                {'sla_violations': 3, 'of_oracle': 0.9}]
        gaps = libvirt_judged.step_frontier(qslm, informed, range(4))
        # At 0 QSLM has no point; at 1 the margin's best is its 0-point.
        self.assertEqual({0: None, 1: -20.0, 2: 10.0, 3: -10.0},
                         {k: None if v is None else round(v, 6)
                          for k, v in gaps.items()})
        res = libvirt_judged.judge(
            _runs(['c%d' % i for i in range(40)], np.linspace(0.8, 1.6, 40)),
            (60, 1000))
        text = libvirt_judged.format_judged(res)
        self.assertIn('step frontier by violations counted, qslm', text)
        self.assertIn('step frontier by violations counted, learnt margin',
                      text)

    def test_the_margin_picked_after_the_runs_can_hold_every_run(self):
        # The simulated world's margins stop at 5; a real run 10.47
        # times its expected pause needs more for the hindsight policy
        # to reach 0 violations.
        calm = _runs(['c%d' % i for i in range(40)], np.full(40, 1.2))
        self.assertEqual(frontier.MARGINS, libvirt_judged.margins(calm))
        wild = _runs(['c%d' % i for i in range(40)],
                     [1.0] * 39 + [10.47])
        margins = libvirt_judged.margins(wild)
        self.assertEqual(frontier.MARGINS, margins[:len(frontier.MARGINS)])
        self.assertGreaterEqual(margins[-1], 10.47)
        self.assertLess(margins[-1], 10.6)
        # Its 523.5 ms pause is allowed at 500 ms by any margin up to
        # 10: only the margins past 5 reach 0 violations.
        res = libvirt_judged.judge(wild, (60, 500))
        clean = [p['margin'] for p in res['informed']
                 if p['sla_violations'] == 0]
        self.assertTrue(clean)
        self.assertGreater(min(clean), 10.0)
