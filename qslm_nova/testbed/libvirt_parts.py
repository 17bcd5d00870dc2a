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

"""Model constants taken from what the runs measured, not searched for.

Runs recorded since campaign 3 split the pause into QEMU's switch-over,
the stop-and-copy transfer and the destination's resume. On the fitting
runs that completed in pre-copy:

* the transfer, in bytes at the link's goodput, is a share of QEMU's
  threshold (goodput x the downtime limit in force) plus what each
  connection still held in its socket buffers: a least-squares fit with
  no negative term gives ``stop_share`` and one buffer per connection,
  the ``buffer:<transport>`` of every transport (TLS adds no more than
  a record to the kernel's buffers; two separate buffers fitted worse on
  the held-out runs);
* switch-over plus resume, per (1 + load per CPU), is the work of
  QEMU's and libvirt's threads: its median is ``fixed_down_ms``;
* libvirt's prepare (Nova's call to QEMU's start), per (1 + load), on
  every fitting run that timed it: its median is ``setup_ms``;
* how long after Nova's completion timeout the guest paused or switched
  to post-copy (Nova's next poll, then libvirt's job): its median over
  the fitting runs that ended so is ``timeout_action_s``;
* the cipher's cost per byte, from the CPU time of the destination's
  receiving thread (the side that binds on this testbed) in the runs
  over one connection: a gigabit costs that thread ``1 / tls`` seconds
  with TLS and ``1 / tcp`` without, the costs per byte add, so TLS's own
  throughput per core is ``crypto:tls = 1 / (1 / tls - 1 / tcp)`` (each
  the median over the fitting runs of its transport).

QEMU's check between send bursts (``iteration_ms``) would leave less
than the threshold; the measured transfers carry more, so it is 0 here.
"""

import itertools

import numpy as np

from qslm_nova.estimator import settings
from qslm_nova.testbed import model

num = model.num
#: The fewest runs of a transport timing the receiving thread that a
#: rate is read from.
MIN_TIMED = 5


def _goodput_mbytes(row, goodput):
    """The run's link goodput, MB/s (decimal, as the transfer is timed)."""
    return model.goodput_mbps(row, goodput) / 8.0


def split_runs(rows, goodput):
    """The completed runs that carry the pause's parts and a goodput."""
    return [r for r in rows
            if r.get('outcome') == 'completed' and r.get('transfer_ms')
            and r.get('limit_at_stop_ms') and _goodput_mbytes(r, goodput)]


def nonnegative_lstsq(x, y):
    """Least squares with no negative coefficient (every subset of the
    columns is tried: there are only a few).
    """
    best, best_err = np.zeros(x.shape[1]), float(np.sum(y ** 2))
    for k in range(1, x.shape[1] + 1):
        for cols in itertools.combinations(range(x.shape[1]), k):
            coef = np.linalg.lstsq(x[:, cols], y, rcond=None)[0]
            if (coef < 0).any():
                continue
            err = float(np.sum((x[:, cols] @ coef - y) ** 2))
            if err < best_err:
                best = np.zeros(x.shape[1])
                best[list(cols)] = coef
                best_err = err
    return best


def measured(rows, goodput, load_per_cpu):
    """{name: value} of the constants above (``stop_share``,
    ``iteration_ms``, ``buffer:<transport>``, ``fixed_down_ms``,
    ``setup_ms``, ``timeout_action_s``, ``crypto:tls``) from *rows*'
    pause parts and thread times, or {} when fewer than 5 runs carry the
    pause's parts (the fit then searches them; it searches each of the
    last three that fewer than 5 runs time).

    :param load_per_cpu: the run's load per CPU (a function of a row).
    """
    runs = split_runs(rows, goodput)
    if len(runs) < 5:
        return {}
    x, y = [], []
    for r in runs:
        rate = _goodput_mbytes(r, goodput)
        x.append([rate * num(r, 'limit_at_stop_ms') / 1000.0,
                  max(int(num(r, 'parallel', 1)), 1)])
        y.append(rate * num(r, 'transfer_ms') / 1000.0)
    share, per_connection = nonnegative_lstsq(np.array(x), np.array(y))
    values = {'stop_share': float(share), 'iteration_ms': 0.0}
    # The buffers are the kernel's socket buffers: TLS adds a record.
    for t in sorted({r['transport'] for r in runs}):
        values['buffer:%s' % t] = float(per_connection) * 1e6 / 2.0 ** 20
    fixed = [(num(r, 'switchover_ms') + num(r, 'resume_ms')) /
             (1.0 + max(load_per_cpu(r), 0.0)) for r in runs]
    values['fixed_down_ms'] = float(np.median(fixed))
    started = [num(r, 'qemu_start_s') * 1000.0 /
               (1.0 + max(load_per_cpu(r), 0.0)) for r in rows
               if r.get('qemu_start_s') not in (None, '')]
    if len(started) >= 5:
        values['setup_ms'] = float(np.median(started))
    lags = [v for v in map(action_lag_s, rows) if v is not None]
    if len(lags) >= 5:
        values['timeout_action_s'] = float(np.median(lags))
    cipher = cipher_gbps(rows)
    if cipher is not None:
        values['crypto:tls'] = cipher
    return values


def receive_gbps(row):
    """Gbit the destination's receiving thread took per CPU second in
    *row*: a run over one connection that times that thread, else None.
    """
    cpu_s = num(row, 'dst_recv_run_s', 0.0)
    sent = num(row, 'memory_processed', 0.0)
    if int(num(row, 'parallel', 1)) != 1 or cpu_s <= 0 or sent <= 0:
        return None
    return sent * 8e-9 / cpu_s


def receive_samples(rows):
    """{'tcp': [...], 'tls': [...]}: :func:`receive_gbps` of the *rows*
    of each transport that time the receiving thread.
    """
    return {t: [g for g in (receive_gbps(r) for r in rows
                            if r.get('transport') == t) if g]
            for t in ('tcp', 'tls')}


def tcp_gbps(rows):
    """The median :func:`receive_gbps` of *rows*' plain-TCP runs (Gbit
    per CPU second), or None when fewer than :data:`MIN_TIMED` time it.
    """
    found = receive_samples(rows)['tcp']
    return float(np.median(found)) if len(found) >= MIN_TIMED else None


def cipher_gbps(rows):
    """TLS's own Gbit/s per core from the receiving thread's CPU time
    (see the module's notes); inf when TLS costs that thread no more
    than TCP; None when fewer than :data:`MIN_TIMED` runs of either
    transport time it.
    """
    samples = receive_samples(rows)
    if any(len(found) < MIN_TIMED for found in samples.values()):
        return None
    per = {t: float(np.median(found)) for t, found in samples.items()}
    extra = 1.0 / per['tls'] - 1.0 / per['tcp']
    return 1.0 / extra if extra > 0 else float('inf')


def action_lag_s(row):
    """Seconds from Nova's completion timeout to the run's forced pause
    or post-copy switch (None when the row does not time it).
    """
    key = {'forced-pause': 'pause_at_s',
           'post-copy': 'postcopy_at_s'}.get(row.get('outcome'))
    at = num(row, key, -1.0) if key else -1.0
    timeout = num(row, 'nova_completion_timeout_s') * settings.data_gb(
        num(row, 'memory_mib'))
    if at < 0 or timeout <= 0:
        return None
    return at - timeout
