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

"""Learn a residuals file from a cloud's own history.

``qslm-nova calibrate --from-history FILE ... --residuals-out PATH``
joins the estimates the scheduler and the pre-check published with the
pauses the compute agents measured (:mod:`qslm_nova.history.join`) and
writes, with :func:`history_document`, the pause each migration really
had over the pause expected when it was decided, in the groups the
shipped file has (:mod:`qslm_nova.risk.learn`): per transport, regime
(of the estimate's pause on idle hosts and its migration time) and, from
``loaded_cpu_load`` on, load.
"""

import math
import os

from qslm_nova import estimator
from qslm_nova.risk import learn
from qslm_nova.risk import regimes
from qslm_nova.risk import residuals


def history_residuals(pairs, loaded_cpu_load=learn.LOADED_CPU_LOAD):
    """(:class:`Found`, pairs left out) of joined history pairs
    (:func:`qslm_nova.history.join.join`).

    A pair is left out when its end-to-end mechanism is none of the
    built-in ones (each has its groups: tunnelled and ipsec too, which
    the testbed did not run) or its expected pause is not positive. A
    pair whose estimate used a busier host's load of at least
    *loaded_cpu_load* runnable threads per CPU (None: none) is in its
    transport's ``@loaded`` groups; one whose estimate names no load is
    with the idle hosts' (whose bounds it can only widen).
    """
    out, skipped = learn.Found(), 0
    for pair in pairs:
        transport = residuals.transport_of(pair.estimate.get('mechanism'))
        try:
            expected = float(pair.estimate['expected_downtime_ms'])
            measured = float(pair.measured['downtime_ms'])
        except (KeyError, TypeError, ValueError, OverflowError):
            transport = None
        if transport is None or not expected > 0 or not measured >= 0:
            skipped += 1
            continue
        out.add(residuals.keyed(transport, _load(pair), loaded_cpu_load),
                expected, measured, _idle(pair, expected),
                pair.estimate.get('outcome'), _share(pair), _total_s(pair),
                _finite(pair.estimate, 'race_downtime_ms'))
    return out, skipped


def _finite(mapping, key):
    """float(mapping[key]) if it is a finite number, else None."""
    try:
        value = float(mapping[key])
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _inputs(pair):
    return pair.estimate.get('inputs') or {}


def _load(pair):
    """The busier host's load the pair's estimate used, 0 if unknown."""
    load = _finite(_inputs(pair), 'cpu_load')
    return 0.0 if load is None else load


def _share(pair):
    """The dirty share of the pair's estimate's inputs, or None."""
    inputs = _inputs(pair)
    rate = _finite(inputs, 'dirty_rate_mibps')
    bandwidth = _finite(inputs, 'bandwidth_gbps')
    if rate is None or bandwidth is None:
        return None
    share = float(residuals.dirty_share(rate, bandwidth))
    return share if math.isfinite(share) else None


def _total_s(pair):
    """The time the pair's estimate expected the migration to take (s),
    or None.
    """
    return _finite(pair.estimate, 'total_time_s')


def _idle(pair, expected):
    """The pair's expected pause as on idle hosts, or None (an estimate
    from before the inputs carried the pause's fixed part).
    """
    inputs = _inputs(pair)
    fixed = _finite(inputs, 'fixed_pause_ms')
    load = _finite(inputs, 'cpu_load')
    if fixed is None or load is None:
        return None
    return float(estimator.idle_pause_ms(expected, load, fixed))


def history_document(pairs, files,
                     loaded_cpu_load=learn.LOADED_CPU_LOAD):
    """(residuals document, pairs left out) of a cloud's history; the
    pairs of loaded hosts apart from *loaded_cpu_load* on (None: one
    pool), as the shipped file keeps them.
    """
    found, skipped = history_residuals(pairs, loaded_cpu_load)
    if not found:
        raise residuals.RiskDataError(
            'no migration of the history has a built-in mechanism end to '
            'end (none, tls, tunnelled, ipsec) and a positive expected '
            'pause')
    doc = {
        'what': 'measured pause / pause expected at decision time of the '
                'migrations of a cloud\'s history, per transport/regime',
        'command': 'qslm-nova calibrate --from-history ... --residuals-out',
        'history': [os.path.basename(f) for f in files],
        'short_pause_ms': regimes.SHORT_PAUSE_MS,
        'runs': sum(len(v) for v in found.values()),
        'groups': learn.groups_json(found),
        'dirty_share_max': learn.shares_json(found),
    }
    if loaded_cpu_load is not None:
        doc['loaded_cpu_load'] = loaded_cpu_load
    return doc, skipped
