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

"""The testbed's real migrations in ``python -m bench.bench_quality``.

The raw-QEMU testbed's held-out runs judge the decisions of the fitted
estimator (:func:`testbed_decisions`) and show how much of its envelope
the ablations keep (:func:`testbed_coverage`); the Nova-driven libvirt
runs give the simulated truth its noise (:func:`nova_driven_noise`, or
:func:`held_out_world`: half the configurations for the world, the other
half for the engine's residuals) and judge the calibrated bound by real
pauses (:func:`judged_by_real_runs`, :mod:`bench.libvirt_judged`).
"""

import dataclasses
import os

import numpy as np

import bench
from bench import frontier
from bench import libvirt_judged
from bench import noise as noise_mod
from qslm_nova import estimator
from qslm_nova.risk import learn
from qslm_nova.risk import residuals
from qslm_nova.risk import residuals_file
from qslm_nova.testbed import libvirt_runs


# The options of the worst-case envelope (see ModelParams).
ENVELOPE = ('worst_dirty_factor', 'worst_bandwidth_factor',
            'worst_stop_share', 'worst_extra_ms')


class Testbed:
    """The real migrations of ``data/testbed``, read once for every figure.

    ``rows``: the usable campaign runs; ``fitted``: the constants fitted
    to them; ``held_out``: the runs the fit did not see, and ``measured``
    the pause QEMU really had in each (ms).
    """

    def __init__(self):
        from qslm_nova.testbed import campaign
        from qslm_nova.testbed import fit
        from qslm_nova.testbed import model
        self.rows = fit.usable(campaign.read_rows(
            os.path.join(campaign.DATA_DIR, 'campaign.csv')))
        self.fitted = fit.load(fit.DEFAULT_PARAMS_PATH)
        self.held_out = [r for r in self.rows
                         if int(r['repeat']) >= fit.HOLDOUT_REPEAT]
        self.measured = np.array([
            model.measured_downtime(r, self.fitted.downtime_source)
            for r in self.held_out])


def _shipped_envelope(fitted, change=None):
    """The fitted constants with the shipped worst-case envelope (the
    ``ModelParams`` defaults of ``ENVELOPE``), ``change`` applied.
    """
    ship = estimator.ModelParams()
    envelope = {k: getattr(ship, k) for k in ENVELOPE}
    envelope.update(change or {})
    return dataclasses.replace(fitted, params=dataclasses.replace(
        fitted.params, **envelope))


def nova_driven_leaves(rows=None):
    """Measured / expected pause of the Nova-driven libvirt runs, per
    (transport, regime).

    The estimator with the shipped constants (the ones the simulated
    engine runs with) against the pauses the libvirt testbed's
    migrations really had, every usable run that paused of every QEMU
    release (``data/testbed/libvirt-campaign*.csv``): how far a real
    migration strays from the engine's expected pause, run to run. The
    same runs the shipped residuals file is learned from, but only those
    between hosts as idle as the simulated cloud's (``bench.topogen``
    draws 0.05 to 0.8 runnable threads per CPU, under
    :data:`qslm_nova.risk.learn.LOADED_CPU_LOAD`): the runs of loaded
    hosts stray further, and the engine holds them apart. *rows*: the
    campaigns' rows to use (default all).
    """
    if rows is None:
        rows = nova_driven_rows()
    found, _per_release = learn.libvirt_residuals(rows)
    return {key: sorted(v) for key, v in found.items()
            if not key[0].endswith(residuals.LOADED)}


def nova_driven_rows():
    """Every row of the libvirt testbed's campaigns."""
    return libvirt_runs.read_campaigns(libvirt_runs.default_csvs())[0]


def keyed_runs(rows):
    """Per row, (the residual group the engine counts it in, its ratio),
    as :func:`learn.libvirt_residuals` keys it; (None, None) for a run
    with no ratio to learn.
    """
    found, _per_release = learn.libvirt_residuals(rows)
    of_run = {id(row): (key, ratio) for row, key, ratio in found.keyed}
    return [of_run.get(id(row), (None, None)) for row in rows]


def run_groups(rows):
    """Per row, the residual group of :func:`keyed_runs` (None: none)."""
    return [key for key, _ratio in keyed_runs(rows)]


def held_out_world(seed, path):
    """(noise, residuals document) of the ``held-out`` world: the
    engine's residuals, written to *path*, learn from one half of the
    configurations (:func:`bench.noise.split_by_configuration`, cut
    within each residual group), the
    noise is drawn from the idle runs of the other.
    """
    rows = nova_driven_rows()
    learn_rows, world_rows = noise_mod.split_by_configuration(
        rows, seed, run_groups(rows))
    doc = learn.libvirt_document(
        learn_rows, ['half of the configurations (seed %d)' % seed])
    learn.write(doc, path)
    return (noise_mod.Noise(nova_driven_leaves(world_rows), held_out=True),
            doc)


def nova_driven_noise(kind='group'):
    """The truth's :class:`bench.noise.Noise` of
    :func:`nova_driven_leaves`: drawn per group, or from one pool.
    """
    return noise_mod.Noise(nova_driven_leaves(), pooled=kind == 'pool')


def testbed_coverage(testbed, changes):
    """Share of held-out testbed pauses at or under each worst case.

    :param changes: {name: options changed from the shipped envelope}.
    :returns: {name: {'share': ..., 'runs': ...}}: how often real
        migrations stayed within the worst case of the testbed's fitted
        model constants with that envelope.
    """
    from qslm_nova.testbed import model
    rows = testbed.held_out
    out = {}
    for name, change in changes.items():
        worst = np.array([e['worst_downtime_ms'] for e in model.estimate_rows(
            rows, _shipped_envelope(testbed.fitted, change))])
        out[name] = {'share': float(np.mean(testbed.measured <= worst)),
                     'runs': len(rows)}
    return out


# Downtime limits (ms) held against the testbed's real migrations.
TESTBED_LIMITS = (100, 150, 200, 300, 400, 500, 750, 1000)


#: The fixed bounds judged by the raw-QEMU testbed's runs, in order.
TESTBED_BOUNDS = ('worst case, testbed envelope',
                  'worst case, shipped envelope', 'expected pause',
                  "paper's bound")


def testbed_decisions(testbed, limits=TESTBED_LIMITS):
    """Decisions judged by real migrations, where the testbed can.

    Every held-out testbed migration, under each limit of ``limits``, is
    one request with one destination: the estimator (the testbed's fitted
    constants) allows it when its estimate meets the limit, and the truth
    is the pause QEMU really had. Per policy: allowed, SLA violations
    (allowed, but the real pause exceeded the limit) and the share of the
    requests whose real pause met the limit that it allowed.
    """
    from qslm_nova.testbed import model
    rows, fitted, measured = (testbed.held_out, testbed.fitted,
                              testbed.measured)
    shipped = _shipped_envelope(fitted)
    est = model.estimate_rows(rows, fitted)
    bounds = dict(zip(TESTBED_BOUNDS, (
        [e['worst_downtime_ms'] for e in est],
        [e['worst_downtime_ms'] for e in model.estimate_rows(rows, shipped)],
        [e['downtime_ms'] for e in est],
        [e['paper_ms'] for e in est])))
    out = {'runs': len(rows), 'limits': list(limits), 'policies': {}}
    met = np.concatenate([measured <= lim for lim in limits])
    out['oracle'] = int(np.sum(met))
    for name, bound in bounds.items():
        bound = np.asarray(bound, dtype=float)
        allowed = np.concatenate([bound <= lim for lim in limits])
        out['policies'][name] = {
            'allowed': int(np.sum(allowed)),
            'sla_violations': int(np.sum(allowed & ~met)),
            'of_oracle': float(np.sum(allowed & met)) / max(
                out['oracle'], 1)}
    return out


def format_testbed_decisions(res):
    lines = ['Judged by real migrations: %d held-out testbed migrations x '
             '%d downtime limits (%s ms) = %d requests, one destination '
             'each; the real pause met the limit in %d' % (
                 res['runs'], len(res['limits']),
                 ', '.join(map(str, res['limits'])),
                 res['runs'] * len(res['limits']), res['oracle']),
             '  %-30s %7s %8s %9s' % ('policy', 'allowed', 'SLA viol',
                                      '/oracle')]
    for name in bench.in_order(res['policies'], TESTBED_BOUNDS):
        r = res['policies'][name]
        lines.append('  %-30s %7d %8d %8.1f%%' % (
            name, r['allowed'], r['sla_violations'], 100 * r['of_oracle']))
    return '\n'.join(lines)


def shipped_judged(without=()):
    """What ships judged by the Nova-driven runs, each release out of
    sample as the shipped file learns: from every release's other
    configurations. *without*: campaign files (``libvirt-campaign-30.csv``)
    whose runs are not judged but still learnt from: what a campaign's
    runs changed for the runs there before.
    """
    paths = libvirt_runs.default_csvs()
    known = {os.path.basename(p) for p in paths}
    unknown = sorted(set(without) - known)
    if unknown:
        raise ValueError('no campaign file %s in %s (there are %s)' % (
            ', '.join(unknown), os.path.dirname(paths[0]),
            ', '.join(sorted(known))))

    def releases(runs_paths):
        return [libvirt_judged.LibvirtRuns(paths=runs_paths,
                                           params_path=params, qemu=qemu,
                                           shipped=True)
                for qemu, params in libvirt_judged.RELEASES]
    every = releases([p for p in paths
                      if os.path.basename(p) not in without])
    left = [p for p in paths if os.path.basename(p) in without]
    extra = releases(left) if left else []
    shipped = residuals_file.load_cached()
    return [libvirt_judged.judge(
        runs, TESTBED_LIMITS, shipped_table=shipped,
        others=[o for o in every if o is not runs] + extra)
        for runs in every]


def judged_by_real_runs(testbed):
    """(the testbed's calibrated-bound frontier, the libvirt tables with
    each release's fit, the libvirt tables of what ships).
    """
    return (frontier.testbed_frontier(testbed, TESTBED_LIMITS),
            [libvirt_judged.judge(libvirt_judged.LibvirtRuns(
                params_path=params, qemu=qemu), TESTBED_LIMITS)
             for qemu, params in libvirt_judged.RELEASES],
            shipped_judged())
