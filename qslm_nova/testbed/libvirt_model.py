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

"""Map Nova-driven libvirt runs onto the estimator, and fit it to them.

One row of ``libvirt-campaign.csv`` becomes one call of
:func:`qslm_nova.estimator.estimate` with the run's Nova settings (steps,
completion timeout, timeout action, post-copy, auto-converge), link
goodput, transport and the host load measured during the run.

:class:`Prototype` switches on model changes the runs call for that the
estimator does not have yet (they live here until the estimator is
restructured): QEMU's default limit before Nova's first
``migrateSetMaxDowntime`` lands (worst case), libvirt's hand-off (prepare
before QEMU starts, finish before the destination resumes), parallel
connections (one migration thread per connection) and host load (the
QEMU migration threads get a share of a core that falls with the load
average).
"""

import dataclasses
import math

import numpy as np

from qslm_nova import estimator
from qslm_nova.testbed import fit
from qslm_nova.testbed import model

QEMU_DEFAULT_LIMIT_MS = 300
PAUSED_OUTCOMES = ('completed', 'forced-pause', 'post-copy')


@dataclasses.dataclass(frozen=True)
class Prototype(object):
    first_interval: bool = False
    handoff: bool = False
    parallel: bool = False
    load: bool = False

    @classmethod
    def all(cls):
        return cls(True, True, True, True)

    def name(self):
        on = [f.name for f in dataclasses.fields(self)
              if getattr(self, f.name)]
        return '+'.join(on) or 'estimator as is'


num = model.num


def settings(row, prototype=Prototype(), worst=False):
    steps = int(num(row, 'nova_downtime_steps', 10))
    limit = num(row, 'nova_downtime_ms', 500)
    s = estimator.LibvirtSettings(
        downtime_ms=limit, downtime_steps=steps,
        downtime_delay_s=num(row, 'nova_downtime_delay_s', 75),
        completion_timeout_s=num(row, 'nova_completion_timeout_s', 800),
        timeout_action=row.get('nova_timeout_action') or 'abort',
        permit_post_copy=bool(int(num(row, 'post_copy'))),
        permit_auto_converge=bool(int(num(row, 'auto_converge'))))
    if worst and prototype.first_interval:
        # Nova's first migrateSetMaxDowntime can wait behind libvirt's
        # migration job: QEMU's default holds for the first interval.
        return _FirstInterval(**dataclasses.asdict(s))
    return s


@dataclasses.dataclass(frozen=True)
class _FirstInterval(estimator.LibvirtSettings):
    def steps(self, data_gb):
        steps = super().steps(data_gb)
        return [(steps[0][0], max(steps[0][1], QEMU_DEFAULT_LIMIT_MS))] + (
            steps[1:])


def load_per_cpu(row):
    """Runnable threads per CPU during the run (load average / CPUs)."""
    load = (num(row, 'load1_start') + num(row, 'load1_end')) / 2.0
    return load / (num(row, 'cpus', 2) or 2)


def free_share(row):
    """Share of a core one runnable thread got (load average, cpus)."""
    return min(1.0, 1.0 / max(load_per_cpu(row), 1e-9))


def mechanism(row, fitted, prototype):
    """The run's mechanism; its cap is QEMU's migration thread(s).

    Under TCG on loaded hosts the migration thread, not the link, often
    limits the rate, plain TCP too: the fit gives each transport a cap
    per core (the estimator scales it by 1 - cpu_load); with parallel
    connections each has a thread of its own (prototype).
    """
    mech = model.mechanism_for(row['transport'], fitted)
    cap = mech.crypto_gbps_per_core
    if prototype.parallel and math.isfinite(cap):
        cap *= min(num(row, 'parallel', 1), num(row, 'cpus', 2) or 2)
        mech = dataclasses.replace(mech, crypto_gbps_per_core=cap)
    return mech


def measured_pause(row):
    return num(row, 'downtime_e2e_ms', -1.0)


def measured_total(row):
    """ms from Nova's migrate call to the destination's resume.

    Aborted: to Nova's abort; post-copy: to the end of the migration.
    """
    outcome = row.get('outcome')
    if outcome == 'aborted':
        return num(row, 'abort_at_s') * 1000.0
    if outcome == 'post-copy':
        return num(row, 'api_total_ms') - num(row, 'handoff_ms', 0.0)
    return num(row, 'resume_at_ms')


def estimate_rows(rows, fitted, prototype=Prototype()):
    out = []
    for row in rows:
        mem = num(row, 'memory_mib')
        goodput = fitted.link_goodput_mbps.get(
            '%g' % num(row, 'bandwidth_mbps'), num(row, 'bandwidth_mbps'))
        p = fitted.params
        gbps = goodput * (p.mss_bytes + p.frame_overhead_bytes) / (
            p.mss_bytes * 1000.0)
        load = 1.0 - free_share(row) if prototype.load else 0.0
        if prototype.load:
            # libvirt's prepare (the destination QEMU's start) and the
            # stop-and-copy's fixed part grow with the load.
            per = load_per_cpu(row)
            p = dataclasses.replace(
                p, setup_ms=p.setup_ms + fitted.setup_per_load_ms * per,
                activation_ms=p.activation_ms +
                fitted.down_per_load_ms * per)
        args = dict(memory_mb=mem,
                    dirty_rate_mibps=num(row, 'dirty_rate_mibps'),
                    bandwidth_gbps=np.array([gbps]),
                    rtt_ms=np.array([max(num(row, 'rtt_ms'),
                                         model.LOOPBACK_RTT_MS)]),
                    mechanism=mechanism(row, fitted, prototype),
                    cpu_load=np.array([load]), params=p,
                    touched_mb=model.touched_mb(row, fitted))
        est = estimator.estimate(libvirt=settings(row, prototype), **args)
        worst = float(est.worst_downtime_ms[0])
        if prototype.first_interval:
            w = estimator.estimate(libvirt=settings(row, prototype, True),
                                   **args)
            worst = max(worst, float(w.worst_downtime_ms[0]))
        total = float(est.total_time_s[0]) * 1000.0
        if prototype.handoff:
            total += fitted.handoff_ms
        out.append({
            'downtime_ms': float(est.expected_downtime_ms[0]),
            'worst_downtime_ms': worst,
            'total_ms': total,
            'outcome': est.outcome_name(0),
            'paper_ms': float(np.ravel(estimator.paper_worst_case_ms(
                mem, np.array([num(row, 'bandwidth_mbps') / 1000.0]),
                p))[0]),
        })
    return out


@dataclasses.dataclass
class LibvirtFitted(model.Fitted):
    """Fitted constants plus the prototype's: libvirt hand-off (ms)."""

    OWN_FIELDS = ('handoff_ms', 'setup_per_load_ms', 'down_per_load_ms')

    handoff_ms: float = 0.0
    # Prototype "load": ms added per unit of load average per CPU.
    setup_per_load_ms: float = 0.0
    down_per_load_ms: float = 0.0
    prototype: str = ''


def errors(rows, fitted, prototype):
    ests = estimate_rows(rows, fitted, prototype)
    paused = [i for i, r in enumerate(rows)
              if r.get('outcome') in PAUSED_OUTCOMES]
    dt = fit.ape([ests[i]['downtime_ms'] for i in paused],
                 [measured_pause(rows[i]) for i in paused], 1.0)
    tt = fit.ape([e['total_ms'] for e in ests],
                 [measured_total(r) for r in rows], 1.0)
    return ests, dt, tt


def objective(rows, fitted, prototype):
    _, dt, tt = errors(rows, fitted, prototype)
    dt = np.where(np.isfinite(dt), dt, 1e4)
    tt = np.where(np.isfinite(tt), tt, 1e4)
    return float(np.median(dt) + np.median(tt) +
                 0.25 * (np.percentile(dt, 95) + np.percentile(tt, 95)))


def fit_rows(rows, goodput, prototype=Prototype()):
    """Fit the model constants on *rows* (the campaign's fit group)."""
    rows = [r for r in rows if r.get('status') == 'ok']
    base = LibvirtFitted(link_goodput_mbps=dict(goodput),
                         prototype=prototype.name(),
                         crypto_gbps_per_core={'tcp': math.inf,
                                               'tls': math.inf},
                         downtime_source='e2e', holdout_repeat=-1,
                         fit_runs=len(rows))
    starts = [num(r, 'qemu_start_s') * 1000.0 for r in rows
              if r.get('qemu_start_s') not in ('', None)]
    base = fit.with_value(base, 'setup_ms', float(np.median(starts)))
    hand = [num(r, 'handoff_ms') for r in rows if r.get('handoff_ms')]
    if prototype.handoff and hand:
        base = dataclasses.replace(base, handoff_ms=float(np.median(hand)))

    def score(rs, f):
        return objective(rs, f, prototype)

    space = [
        ('fixed_down_ms', np.concatenate([[0.0], np.geomspace(1, 600, 25)])),
        ('device_state_mb', np.geomspace(0.05, 16, 16)),
        ('stop_share', np.linspace(0.5, 3.0, 26)),
        ('setup_ms', np.geomspace(200, 8000, 25)),
        ('crypto:tcp', np.concatenate([np.geomspace(0.1, 8, 30),
                                       [math.inf]])),
        ('crypto:tls', np.concatenate([np.geomspace(0.1, 8, 30),
                                       [math.inf]])),
    ]
    if prototype.load:
        space += [('setup_per_load_ms', np.linspace(0, 1500, 31)),
                  ('down_per_load_ms', np.linspace(0, 100, 41))]
    fitted, best = fit.search(rows, base, space, passes=3, score=score)
    fitted = dataclasses.replace(fitted, objective=round(best, 3))
    return worst_case(rows, fitted, prototype)


def worst_case(rows, fitted, prototype):
    """Tightest worst-case factors that cover every fitting run."""
    paused = [r for r in rows if r.get('outcome') in PAUSED_OUTCOMES]
    best_cov, chosen = -1.0, fitted
    for bwf in (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3):
        for share in (1.5, 2.0, 2.5, 3.0, 4.0):
            for extra in (0.0, 50.0, 100.0, 200.0, 400.0):
                trial = fit.with_value(fit.with_value(fit.with_value(
                    fitted, 'worst_bandwidth_factor', bwf),
                    'worst_stop_share', share), 'worst_extra_ms', extra)
                ests = estimate_rows(paused, trial, prototype)
                cov = float(np.mean([measured_pause(r) <= e[
                    'worst_downtime_ms'] for r, e in zip(paused, ests)]))
                if cov > best_cov + 1e-12:
                    best_cov, chosen = cov, trial
                if best_cov >= 1.0:
                    return dataclasses.replace(
                        chosen, fit_worst_coverage=round(best_cov, 4))
    return dataclasses.replace(chosen, fit_worst_coverage=round(best_cov, 4))
