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

One row of a libvirt campaign CSV becomes one call of
:func:`qslm_nova.estimator.estimate` with the run's Nova settings (steps,
completion timeout, timeout action, post-copy, auto-converge, parallel
connections), the link's measured goodput, the transport and the host
load measured during the run (load average per CPU), exactly as the
decision engine would call it with a host's published load.

Not every row is ground truth for Nova (:func:`unusable`): runs of the
first campaign whose monitor blocked for good in a downtime call (the
testbed then ran without libvirt's event loop, which nova-compute has),
post-copy over parallel connections (Nova refuses it on this QEMU), and
runs whose guest was not seen running on the destination (never counted
as completed).
"""

import dataclasses
import math

import numpy as np

from qslm_nova import estimator
from qslm_nova.testbed import fit
from qslm_nova.testbed import libvirt_parts
from qslm_nova.testbed import model

PAUSED_OUTCOMES = ('completed', 'forced-pause', 'post-copy')
num = model.num


def settings(row):
    """The run's Nova [libvirt] options as the estimator's settings."""
    return estimator.LibvirtSettings(
        downtime_ms=num(row, 'nova_downtime_ms', 500),
        downtime_steps=int(num(row, 'nova_downtime_steps', 10)),
        downtime_delay_s=num(row, 'nova_downtime_delay_s', 75),
        completion_timeout_s=num(row, 'nova_completion_timeout_s', 800),
        timeout_action=row.get('nova_timeout_action') or 'abort',
        permit_post_copy=bool(int(num(row, 'post_copy'))),
        permit_auto_converge=bool(int(num(row, 'auto_converge'))),
        parallel_connections=int(num(row, 'parallel', 1)))


def load_per_cpu(row):
    """Runnable threads per CPU during the run (load average / CPUs)."""
    load = (num(row, 'load1_start') + num(row, 'load1_end')) / 2.0
    return load / (num(row, 'cpus', 2) or 2)


def monitor_blocked(row):
    """Nova's monitor waited in a downtime call until the job ended."""
    return bool(row.get('downtime_set_failures')) or (
        row.get('outcome') == 'testbed-timeout')


def unusable(row):
    """Why *row* is no ground truth for Nova, or None."""
    if row.get('status') != 'ok':
        return 'status %s' % (row.get('status') or 'missing')
    if not row.get('event_loop') and monitor_blocked(row):
        return ('monitor blocked for good (first campaign, without '
                "libvirt's event loop)")
    if int(num(row, 'post_copy')) and int(num(row, 'parallel', 1)) > 1:
        return 'post-copy over parallel connections (Nova refuses it)'
    if row.get('guest_alive_on_dest') in ('0', 0):
        # Rows of the first campaign (the runner now sets the status).
        return 'guest not seen running on the destination'
    return None


def working_set_mb(row):
    """The memory the run's guest keeps writing (MiB; None: unknown)."""
    return num(row, 'wss_mib') or None


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


@dataclasses.dataclass
class LibvirtFitted(model.Fitted):
    """Fitted constants of the libvirt campaign (crypto: TLS per core)."""


# How late Nova's monitor may act on this testbed's loaded hosts: the
# runs with libvirt's event loop saw its first downtime call up to 5 s
# late (libvirt's keepalive interval), plus Nova's first poll and margin.
MONITOR_DELAY_S = 8.0


@dataclasses.dataclass(frozen=True)
class Variant(object):
    """Which of the model's parts a fit and its estimates use.

    ``host_load``: the measured load per CPU is the estimate's
    ``cpu_load`` (else 0, an idle host); ``thread_cap``: the fit sets
    ``migration_gbps_per_core`` (else unlimited); ``late_monitor``: the
    worst case's late first step and timeout action
    (``monitor_delay_s`` = :data:`MONITOR_DELAY_S`, else 0);
    ``pause_parts``: the stop-and-copy and the fixed part of the pause
    come from the runs' measured parts (:mod:`.libvirt_parts`), the
    search fits the rest (else it searches them too); ``postcopy_share``:
    the fit sets ``postcopy_rate_share`` from the fitting runs that
    switched to post-copy (else the rest moves at the pre-copy rate);
    ``postcopy_worst``: the fit sets ``worst_postcopy_buffer_factor``
    from those runs, and the other worst-case factors from the rest
    (else the factor is 1 and all runs set the others).
    """

    name: str
    host_load: bool = True
    thread_cap: bool = True
    late_monitor: bool = True
    pause_parts: bool = True
    postcopy_share: bool = True
    postcopy_worst: bool = True

    def base_params(self, params=None):
        p = params or estimator.ModelParams()
        if not self.thread_cap:
            p = dataclasses.replace(p, migration_gbps_per_core=math.inf)
        if not self.postcopy_share:
            p = dataclasses.replace(p, postcopy_rate_share=1.0)
        if not self.postcopy_worst:
            p = dataclasses.replace(p, worst_postcopy_buffer_factor=1.0)
        return dataclasses.replace(
            p, monitor_delay_s=MONITOR_DELAY_S if self.late_monitor else 0.0)

    def fits_pause(self, row):
        """True if *row*'s pause shapes the constants every pause shares
        (the search's pause errors, the worst-case factors): a run that
        paused, but with ``postcopy_worst`` not one that switched to
        post-copy (its spread on loaded hosts, 1 to 3.6 times the
        expected pause in one configuration, has a worst case of its
        own).
        """
        outcome = row.get('outcome')
        return outcome in PAUSED_OUTCOMES and not (
            self.postcopy_worst and outcome == 'post-copy')

    def space(self, fixed=()):
        """What the search fits: :data:`SPACE` less *fixed* names."""
        return [(n, v) for n, v in SPACE if n not in fixed and (
            self.thread_cap or n != 'migration_gbps_per_core')]


#: The estimator before this model (no host load, no migration-thread
#: limit, Nova always on time) and as it is now.
BEFORE = Variant('before: no load input, no thread limit, Nova on time',
                 host_load=False, thread_cap=False, late_monitor=False,
                 pause_parts=False, postcopy_share=False,
                 postcopy_worst=False)
AFTER = Variant('after: load input, thread limit, late first step, '
                'measured pause parts, post-copy worst case')


def link_gbps(row, fitted):
    """Raw link speed whose payload share is the measured goodput (the
    row's own measurement when it carries one).
    """
    p = fitted.params
    goodput = model.goodput_mbps(row, fitted.link_goodput_mbps,
                                 num(row, 'bandwidth_mbps'))
    return goodput * (p.mss_bytes + p.frame_overhead_bytes) / (
        p.mss_bytes * 1000.0)


def release(row):
    """QEMU release of *row* as a sortable tuple (() when unknown)."""
    try:
        return tuple(int(x) for x in (row.get('qemu') or '').split('.'))
    except ValueError:
        return ()


def params_for(row, params):
    """*params* as *row*'s QEMU runs them (no forced syncs before 9.2)."""
    if () < release(row) < (9, 2):
        return dataclasses.replace(params, auto_converge_sync_s=0.0)
    return params


def estimate_rows(rows, fitted, variant=AFTER, load_of=load_per_cpu):
    """Per row: expected and worst pause and total (ms), outcome, paper.

    :param load_of: the row's load per CPU as the estimate takes it
        (default the fit's: the load average over the CPUs).
    """
    out = []
    for row in rows:
        load = load_of(row) if variant.host_load else 0.0
        mem = num(row, 'memory_mib')
        est = estimator.estimate(
            memory_mb=mem, dirty_rate_mibps=num(row, 'dirty_rate_mibps'),
            bandwidth_gbps=np.array([link_gbps(row, fitted)]),
            rtt_ms=np.array([max(num(row, 'rtt_ms'),
                                 model.LOOPBACK_RTT_MS)]),
            mechanism=model.mechanism_for(row['transport'], fitted),
            cpu_load=np.array([load]), libvirt=settings(row),
            params=params_for(row, fitted.params),
            touched_mb=model.touched_mb(row, fitted),
            working_set_mb=working_set_mb(row))
        out.append({
            'downtime_ms': float(est.expected_downtime_ms[0]),
            'race_downtime_ms': float(est.race_downtime_ms[0]),
            'worst_downtime_ms': float(est.worst_downtime_ms[0]),
            'total_ms': float(est.total_time_s[0]) * 1000.0,
            'worst_total_ms': float(est.worst_total_time_s[0]) * 1000.0,
            'outcome': est.outcome_name(0),
            'paper_ms': float(np.ravel(estimator.paper_worst_case_ms(
                mem, np.array([num(row, 'bandwidth_mbps') / 1000.0]),
                fitted.params))[0]),
        })
    return out


def errors(rows, fitted, variant=AFTER):
    """(estimates, pause errors of the runs whose pauses the variant fits
    (:meth:`Variant.fits_pause`), total-time errors of every run).
    """
    ests = estimate_rows(rows, fitted, variant)
    paused = [i for i, r in enumerate(rows) if variant.fits_pause(r)]
    dt = fit.ape([ests[i]['downtime_ms'] for i in paused],
                 [measured_pause(rows[i]) for i in paused], 1.0)
    tt = fit.ape([e['total_ms'] for e in ests],
                 [measured_total(r) for r in rows], 1.0)
    return ests, dt, tt


def objective(rows, fitted, variant=AFTER):
    """Median absolute % errors of pause and total plus a quarter of
    their 95th percentiles (see :func:`errors` for which pauses count).
    """
    _, dt, tt = errors(rows, fitted, variant)
    dt = np.where(np.isfinite(dt), dt, 1e4)
    tt = np.where(np.isfinite(tt), tt, 1e4)
    return float(np.median(dt) + np.median(tt) +
                 0.25 * (np.percentile(dt, 95) + np.percentile(tt, 95)))


SPACE = (
    ('setup_ms', np.geomspace(50, 3000, 25)),
    ('fixed_down_ms', np.concatenate([[0.0], np.geomspace(1, 600, 25)])),
    ('device_state_mb', np.geomspace(0.05, 16, 16)),
    ('stop_share', np.linspace(0.25, 3.0, 23)),
    ('iteration_ms', np.array([0.0, 10.0, 25.0, 50.0])),
    ('buffer:tcp', np.geomspace(0.25, 16, 13)),
    ('buffer:tls', np.geomspace(0.25, 16, 13)),
    ('migration_gbps_per_core', np.geomspace(0.5, 40, 30)),
    ('crypto:tls', np.concatenate([np.geomspace(0.5, 40, 30), [math.inf]])),
)


def fit_rows(rows, goodput, variant=AFTER, base_params=None):
    """Fit the model constants on *rows* (the campaigns' fit group),
    with their QEMU's forced syncs if they share them (:func:`params_for`).
    """
    rows = [r for r in rows if unusable(r) is None]
    params = variant.base_params(base_params)
    syncs = {params_for(r, params).auto_converge_sync_s for r in rows}
    if len(syncs) == 1:
        params = dataclasses.replace(params, auto_converge_sync_s=syncs.pop())
    fitted = LibvirtFitted(
        params=params,
        link_goodput_mbps=dict(goodput),
        crypto_gbps_per_core={'tcp': math.inf, 'tls': math.inf},
        downtime_source='e2e', holdout_repeat=-1, fit_runs=len(rows))
    parts = (libvirt_parts.measured(rows, goodput, load_per_cpu)
             if variant.pause_parts else {})
    for name, value in parts.items():
        fitted = fit.with_value(fitted, name, value)
    if variant.postcopy_share:
        # Before the search too, so that no default share shapes it.
        fitted = postcopy_share(rows, fitted, variant)
    fitted, best = fit.search(
        rows, fitted, variant.space(fixed=parts), passes=3,
        score=lambda rs, f: objective(rs, f, variant))
    fitted = dataclasses.replace(fitted, objective=round(best, 3))
    if variant.postcopy_share:
        fitted = postcopy_share(rows, fitted, variant)
    fitted = worst_case(rows, fitted, variant)
    if variant.postcopy_worst:
        fitted = worst_postcopy(rows, fitted, variant)
    return fitted


def _switched(rows):
    """The runs that switched to post-copy."""
    return [r for r in rows if r.get('outcome') == 'post-copy']


#: Candidates of ``postcopy_rate_share``.
POSTCOPY_SHARES = np.round(np.linspace(0.3, 1.0, 71), 2)


def postcopy_share(rows, fitted, variant=AFTER):
    """*fitted* with the ``postcopy_rate_share`` whose total times best
    match (least median absolute % error) the runs that switched to
    post-copy; unchanged when none did. The share only stretches what
    follows the switch, so the rest of the model holds still.
    """
    switched = _switched(rows)
    if not switched:
        return fitted
    fitted, _ = fit.search(
        switched, fitted, [('postcopy_rate_share', POSTCOPY_SHARES)],
        passes=1, score=lambda rs, f: float(np.median(
            errors(rs, f, variant)[2])))
    return fitted


WORST_GRID = {'worst_bandwidth_factor': (0.9, 0.8, 0.7, 0.6, 0.5, 0.4),
              'worst_stop_share': (1.25, 1.5, 2.0, 2.5, 3.0, 4.0),
              'worst_extra_ms': (0.0, 50.0, 100.0, 200.0, 400.0)}


def worst_case(rows, fitted, variant=AFTER):
    """The worst-case factors that cover most fitting pauses, tightest
    (least median worst/measured) among those (with ``postcopy_worst``,
    of the runs that did not switch to post-copy).
    """
    paused = [r for r in rows if variant.fits_pause(r)]
    meas = np.array([measured_pause(r) for r in paused])
    best = None
    names = list(WORST_GRID)
    for values in np.array(np.meshgrid(*WORST_GRID.values())).T.reshape(
            -1, len(names)):
        trial = fitted
        for name, value in zip(names, values):
            trial = fit.with_value(trial, name, float(value))
        worst = np.array([e['worst_downtime_ms']
                          for e in estimate_rows(paused, trial, variant)])
        cov = float(np.mean(meas <= worst))
        ratio = float(np.median(worst / np.maximum(meas, 1.0)))
        if best is None or (cov, -ratio) > (best[0], -best[1]):
            best = (cov, ratio, trial)
    cov, _, chosen = best
    return dataclasses.replace(chosen, fit_worst_coverage=round(cov, 4))


#: Candidates of ``worst_postcopy_buffer_factor``.
POSTCOPY_BUFFER_FACTORS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0,
                           12.0, 16.0)


def worst_postcopy(rows, fitted, variant=AFTER):
    """*fitted* with the least ``worst_postcopy_buffer_factor`` whose
    worst case covers the most fitting runs that switched to post-copy
    (unchanged when none did), and the worst case's coverage of all the
    fitting pauses. The factor only changes the worst pause of a
    post-copy switch, so the other factors hold still.
    """
    switched = _switched(rows)
    best = None
    for factor in POSTCOPY_BUFFER_FACTORS if switched else ():
        trial = fit.with_value(fitted, 'worst_postcopy_buffer_factor',
                               factor)
        worst = [e['worst_downtime_ms']
                 for e in estimate_rows(switched, trial, variant)]
        covered = sum(measured_pause(r) <= w for r, w in zip(switched, worst))
        if best is None or covered > best[0]:
            best = (covered, trial)
    if best is not None:
        fitted = best[1]
    paused = [r for r in rows if r.get('outcome') in PAUSED_OUTCOMES]
    if not paused:
        return fitted
    worst = [e['worst_downtime_ms']
             for e in estimate_rows(paused, fitted, variant)]
    cov = np.mean([measured_pause(r) <= w for r, w in zip(paused, worst)])
    return dataclasses.replace(fitted, fit_worst_coverage=round(float(cov),
                                                                4))
