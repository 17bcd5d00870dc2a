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

"""Map testbed measurements onto the estimator's inputs.

One CSV row of the campaign becomes one call of
:func:`qslm_nova.estimator.estimate` with the settings the run had: a
fixed QEMU downtime limit (one step, no delay, no completion timeout),
the emulated link's speed, and the run's mechanism with the fitted
per-mechanism throughput.
"""

import dataclasses
import math

import numpy as np

from qslm_nova import estimator
from qslm_nova import mechanisms

MIB = 1024.0 * 1024.0
# Transport of the testbed -> mechanism of the decision. The testbed's
# SSH tunnel stands for ``tunnelled`` (a relayed, encrypted stream; Nova
# has no ssh -L data path, see qslm_nova.mechanisms).
MECHANISM = {'tcp': 'none', 'tls': 'tls', 'ssh': 'tunnelled'}
LOOPBACK_RTT_MS = 0.05


@dataclasses.dataclass
class Fitted(object):
    """What the fit produces: model constants plus testbed facts."""

    params: estimator.ModelParams = dataclasses.field(
        default_factory=estimator.ModelParams)
    # Throughput cap per mechanism inside QEMU/sshd on this host, Gbit/s
    # (math.inf: never the bottleneck on the measured links).
    crypto_gbps_per_core: dict = dataclasses.field(default_factory=dict)
    # Data in socket/tunnel buffers at the stop, MiB, per transport.
    buffered_mb: dict = dataclasses.field(default_factory=dict)
    # Speed of the unshaped loopback "link" (runs with bandwidth 0).
    loopback_gbps: float = 10.0
    # Measured TCP goodput of each emulated link, Mbit/s, by nominal rate.
    link_goodput_mbps: dict = dataclasses.field(default_factory=dict)
    # Guest RAM that stays zero whatever the workload (firmware areas,
    # memory holes): QEMU's duplicate-page count of the fitting runs.
    zero_mib: float = 0.0
    holdout_repeat: int = 2
    downtime_source: str = 'e2e'
    fit_runs: int = 0
    fit_worst_coverage: float = float('nan')
    objective: float = float('nan')

    def to_json(self):
        d = dataclasses.asdict(self)
        d['params'] = dataclasses.asdict(self.params)
        d['crypto_gbps_per_core'] = {
            k: (None if not math.isfinite(v) else v)
            for k, v in self.crypto_gbps_per_core.items()}
        return d

    @classmethod
    def from_json(cls, d):
        d = dict(d)
        known = {f.name for f in dataclasses.fields(estimator.ModelParams)}
        params = estimator.ModelParams(**{k: v for k, v in
                                          d.pop('params', {}).items()
                                          if k in known})
        crypto = {k: (math.inf if v is None else float(v))
                  for k, v in d.pop('crypto_gbps_per_core', {}).items()}
        d.pop('ci_bounds', None)
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(params=params, crypto_gbps_per_core=crypto,
                   **{k: v for k, v in d.items() if k in fields})


def num(row, key, default=0.0):
    try:
        return float(row.get(key, ''))
    except (TypeError, ValueError):
        return default


def measured_downtime(row, source='e2e'):
    """The measured pause of a run, ms.

    :param source: 'e2e' (source STOP to destination RESUME, what the
        guest and its users see; the default, when the run has it) or
        'qemu' (query-migrate's downtime, which ends when the source has
        written its last byte).
    """
    if source == 'e2e':
        value = num(row, 'downtime_e2e_ms', -1.0)
        if value >= 0:
            return value
    return num(row, 'downtime_ms')


def goodput_mbps(row, table, default=0.0):
    """TCP goodput of the run's link, Mbit/s: the run's own measurement
    when it carries one, else *table*'s figure for its nominal speed
    (``{'%g' % Mbit/s: goodput}``), else *default*.
    """
    return num(row, 'link_goodput_mbps', 0.0) or float(
        table.get('%g' % num(row, 'bandwidth_mbps'), default))


def mechanism_for(transport, fitted):
    mech = mechanisms.BUILTIN[MECHANISM[transport]]
    crypto = fitted.crypto_gbps_per_core.get(transport)
    if crypto is not None:
        mech = dataclasses.replace(mech, crypto_gbps_per_core=crypto)
    buffered = fitted.buffered_mb.get(transport)
    if buffered is not None:
        mech = dataclasses.replace(mech, buffered_mb=buffered)
    return mech


def link_gbps(row, fitted):
    """Raw link speed, Gbit/s, as the estimator understands it.

    For a tc-shaped link, the speed whose payload share (after the
    estimator's frame overhead) equals the TCP goodput measured through
    it; for the unshaped loopback, the fitted loopback speed.
    """
    bw = num(row, 'bandwidth_mbps')
    if bw <= 0:
        return fitted.loopback_gbps
    if row.get('link', 'tc') == 'qemu-cap':
        return fitted.loopback_gbps
    p = fitted.params
    goodput = fitted.link_goodput_mbps.get('%g' % bw, bw)
    return goodput * (p.mss_bytes + p.frame_overhead_bytes) / (
        p.mss_bytes * 1000.0)


def nominal_link_gbps(row, fitted):
    """The link speed an operator would name (for the paper's bound)."""
    bw = num(row, 'bandwidth_mbps')
    return bw / 1000.0 if bw > 0 else fitted.loopback_gbps


def row_key(row):
    return (row['transport'], row.get('link', 'tc'),
            num(row, 'memory_mib'), num(row, 'touched_mib'),
            num(row, 'dirty_rate_mibps'), num(row, 'bandwidth_mbps'),
            num(row, 'downtime_limit_ms'), int(num(row, 'auto_converge')),
            int(num(row, 'postcopy')))


def touched_mb(row, fitted):
    """Non-zero guest memory (MiB) of a run.

    What the workload fills, less the areas that stay zero in every run.
    """
    touched = num(row, 'touched_mib') or num(row, 'memory_mib')
    return max(touched - fitted.zero_mib, 1.0)


def libvirt_for(row):
    cap = 0.0
    if row.get('link', 'tc') == 'qemu-cap' and num(row, 'bandwidth_mbps'):
        cap = num(row, 'bandwidth_mbps') * 1e6 / 8 / MIB
    return estimator.LibvirtSettings(
        downtime_ms=num(row, 'downtime_limit_ms'), downtime_steps=1,
        downtime_delay_s=0, completion_timeout_s=0, timeout_action='abort',
        permit_post_copy=bool(int(num(row, 'postcopy'))),
        permit_auto_converge=bool(int(num(row, 'auto_converge'))),
        bandwidth_mibps=cap)


def estimate_rows(rows, fitted, cache=None):
    """Per row: dict of expected/worst downtime (ms), total (ms), paper."""
    cache = {} if cache is None else cache
    out = []
    for row in rows:
        key = row_key(row)
        if key not in cache:
            est = estimator.estimate(
                memory_mb=num(row, 'memory_mib'),
                dirty_rate_mibps=num(row, 'dirty_rate_mibps'),
                bandwidth_gbps=np.array([link_gbps(row, fitted)]),
                rtt_ms=np.array([LOOPBACK_RTT_MS]),
                mechanism=mechanism_for(row['transport'], fitted),
                cpu_load=np.array([0.0]),
                libvirt=libvirt_for(row), params=fitted.params,
                touched_mb=touched_mb(row, fitted))
            paper = estimator.paper_worst_case_ms(
                num(row, 'memory_mib'),
                np.array([nominal_link_gbps(row, fitted)]), fitted.params)
            cache[key] = {
                'downtime_ms': float(est.expected_downtime_ms[0]),
                'worst_downtime_ms': float(est.worst_downtime_ms[0]),
                'total_ms': float(est.total_time_s[0]) * 1000.0,
                'outcome': est.outcome_name(0),
                'paper_ms': float(np.asarray(paper).ravel()[0]),
            }
        out.append(cache[key])
    return out
