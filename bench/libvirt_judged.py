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

"""Decisions judged by Nova-driven libvirt migrations of unseen
configurations.

Part of ``python -m bench.bench_quality`` (issue 20, item 3). The raw-QEMU
testbed's held-out runs repeat grid cells the fit saw; the libvirt
testbed's held-out runs (``data/testbed/libvirt-campaign*.csv``, split by
``qslm-nova-testbed libvirt-report``) have values the fit never saw, and
Nova's monitor drove them: its downtime steps, timeout actions and
post-copy. Every such run that paused, under each downtime limit, is one
request with one destination.

These policies allow or deny it:

* ``qslm@c``: the expected pause (the libvirt-fitted constants, the run's
  own measured inputs) times the conformal bound at confidence c of the
  measured / expected ratios of every *other configuration's* held-out
  runs, grouped per transport, regime and host load exactly as the
  shipped residuals are (:class:`qslm_nova.risk.residuals.ResidualTable`;
  a run the model expects to switch to post-copy is of the post-copy
  regime, one it expects Nova to pause of the forced-pause regime, each
  pooling only with itself; runs between hosts loaded to
  :data:`qslm_nova.risk.learn.LOADED_CPU_LOAD` runnable threads per CPU
  are groups of their own). Leaving out the
  whole configuration, not only the run, keeps its repeats from teaching
  the bound its own noise. Past what the runs can show, the worst case.
* ``one-pool@c``: the same with the runs of every host load in one pool
  (the shipped file before 2026-12-05): what keeping loaded hosts' runs
  apart buys, measured in the same run.
* ``informed xm``: the expected pause times a margin m picked after the
  fact, for every m of :func:`margins` (past the largest ratio). On a
  real run the
  expected pause already has the true dirty rate and bandwidth, so this
  is the frontier's informed policy with real noise, not drawn noise.
* ``learnt margin@c``: the informed policy without hindsight, one margin
  for every run learnt like ``qslm@c`` (the conformal bound at c of the
  other configurations' ratios) but with every kind of run in one pool:
  what grouping by transport, regime and load buys against one margin.

Beside them the fitted worst case, the expected pause and the paper's
bound, and per confidence the share of runs whose real pause exceeded
the bound held (the calibration against 1 - c).

Each QEMU release of :data:`RELEASES` is judged on its own runs with its
own fit: QEMU 10.0.2 first, which keeps the guest's writes under TCG
(``data/testbed/README.md``), then Debian 12's 7.2, which loses some.

Then what ships, judged the same way (``shipped=True``): the default
constants (``ModelParams()``) and the built-in mechanisms in place of a
fit, so every run of the release is judged, the fitting runs too, and
beside ``qslm@c`` the shipped residuals file (``shipped@c``). The
testbed's facts stay: each run's measured inputs and its link's goodput.
"""

import math
import os

import numpy as np

import bench
from bench import frontier
from qslm_nova.risk import conformal
from qslm_nova.risk import learn
from qslm_nova.risk import residuals
from qslm_nova.testbed import fit
from qslm_nova.testbed import libvirt_model as lm
from qslm_nova.testbed import libvirt_repeats
from qslm_nova.testbed import libvirt_runs

#: (QEMU release, its fit) judged by the benchmark, in this order.
RELEASES = libvirt_runs.RELEASE_FITS
# The QEMU 7.2.22 runs and their fit (libvirt-report --qemu 7.2.22).
PARAMS_QEMU, PARAMS = RELEASES[1]
PARAMS_QEMU10 = RELEASES[0][1]
#: The fixed bounds beside QSLM's, in order.
FIXED = ('worst case', 'expected pause', "paper's bound")


class LibvirtRuns:
    """The libvirt testbed's held-out runs that paused, estimated once.

    ``expected``, ``worst``, ``paper``: the libvirt-fitted model's
    pauses (ms); ``measured``: the real end-to-end pause (ms);
    ``configuration``: each run's configuration (its id less the repeat).
    Only runs of the QEMU release *qemu* are judged (the fit's): its
    held-out runs, or with *shipped* every run, estimated with
    :func:`~qslm_nova.testbed.libvirt_runs.shipped_constants` over the
    testbed's facts, its hosts' measured rates per core among them (no
    run taught the constants).
    """

    def __init__(self, paths=None, params_path=PARAMS, qemu=PARAMS_QEMU,
                 shipped=False, loaded_cpu_load=learn.LOADED_CPU_LOAD):
        self.paths = paths or libvirt_runs.default_csvs()
        self.qemu = qemu
        self.shipped = shipped
        self.loaded_cpu_load = loaded_cpu_load
        rows, _goodput = libvirt_runs.read_campaigns(self.paths)
        self.fitted = fit.load(params_path)
        if shipped:
            self.fitted = libvirt_runs.shipped_constants(
                self.fitted, libvirt_runs.host_rates(qemu))
        else:
            rows = [r for r in rows if r['group'] == 'held-out']
        self.rows, ests, idle, self.left_out = libvirt_runs.paused_runs(
            rows, qemu, self.fitted)
        self.idle = np.array([z['downtime_ms'] for z in idle])
        self.expected = np.array([e['downtime_ms'] for e in ests])
        self.worst = np.array([e['worst_downtime_ms'] for e in ests])
        self.race = np.array([e['race_downtime_ms'] for e in ests])
        self.total_s = np.array([e['total_ms'] / 1000.0 for e in ests])
        self.paper = np.array([e['paper_ms'] for e in ests])
        self.measured = np.array([lm.measured_pause(r) for r in self.rows])
        self.load = [lm.load_per_cpu(r) for r in self.rows]
        # Each run's transport as the residual groups name it (with its
        # hosts' load).
        self.transport = [
            residuals.keyed(r['transport'], load, loaded_cpu_load)
            for r, load in zip(self.rows, self.load)]
        self.outcome = [e['outcome'] for e in ests]
        self.configuration = [libvirt_repeats.configuration(r)
                              for r in self.rows]
        self.share = [learn.row_share(r) for r in self.rows]

    def tables(self, others=(), split=True):
        """Per run, the residual table of every other configuration, with
        the largest dirty share of each group's runs; *others*: more
        :class:`LibvirtRuns` (other QEMU releases) to learn from, their
        runs of the same configuration left out too; *split*: False
        keeps every load in one pool.
        """
        out = {}
        for name in set(self.configuration):
            found = learn.Found()
            for runs in (self,) + tuple(others):
                runs.add_to(found, name, split)
            out[name] = residuals.ResidualTable(
                {k: np.array(v) for k, v in found.items()},
                shares=found.share_bounds(),
                loaded_cpu_load=self.loaded_cpu_load if split else None)
        return [out[name] for name in self.configuration]

    def add_to(self, found, left_out, split=True):
        """Add the ratio of every run but configuration *left_out*'s."""
        for j, other in enumerate(self.configuration):
            if other != left_out:
                found.add(self.transport[j] if split else
                          residuals.base_transport(self.transport[j]),
                          self.expected[j],
                          self.measured[j], idle=self.idle[j],
                          outcome=self.outcome[j], share=self.share[j],
                          total_s=self.total_s[j],
                          race=self.race[j])

    def held(self, tables, confidence):
        """The pause qslm@confidence holds for each run (ms)."""
        return np.array([
            frontier.held_pause(
                t, t.keyed(residuals.base_transport(tr), load), e, w,
                confidence, o, s, z, total, r)
            for t, tr, load, e, w, o, s, z, total, r in zip(
                tables, self.transport, self.load, self.expected,
                self.worst, self.outcome, self.share, self.idle,
                self.total_s, self.race)])

    def learnt_margin(self, confidence, others=()):
        """The pause one margin learnt out of sample holds for each run
        (ms): the expected pause times the conformal bound at
        *confidence* of the measured / expected ratios of every other
        configuration's runs (of *others* too, as :meth:`tables`), every
        kind in one pool (past their count, the largest): the informed
        policy without hindsight.
        """
        every = (self,) + tuple(others)
        ratios = np.concatenate([r.measured / r.expected for r in every])
        names = np.concatenate([r.configuration for r in every])
        margin = {name: conformal.ResidualGroup(
            name, np.sort(ratios[names != name])).seen(confidence)
            for name in set(self.configuration)}
        return self.expected * np.array(
            [margin[n] for n in self.configuration])


def _judge(bound, measured, met, limits):
    allowed = np.concatenate([bound <= lim for lim in limits])
    return {'allowed': int(np.sum(allowed)),
            'sla_violations': int(np.sum(allowed & ~met)),
            'of_oracle': float(np.sum(allowed & met)) / max(
                int(np.sum(met)), 1),
            'beyond': float(np.mean(measured > bound))}


def margins(runs):
    """The margins the informed policy picks from: those of
    :data:`bench.frontier.MARGINS`, then on in steps of 0.1 past the
    largest measured / expected pause of *runs*, so that some margin
    picked after the runs holds every one of them (real runs stray
    further than the simulated world's draws).
    """
    top = float(np.max(runs.measured / runs.expected, initial=0.0))
    more = np.arange(frontier.MARGINS[-1] + 0.1, top + 0.1 + 1e-9, 0.1)
    return frontier.MARGINS + tuple(float(m) for m in np.round(more, 2))


def judge(runs, limits, shipped_table=None, others=()):
    """The decisions of every policy on the runs (JSON-ready).

    :param shipped_table: a residual table every run is also judged by
        (``shipped@c``: the shipped file's).
    :param others: :class:`LibvirtRuns` of other releases the bounds
        also learn from (the shipped file's runs are every release's).
    """
    met = np.concatenate([runs.measured <= lim for lim in limits])
    out = {'qemu': runs.qemu, 'shipped': runs.shipped,
           'runs': len(runs.rows), 'left_out': runs.left_out,
           'configurations': len(set(runs.configuration)),
           'campaigns': [os.path.basename(p) for p in runs.paths],
           'limits': list(limits), 'oracle': int(np.sum(met)),
           'fixed': {}, 'qslm': [], 'informed': []}
    for name, bound in zip(FIXED, (runs.worst, runs.expected, runs.paper)):
        out['fixed'][name] = _judge(bound, runs.measured, met, limits)
    for m in margins(runs):
        point = _judge(runs.expected * m, runs.measured, met, limits)
        point['margin'] = m
        out['informed'].append(point)
    out['learnt'] = []
    for c in frontier.CONFIDENCES:
        point = _judge(runs.learnt_margin(c, others), runs.measured, met,
                       limits)
        point['confidence'] = c
        out['learnt'].append(point)
    judged = [('qslm', runs.tables(others))]
    if runs.loaded_cpu_load is not None:
        # The same with every load in one pool: what the split buys.
        out['one_pool'] = []
        judged.append(('one_pool', runs.tables(others, split=False)))
    if shipped_table is not None:
        out['shipped_file'] = []
        judged.append(('shipped_file', [shipped_table] * len(runs.rows)))
    for key, tables in judged:
        for c in frontier.CONFIDENCES:
            point = _judge(runs.held(tables, c), runs.measured, met, limits)
            best = [p['of_oracle'] for p in out['informed']
                    if p['sla_violations'] <= point['sla_violations']]
            point.update(confidence=c, informed_of_oracle=max(best))
            out[key].append(point)
    return out


#: (key of a policy's points in a judged section, its name).
STEP_POLICIES = (('qslm', 'qslm'), ('shipped_file', 'shipped'),
                 ('learnt', 'learnt margin'))


def step_frontier(points, informed, counts=frontier.COUNTS):
    """{count: informed's best share minus the policy's (points), None
    when no confidence of it has so few violations} at no more than
    each count of violations: the policy's best over its confidences
    against the margin picked after the runs.
    """
    gaps = frontier.step_gaps(points, informed, 'sla_violations', counts)
    fewest = min((p['sla_violations'] for p in points), default=math.inf)
    return {cap: gap if cap >= fewest else None
            for cap, gap in gaps.items()}


def _step_lines(res):
    lines = []
    for key, name in STEP_POLICIES:
        if res.get(key):
            gaps = step_frontier(res[key], res['informed'])
            lines.append(
                '  step frontier by violations counted, %s (the margin '
                'picked after the runs minus its best over the confidences '
                'at no more, points; none: no confidence has so few): %s' % (
                    name, ', '.join(
                        '%d: %s' % (v, 'none' if g is None else '%+.1f' % g)
                        for v, g in sorted(gaps.items()))))
    return lines


def format_judged(res):
    if res.get('shipped'):
        head = ('What ships (the default constants and built-in '
                'mechanisms), judged by every Nova-driven libvirt '
                'migration, QEMU %s: %d runs that paused')
        bound = ('qslm@c: the expected pause (the default constants) times '
                 'the conformal bound of the other configurations\' runs; '
                 'shipped@c: times the shipped residuals file\'s bound')
    else:
        head = ('Judged by Nova-driven libvirt migrations of unseen '
                'configurations, QEMU %s: %d held-out runs that paused')
        bound = ('qslm@c: the expected pause (that release\'s fit) times '
                 'the conformal bound of the other configurations\' runs')
    lines = [
        head % (res['qemu'], res['runs']) +
        ' (%d configurations; %d left out: no pause expected or measured) x '
        '%d limits '
        '(%s ms) = %d requests, one destination each; the real pause met '
        'the limit in %d. %s' % (
            res['configurations'], res['left_out'],
            len(res['limits']), ', '.join(map(str, res['limits'])),
            res['runs'] * len(res['limits']), res['oracle'], bound),
        '  %-16s %7s %5s %9s %8s %8s %7s %9s %7s' % (
            'policy', 'allowed', 'viol', 'realised', 'nominal', '/oracle',
            'beyond', 'informed', 'gap pp')]
    for name in bench.in_order(res['fixed'], FIXED):
        p = res['fixed'][name]
        lines.append('  %-16s %7d %5d %8.2f%% %8s %7.1f%% %6.2f%%' % (
            name, p['allowed'], p['sla_violations'],
            100.0 * p['sla_violations'] / max(p['allowed'], 1), '-',
            100 * p['of_oracle'], 100 * p['beyond']))
    if 'one_pool' in res:
        bound += ('; one-pool@c: as qslm@c with the runs of every host '
                  'load in one pool')
    named = ([('qslm', p) for p in res['qslm']] +
             [('one-pool', p) for p in res.get('one_pool', [])] +
             [('shipped', p) for p in res.get('shipped_file', [])])
    for name, p in named:
        lines.append(
            '  %-16s %7d %5d %8.2f%% %7.2f%% %7.1f%% %6.2f%% %8.1f%% '
            '%7.1f' % (
                '%s@%g' % (name, p['confidence']), p['allowed'],
                p['sla_violations'],
                100.0 * p['sla_violations'] / max(p['allowed'], 1),
                100 * (1 - p['confidence']), 100 * p['of_oracle'],
                100 * p['beyond'], 100 * p['informed_of_oracle'],
                100 * (p['informed_of_oracle'] - p['of_oracle'])))
    lines.append('  informed (the expected pause times a margin picked '
                 'after the run), best share of the oracle per violation '
                 'count (margin): ' + frontier.format_best(
                     frontier.informed_best(res['informed'])))
    lines.extend(_step_lines(res))
    if 'learnt' in res:
        lines.append(
            '  learnt margin (the expected pause times one margin for every '
            'run, the conformal bound at c of the other configurations\' '
            'ratios, every kind in one pool: no hindsight), share of the '
            'oracle / violations at c: ' + ', '.join(
                '%g: %.1f%% / %d' % (p['confidence'], 100 * p['of_oracle'],
                                     p['sla_violations'])
                for p in res['learnt']))
    lines.append('  (realised: SLA violations per allowed request; beyond: '
                 'share of the runs whose real pause exceeded the pause '
                 'held, the calibration against the nominal 1 - c)')
    return '\n'.join(lines)
