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

"""The libvirt testbed report: a benchmark that prints numbers.

Reads every libvirt campaign (``data/testbed/libvirt-campaign*.csv``),
fits the model constants on the ``fit`` runs twice, the estimator before
this model (:data:`libvirt_model.BEFORE`) and as it is
(:data:`libvirt_model.AFTER`), then on the ``held-out`` runs, whose
configurations hold values the fit never saw, prints per transport, Nova
limit, guest size, Nova outcome, host load and campaign: the median
absolute percentage error of the pause (end to end) and of the total
time, the worst case's coverage and its median ratio to the measured
pause, beside three references measured in the same run: the nearest
fitted cell's mean, the paper's VMSize/LinkSpeed bound and QEMU's own
``expected-downtime``; the model's error on the ``repeat`` runs (a
configuration run again, :func:`libvirt_plan.repeats`) beside how well a
run is predicted by its configuration's other runs
(:func:`libvirt_repeats.repeat_noise`, the floor under any model); then
the issue's targets.

    python -m qslm_nova.testbed.libvirt_report [--csv PATH ...] [--out FILE]
"""

import argparse
import collections
import math
import sys

import numpy as np

from qslm_nova.testbed import fit
from qslm_nova.testbed import libvirt_bounds
from qslm_nova.testbed import libvirt_facts
from qslm_nova.testbed import libvirt_loadinput
from qslm_nova.testbed import libvirt_model as lm
from qslm_nova.testbed import libvirt_plan
from qslm_nova.testbed import libvirt_repeats
from qslm_nova.testbed import libvirt_runs

TARGETS = {'downtime_ape_median': 10.0, 'total_ape_median': 5.0,
           'worst_coverage': 0.99, 'worst_ratio_median': 1.5,
           'runs_per_outcome': 10}
FEATURES = ('memory_mib', 'dirty_rate_mibps', 'bandwidth_mbps',
            'nova_downtime_ms', 'parallel', 'hogs')


def _cell(row):
    return (row['label'], row['transport'], row['workload']) + tuple(
        lm.num(row, k) for k in FEATURES)


def nearest_cell_means(train, rows):
    """Per row: mean pause and total of the nearest fitted cell.

    The per-cell-mean baseline for configurations no fitted cell has:
    same label, transport and workload kind where possible, nearest in
    log memory, dirty rate, log bandwidth, limit, connections and hogs.
    """
    cells = collections.defaultdict(list)
    for r in train:
        cells[_cell(r)].append(r)

    def vec(key):
        mem, dirty, bw, lim, par, hogs = key[3:]
        return np.array([math.log2(mem), dirty / 16.0, math.log2(bw),
                         lim / 100.0, par, hogs])
    keys = list(cells)
    out = []
    for row in rows:
        key = _cell(row)
        same = [k for k in keys if k[:3] == key[:3]] or [
            k for k in keys if k[0] == key[0]] or keys
        best = min(same, key=lambda k: float(np.sum((vec(k) - vec(key))
                                                    ** 2)))
        members = cells[best]
        out.append((float(np.mean([lm.measured_pause(r) for r in members])),
                    float(np.mean([lm.measured_total(r) for r in members]))))
    return out


def stats(rows, ests, baseline):
    if not rows:
        return None
    paused = [i for i, r in enumerate(rows)
              if r['outcome'] in lm.PAUSED_OUTCOMES]
    meas_dt = np.array([lm.measured_pause(rows[i]) for i in paused])
    meas_tt = np.array([lm.measured_total(r) for r in rows])
    est_dt = np.array([ests[i]['downtime_ms'] for i in paused])
    dt = fit.ape(est_dt, meas_dt, 1.0)
    tt = fit.ape([e['total_ms'] for e in ests], meas_tt, 1.0)
    worst = np.array([ests[i]['worst_downtime_ms'] for i in paused])
    paper = np.array([ests[i]['paper_ms'] for i in paused])
    base_dt = fit.ape([baseline[i][0] for i in paused], meas_dt, 1.0)
    base_tt = fit.ape([b[1] for b in baseline], meas_tt, 1.0)
    qemu = [(lm.num(rows[i], 'expected_downtime_ms'), m)
            for i, m in zip(paused, meas_dt)
            if rows[i].get('expected_downtime_ms') not in ('', None)]
    med = (lambda a: float(np.median(a)) if len(a) else float('nan'))
    return {
        'runs': len(rows), 'paused': len(paused),
        'dt': med(dt), 'tt': med(tt),
        # Which way the pause errs: median measured / expected.
        'bias': med(meas_dt / np.maximum(est_dt, 1.0)),
        'covered': float(np.mean(meas_dt <= worst)) if len(paused) else
        float('nan'),
        'worst_ratio': med(worst / np.maximum(meas_dt, 1.0)),
        'base_dt': med(base_dt), 'base_tt': med(base_tt),
        'paper_covered': float(np.mean(meas_dt <= paper)) if len(paused)
        else float('nan'),
        'paper_ratio': med(paper / np.maximum(meas_dt, 1.0)),
        'qemu_dt': med(fit.ape([q for q, _ in qemu], [m for _, m in qemu],
                               1.0)) if qemu else float('nan'),
        'outcome_ok': float(np.mean([e['outcome'] == r['outcome']
                                     for r, e in zip(rows, ests)])),
    }


def unseen_values(row):
    """The dimensions on which *row* takes a value the fit never saw
    (:data:`libvirt_plan.HELD_OUT`, the hot held-out guest included).
    """
    held = libvirt_plan.HELD_OUT
    works = {(w[0], w[1]) for w in held['workload']} | {
        libvirt_plan.HOT_WORKLOAD['held-out'][:2]}
    rate = lm.num(row, 'burst_rate_mibps') if row.get('workload') == \
        'bursty' else lm.num(row, 'dirty_rate_mibps')
    checks = {
        'memory': lm.num(row, 'memory_mib') in held['memory_mib'],
        'workload': (row.get('workload'), rate) in works,
        'bandwidth': lm.num(row, 'bandwidth_mbps') in held['bandwidth_mbps'],
        'limit': lm.num(row, 'nova_downtime_ms') in held['downtime_ms'],
        'transport': (row.get('transport'), int(lm.num(row, 'parallel', 1)))
        in held['transport'],
        'hogs': lm.num(row, 'hogs') in held['hogs'],
    }
    return sorted(k for k, v in checks.items() if v)


def _load_band(row):
    load = lm.load_per_cpu(row)
    for hi in (2, 4, 8, 16):
        if load < hi:
            return '<%d' % hi
    return '>=16'


def scopes(items):
    """(scope name, items) for every scope; items are (row, ...) tuples."""
    yield 'overall', items
    for name, key in (('transport', lambda r: '%s-p%s' % (
            r['transport'], r['parallel'])),
            ('limit', lambda r: r['nova_downtime_ms']),
            ('memory', lambda r: r['memory_mib']),
            ('outcome', lambda r: r['outcome']),
            ('label', lambda r: r['label']),
            ('load/cpu', _load_band),
            ('hogs', lambda r: r['hogs']),
            ('workload', lambda r: r['workload']),
            ('campaign', lambda r: r['campaign'].replace('libvirt-', '')),
            ('qemu', lambda r: r.get('qemu', '?')),
            ('unseen dims', lambda r: '%d of 6' % len(unseen_values(r)))):
        for value in sorted({key(x[0]) for x in items}):
            yield '%s=%s' % (name, value), [x for x in items
                                            if key(x[0]) == value]


HEAD = ('%-22s %4s %4s %7s %5s %7s %6s %6s %7s %7s %6s %7s %7s %6s'
        % ('scope', 'runs', 'pau', 'dt%', 'm/e', 'tt%', 'cov', 'wc/m',
           'cell-dt', 'cell-tt', 'paper', 'pap/m', 'qemu-dt', 'outc'))


def _line(scope, s):
    def f(v, pct=False):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return '-'
        return '%.0f%%' % (v * 100) if pct else '%.1f' % v
    return '%-22s %4d %4d %7s %5s %7s %6s %6s %7s %7s %6s %7s %7s %6s' % (
        scope[:22], s['runs'], s['paused'], f(s['dt']),
        '-' if math.isnan(s['bias']) else '%.2f' % s['bias'], f(s['tt']),
        f(s['covered'], True), f(s['worst_ratio']), f(s['base_dt']),
        f(s['base_tt']), f(s['paper_covered'], True), f(s['paper_ratio']),
        f(s['qemu_dt']), f(s['outcome_ok'], True))


def _describe(fitted):
    p = fitted.params
    return ('   setup_ms=%.0f (x (1 + load)) hand-off_ms=%.0f '
            'device_state_mb=%.2f stop_share=%.2f migration_gbps_per_core='
            '%.2f tls_gbps_per_core=%s postcopy_rate_share=%.2f worst: bw '
            'x%.2f share %.2f +%.0f ms, Nova %.0f s late, post-copy '
            'buffers x%.1f' % (
                p.setup_ms, p.fixed_pause_ms,
                p.device_state_mb, p.stop_share, p.migration_gbps_per_core,
                '%.2f' % fitted.crypto_gbps_per_core.get('tls', math.inf),
                p.postcopy_rate_share,
                p.worst_bandwidth_factor, p.worst_stop_share,
                p.worst_extra_ms, p.monitor_delay_s,
                p.worst_postcopy_buffer_factor))


def evaluate(rows, goodput, variant, out):
    """Fit *variant* on the fit runs; print its tables; return the fit
    and the summary by scope.
    """
    ok = [r for r in rows if lm.unusable(r) is None]
    train = [r for r in ok if r['group'] == 'fit']
    held = [r for r in ok if r['group'] == 'held-out']
    repeated = [r for r in ok if r['group'] == 'repeat']
    fitted = lm.fit_rows(train, goodput, variant)
    out.append('')
    out.append('== model %s; fitted on %d runs (objective %.1f, worst case '
               'covers %.0f%% of them)' % (
                   variant.name, len(train), fitted.objective,
                   fitted.fit_worst_coverage * 100))
    out.append(_describe(fitted))
    summary = {}
    for name, subset in (('held-out', held), ('fit', train),
                         ('repeat', repeated)):
        if not subset:
            continue
        ests = lm.estimate_rows(subset, fitted, variant)
        base = nearest_cell_means(train, subset)
        out.append('-- %s runs' % name)
        out.append(HEAD)
        for scope, part in scopes(list(zip(subset, ests, base))):
            s = stats([x[0] for x in part], [x[1] for x in part],
                      [x[2] for x in part])
            if s is None or (name == 'fit' and scope != 'overall') or (
                    name == 'repeat' and scope != 'overall' and
                    not scope.startswith('label=')):
                continue
            out.append(_line(scope, s))
            summary['%s/%s' % (name, scope)] = s
    return fitted, summary


def targets(summaries, rows, noise, out):
    """The issue's targets on held-out configurations, before and after,
    with what the repeated configurations show where there are some.

    :param noise: :func:`libvirt_repeats.repeat_noise` of the rows.
    """
    out.append('targets on held-out configurations (before -> after, '
               'target, met after; repeats: a run predicted by its '
               'configuration\'s other runs, on the repeated ones; mean '
               'known: by its configuration\'s true mean, for the worst '
               'case a bound covering 99 % of them):')
    noise = noise or {}
    checks = (('pause median error %', 'dt', '<=', 10.0),
              ('total time median error %', 'tt', '<=', 5.0),
              ('worst case covers', 'covered', '>=', 0.99),
              ('median worst/measured', 'worst_ratio', '<=', 1.5))
    before, after = (s.get('held-out/overall') or {} for s in summaries)
    for label, key, op, target in checks:
        value = after.get(key, float('nan'))
        met = not math.isnan(value) and (
            value <= target if op == '<=' else value >= target)
        floor = noise.get({'worst_ratio': 'spread'}.get(key, key))
        known = noise.get({'dt': 'dt_known', 'tt': 'tt_known',
                           'worst_ratio': 'ratio99'}.get(key, ''))
        out.append('  %-28s %8.3f -> %8.3f %s %-6g %-3s%s%s' % (
            label, before.get(key, float('nan')), value, op, target,
            'yes' if met else 'NO', '' if floor is None else
            '  repeats %.3f' % floor, '' if known is None else
            ', mean known %.3f' % known))
    ok = [r for r in rows if lm.unusable(r) is None]
    labels = collections.Counter(r['label'] for r in ok)
    held = collections.Counter(r['label'] for r in ok
                               if r['group'] == 'held-out')
    mixed = libvirt_repeats.mixed_floor(rows, collections.Counter(
        r['label'] for r in ok if r['group'] == 'held-out' and
        r['outcome'] in lm.PAUSED_OUTCOMES))
    if mixed is not None:
        out.append('  pause floor on the held-out runs\' mix of outcomes '
                   '(each label\'s repeats, mean known): %.2f %%' % mixed)
    for label in sorted(labels):
        s = summaries[1].get('held-out/label=%s' % label) or {}
        floor = libvirt_repeats.repeat_noise(
            [r for r in rows if r['label'] == label])
        out.append('  label %-14s %3d real runs (%d held out; >= 10 %s): '
                   'held-out pause %s %%, total %s %%, covered %s, '
                   'worst/measured %s%s' % (
                       label, labels[label], held[label],
                       'yes' if labels[label] >= 10 else 'NO',
                       _fmt(s.get('dt')), _fmt(s.get('tt')),
                       _fmt(s.get('covered')), _fmt(s.get('worst_ratio')),
                       libvirt_repeats.format_floor(floor)))


def _fmt(v):
    return '-' if v is None or (isinstance(v, float) and math.isnan(v)) \
        else '%.2f' % v


def _args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--csv', action='append',
                        help='a campaign CSV (repeat; default: every '
                             'libvirt-campaign*.csv in data/testbed)')
    parser.add_argument('--out', help='also write the report here')
    parser.add_argument('--save-fit', help='write the fit (JSON)')
    parser.add_argument('--qemu', metavar='RELEASE',
                        help='only the runs of this QEMU release (as the '
                             'campaigns\' environment files name it, e.g. '
                             '10.0.2): facts, fit, tables and targets; '
                             'default: every run')
    parser.add_argument('--without', action='append', default=[],
                        metavar='CAMPAIGN',
                        help='leave this campaign\'s runs out (its CSV '
                             'name without .csv, e.g. libvirt-campaign-23; '
                             'repeat)')
    parser.add_argument('--settled-fit', action='store_true',
                        help='fit only on the fitting runs of campaigns '
                             'made in blocks of one hog count after their '
                             'load settled (libvirt-campaign --settle-s); '
                             'the other fitting runs are left out')
    return parser.parse_args(argv)


def main(argv=None):
    args = _args(argv)
    paths = args.csv or libvirt_runs.default_csvs()
    every, goodput = libvirt_runs.read_campaigns(paths)
    unknown = set(args.without) - {r['campaign'] for r in every}
    if unknown:
        print('error: --without %s: no such campaign among %s' % (
            ', '.join(sorted(unknown)), ', '.join(sorted(
                {r['campaign'] for r in every}))), file=sys.stderr)
        return 2
    every = [r for r in every if r['campaign'] not in args.without]
    rows = every
    if args.qemu:
        rows = [r for r in every if r['qemu'] == args.qemu]
        if not rows:
            print('error: no runs of QEMU %s; the campaigns hold QEMU %s'
                  % (args.qemu, ', '.join(sorted({r['qemu'] for r in
                                                  every}))),
                  file=sys.stderr)
            return 2
    moved = libvirt_runs.settled_fit(rows) if args.settled_fit else 0
    ok = [r for r in rows if lm.unusable(r) is None]
    out = ['libvirt testbed: %d runs (%d usable: %d fit, %d held-out), '
           'Nova 34 monitor, QEMU %s, libvirt from %s' % (
               len(rows), len(ok), sum(r['group'] == 'fit' for r in ok),
               sum(r['group'] == 'held-out' for r in ok),
               ', '.join(sorted({r['qemu'] for r in rows})),
               ', '.join(sorted({r['campaign'] + '.csv' for r in rows})))]
    if args.settled_fit:
        out.append('fit on settled runs only (--settled-fit): %d fitting '
                   'runs of campaigns not held still left out' % moved)
    libvirt_facts.report(rows, out, every)
    noise = libvirt_repeats.repeat_noise(rows)
    out.append(libvirt_repeats.format_noise(noise))
    out.append('columns: dt%/tt% median abs. % error of pause (end to end) '
               '/ total time; m/e: median measured / expected pause; '
               'cov: pause <= worst case; wc/m: median '
               'worst/measured; cell-dt/tt: nearest fitted cell mean; '
               'paper: VMSize/LinkSpeed covers, pap/m its ratio; qemu-dt: '
               'QEMU expected-downtime error; outc: outcome predicted')
    summaries = []
    for variant in (lm.BEFORE, lm.AFTER):
        fitted, summary = evaluate(rows, goodput, variant, out)
        summaries.append(summary)
    targets(summaries, rows, noise, out)
    fit_rows = [r for r in ok if r['group'] == 'fit']
    held = [r for r in ok if r['group'] == 'held-out']
    libvirt_bounds.report(fit_rows, held, fitted, out)
    libvirt_loadinput.report((('held-out', held), ('fit', fit_rows)),
                             fitted, out)
    if args.save_fit:
        fit.save(fitted, args.save_fit)
    text = '\n'.join(out)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
