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

"""Refit the model's constants from the production history.

Each pair holds every input of the estimate at decision time and what
libvirt measured. The model runs again on those inputs with trial
constants; the testbed's fitting (:mod:`qslm_nova.testbed.fit`: its
coordinate search, its objective of median and 95th-percentile absolute
percentage errors of downtime and total time, and its tightest covering
worst case) picks them. A third of the migrations (by migration id) is
held out of the fit and only checked, so the report says how the refit
does on migrations it did not see. The report gives the error by host
pair and transport at decision time and after the refit.
"""

import dataclasses
import math
import zlib

import numpy as np

from qslm_nova import estimator
from qslm_nova import mechanisms
from qslm_nova.testbed import fit
from qslm_nova.testbed import model

MIN_PAIRS = 6


def _mechanism(inputs, fitted):
    m = inputs['mechanism']
    name = str(m.get('name') or 'none').split(' ', 1)[0]
    crypto = m.get('crypto_gbps_per_core')
    buffered = fitted.buffered_mb.get(name, m.get('buffered_mb', 1.0))
    return mechanisms.Mechanism(
        name, crypto_gbps_per_core=math.inf if crypto is None else crypto,
        overhead_bytes_per_packet=m.get('overhead_bytes_per_packet', 0),
        handshake_rtts=m.get('handshake_rtts', 0), buffered_mb=buffered)


def estimate_pair(pair, fitted):
    """(expected downtime ms, worst downtime ms, total s) by ``fitted``."""
    i = pair.estimate['inputs']
    est = estimator.estimate(
        i['memory_mb'], i['dirty_rate_mibps'],
        np.array([i['bandwidth_gbps']]), np.array([i['rtt_ms']]),
        _mechanism(i, fitted), np.array([i['cpu_load']]),
        estimator.LibvirtSettings(**i['libvirt']), fitted.params,
        touched_mb=i.get('touched_mb'), disk_gb=i.get('disk_gb') or 0.0,
        working_set_mb=i.get('working_set_mb'),
        streams=np.array([i.get('streams') or 1.0]))
    return (float(est.expected_downtime_ms[0]),
            float(est.worst_downtime_ms[0]), float(est.total_time_s[0]))


def measured_of(pair):
    m = pair.measured
    total = (m.get('figures') or {}).get('total_ms')
    return float(m['downtime_ms']), (None if total is None
                                     else float(total) / 1000.0)


def errors(pairs, fitted):
    """(downtime APEs, total-time APEs) of ``fitted`` on ``pairs``."""
    dt, tt = [], []
    for pair in pairs:
        exp, _worst, total = estimate_pair(pair, fitted)
        down, took = measured_of(pair)
        dt.append(fit.ape(exp, down, 1.0))
        if took is not None:
            tt.append(fit.ape(total, took, 0.001))
    return np.array(dt, dtype=float), np.array(tt, dtype=float)


def objective(pairs, fitted):
    """The testbed fit's objective, on history pairs."""
    dt, tt = errors(pairs, fitted)
    dt = np.where(np.isfinite(dt), dt, 1e4)
    tt = np.where(np.isfinite(tt), tt, 1e4) if len(tt) else np.zeros(1)
    return float(np.median(dt) + np.median(tt) +
                 0.25 * (np.percentile(dt, 95) + np.percentile(tt, 95)))


def coverage(pairs, fitted):
    """Share of the pairs whose measured downtime the worst case covers."""
    if not pairs:
        return 1.0
    covered = [measured_of(p)[0] <= estimate_pair(p, fitted)[1]
               for p in pairs]
    return float(np.mean(covered))


def split(pairs):
    """(fitting pairs, held-out pairs): a third held out by migration id.
    """
    if len(pairs) < MIN_PAIRS:
        return list(pairs), []
    fitting, held = [], []
    for p in pairs:
        key = str(p.measured.get('migration_id')).encode()
        (held if zlib.crc32(key) % 3 == 0 else fitting).append(p)
    return fitting, held


def refit(pairs, params=None):
    """A model.Fitted refit on the fitting part of ``pairs``."""
    fitting, _held = split(pairs)
    fitted = model.Fitted(params=params or estimator.ModelParams(),
                          fit_runs=len(fitting))
    names = sorted({_mechanism(p.estimate['inputs'], fitted).name
                    for p in fitting})
    space = [('fixed_down_ms', np.concatenate([[0.0],
                                               np.geomspace(1, 300, 25)])),
             ('device_state_mb', np.geomspace(0.05, 16, 20)),
             ('stop_share', np.linspace(0.5, 2.0, 31)),
             ('first_sample_ms', np.linspace(0.0, 300.0, 16))]
    space += [('buffer:' + n, np.linspace(0.0, 8.0, 33)) for n in names]
    fitted, best = fit.search(fitting, fitted, space, score=objective)
    fitted = dataclasses.replace(fitted, objective=round(best, 3))
    return _worst_case(fitting, fitted)


def _worst_case(pairs, fitted):
    """The tightest worst case that covers every fitting pair."""
    best_cov, chosen = -1.0, fitted
    for bwf in (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4):
        for share in (1.25, 1.5, 1.75, 2.0, 2.5, 3.0):
            for extra in (0.0, 25.0, 50.0, 100.0, 150.0):
                trial = fitted
                for name, value in (('worst_bandwidth_factor', bwf),
                                    ('worst_stop_share', share),
                                    ('worst_extra_ms', extra)):
                    trial = fit.with_value(trial, name, value)
                cov = coverage(pairs, trial)
                if cov > best_cov + 1e-12:
                    best_cov, chosen = cov, trial
                if best_cov >= 1.0:
                    return dataclasses.replace(
                        chosen, fit_worst_coverage=best_cov)
    return dataclasses.replace(chosen, fit_worst_coverage=best_cov)


@dataclasses.dataclass(frozen=True)
class ReportRow:
    """The error of one host pair and transport (medians, percent)."""

    host_pair: str
    mechanism: str
    migrations: int
    held_out: int
    downtime_error_then: float
    downtime_error_refit: float
    total_error_then: float
    total_error_refit: float
    worst_covered_then: float
    worst_covered_refit: float


def _median(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(values)) if values else None


def report(pairs, fitted):
    """ReportRows by host pair and transport, then one for all."""
    _fitting, held = split(pairs)
    held_ids = {id(p) for p in held}
    groups = {}
    for p in pairs:
        groups.setdefault((p.host_pair, p.mechanism), []).append(p)
    rows = [_row(key, members, fitted, held_ids)
            for key, members in sorted(groups.items())]
    rows.append(_row(('all', 'all'), list(pairs), fitted, held_ids))
    return rows


def _row(key, members, fitted, held_ids):
    then_dt, then_tt, refit_dt, refit_tt = [], [], [], []
    then_cov, refit_cov = [], []
    for p in members:
        down, took = measured_of(p)
        e = p.estimate
        then_dt.append(float(fit.ape(e['expected_downtime_ms'], down, 1.0)))
        then_cov.append(down <= e['worst_downtime_ms'])
        exp, worst, total = estimate_pair(p, fitted)
        refit_dt.append(float(fit.ape(exp, down, 1.0)))
        refit_cov.append(down <= worst)
        if took is not None:
            then_tt.append(float(fit.ape(e['total_time_s'], took, 0.001)))
            refit_tt.append(float(fit.ape(total, took, 0.001)))
    return ReportRow(
        host_pair=key[0], mechanism=key[1], migrations=len(members),
        held_out=sum(1 for p in members if id(p) in held_ids),
        downtime_error_then=_median(then_dt),
        downtime_error_refit=_median(refit_dt),
        total_error_then=_median(then_tt),
        total_error_refit=_median(refit_tt),
        worst_covered_then=float(np.mean(then_cov)),
        worst_covered_refit=float(np.mean(refit_cov)))


def option_values(fitted):
    """The refit constants as [qslm] options and topology figures."""
    p = fitted.params
    values = {name: round(getattr(p, name), 4) for name in (
        'confirmation_ms', 'activation_ms', 'device_state_mb', 'stop_share',
        'first_sample_ms', 'worst_bandwidth_factor', 'worst_stop_share',
        'worst_extra_ms')}
    buffered = {k: round(v, 3) for k, v in sorted(fitted.buffered_mb.items())}
    return values, buffered
