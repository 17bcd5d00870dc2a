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

"""The simulated cloud's run-to-run noise, from real migrations.

``bench.bench_quality`` makes a simulated migration's true pause the
estimator's expected pause at the actual dirty rate and bandwidth, times
a measured / expected ratio of a real Nova-driven libvirt run. The runs
stray differently by transport and regime (between idle hosts the
testbed's short pauses came out at about half the expected one, the long
ones near it), so by default a migration draws from the runs most like
it: those of its transport and regime, as the engine's residual groups
hold them (the finest group of at least ``conformal.MIN_RUNS`` runs, the
pools above it otherwise). ``pooled`` draws every migration from all the
runs, as the benchmark did before; its results are those of the earlier
``bench/results/frontier-*`` files.

Drawn from the runs the engine's residuals are read from, the noise is
in sample: a draw beats a group's conformal bound less often than a new
run would (``(n - k) / n`` of the time, not up to ``(n + 1 - k) / (n +
1)``), so the world flatters the calibration. ``held-out`` cuts the
runs' configurations (settings and QEMU release) in two halves
(:func:`split_by_configuration`): the engine's residuals learn from
one, the world draws from the other, as a cloud meets migrations its
residuals never saw.
"""

import collections
import random

import numpy as np

from qslm_nova.risk import conformal
from qslm_nova.risk import residuals
from qslm_nova.testbed import libvirt_repeats

KINDS = ('group', 'pool', 'held-out')


def split_by_configuration(rows, seed, groups=None):
    """(rows the engine's residuals learn from, rows the world draws
    from), each configuration's runs all on one side.

    The cut is stratified by *groups* (per row, the residual group it
    counts in, or None; default one stratum): a configuration stands in
    the group most of its runs are in, and each group's configurations,
    shuffled with *seed*, go one at a time to the side holding fewer of
    that group's runs so far (ties in turn). Every group of two
    configurations or more so has runs on both sides, about half each:
    neither the residuals nor the world is left without a kind of
    migration the other has.
    """
    if groups is None:
        groups = [None] * len(rows)
    if len(groups) != len(rows):
        raise ValueError('%d groups for %d rows' % (len(groups), len(rows)))
    of_row = [libvirt_repeats.configuration(r) for r in rows]
    runs = collections.defaultdict(collections.Counter)
    for config, group in zip(of_row, groups):
        runs[config][str(group)] += 1
    strata = collections.defaultdict(list)
    for config in sorted(runs):
        # The group most of its runs are in (ties: the first by name).
        group = max(sorted(runs[config]), key=runs[config].get)
        strata[group].append((config, sum(runs[config].values())))
    rng = random.Random(seed)
    world, turn = set(), rng.randrange(2)
    for group in sorted(strata):
        configs = strata[group]
        rng.shuffle(configs)
        held = [0, 0]
        for config, n in configs:
            side = turn if held[0] == held[1] else int(held[1] < held[0])
            if held[0] == held[1]:
                turn = 1 - turn
            held[side] += n
            if side:
                world.add(config)
    learnt, drawn = [], []
    for row, config in zip(rows, of_row):
        (drawn if config in world else learnt).append(row)
    return learnt, drawn


class Noise:
    """Sorted measured / expected ratios per residual group.

    :param leaves: {(transport, regime value): ratios} of the runs
        between idle hosts.
    :param pooled: every migration draws from all the runs.
    :param held_out: the runs are of configurations the engine's
        residuals did not learn from (a label for the reports).
    """

    def __init__(self, leaves, pooled=False, held_out=False):
        self.table = residuals.ResidualTable(leaves)
        self.pooled = pooled
        self.held_out = held_out
        self.pool = np.sort(np.concatenate(
            [np.asarray(v, dtype=float) for v in leaves.values()]))

    @property
    def kind(self):
        return KINDS[2 if self.held_out else int(self.pooled)]

    def ratios(self, transport, regime):
        """The sorted ratios a migration of *transport* (None: none the
        testbed ran) and :class:`regimes.Regime` *regime* draws from.
        """
        if self.pooled:
            return self.pool
        group = self.table.nearest(transport, regime)
        if group is None:
            # No group with the runs: the largest pool of its regime.
            chain = self.table.chain(transport, regime)
            group = self.table.groups.get(chain[-1],
                                          self.table.groups[residuals.ALL])
        return group.ratios

    def groups(self):
        """{group name: runs} of the groups a migration may draw from."""
        if self.pooled:
            return {'all runs': len(self.pool)}
        return {name: g.runs for name, g in sorted(self.table.groups.items())
                if g.runs >= conformal.MIN_RUNS}

    def summary(self):
        """JSON-ready: what the noise is drawn from."""
        return {'kind': self.kind, 'runs': len(self.pool),
                'median': float(np.median(self.pool)),
                'p95': float(np.percentile(self.pool, 95)),
                'max': float(self.pool[-1]), 'groups': self.groups()}
