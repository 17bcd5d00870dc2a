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

"""Runs of one configuration against each other: the noise floor.

The libvirt report (:mod:`qslm_nova.testbed.libvirt_report`) prints how
far the runs of a configuration run more than once stray from each
other (the ``repeat`` group of :func:`libvirt_plan.repeats`, and any
other configuration that ran twice): no model that takes only the
configuration can predict a run better than its configuration's other
runs do.
"""

import collections

import numpy as np

from qslm_nova.testbed import fit
from qslm_nova.testbed import libvirt_model as lm


def settings(row):
    """The run id without its repeat number: what the run was told."""
    return str(row['run_id']).rsplit('-', 1)[0]


def configuration(row):
    """Its settings and the QEMU that ran it: one configuration."""
    return '%s@%s' % (settings(row), row.get('qemu', ''))


def _leave_one_out(values):
    """Per value, its error when predicted by the mean of the others."""
    values = np.asarray(values, dtype=float)
    others = (values.sum() - values) / (len(values) - 1)
    return fit.ape(others, values, 1.0)


def _known_mean(values):
    """Per value, its error when predicted by its configuration's true
    mean: the leave-one-out error shrunk by sqrt((n - 1) / n).

    The mean of the n - 1 other runs is itself off, which widens the
    leave-one-out error's variance by n / (n - 1) over the run's own
    noise; the shrunk error has the variance of that noise alone.
    """
    n = len(values)
    return _leave_one_out(values) * np.sqrt((n - 1.0) / n)


def _log_residuals(values):
    """Each run's log distance from its configuration's mean, scaled to
    the noise of one run (as :func:`_known_mean`).
    """
    logs = np.log(np.maximum(np.asarray(values, dtype=float), 1.0))
    n = len(logs)
    return (logs - logs.mean()) * np.sqrt(n / (n - 1.0))


def ratio_floor(paused, labels, coverage=0.99):
    """Median bound / measured of a bound that knows each
    configuration's mean and its outcome label's noise, and covers
    *coverage* of each label's runs: per label, the quantile of its
    runs' scaled log residuals, over each run's own residual.

    :param paused: {configuration: pauses of its runs}
    :param labels: {configuration: its outcome label}
    """
    by_label = collections.defaultdict(list)
    for key, values in paused.items():
        by_label[labels[key]].append(_log_residuals(values))
    ratios = []
    for residuals in by_label.values():
        res = np.concatenate(residuals)
        ratios.append(np.exp(np.quantile(res, coverage) - res))
    return float(np.median(np.concatenate(ratios)))


def _repeated(rows):
    """({configuration: pauses}, {configuration: total times},
    {configuration: label}) of the usable runs of the configurations
    run at least twice (pauses: of the runs that paused).
    """
    paused, total = (collections.defaultdict(list) for _ in range(2))
    labels = {}
    for r in rows:
        if lm.unusable(r) is not None:
            continue
        labels[configuration(r)] = r['label']
        total[configuration(r)].append(lm.measured_total(r))
        if r['outcome'] in lm.PAUSED_OUTCOMES:
            paused[configuration(r)].append(lm.measured_pause(r))
    return ({k: v for k, v in paused.items() if len(v) > 1},
            {k: v for k, v in total.items() if len(v) > 1}, labels)


def mixed_floor(rows, mix):
    """The pause floor of a model that knew each configuration's mean
    (:func:`_known_mean`), on another mix of outcome labels: the
    weighted median of the repeated runs' errors, each label's runs
    weighing as many runs as *mix* gives it. A label of *mix* with no
    repeated configuration drops out of the median. None when no label
    of *mix* repeats.

    :param mix: {label: paused runs}, e.g. the held-out runs' labels.
    """
    paused, _total, labels = _repeated(rows)
    errors = collections.defaultdict(list)
    for key, values in paused.items():
        errors[labels[key]].append(_known_mean(values))
    values, weights = [], []
    for label, parts in errors.items():
        part = np.concatenate(parts)
        values.append(part)
        weights.append(np.full(len(part), mix.get(label, 0) / len(part)))
    if not values or not np.concatenate(weights).sum() > 0:
        return None
    values, weights = np.concatenate(values), np.concatenate(weights)
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, cum[-1] / 2.0)])


def repeat_noise(rows):
    """How far runs of one configuration stray from each other.

    Over the usable runs of every configuration run at least twice (the
    ``repeat`` group's and any other): the median error of predicting a
    run by the mean of the configuration's other runs, for the pause
    (paused runs) and the total time; and per configuration, the largest
    pause over the median one. No model that takes only the
    configuration can do better than the first two on these runs, and a
    worst case that covers every run of a configuration stands at least
    the third above its median run. ``dt_known`` and ``tt_known`` are
    the floors of a model that knew each configuration's mean exactly
    (:func:`_known_mean`), ``ratio99`` the median bound / measured of a
    bound covering 99 % of each label's runs (:func:`ratio_floor`).
    None when no configuration repeats.
    """
    paused, total, labels = _repeated(rows)
    if not paused:
        return None
    return {
        'configurations': len(paused),
        'paused_runs': sum(len(v) for v in paused.values()),
        'dt': float(np.median(np.concatenate(
            [_leave_one_out(v) for v in paused.values()]))),
        'tt': float(np.median(np.concatenate(
            [_leave_one_out(v) for v in total.values()]))),
        'total_runs': sum(len(v) for v in total.values()),
        'spread': float(np.median([max(v) / max(np.median(v), 1.0)
                                   for v in paused.values()])),
        'dt_known': float(np.median(np.concatenate(
            [_known_mean(v) for v in paused.values()]))),
        'tt_known': float(np.median(np.concatenate(
            [_known_mean(v) for v in total.values()]))),
        'ratio99': ratio_floor(paused, labels),
    }


def format_noise(noise):
    if noise is None:
        return 'runs of one configuration: no configuration ran twice'
    return ('runs of one configuration (%(configurations)d configurations '
            'run 2+ times, %(paused_runs)d paused runs): predicted by the '
            'mean of the others, the pause misses by %(dt).1f %% and the '
            'total time (%(total_runs)d runs) by %(tt).1f %% (median); '
            'largest / median pause of a configuration: %(spread).2f '
            '(median); with each configuration\'s mean known exactly, '
            'the pause would miss by %(dt_known).1f %% and the total time '
            'by %(tt_known).1f %%, and a bound covering 99 %% of each '
            'label\'s runs would stand %(ratio99).2f times the run '
            '(median)' % noise)


def format_floor(noise):
    """'; repeats ...': one label's own noise floor ('' if none)."""
    if noise is None:
        return ''
    return ('; repeats pause %.2f %%, total %.2f %% (%d configurations, '
            '%d paused runs; mean known: pause %.2f %%, total %.2f %%, '
            '99 %% bound at %.2f)' % (
                noise['dt'], noise['tt'], noise['configurations'],
                noise['paused_runs'], noise['dt_known'], noise['tt_known'],
                noise['ratio99']))
