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

Fits the model constants on the campaign's ``fit`` runs (the estimator as
it is, and with the :class:`libvirt_model.Prototype` changes), then on
the ``held-out`` runs, whose configurations hold values the fit never
saw, prints per transport, Nova limit, guest size, Nova outcome and host
load: the median absolute percentage error of the pause (end to end) and
of the total time, the worst case's coverage and its median ratio to the
measured pause, beside three references measured in the same run: the
nearest fitted cell's mean, the paper's VMSize/LinkSpeed bound and QEMU's
own ``expected-downtime``; then the issue's targets.

    python -m qslm_nova.testbed.libvirt_report [--csv PATH] [--out FILE]
"""

import argparse
import collections
import json
import math
import os
import sys

import numpy as np

from qslm_nova.testbed import campaign as raw_campaign
from qslm_nova.testbed import fit
from qslm_nova.testbed import libvirt_campaign
from qslm_nova.testbed import libvirt_model as lm

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
    dt = fit.ape([ests[i]['downtime_ms'] for i in paused], meas_dt, 1.0)
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


def scopes(items):
    """(scope name, items) for every scope; items are (row, ...) tuples."""
    yield 'overall', items
    for name, key in (('transport', lambda r: '%s-p%s' % (
            r['transport'], r['parallel'])),
            ('limit', lambda r: r['nova_downtime_ms']),
            ('memory', lambda r: r['memory_mib']),
            ('outcome', lambda r: r['outcome']),
            ('label', lambda r: r['label']),
            ('hogs', lambda r: r['hogs']),
            ('workload', lambda r: r['workload'])):
        for value in sorted({key(x[0]) for x in items}):
            yield '%s=%s' % (name, value), [x for x in items
                                            if key(x[0]) == value]


HEAD = ('%-22s %4s %4s %7s %7s %6s %6s %7s %7s %6s %7s %7s %6s'
        % ('scope', 'runs', 'pau', 'dt%', 'tt%', 'cov', 'wc/m', 'cell-dt',
           'cell-tt', 'paper', 'pap/m', 'qemu-dt', 'outc'))


def _line(scope, s):
    def f(v, pct=False):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return '-'
        return '%.0f%%' % (v * 100) if pct else '%.1f' % v
    return '%-22s %4d %4d %7s %7s %6s %6s %7s %7s %6s %7s %7s %6s' % (
        scope[:22], s['runs'], s['paused'], f(s['dt']), f(s['tt']),
        f(s['covered'], True), f(s['worst_ratio']), f(s['base_dt']),
        f(s['base_tt']), f(s['paper_covered'], True), f(s['paper_ratio']),
        f(s['qemu_dt']), f(s['outcome_ok'], True))


def evaluate(rows, goodput, prototype, out):
    ok = [r for r in rows if r.get('status') == 'ok']
    train = [r for r in ok if r['group'] == 'fit']
    held = [r for r in ok if r['group'] == 'held-out']
    fitted = lm.fit_rows(train, goodput, prototype)
    out.append('')
    out.append('== model: %s; fitted on %d runs (objective %.1f, worst '
               'case covers %.0f%% of them)' % (
                   prototype.name(), len(train), fitted.objective,
                   fitted.fit_worst_coverage * 100))
    p = fitted.params
    out.append('   setup_ms=%.0f fixed_down_ms=%.0f device_state_mb=%.2f '
               'stop_share=%.2f caps(Gbit/s/core)=%s handoff_ms=%.0f '
               'worst: bw x%.2f share %.2f +%.0f ms' % (
                   p.setup_ms, p.confirmation_ms + p.activation_ms,
                   p.device_state_mb, p.stop_share,
                   {k: round(v, 2) for k, v in
                    fitted.crypto_gbps_per_core.items()},
                   fitted.handoff_ms, p.worst_bandwidth_factor,
                   p.worst_stop_share, p.worst_extra_ms))
    summary = {}
    for name, subset in (('held-out', held), ('fit', train)):
        ests = lm.estimate_rows(subset, fitted, prototype)
        base = nearest_cell_means(train, subset)
        out.append('-- %s runs' % name)
        out.append(HEAD)
        for scope, part in scopes(list(zip(subset, ests, base))):
            s = stats([x[0] for x in part], [x[1] for x in part],
                      [x[2] for x in part])
            if s is None:
                continue
            if name == 'fit' and scope != 'overall':
                continue
            out.append(_line(scope, s))
            summary['%s/%s' % (name, scope)] = s
    return fitted, summary


def targets(summary, rows, out):
    held = summary.get('held-out/overall') or {}
    ok = [r for r in rows if r.get('status') == 'ok']
    per_outcome = collections.Counter(r['label'] for r in ok)
    out.append('targets on held-out configurations (value, target, met):')
    checks = [
        ('pause median error %', held.get('dt'), '<=', 10.0),
        ('total time median error %', held.get('tt'), '<=', 5.0),
        ('worst case covers', held.get('covered'), '>=', 0.99),
        ('median worst/measured', held.get('worst_ratio'), '<=', 1.5),
    ]
    for label, value, op, target in checks:
        met = value is not None and not math.isnan(value) and (
            value <= target if op == '<=' else value >= target)
        out.append('  %-28s %8.3f %s %-6g %s' % (
            label, float('nan') if value is None else value, op, target,
            'yes' if met else 'NO'))
    for label, n in sorted(per_outcome.items()):
        out.append('  runs labelled %-14s %4d >= 10 %s'
                   % (label, n, 'yes' if n >= 10 else 'NO'))


def facts(rows, out):
    """What the runs show about Nova, libvirt and the host."""
    ok = [r for r in rows if r.get('status') == 'ok']
    num = lm.num

    def med(xs):
        xs = [x for x in xs if x is not None]
        return (float(np.median(xs)), float(np.percentile(xs, 95)),
                len(xs)) if xs else (float('nan'),) * 2 + (0,)
    calls = [num(r, 'first_downtime_call_s') for r in ok
             if r.get('first_downtime_call_s') not in ('', None)]
    late = [r for r in rows if r.get('downtime_set_failures')]
    default = [r for r in ok if r.get('limit_at_stop_ms') == '300' and
               json.loads(r.get('steps') or '[[0, 300]]')[0][1] != 300]
    stuck = [r for r in rows if r.get('outcome') == 'testbed-timeout']
    out.append('facts measured in these runs (median, p95, n):')
    out.append('  Nova calls migrateSetMaxDowntime first at %.2f s / %.2f s '
               '(n=%d); it failed after the job ended in %d runs; QEMU '
               'stopped the guest under its default 300 ms instead of '
               "Nova's step in %d runs; Nova's monitor stayed blocked in "
               'that call until the testbed aborted the job (no timeout '
               'action) in %d runs (%s)' % (
                   med(calls) + (len(late), len(default), len(stuck),
                                 dict(collections.Counter(
                                     r['label'] for r in stuck)))))
    by_label = collections.defaultdict(collections.Counter)
    for r in rows:
        by_label[r['label']][r.get('outcome') or r.get('status')] += 1
    out.append('  outcomes per label: %s' % '; '.join(
        '%s %s' % (k, dict(v)) for k, v in sorted(by_label.items())))
    done = [r for r in ok if r['outcome'] == 'completed' and
            r.get('qemu_start_s') not in ('', None)]
    series = {
        'prepare s': [(lm.load_per_cpu(r), num(r, 'qemu_start_s'))
                      for r in ok if r.get('qemu_start_s') not in ('',
                                                                   None)],
        'pause - limit ms': [(lm.load_per_cpu(r), lm.measured_pause(r) -
                              num(r, 'limit_at_stop_ms', 300))
                             for r in done],
        'pre-copy Mbit/s': [(lm.load_per_cpu(r), num(
            r, 'memory_processed') * 8e-6 / max(
                num(r, 'resume_at_ms') / 1000.0 -
                num(r, 'qemu_start_s'), 0.1)) for r in done
            if r['parallel'] == '1' and r['transport'] == 'tcp'],
    }
    for label, pts in series.items():
        if len(pts) >= 3:
            x, y = np.array(pts).T
            slope, icpt = np.polyfit(x, y, 1)
            r2 = float(np.corrcoef(x, y)[0, 1] ** 2)
            out.append('  %-17s = %.3g + %.3g x load-per-CPU (R^2 %.2f, '
                       'n=%d, load-per-CPU %.1f-%.1f)' % (
                           label, icpt, slope, r2, len(pts), x.min(),
                           x.max()))
    for key, label in (('qemu_start_s', 'libvirt prepare before QEMU '
                        'migrates (s)'),
                       ('handoff_ms', 'libvirt finish/confirm after the '
                        'job (ms)')):
        m = med([num(r, key) for r in ok if r.get(key) not in ('', None)])
        out.append('  %-44s %.2f / %.2f (n=%d)' % ((label,) + m))
    for lo, hi in ((0, 4), (4, 8), (8, 16), (16, 99)):
        part = [r for r in ok if lo <= num(r, 'load1_start') < hi]
        if part:
            out.append('  load %2d-%-2d: %3d runs, prepare %.2f s, '
                       'pause/limit %.2f, steal %.3f' % (
                           lo, hi, len(part),
                           med([num(r, 'qemu_start_s') for r in part])[0],
                           med([lm.measured_pause(r) /
                                max(num(r, 'limit_at_stop_ms', 300), 1)
                                for r in part
                                if r['outcome'] == 'completed'] or
                               [float('nan')])[0],
                           med([num(r, 'cpu_steal') for r in part])[0]))
    rates = collections.defaultdict(list)
    for r in ok:
        span = num(r, 'resume_at_ms') / 1000.0 - num(r, 'qemu_start_s')
        if r['outcome'] == 'completed' and span > 0 and r.get(
                'memory_processed'):
            rates['%s-p%s' % (r['transport'], r['parallel'])].append(
                num(r, 'memory_processed') * 8 / span / 1e6 /
                min(num(r, 'bandwidth_mbps'), 1e9))
    out.append('  pre-copy rate / link, median (n), by transport and '
               'connections: %s' % ', '.join(
                   '%s %.2f (%d)' % (k, float(np.median(v)), len(v))
                   for k, v in sorted(rates.items())))
    alive = collections.Counter(r.get('guest_alive_on_dest') for r in ok
                                if r['outcome'] in lm.PAUSED_OUTCOMES)
    out.append('  guest alive on the destination: %s' % dict(alive))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--csv', default=os.path.join(
        raw_campaign.DATA_DIR, libvirt_campaign.CSV_NAME))
    parser.add_argument('--out', help='also write the report here')
    parser.add_argument('--save-fit', help='write the prototype fit (JSON)')
    args = parser.parse_args(argv)
    rows = raw_campaign.read_rows(args.csv)
    env_path = os.path.splitext(args.csv)[0] + '-environment.json'
    with open(env_path) as f:
        goodput = json.load(f)['link_goodput_mbps']
    ok = [r for r in rows if r.get('status') == 'ok']
    out = ['libvirt testbed: %d runs (%d ok: %d fit, %d held-out), '
           'Nova 34 monitor, libvirt %s' % (
               len(rows), len(ok), sum(r['group'] == 'fit' for r in ok),
               sum(r['group'] == 'held-out' for r in ok),
               'from ' + os.path.basename(args.csv))]
    facts(rows, out)
    out.append('columns: dt%/tt% median abs. % error of pause (end to end) '
               '/ total time; cov: pause <= worst case; wc/m: median '
               'worst/measured; cell-dt/tt: nearest fitted cell mean; '
               'paper: VMSize/LinkSpeed covers, pap/m its ratio; qemu-dt: '
               'QEMU expected-downtime error; outc: outcome predicted')
    summary = {}
    for proto in (lm.Prototype(), lm.Prototype.all()):
        fitted, summary = evaluate(rows, goodput, proto, out)
    targets(summary, rows, out)
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
