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

"""Hold the estimator to the testbed's measurements.

Per transport and overall, on the held-out runs (and for reference on the
fitting runs): median and 95th-percentile absolute percentage error of
expected downtime and total time, the share of runs whose measured
downtime stayed at or under the estimator's worst case, and how much
larger the paper's bound (VMSize / LinkSpeed + confirmation +
activation) is than that worst case.
"""

import numpy as np

from qslm_nova.testbed import fit
from qslm_nova.testbed import model


def _stats(rows, fitted):
    if not rows:
        return {'runs': 0}
    ests, dt, tt = fit.errors(rows, fitted)
    meas_dt = np.array([model.measured_downtime(r, fitted.downtime_source)
                        for r in rows])
    worst = np.array([e['worst_downtime_ms'] for e in ests])
    paper = np.array([e['paper_ms'] for e in ests])
    finite = np.isfinite(worst)
    # Runs whose worst case never converges have no finite bound to
    # compare; they count as covered but not in the tightness ratio.
    ratio = paper[finite] / np.maximum(worst[finite], 1e-9)
    if not ratio.size:
        ratio = np.array([float('nan')])
    covered = meas_dt <= worst
    return {
        'runs': len(rows),
        'downtime_ape_median': round(float(np.median(dt)), 2),
        'downtime_ape_p95': round(float(np.percentile(dt, 95)), 2),
        'total_ape_median': round(float(np.median(tt)), 2),
        'total_ape_p95': round(float(np.percentile(tt, 95)), 2),
        'total_ape_max': round(float(np.max(tt)), 2),
        'worst_case_coverage': round(float(np.mean(covered)), 4),
        'uncovered_runs': [r['run_id'] for r, c in zip(rows, covered)
                           if not c],
        'paper_over_worst_median': round(float(np.median(ratio)), 2),
        'paper_over_worst_min': round(float(np.min(ratio)), 2),
        'worst_case_unbounded_runs': int(np.sum(~finite)),
        'max_downtime_over_worst': round(float(np.max(
            meas_dt / np.maximum(worst, 1e-9))), 3),
        'estimated_not_completed': int(sum(
            1 for e in ests if e['outcome'] != 'completed')),
        'paper_covers_share': round(float(np.mean(meas_dt <= paper)), 4),
        'measured_downtime_ms_median': round(float(np.median(meas_dt)),
                                             1),
        'estimated_downtime_ms_median': round(float(np.median(
            [e['downtime_ms'] for e in ests])), 1),
        'worst_downtime_ms_median': round(float(np.median(worst)), 1),
    }


def evaluate(rows, fitted, holdout_repeat=fit.HOLDOUT_REPEAT):
    fit_rows, check_rows = fit.split(rows, holdout_repeat)
    summary = {'runs_total': len(rows),
               'downtime_source': fitted.downtime_source,
               'runs_completed': len(fit_rows) + len(check_rows),
               'holdout_repeat': holdout_repeat,
               'sets': {}}
    for name, subset in (('held-out', check_rows), ('fitting', fit_rows),
                         ('all', fit_rows + check_rows)):
        per = {'overall': _stats(subset, fitted)}
        for t in sorted({r['transport'] for r in subset}):
            per[t] = _stats([r for r in subset if r['transport'] == t],
                            fitted)
        # Where the model is off: by downtime limit, link and dirty rate.
        for col, label in (('downtime_limit_ms', 'limit'),
                           ('bandwidth_mbps', 'link'),
                           ('dirty_rate_mibps', 'dirty')):
            for v in sorted({model.num(r, col) for r in subset}):
                per['%s=%g' % (label, v)] = _stats(
                    [r for r in subset if model.num(r, col) == v], fitted)
        summary['sets'][name] = per
    return summary


def format_summary(summary):
    lines = ['%d runs, %d completed; repeats from %d held out for checking; '
             'downtime measured %s'
             % (summary['runs_total'], summary['runs_completed'],
                summary['holdout_repeat'],
                'end to end (source STOP to destination RESUME)'
                if summary['downtime_source'] == 'e2e'
                else 'by QEMU (query-migrate downtime)')]
    head = ('%-9s %-10s %5s %9s %9s %9s %9s %8s %6s %8s %8s'
            % ('set', 'scope', 'runs', 'dt-med%', 'dt-p95%', 'tt-med%',
               'tt-p95%', 'covered', 'unbnd', 'paper/wc', 'paper-ok'))
    lines += [head, '-' * len(head)]
    for name in ('held-out', 'fitting', 'all'):
        per = summary['sets'].get(name, {})
        scopes = ['overall'] + sorted(k for k in per
                                      if k != 'overall' and '=' not in k)
        if name == 'held-out':
            scopes += [k for k in per if '=' in k]
        for scope in scopes:
            s = per[scope]
            if not s.get('runs'):
                continue
            lines.append(
                '%-9s %-10s %5d %9.1f %9.1f %9.1f %9.1f %7.1f%% %6d %8.2f '
                '%7.1f%%' % (
                    name, scope, s['runs'], s['downtime_ape_median'],
                    s['downtime_ape_p95'], s['total_ape_median'],
                    s['total_ape_p95'], s['worst_case_coverage'] * 100,
                    s['worst_case_unbounded_runs'],
                    s['paper_over_worst_median'],
                    s['paper_covers_share'] * 100))
    lines.append('dt/tt: absolute percentage error of expected downtime / '
                 'total time; covered: measured downtime <= worst case; '
                 'unbnd: runs whose worst case never converges (infinite; '
                 'counted as covered); '
                 'paper/wc: median of the paper bound over our worst case; '
                 'paper-ok: measured downtime <= paper bound')
    held = summary['sets'].get('held-out', {}).get('overall', {})
    if held.get('uncovered_runs'):
        lines.append('held-out runs above the worst case: %s'
                     % ', '.join(held['uncovered_runs']))
    return '\n'.join(lines)


def ci_class(row):
    """Runs like the CI test's: a shaped link and a guest that dirties."""
    return (model.num(row, 'bandwidth_mbps') > 0 and
            model.num(row, 'dirty_rate_mibps') > 0 and
            row.get('link', 'tc') == 'tc')


def establish_bounds(rows, fitted, holdout_repeat=fit.HOLDOUT_REPEAT,
                     allowance=1.25):
    """Tolerances for the CI check, from held-out runs of the CI's class.

    ``downtime_over_worst_max``: the largest ratio of measured downtime to
    the worst case seen (at least 1), times *allowance* for a loaded CI
    machine; ``total_ape_max``: *allowance* x the largest total-time error
    seen, at least 25 %. One run per transport is checked, so a bound any
    held-out run exceeded (a 95th percentile) would fail CI in about one
    run in seven without anything being wrong.
    """
    _, held = fit.split(rows, holdout_repeat)
    held = [r for r in held if ci_class(r)]
    if not held:
        raise ValueError('no held-out runs with a shaped link and a '
                         'dirtying guest to establish CI bounds on')
    s = _stats(held, fitted)
    return {
        'downtime_over_worst_max': round(
            max(1.0, s['max_downtime_over_worst']) * allowance, 3),
        'total_ape_max': round(max(25.0, allowance * s['total_ape_max']),
                               1),
        'from_runs': s['runs'],
        'class': 'held-out, shaped link, dirty rate > 0',
        'class_worst_case_coverage': s['worst_case_coverage'],
    }
