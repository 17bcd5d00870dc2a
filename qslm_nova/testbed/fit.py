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

"""Fit the estimator's constants to testbed measurements.

The grid is split by repeat index: runs with ``repeat >=
holdout_repeat`` are never seen here and serve only to check the model
(:mod:`qslm_nova.testbed.report`); later repeats, run after a fit, join
the check. On the other runs:

* ``setup_ms`` is the median measured QEMU setup time, and the guest RAM
  that stays zero in every run (firmware areas) the median of QEMU's
  duplicate-page count;
* the constant part of the downtime (``confirmation_ms`` +
  ``activation_ms``; the source only sees their sum, split 1:3 as in the
  defaults), ``device_state_mb``, ``scan_gibps``, ``stop_share``, the
  time of QEMU's first bandwidth sample, each transport's buffered data,
  the unshaped loopback speed and each mechanism's throughput cap are
  found by coordinate search (from three starting buffer sizes, keeping
  the best) minimising the median absolute percentage errors of downtime
  and total time plus a quarter of their 95th percentiles;
* the worst-case factors (``worst_bandwidth_factor``,
  ``worst_dirty_factor``) are the tightest that cover every fitting run.
"""

import dataclasses
import json
import math
import os

import numpy as np
from oslo_log import log as logging

from qslm_nova.testbed import guest
from qslm_nova.testbed import model

LOG = logging.getLogger(__name__)

HOLDOUT_REPEAT = 2
DEFAULT_PARAMS_PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), 'data', 'testbed',
    'fitted-params.json')

_GEOM = np.geomspace


def usable(rows):
    """Completed runs whose guest was seen running on the destination.

    A run whose guest printed nothing on the destination is not counted
    as completed, whatever QEMU says (the shipped campaign's 46 such rows
    were a 0.6 s check too short for a loaded host, see
    data/testbed/README.md; the runner now marks them itself).
    """
    return [r for r in rows if r.get('status') == 'completed'
            and r.get('guest_alive_on_dest') != '0'
            and model.num(r, 'total_time_ms') > 0]


def split(rows, holdout_repeat=HOLDOUT_REPEAT):
    fit_rows, check_rows = [], []
    for r in usable(rows):
        (check_rows if int(model.num(r, 'repeat')) >= holdout_repeat
         else fit_rows).append(r)
    return fit_rows, check_rows


def ape(est, meas, floor):
    """Absolute percentage errors, with a floor on the measured value."""
    est = np.asarray(est, dtype=float)
    meas = np.maximum(np.asarray(meas, dtype=float), floor)
    return np.abs(est - meas) / meas * 100.0


def errors(rows, fitted, cache=None):
    ests = model.estimate_rows(rows, fitted, cache)
    source = fitted.downtime_source
    dt = ape([e['downtime_ms'] for e in ests],
             [model.measured_downtime(r, source) for r in rows], 1.0)
    tt = ape([e['total_ms'] for e in ests],
             [model.num(r, 'total_time_ms') for r in rows], 1.0)
    return ests, dt, tt


def objective(rows, fitted):
    _, dt, tt = errors(rows, fitted)
    dt = np.where(np.isfinite(dt), dt, 1e4)
    tt = np.where(np.isfinite(tt), tt, 1e4)
    return float(np.median(dt) + np.median(tt) +
                 0.25 * (np.percentile(dt, 95) + np.percentile(tt, 95)))


def with_value(fitted, name, value):
    """*fitted* with one constant (or per-transport value) replaced."""
    if name.startswith('buffer:'):
        buffered = dict(fitted.buffered_mb)
        buffered[name.split(':', 1)[1]] = value
        return dataclasses.replace(fitted, buffered_mb=buffered)
    if name.startswith('crypto:'):
        crypto = dict(fitted.crypto_gbps_per_core)
        crypto[name.split(':', 1)[1]] = value
        return dataclasses.replace(fitted, crypto_gbps_per_core=crypto)
    if name == 'loopback_gbps' or name in getattr(fitted, 'OWN_FIELDS', ()):
        return dataclasses.replace(fitted, **{name: value})
    if name == 'fixed_down_ms':
        return dataclasses.replace(fitted, params=dataclasses.replace(
            fitted.params, confirmation_ms=value / 4.0,
            activation_ms=value * 3.0 / 4.0))
    return dataclasses.replace(fitted, params=dataclasses.replace(
        fitted.params, **{name: value}))


def search(rows, fitted, space, passes=4, score=None):
    """Coordinate search over *space* ((name, candidates) pairs)."""
    objective_of = score or objective
    best = objective_of(rows, fitted)
    for _ in range(passes):
        improved = False
        for name, candidates in space:
            for value in candidates:
                trial = with_value(fitted, name, float(value))
                value_score = objective_of(rows, trial)
                if value_score < best - 1e-9:
                    best, fitted, improved = value_score, trial, True
        if not improved:
            break
    return fitted, best


def _coverage(rows, fitted):
    ests = model.estimate_rows(rows, fitted)
    worst = np.array([e['worst_downtime_ms'] for e in ests])
    meas = np.array([model.measured_downtime(r, fitted.downtime_source)
                     for r in rows])
    # A worst case of "never converges" for a migration that completed
    # bounds nothing (and would deny it): it does not count as covered.
    return float(np.mean((meas <= worst) & np.isfinite(worst))) if len(
        rows) else 1.0


def fit(rows, holdout_repeat=HOLDOUT_REPEAT, link_goodput_mbps=None,
        base=None, downtime_source='e2e'):
    """Fit on every completed run whose repeat is below *holdout_repeat*."""
    fit_rows, _ = split(rows, holdout_repeat)
    if not fit_rows:
        raise ValueError('no completed runs to fit on')
    fitted = base or model.Fitted()
    fitted = dataclasses.replace(
        fitted, holdout_repeat=holdout_repeat, fit_runs=len(fit_rows),
        downtime_source=downtime_source,
        link_goodput_mbps=dict(link_goodput_mbps or
                               fitted.link_goodput_mbps),
        crypto_gbps_per_core={t: math.inf for t in ('tls', 'ssh')})
    zero = [model.num(r, 'ram_duplicate') * guest.PAGE_BYTES / model.MIB
            for r in fit_rows if r.get('ram_duplicate')]
    if zero:
        fitted = dataclasses.replace(fitted,
                                     zero_mib=float(np.median(zero)))
    setup = [model.num(r, 'setup_time_ms') for r in fit_rows]
    fitted = with_value(fitted, 'setup_ms', float(np.median(setup)))
    transports = sorted({r['transport'] for r in fit_rows})
    space = [
        ('fixed_down_ms', np.concatenate([[0.0], _GEOM(1, 300, 25)])),
        ('device_state_mb', _GEOM(0.05, 16, 20)),
        ('scan_gibps', _GEOM(0.25, 64, 20)),
        ('stop_share', np.linspace(0.5, 2.0, 31)),
        ('first_sample_ms', np.linspace(100.0, 300.0, 21)),
    ]
    for t in transports:
        space.append(('buffer:' + t, np.linspace(0.0, 8.0, 33)))
    if any(model.num(r, 'bandwidth_mbps') <= 0 for r in fit_rows):
        space.append(('loopback_gbps', _GEOM(0.5, 40, 30)))
    for t in transports:
        if t in ('tls', 'ssh'):
            space.append(('crypto:' + t, np.concatenate(
                [_GEOM(0.2, 40, 30), [math.inf]])))
    # The objective is a median: coordinate search stops in local minima,
    # so start it from a few buffer sizes and keep the best.
    best, start = math.inf, fitted
    for buffered in (0.5, 2.0, 4.0):
        trial = start
        for t in transports:
            trial = with_value(trial, 'buffer:' + t, buffered)
        trial, score = search(fit_rows, trial, space)
        if score < best:
            best, fitted = score, trial
    fitted = dataclasses.replace(fitted, objective=round(best, 3))
    # Tightest worst case that still covers every fitting run; if none
    # does, the one that covers the most (ties: the tightest).
    best_cov, chosen = -1.0, fitted
    # Search from tight to loose: the stop share first (it scales only
    # the pause), then bandwidth and dirty-rate factors.
    for bwf in (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3):
        for share in (1.25, 1.5, 1.75, 2.0, 2.5, 3.0):
            for extra in (0.0, 25.0, 50.0, 75.0, 100.0, 150.0):
                for dirty in (1.5, 2.0, 3.0):
                    trial = with_value(with_value(with_value(with_value(
                        fitted, 'worst_bandwidth_factor', bwf),
                        'worst_dirty_factor', dirty),
                        'worst_stop_share', share), 'worst_extra_ms', extra)
                    cov = _coverage(fit_rows, trial)
                    if cov > best_cov + 1e-12:
                        best_cov, chosen = cov, trial
                if best_cov >= 1.0:
                    break
            if best_cov >= 1.0:
                break
        if best_cov >= 1.0:
            break
    if best_cov < 1.0:
        LOG.warning('the worst case covers only %.1f %% of the fitting '
                    'runs at best', best_cov * 100)
    return dataclasses.replace(chosen,
                               fit_worst_coverage=round(best_cov, 4))


def save(fitted, path=DEFAULT_PARAMS_PATH):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(fitted.to_json(), f, indent=2, sort_keys=True)
        f.write('\n')


def load(path=DEFAULT_PARAMS_PATH):
    with open(path) as f:
        return model.Fitted.from_json(json.load(f))


def save_bounds(bounds, path=DEFAULT_PARAMS_PATH):
    with open(path) as f:
        data = json.load(f)
    data['ci_bounds'] = bounds
    with open(path, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write('\n')


def load_bounds(path=DEFAULT_PARAMS_PATH):
    with open(path) as f:
        data = json.load(f)
    if 'ci_bounds' not in data:
        raise ValueError('%s has no ci_bounds; run the report with --fit'
                         % path)
    return data['ci_bounds']


def describe(fitted):
    p = fitted.params
    lines = ['fitted on %d runs (repeats from %d held out, %s downtime), '
             'objective %.3f'
             % (fitted.fit_runs, fitted.holdout_repeat,
                fitted.downtime_source, fitted.objective),
             '  setup_ms=%.1f confirmation_ms=%.2f activation_ms=%.2f'
             % (p.setup_ms, p.confirmation_ms, p.activation_ms),
             '  device_state_mb=%.3f scan_gibps=%.3f stop_share=%.2f '
             'worst_stop_share=%.2f worst_extra_ms=%.0f buffered_mb=%s'
             % (p.device_state_mb, p.scan_gibps, p.stop_share,
                p.worst_stop_share, p.worst_extra_ms,
                {k: round(v, 2) for k, v in
                 sorted(fitted.buffered_mb.items())}),
             '  worst_bandwidth_factor=%.2f worst_dirty_factor=%.2f '
             '(covers %.1f %% of the fitting runs)'
             % (p.worst_bandwidth_factor, p.worst_dirty_factor,
                fitted.fit_worst_coverage * 100),
             '  loopback_gbps=%.2f zero_mib=%.2f'
             % (fitted.loopback_gbps, fitted.zero_mib)]
    for t, v in sorted(fitted.crypto_gbps_per_core.items()):
        lines.append('  crypto_gbps_per_core[%s]=%s'
                     % (t, 'inf (never the bottleneck)'
                        if not math.isfinite(v) else '%.2f' % v))
    return '\n'.join(lines)
