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


"""Mechanism columns and the merging of repeated model inputs."""

from unittest import mock

import numpy as np
from oslotest import base

from qslm_nova import estimator
from qslm_nova.estimator import columns
from qslm_nova.estimator import model
from tests.unit.estimator import draws
from tests.unit.estimator.draws import MECH
from tests.unit.estimator.draws import PARAMS


class TestMechanismColumns(base.BaseTestCase):

    def test_one_call_equals_one_call_per_mechanism(self):
        rng = np.random.RandomState(9)
        for k in range(60):
            params = PARAMS if k % 2 else estimator.ModelParams()
            d = draws.draw(rng, 12)
            names = rng.choice(['none', 'tls', 'tunnelled', 'ipsec'], 12)
            mixed = estimator.estimate(
                d['memory_mb'], d['dirty'], d['bw'], d['rtt'],
                estimator.MechanismColumns(MECH[n] for n in names),
                d['load'], d['libvirt'], params)
            for name in set(names):
                at = np.nonzero(names == name)[0]
                alone = estimator.estimate(
                    d['memory_mb'], d['dirty'], d['bw'][at], d['rtt'][at],
                    MECH[name], d['load'][at], d['libvirt'], params)
                for field in ('expected_downtime_ms', 'worst_downtime_ms',
                              'total_time_s', 'worst_total_time_s',
                              'bytes_sent', 'rate_mibps', 'outcome',
                              'worst_outcome', 'rounds'):
                    np.testing.assert_array_equal(
                        getattr(alone, field), getattr(mixed, field)[at],
                        '%s for %s' % (field, name))


class TestRepeatedInputs(base.BaseTestCase):
    """Columns with equal model inputs are simulated once.

    Candidates of one request share a few paths; with a protecting
    mechanism whose cipher binds, or a plain one, hosts with other loads
    or faster links reach the same rates. Every column must still equal
    that column estimated alone.
    """

    FIELDS = ('expected_downtime_ms', 'worst_downtime_ms', 'total_time_s',
              'worst_total_time_s', 'bytes_sent', 'rate_mibps', 'outcome',
              'worst_outcome', 'rounds', 'race_downtime_ms')

    def _check(self, d, mech, params, n, fewest, most):
        rng = np.random.RandomState(5)
        sizes = []
        real = model.simulate

        def simulate(*args, **kwargs):
            sizes.append(len(args[3]))
            return real(*args, **kwargs)

        with mock.patch.object(model, 'simulate', simulate):
            many = estimator.estimate(d['memory_mb'], d['dirty'], d['bw'],
                                      d['rtt'], mech, d['load'],
                                      d['libvirt'], params)
        # One run: the expected and the worst case of each distinct input;
        # then maybe the race of those expected to end before Nova's
        # late first step lands, and of those expected to end before a
        # faster run would reach it (race_reach_s).
        self.assertIn(len(sizes), (1, 2, 3))
        self.assertTrue(2 * fewest <= sizes[0] <= 2 * most, sizes)
        self.assertTrue(all(s <= sizes[0] // 2 for s in sizes[1:]), sizes)
        for i in rng.choice(n, 24, replace=False):
            one_mech = (mech.take([i]) if isinstance(
                mech, estimator.MechanismColumns) else mech)
            one = estimator.estimate(d['memory_mb'], d['dirty'],
                                     d['bw'][i:i + 1], d['rtt'][i:i + 1],
                                     one_mech, d['load'][i:i + 1],
                                     d['libvirt'], params)
            for field in self.FIELDS:
                np.testing.assert_array_equal(
                    getattr(one, field), getattr(many, field)[i:i + 1],
                    '%s of column %d' % (field, i))

    def test_equal_loads_share_a_column(self):
        # Load matters to every mechanism (the migration thread's share of
        # its core, libvirt's prepare): 8 paths at 2 loads, 16 columns.
        rng = np.random.RandomState(31)
        for k in range(8):
            params = PARAMS if k % 2 else estimator.ModelParams()
            d = draws.draw(rng, 8)
            n = 4 * columns.COMPACT_MIN
            at = rng.randint(8, size=n)
            at[:8] = np.arange(8)
            d['bw'], d['rtt'] = d['bw'][at], d['rtt'][at]
            d['load'] = np.array([0.2, 2.5])[rng.randint(2, size=n)]
            self._check(d, MECH['none'], params, n, 8, 16)

    def test_mixed_mechanisms_keep_their_columns(self):
        rng = np.random.RandomState(32)
        names = np.array(['none', 'tls', 'tunnelled', 'ipsec'])
        for k in range(8):
            params = PARAMS if k % 2 else estimator.ModelParams()
            d = draws.draw(rng, 6)
            n = 4 * columns.COMPACT_MIN
            # Each path with each mechanism at one of two loads: 48
            # distinct inputs at most.
            at = np.arange(n) % 6
            mech_at = (np.arange(n) // 6) % 4
            load = np.array([0.1, 0.7])[(np.arange(n) // 24) % 2]
            d['bw'], d['rtt'] = d['bw'][at], d['rtt'][at]
            d['load'] = load
            mech = estimator.MechanismColumns(MECH[m] for m in
                                              names[mech_at])
            # Mechanisms that differ in handshake or buffer never share.
            kinds = len(set(zip(mech.handshake_rtts.tolist(),
                                mech.buffered_mb.tolist())))
            self._check(d, mech, params, n, kinds, 48)

    def test_few_repeats_run_every_column(self):
        rng = np.random.RandomState(33)
        d = draws.draw(rng, 2 * columns.COMPACT_MIN)
        d['libvirt'] = estimator.LibvirtSettings()
        n = 2 * columns.COMPACT_MIN
        self._check(d, MECH[d['mech']], PARAMS, n, n, n)
