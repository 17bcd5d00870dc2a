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

"""The simulated truth's noise: drawn from the runs most like it."""

import types

import numpy as np
import testtools

from bench import noise as noise_mod
from bench import quality_policies as policies
from bench import quality_truth
from bench import real_runs
from qslm_nova.decision import options as decision_options
from qslm_nova import estimator
from qslm_nova import mechanisms
from qslm_nova.risk import regimes
from qslm_nova.risk import residuals
from qslm_nova.risk import residuals_file

SHORT, LONG, POST = (regimes.Regime.SHORT, regimes.Regime.LONG,
                     regimes.Regime.POST_COPY)
# A value per group, so a draw names its group.
LEAVES = {('tcp', 'short'): [0.5] * 25, ('tcp', 'long'): [1.0] * 25,
          ('tls', 'short'): [2.0] * 5, ('tls', 'long'): [1.5] * 30,
          ('tcp', 'post-copy'): [0.8] * 20}


class TestHeldOutWorld(testtools.TestCase):

    def test_no_configuration_on_both_sides(self):
        from qslm_nova.testbed import libvirt_repeats
        rows = real_runs.nova_driven_rows()
        learn_rows, world_rows = noise_mod.split_by_configuration(rows, 12)
        config = libvirt_repeats.configuration
        learnt = {config(r) for r in learn_rows}
        drawn = {config(r) for r in world_rows}
        self.assertEqual(set(), learnt & drawn)
        self.assertEqual(len(rows), len(learn_rows) + len(world_rows))
        # The seed decides the cut, and the same seed cuts the same way.
        self.assertEqual(world_rows, noise_mod.split_by_configuration(
            rows, 12)[1])
        self.assertNotEqual(world_rows, noise_mod.split_by_configuration(
            rows, 13)[1])

    def test_each_group_is_cut_in_about_half(self):
        # Configurations of two groups, a lone one of a third: 'a' has
        # configurations of 1-4 runs, 'b' three of 10 runs.
        rows, groups = [], []
        for name, group, n in ([('a%d' % i, 'a', 1 + i % 4)
                                for i in range(12)] +
                               [('b%d' % i, 'b', 10) for i in range(3)] +
                               [('c0', 'c', 5)]):
            rows += [{'run_id': '%s-%d' % (name, k), 'qemu': '10'}
                     for k in range(n)]
            groups += [group] * n
        of = {id(r): g for r, g in zip(rows, groups)}
        for seed in range(20):
            learnt, drawn = noise_mod.split_by_configuration(
                rows, seed, groups)
            held = {g: [sum(of[id(r)] == g for r in side)
                        for side in (learnt, drawn)] for g in 'abc'}
            # 30 runs of 'a' in parts of at most 4: 13-17 a side.
            self.assertLessEqual(abs(held['a'][0] - held['a'][1]), 4)
            self.assertIn(sorted(held['b']), ([10, 20],))
            self.assertIn(sorted(held['c']), ([0, 5],))
        self.assertRaises(ValueError, noise_mod.split_by_configuration,
                          rows, 1, groups[1:])
        # Without the groups, nothing keeps 'b' on both sides.
        sides = {tuple(sorted(
            sum(r['run_id'].startswith('b') for r in side)
            for side in noise_mod.split_by_configuration(rows, seed)))
            for seed in range(20)}
        self.assertIn((0, 30), sides)

    def test_the_shipped_runs_groups_are_on_both_sides(self):
        rows = real_runs.nova_driven_rows()
        groups = real_runs.run_groups(rows)
        of = {id(r): g for r, g in zip(rows, groups)}
        learnt, drawn = noise_mod.split_by_configuration(rows, 12, groups)
        for group in set(groups) - {None}:
            n = [sum(of[id(r)] == group for r in side)
                 for side in (learnt, drawn)]
            if sum(n) >= 20:
                self.assertGreater(min(n), sum(n) / 3.0, group)

    def test_the_world_draws_from_runs_the_residuals_did_not_learn(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            path = tmp + '/r.json'
            noise, doc = real_runs.held_out_world(12, path)
            table = residuals_file.load(path)
        self.assertEqual('held-out', noise.kind)
        self.assertEqual(doc['runs'], table.groups['all'].runs +
                         table.groups['post-copy'].runs +
                         table.groups['forced-pause'].runs)
        everything = real_runs.nova_driven_noise()
        # Each half is a part of the runs, the two together no more.
        self.assertLess(len(noise.pool), len(everything.pool))
        shipped = residuals_file.load_cached().origin['runs']
        self.assertLess(doc['runs'], shipped)
        self.assertLessEqual(len(noise.pool) + doc['runs'], shipped)


class TestNoise(testtools.TestCase):

    def test_a_group_with_the_runs_is_drawn_from_alone(self):
        noise = noise_mod.Noise(LEAVES)
        self.assertEqual({0.5}, set(noise.ratios('tcp', SHORT)))
        self.assertEqual({1.0}, set(noise.ratios('tcp', LONG)))
        self.assertEqual({0.8}, set(noise.ratios('tcp', POST)))

    def test_a_small_group_draws_from_its_transport(self):
        # tls/short has 5 runs: the tls pool (35 runs).
        noise = noise_mod.Noise(LEAVES)
        self.assertEqual([2.0] * 5 + [1.5] * 30,
                         sorted(noise.ratios('tls', SHORT), reverse=True))

    def test_without_testbed_runs_every_pre_copy_run(self):
        noise = noise_mod.Noise(LEAVES)
        ratios = noise.ratios(None, LONG)
        self.assertEqual(85, len(ratios))
        # No tls post-copy runs, and the post-copy pool is tcp's.
        self.assertEqual({0.8}, set(noise.ratios('tls', POST)))

    def test_pooled_draws_from_every_run(self):
        noise = noise_mod.Noise(LEAVES, pooled=True)
        for transport, regime in (('tcp', SHORT), ('tls', LONG),
                                  (None, POST)):
            self.assertEqual(105, len(noise.ratios(transport, regime)))
        self.assertEqual('pool', noise.summary()['kind'])
        self.assertEqual({'all runs': 105}, noise.summary()['groups'])

    def test_summary_names_the_groups_drawn_from(self):
        groups = noise_mod.Noise(LEAVES).summary()['groups']
        self.assertEqual(25, groups['tcp/short'])
        self.assertEqual(35, groups['tls'])
        self.assertNotIn('tls/short', groups)


class TestTruth(testtools.TestCase):

    def _parts(self, mech, gbps, noise, link=None):
        truth = quality_truth.Truth(7, 8.0, estimator.ModelParams(), noise)
        req = types.SimpleNamespace(memory_mb=1024)
        path = types.SimpleNamespace(bottleneck_gbps=gbps, rtt_ms=0.5)
        loads = [0.2]
        # The mechanism estimated: end to end, with link-level on top.
        used = decision_options.TransportOption.of(
            mechanisms.BUILTIN[mech],
            link and mechanisms.BUILTIN[link]).mechanism
        base, done, drawn, groups = truth.parts(
            req, ['dst'], [path], used, mech, loads,
            estimator.LibvirtSettings())
        est = estimator.estimate(
            1024, truth.dirty, np.array([gbps]) * truth_bw(truth), 0.5,
            used, np.array(loads), estimator.LibvirtSettings(),
            truth.params)
        regime = regimes.Regime.of(float(estimator.idle_pause_ms(
            est.expected_downtime_ms, loads,
            truth.params.fixed_pause_ms)[0]),
            total_s=float(est.total_time_s[0]))
        return drawn[0], groups[0], regime

    def test_the_noise_is_of_the_migrations_transport_and_regime(self):
        noise = noise_mod.Noise(LEAVES)
        seen = set()
        for mech in ('none', 'tls'):
            for gbps in (100.0, 0.5):
                drawn, group, regime = self._parts(mech, gbps, noise)
                transport = residuals.transport_of(mech)
                self.assertEqual(noise.ratios(transport, regime).tolist(),
                                 group.tolist())
                self.assertIn(drawn, group)
                seen.add((transport, regime))
        # Both regimes were met, so the draw followed the regime: 1 GiB
        # over 100 Gbit/s ends within FAST_MIGRATION_S (the fast runs',
        # here the tcp pool's), over 0.5 Gbit/s it pauses long.
        self.assertIn(('tcp', regimes.Regime.FAST), seen)
        self.assertIn(('tcp', LONG), seen)

    def test_link_level_protection_keeps_the_end_to_end_group(self):
        # tls with ipsec on the weak links ("tls+ipsec") draws from tls's
        # runs, as the engine's residual group for it is tls's.
        noise = noise_mod.Noise(LEAVES)
        drawn, group, regime = self._parts('tls', 100.0, noise,
                                           link='ipsec')
        self.assertEqual(noise.ratios('tls', regime).tolist(),
                         group.tolist())
        self.assertIn(drawn, group)

    def test_pooled_truth_draws_from_every_run(self):
        noise = noise_mod.Noise(LEAVES, pooled=True)
        _drawn, group, _regime = self._parts('none', 100.0, noise)
        self.assertEqual(105, len(group))


def truth_bw(truth):
    """The bandwidth factor the truth draws for destination 'dst'."""
    import random
    return random.Random(policies.seed_of(truth.seed, 'dst')).uniform(
        truth.low_bw, 1.0)
