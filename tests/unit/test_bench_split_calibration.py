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

"""The held-out calibration read over many cuts."""

import contextlib
import io

import testtools

from bench import split_calibration as sc
from qslm_nova.risk import residuals_file


class TestBeyond(testtools.TestCase):

    def test_each_leaf_is_judged_by_its_groups_bound(self):
        table = residuals_file.from_json({'groups': {
            'tcp/long': [1.0] * 30, 'tcp/short': [0.5] * 30}}, 't')
        found = sc.beyond(table, {('tcp', 'long'): [0.5, 1.0, 2.0, 3.0],
                                  ('tcp', 'short'): [0.6, 0.4]}, 0.95)
        # Over the bound, not at it.
        self.assertEqual({'tcp/long': (4, 2), 'tcp/short': (2, 1)}, found)


class TestOffTarget(testtools.TestCase):

    def test_either_side_of_the_factor(self):
        # Nominal 5 %: 3.33 % to 7.5 % is within a factor 1.5.
        got = sc.off_target([0.02, 0.0334, 0.05, 0.075, 0.076, 0.2], 0.05)
        self.assertEqual({'over': 2 / 6.0, 'under': 1 / 6.0}, got)
        self.assertEqual({'over': 0.0, 'under': 1.0},
                         sc.off_target([0.0], 0.01))


class TestCuts(testtools.TestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.runs = sc.Runs()

    def test_a_cut_learns_from_one_half_and_judges_the_other(self):
        table, leaves = self.runs.cut(12)
        learnt = table.groups['all'].runs + sum(
            table.groups[p].runs for p in ('post-copy', 'forced-pause'))
        judged = sum(len(v) for v in leaves.values())
        counted = sum(1 for g in self.runs.groups if g is not None)
        # The judged half's idle runs only, none of the learnt half's.
        self.assertLess(learnt + judged, counted)
        self.assertGreater(judged, 0.3 * counted)
        self.assertFalse(any(k[0].endswith('@loaded') for k in leaves))
        # The seed decides the cut.
        again = self.runs.cut(12)[1]
        self.assertEqual(dict(leaves), dict(again))
        self.assertNotEqual(dict(leaves), dict(self.runs.cut(13)[1]))

    def test_all_is_every_group_together(self):
        result = sc.measure(self.runs, range(3), (0.95,))['0.95']
        groups = [v for k, v in result.items() if k != 'all']
        self.assertAlmostEqual(result['all']['runs'],
                               sum(v['runs'] for v in groups))
        for v in result.values():
            if v['cuts']:   # a group may have no run in a half
                self.assertTrue(0.0 <= v['p10'] <= v['p90'] <= 1.0, v)
                self.assertTrue(0.0 <= v['mean'] <= 1.0, v)

    def test_main_prints_and_names_the_frontier_seeds(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = sc.main(['--cuts', '2', '--output', '-'])
        self.assertEqual(2, result['cuts'])
        self.assertEqual(list(sc.FRONTIER_SEEDS),
                         sorted(result['frontier_seeds']))
        self.assertIn('over 2 cuts', out.getvalue())
        self.assertIn('seed 14', out.getvalue())
        every = result['by_confidence']['0.95']['all']
        self.assertIn('at 0.95, all runs: within a factor 1.5 of the '
                      'nominal 5.0 %% (3.33-7.50 %%) in %.1f %% of the cuts'
                      % (100 * (1 - every['over'] - every['under'])),
                      out.getvalue())
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertRaises(SystemExit, sc.main, ['--cuts', '0'])
