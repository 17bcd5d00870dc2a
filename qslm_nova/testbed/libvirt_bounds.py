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

"""What a bound learned from the fitting runs' residuals covers.

Beside the model's worst case, the report prints the other way to bound
the pause: the expected pause times the fitting runs' measured /
expected ratio at the conformal rank ``ceil((n + 1) c)`` for a
confidence ``c`` (as ``[qslm] sla_confidence`` does with the residuals
it ships). On the held-out runs, what it covers and how loose it is at
each confidence shows the trade-off between the worst-case targets.
"""

import numpy as np

from qslm_nova.risk import conformal
from qslm_nova.testbed import libvirt_model as lm

CONFIDENCES = (0.8, 0.9, 0.95, 0.99)


def ratios(rows, fitted):
    """Measured / expected pause of the paused *rows* (expected > 0)."""
    paused = [r for r in rows if r.get('outcome') in lm.PAUSED_OUTCOMES]
    ests = lm.estimate_rows(paused, fitted)
    return np.array([lm.measured_pause(r) / e['downtime_ms']
                     for r, e in zip(paused, ests) if e['downtime_ms'] > 0])


def tradeoff(train, held, fitted, confidences=CONFIDENCES):
    """[(confidence, factor, held-out covered, median bound/measured)]:
    factor is inf where the fit has too few runs for the confidence.
    """
    group = conformal.ResidualGroup('fit', np.sort(ratios(train, fitted)))
    held_r = ratios(held, fitted)
    out = []
    for c in confidences:
        factor = group.quantile(c)
        covered = float(np.mean(held_r <= factor)) if len(held_r) else \
            float('nan')
        loose = float(np.median(factor / np.maximum(held_r, 1e-9))) if \
            len(held_r) else float('nan')
        out.append((c, factor, covered, loose))
    return out


def report(train, held, fitted, out):
    out.append('the expected pause times the fitting runs\' measured / '
               'expected at conformal rank (confidence: factor, held-out '
               'pauses covered, median bound/measured):')
    for c, factor, covered, loose in tradeoff(train, held, fitted):
        out.append('  %-5g x%-6.2f covers %5.1f%%  at %.2f' % (
            c, factor, covered * 100, loose))
