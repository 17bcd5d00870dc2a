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


def repeat_noise(rows):
    """How far runs of one configuration stray from each other.

    Over the usable runs of every configuration run at least twice (the
    ``repeat`` group's and any other): the median error of predicting a
    run by the mean of the configuration's other runs, for the pause
    (paused runs) and the total time; and per configuration, the largest
    pause over the median one. No model that takes only the
    configuration can do better than the first two on these runs, and a
    worst case that covers every run of a configuration stands at least
    the third above its median run. None when no configuration repeats.
    """
    paused, total = (collections.defaultdict(list) for _ in range(2))
    for r in rows:
        if lm.unusable(r) is not None:
            continue
        total[configuration(r)].append(lm.measured_total(r))
        if r['outcome'] in lm.PAUSED_OUTCOMES:
            paused[configuration(r)].append(lm.measured_pause(r))
    paused = {k: v for k, v in paused.items() if len(v) > 1}
    total = {k: v for k, v in total.items() if len(v) > 1}
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
    }


def format_noise(noise):
    if noise is None:
        return 'runs of one configuration: no configuration ran twice'
    return ('runs of one configuration (%(configurations)d configurations '
            'run 2+ times, %(paused_runs)d paused runs): predicted by the '
            'mean of the others, the pause misses by %(dt).1f %% and the '
            'total time (%(total_runs)d runs) by %(tt).1f %% (median); '
            'largest / median pause of a configuration: %(spread).2f '
            '(median)' % noise)


def format_floor(noise):
    """'; repeats ...': one label's own noise floor ('' if none)."""
    if noise is None:
        return ''
    return ('; repeats pause %.2f %%, total %.2f %% (%d configurations, '
            '%d paused runs)' % (noise['dt'], noise['tt'],
                                 noise['configurations'],
                                 noise['paused_runs']))
