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

"""The estimate's error by which host load it is given.

The model and its fit take runnable threads per CPU (the run's load
average over the CPUs). In the product the compute agent measures the
load; this table shows, on the same runs and with the same fit, what
each measure does to the estimate: the CPUs' busy share (what agents
published before, at most 1) and the larger of the busy share and the
load average per CPU (what they publish now). The runs' busy share is
over the run, the migration's own work included.
"""

import numpy as np

from qslm_nova.testbed import libvirt_model as lm


def busy_share(row):
    return min(lm.num(row, 'cpu_busy'), 1.0)


def agent_load(row):
    """What the compute agent publishes (qslm_nova.agent.cpuload)."""
    return max(lm.load_per_cpu(row), lm.num(row, 'cpu_busy'))


INPUTS = (
    ('load average / CPUs (the fit)', lm.load_per_cpu),
    ('busy share, at most 1 (old agent)', busy_share),
    ('larger of the two (agent)', agent_load),
)


def errors(rows, fitted, load_of):
    """Median % error of pause and total, worst-case pause coverage."""
    ests = lm.estimate_rows(rows, fitted, load_of=load_of)
    paused = [i for i, r in enumerate(rows)
              if r.get('outcome') in lm.PAUSED_OUTCOMES]
    measured = np.array([lm.measured_pause(rows[i]) for i in paused])
    expected = np.array([ests[i]['downtime_ms'] for i in paused])
    worst = np.array([ests[i]['worst_downtime_ms'] for i in paused])
    total = np.array([lm.measured_total(r) for r in rows])
    est_total = np.array([e['total_ms'] for e in ests])
    return {
        'dt': float(np.median(np.abs(expected - measured) /
                              np.maximum(measured, 1.0))) * 100.0,
        'tt': float(np.median(np.abs(est_total - total) /
                              np.maximum(total, 1.0))) * 100.0,
        'covered': float(np.mean(measured <= worst)) * 100.0,
    }


def report(groups, fitted, out):
    """Append the table for *groups*: (name, usable rows) pairs."""
    out.append('load input (same fit; pause and total: median abs. % '
               'error; cov: pause <= worst case)')
    for name, rows in groups:
        for band, pick in (('all', lambda r: True),
                           ('load/CPU <= 1', lambda r:
                            lm.load_per_cpu(r) <= 1.0),
                           ('load/CPU > 1', lambda r:
                            lm.load_per_cpu(r) > 1.0)):
            subset = [r for r in rows if pick(r)]
            if not subset:
                continue
            out.append('  %s, %s (%d runs):' % (name, band, len(subset)))
            for label, load_of in INPUTS:
                e = errors(subset, fitted, load_of)
                out.append('    %-34s pause %5.1f %%  total %5.1f %%  '
                           'cov %5.1f %%' % (label, e['dt'], e['tt'],
                                             e['covered']))
