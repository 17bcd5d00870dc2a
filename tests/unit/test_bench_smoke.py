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

"""Tiny runs of the benchmarks (bench/), so that they cannot rot.

They check that the benchmarks still run against the current code and
that the invariants they report hold at small scale; they time nothing.
"""

import contextlib
import io
import os

import fixtures
from nova import test
import numpy as np

import bench
from bench import bench_quality
from bench import bench_scale
from bench import frontier
from bench import libvirt_judged
from bench import real_runs
from bench import redraws
from bench import topogen
from qslm_nova.scheduler import request as qslm_request
from qslm_nova import topology


class TestTopogen(test.NoDBTestCase):

    def test_fabrics_parse(self):
        for fabric in ('leaf-spine', 'fat-tree', 'mixed'):
            doc = topogen.generate(90, sites=3, fabric=fabric, seed=3)
            topo = topology.parse(doc)
            self.assertEqual(90, len(topo.hosts))
            # Every host reaches every other one.
            search = topo.widest_paths(sorted(topo.hosts)[0])
            self.assertTrue(all(h in search for h in topo.hosts))

    def test_deterministic(self):
        self.assertEqual(topogen.generate(50, seed=5),
                         topogen.generate(50, seed=5))


class TestBenchSmoke(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger(name='qslm_nova',
                                            level='ERROR'))
        # bench_scale replaces the instance look-up; put it back after.
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.scheduler.request._lookup_instance'))
        self.addCleanup(qslm_request.ENGINES.reset)

    def test_scale_and_reload(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            results, reload_res = bench_scale.main([
                '--hosts', '40', '--requests', '2', '--reload-hosts', '40',
                '--reload-threads', '2', '--reload-seconds', '1.5',
                '--reloads', '2', '--output', '-'])
        self.assertIn('QSLM scheduler overhead', out.getvalue())
        res = results[0]
        self.assertEqual(40, res['hosts'])
        self.assertGreater(res['passed_median'], 0)
        for key in ('qslm_cold', 'qslm_warm', 'compute_capabilities',
                    'image_properties'):
            self.assertGreater(res[key]['median_ms'], 0)
        self.assertEqual(0, reload_res['failed'], reload_res['errors'])
        self.assertEqual(0, reload_res['inconsistent'])
        self.assertGreater(reload_res['requests'], 0)

    def test_quality(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            runs = bench_quality.main(['--hosts', '40', '--requests', '40',
                                       '--no-stress', '--output', '-'])
        self.assertIn('Decision quality', out.getvalue())
        pols = runs[0]['policies']
        # Security is judged independently of the engine; the SLA outcome
        # depends on the estimator of the day and is what the benchmark
        # reports, so it is not asserted here.
        self.assertEqual(0, pols['qslm']['security_violations'])
        self.assertEqual(0, pols['qslm-strict']['security_violations'])
        self.assertEqual(40, pols['nova']['placed'])
        for name, pol in pols.items():
            self.assertLessEqual(pol['good'], pol['placed'], name)
            self.assertLessEqual(pol['placed'], 40, name)
        # The same policies judged by the testbed's real migrations.
        self.assertIn('Judged by real migrations', out.getvalue())
        real = runs[-1]['testbed_decisions']
        requests = real['runs'] * len(real['limits'])
        self.assertGreater(real['runs'], 0)
        self.assertLessEqual(real['oracle'], requests)
        # The frontier: placements never grow with the confidence.
        self.assertIn('Frontier: QSLM at each sla_confidence', out.getvalue())
        placed = [p['placed'] for p in runs[0]['frontier']['qslm']]
        self.assertEqual(placed, sorted(placed, reverse=True))
        informed = [p['placed'] for p in runs[0]['frontier']['informed']]
        self.assertEqual(informed, sorted(informed, reverse=True))
        # And with residuals learned from the simulated history.
        hist = runs[0]['frontier']['qslm_history']
        self.assertEqual(len(placed), len(hist))
        self.assertEqual([p['placed'] for p in hist],
                         sorted([p['placed'] for p in hist], reverse=True))
        self.assertGreater(runs[0]['history_residuals']['runs'], 0)
        for p in hist:
            self.assertTrue(0.0 <= p['beyond_held'] <= 1.0, p)
        self.assertIn('qslm@0.9/history', out.getvalue())
        # The violations risked: a wider margin places less and risks
        # no more; no point risks more than it placed.
        risked = [p['expected_violations']
                  for p in runs[0]['frontier']['informed']]
        self.assertEqual(risked, sorted(risked, reverse=True))
        for p in runs[0]['frontier']['qslm'] + hist:
            self.assertTrue(0.0 <= p['expected_violations'] <= p['placed'],
                            p)
        self.assertIn('by violations risked', out.getvalue())
        allowed = [p['allowed'] for p in
                   runs[-1]['testbed_frontier']['points']]
        self.assertEqual(allowed, sorted(allowed, reverse=True))
        for name, pol in real['policies'].items():
            self.assertLessEqual(pol['sla_violations'], pol['allowed'], name)
            self.assertLessEqual(pol['allowed'], requests, name)
            self.assertLessEqual(pol['of_oracle'], 1.0, name)
        # The paper's bound lies above the expected pause: it allows less.
        self.assertLess(real['policies']["paper's bound"]['allowed'],
                        real['policies']['expected pause']['allowed'])
        # Judged by the libvirt testbed's unseen configurations.
        self.assertIn('Judged by Nova-driven libvirt migrations',
                      out.getvalue())
        judged = runs[-1]['libvirt_judged']
        self.assertEqual([q for q, _ in libvirt_judged.RELEASES],
                         [u['qemu'] for u in judged])
        for unseen in judged:
            requests = unseen['runs'] * len(unseen['limits'])
            self.assertGreater(unseen['runs'], 0)
            for key in ('qslm', 'informed'):
                allowed = [p['allowed'] for p in unseen[key]]
                self.assertEqual(allowed, sorted(allowed, reverse=True), key)
            for p in (unseen['qslm'] + unseen['informed'] +
                      list(unseen['fixed'].values())):
                self.assertLessEqual(p['sla_violations'], p['allowed'], p)
                self.assertLessEqual(p['allowed'], requests, p)
                self.assertTrue(0.0 <= p['beyond'] <= 1.0, p)
        # What ships, judged by every run of each release: more runs
        # than the held-out ones, and the shipped file beside qslm@c.
        self.assertIn('What ships', out.getvalue())
        ships = runs[-1]['libvirt_shipped']
        self.assertEqual([u['qemu'] for u in judged],
                         [u['qemu'] for u in ships])
        for unseen, shipped in zip(judged, ships):
            self.assertTrue(shipped['shipped'])
            self.assertGreater(shipped['runs'], unseen['runs'])
            self.assertEqual(len(frontier.CONFIDENCES),
                             len(shipped['shipped_file']))
            allowed = [p['allowed'] for p in shipped['shipped_file']]
            self.assertEqual(allowed, sorted(allowed, reverse=True))


class TestFrontier(test.NoDBTestCase):

    def test_exceedance(self):
        ratios = [0.5, 1.0, 2.0, 4.0]
        # Over 1.5 times the pause: two ratios of four.
        self.assertEqual(0.5, frontier.exceedance(ratios, 100.0, 150.0))
        # A pause equal to the limit meets it: only 4.0 is over 2.0.
        self.assertEqual(0.25, frontier.exceedance(ratios, 100.0, 200.0))
        self.assertEqual(0.0, frontier.exceedance(ratios, 100.0, 400.0))
        self.assertEqual(1.0, frontier.exceedance(ratios, 100.0, 10.0))
        # No limit, or no pause: nothing to exceed.
        self.assertEqual(0.0, frontier.exceedance(ratios, 100.0, None))
        self.assertEqual(0.0, frontier.exceedance(ratios, 0.0, 150.0))

    def test_step_gaps(self):
        # QSLM's best at no more than each cap, over all its points,
        # against the informed policy's: a cap between QSLM's points
        # takes the lower one.
        ours = [{'of_oracle': 0.5, 'sla_violations': 0},
                {'of_oracle': 0.9, 'sla_violations': 3}]
        theirs = [{'of_oracle': 0.4, 'sla_violations': 0},
                  {'of_oracle': 0.7, 'sla_violations': 1},
                  {'of_oracle': 0.95, 'sla_violations': 4}]
        gaps = frontier.step_gaps(ours, theirs, 'sla_violations',
                                  (0, 1, 3, 4))
        self.assertAlmostEqual(-10.0, gaps[0])
        self.assertAlmostEqual(20.0, gaps[1])
        self.assertAlmostEqual(-20.0, gaps[3])
        self.assertAlmostEqual(5.0, gaps[4])
        # No informed point under a cap: no gap there.
        self.assertEqual({}, frontier.step_gaps(
            ours, theirs[2:], 'sla_violations', (0,)))

    def test_nested_counts(self):
        rng = np.random.default_rng(3)
        risked = [0.5, 4.0, 0.0, 2.0]
        counts = redraws.nested_counts(risked, 20000, rng)
        self.assertEqual((20000, 4), counts.shape)
        # Each point counts its risked violations on average.
        for got, mean in zip(counts.mean(axis=0), risked):
            self.assertAlmostEqual(mean, got, delta=0.05)
        # Nested: a point that risks more counts at least as many in
        # every draw; one that risks nothing counts none.
        self.assertTrue(np.all(counts[:, 1] >= counts[:, 3]))
        self.assertTrue(np.all(counts[:, 3] >= counts[:, 0]))
        self.assertEqual(0, counts[:, 2].max())

    def test_expected_step_gaps(self):
        informed = [{'of_oracle': 0.6, 'expected_violations': 0.0},
                    {'of_oracle': 0.9, 'expected_violations': 1.0},
                    {'of_oracle': 1.0, 'expected_violations': 3.0}]
        # Ten points more at every risk: QSLM leads at every count.
        ours = [dict(p, of_oracle=p['of_oracle'] + 0.1) for p in informed]
        gaps = redraws.expected_step_gaps(ours, informed, (0, 1, 5),
                                          draws=5000)
        for cap, (mean, theirs, qslm) in gaps.items():
            self.assertLess(mean, -3.0, cap)
            self.assertLess(theirs, qslm, cap)
        # At 5 violations both reach their largest share nearly always.
        self.assertAlmostEqual(-10.0, gaps[5][0], delta=0.5)
        # A point the draws cannot judge: no gaps.
        self.assertEqual({}, redraws.expected_step_gaps(
            ours, [{'of_oracle': 0.5, 'sla_violations': 0}], (0,)))

    def test_render_a_saved_run(self):
        saved = os.path.join(bench.RESULTS, 'frontier.json')
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            bench_quality.main(['--render', saved])
        self.assertTrue(out.getvalue().startswith('Frontier only:'))
        self.assertIn('step frontier by violations risked, history',
                      out.getvalue())
        self.assertIn('draws of the noise', out.getvalue())

    def test_informed_risk(self):
        informed = frontier.Informed()
        ratios = np.array([0.5, 1.0, 2.0, 4.0])
        # 100 ms before noise, 130 ms drawn, limit 150: placed by the
        # margins up to 1.5, each risking half a violation; none counted.
        informed.add((100.0, 130.0, ratios), 150.0)
        placed = informed.margins <= 1.5
        self.assertEqual(placed.tolist(),
                         informed.placed.astype(bool).tolist())
        self.assertEqual([0.5 if p else 0.0 for p in placed],
                         informed.expected.tolist())
        self.assertEqual(0, informed.violations.sum())
        # Drawn over the limit: counted once per margin that placed it.
        informed.add((100.0, 250.0, ratios), 150.0)
        self.assertEqual((2 * placed).tolist(), informed.placed.tolist())
        self.assertEqual(placed.astype(int).tolist(),
                         informed.violations.tolist())
        self.assertEqual([1.0 if p else 0.0 for p in placed],
                         informed.expected.tolist())
        # A placement's risk is that of its own ratios.
        informed.add((100.0, 130.0, np.array([4.0, 4.0])), 150.0)
        self.assertEqual([2.0 if p else 0.0 for p in placed],
                         informed.expected.tolist())
        # No destination could take it: nothing placed.
        informed.add((np.inf, np.inf, ()), 150.0)
        self.assertEqual((3 * placed).tolist(), informed.placed.tolist())

    def test_frontier_only(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            runs = bench_quality.main(['--frontier-only', '--hosts', '30',
                                       '--requests', '20', '--output', '-'])
        self.assertIn('by violations risked', out.getvalue())
        self.assertNotIn('Decision quality', out.getvalue())
        (run,) = runs
        # Only the frontier's policies ran, and the oracle.
        self.assertEqual(0, run['policies']['nova']['placed'])
        self.assertEqual(0, run['policies']['qslm']['placed'])
        self.assertGreater(run['policies']['oracle']['placed'], 0)
        for p in run['frontier']['qslm'] + run['frontier']['qslm_history']:
            self.assertIn('informed_risked_of_oracle', p)

    def test_frontier_only_in_the_held_out_world(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            (run,) = bench_quality.main([
                '--frontier-only', '--noise', 'held-out', '--hosts', '30',
                '--requests', '10', '--seed', '12', '--output', '-'])
        self.assertIn('held out: the qslm@c residuals learn from the other '
                      'configurations', out.getvalue())
        self.assertEqual('held-out', run['testbed_ratio']['kind'])
        self.assertGreater(run['testbed_ratio']['residual_runs'], 0)
        # Without --frontier-only the option is refused.
        with contextlib.redirect_stderr(io.StringIO()):
            e = self.assertRaises(SystemExit, bench_quality.main,
                                  ['--noise', 'held-out', '--output', '-'])
        self.assertEqual(2, e.code)

    def test_real_only(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            (res,) = bench_quality.main(['--real-only', '--output', '-'])
        self.assertIn('Calibrated bound judged by real migrations',
                      out.getvalue())
        self.assertIn('Judged by Nova-driven libvirt migrations',
                      out.getvalue())
        self.assertNotIn('Frontier:', out.getvalue())
        points = res['testbed_frontier']['points']
        allowed = [p['allowed'] for p in points]
        self.assertEqual(allowed, sorted(allowed, reverse=True))
        self.assertEqual(len(libvirt_judged.RELEASES),
                         len(res['libvirt_judged']))

    def test_real_only_without_a_campaign(self):
        def judged(argv):
            with contextlib.redirect_stdout(io.StringIO()):
                (res,) = bench_quality.main(argv + ['--output', '-'])
            return {r['qemu']: r for r in res['libvirt_shipped']}
        every = judged(['--real-only'])
        without = judged(['--real-only', '--judge-without',
                          'libvirt-campaign-30.csv'])
        # Campaign 30's 48 runs are QEMU 10's: they are not judged, and
        # the other release's runs are judged as before.
        ten = [q for q in every if q.startswith('10.')][0]
        self.assertEqual(every[ten]['runs'] - 48, without[ten]['runs'])
        for qemu, res in every.items():
            if qemu != ten:
                self.assertEqual(res['qslm'], without[qemu]['qslm'])
        with contextlib.redirect_stderr(io.StringIO()):
            for argv in (['--real-only', '--judge-without', 'no-such.csv'],
                         ['--judge-without', 'libvirt-campaign-30.csv']):
                e = self.assertRaises(SystemExit, bench_quality.main,
                                      argv + ['--output', '-'])
                self.assertEqual(2, e.code)

    def test_the_simulated_noise_is_the_idle_hosts_runs(self):
        # The simulated hosts run under the residuals' loaded_cpu_load:
        # their noise is the idle hosts' runs, every one of them, in the
        # shipped file's groups.
        from qslm_nova.risk import residuals
        from qslm_nova.risk import residuals_file
        table = residuals_file.load_cached()
        leaves = real_runs.nova_driven_leaves()
        idle = {name: g.ratios for name, g in table.groups.items()
                if '/' in name and residuals.LOADED not in name}
        self.assertEqual(sorted(idle), sorted('%s/%s' % k for k in leaves))
        for (transport, regime), ratios in leaves.items():
            np.testing.assert_allclose(
                idle['%s/%s' % (transport, regime)], ratios, atol=5e-5)
        noise = real_runs.nova_driven_noise()
        self.assertEqual(sum(len(v) for v in leaves.values()),
                         len(noise.pool))
        self.assertLess(len(noise.pool), table.origin['runs'])
