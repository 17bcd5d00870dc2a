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

"""The estimate of every candidate of one request, and the paper's bound.
"""

import dataclasses

import numpy as np

from qslm_nova.estimator import columns as columns_mod
from qslm_nova.estimator import outcomes
from qslm_nova.estimator import precopy

MIB = columns_mod.MIB
Outcome = outcomes.Outcome


@dataclasses.dataclass
class Estimate:
    """Per-candidate results; every field is a numpy array."""

    expected_downtime_ms: np.ndarray
    worst_downtime_ms: np.ndarray
    total_time_s: np.ndarray
    worst_total_time_s: np.ndarray
    bytes_sent: np.ndarray
    rate_mibps: np.ndarray
    outcome: np.ndarray          # Outcome numbers (expected case)
    worst_outcome: np.ndarray    # Outcome numbers (worst case)
    rounds: np.ndarray
    # The expected pause had Nova's first downtime step landed late
    # (ModelParams.late_first_step_s; QEMU's own limit until then), for
    # a migration expected to complete before then, or before
    # ModelParams.race_reach_s, the same step on the clock of a run
    # faster than expected; else the expected pause. Never under it.
    race_downtime_ms: np.ndarray = None

    def outcome_name(self, i, worst=False):
        return Outcome(int((self.worst_outcome if worst
                            else self.outcome)[i])).label


def simulate(memory_mb, touched_mb, dirty_Bps, rate, stop_rate, rtt_s,
             mechanism, libvirt, params, disk_gb, bound, load, buffered_mb,
             working_mb=None, first_step_at=0.0):
    """Run the pre-copy model (:class:`precopy.PreCopyRun`) once."""
    return precopy.PreCopyRun(memory_mb, touched_mb, dirty_Bps, rate,
                              stop_rate, rtt_s, mechanism, libvirt, params,
                              disk_gb, bound, load, buffered_mb,
                              working_mb, first_step_at).run()


def _race(exp, memory_mb, touched, dirty, sim, libvirt, params, disk_gb,
          working_mb):
    """The expected pause (ms) of each column had Nova's first step
    landed late, QEMU's own limit holding until then: run again, for the
    columns expected to complete before ``late_first_step_s`` with the
    step at that time, and for those expected to complete before
    ``race_reach_s`` (a run faster than the model expects may still end
    before the step lands) with the step at ``race_reach_s`` on the
    model's clock. The others keep their expected pause.

    :param exp: the expected run's results; :param sim: the columns'
        (rate, stop rate, rtt, mechanism, load, buffered).
    """
    downtime = exp[0]
    out = downtime.copy()
    completed = exp[3] == Outcome.COMPLETED
    late, reach = params.late_first_step_s, params.race_reach_s
    for pick, step_at in (
            (np.flatnonzero(completed & (exp[1] < late)), late),
            (np.flatnonzero(completed & (exp[1] >= late) & (exp[1] < reach)),
             reach)):
        if len(pick):
            raced = _raced(pick, step_at, memory_mb, touched, dirty, sim,
                           libvirt, params, disk_gb, working_mb)
            done = raced[3] == Outcome.COMPLETED
            out[pick[done]] = np.maximum(downtime[pick[done]],
                                         raced[0][done])
    return out


def _raced(pick, step_at, memory_mb, touched, dirty, sim, libvirt, params,
           disk_gb, working_mb):
    """The run of columns *pick* with Nova's first step at *step_at*."""
    rate, stop, rtt, mech, load, buf = sim
    if isinstance(mech, columns_mod.MechanismColumns):
        mech = mech.take(pick)
    return simulate(memory_mb, touched, np.full(len(pick), dirty),
                    rate[pick], stop[pick], rtt[pick], mech, libvirt,
                    params, disk_gb, bound=np.zeros(len(pick), dtype=bool),
                    load=load[pick], buffered_mb=buf[pick],
                    working_mb=working_mb, first_step_at=step_at)


def estimate(memory_mb, dirty_rate_mibps, bandwidth_gbps, rtt_ms,
             mechanism, cpu_load, libvirt, params, touched_mb=None,
             disk_gb=0.0, streams=None, working_set_mb=None):
    """Estimate downtime and total time for every candidate at once.

    :param memory_mb: guest RAM (MiB).
    :param dirty_rate_mibps: expected dirtying rate (MiB/s).
    :param bandwidth_gbps: available path bandwidth per candidate (Gbit/s).
    :param rtt_ms: round-trip time per candidate (ms).
    :param mechanism: a :class:`qslm_nova.mechanisms.Mechanism`, or a
        :class:`MechanismColumns` with one mechanism per candidate.
    :param cpu_load: load per CPU of the busier host per candidate:
        runnable threads per CPU (the load average over the CPU count;
        below 1, about the CPUs' busy share). The migration stream gets
        1 / (1 + load) of a core and libvirt's prepare takes 1 + load
        times as long as on an idle host.
    :param touched_mb: non-zero guest memory (MiB); default all of it.
    :param working_set_mb: the memory the guest keeps writing (MiB);
        default all it touched. What one round leaves dirty, and so what
        Nova's forced pause or post-copy still moves, is at most this.
    :param disk_gb: disk copied by a block migration (GiB); it only
        scales Nova's step delay and timeout here.
    :param streams: connections per candidate (or one number), default
        ``libvirt.parallel_connections``; see
        :func:`columns.effective_rate`.
    """
    bw = np.atleast_1d(np.asarray(bandwidth_gbps, dtype=float))
    rtt = np.broadcast_to(np.asarray(rtt_ms, dtype=float), bw.shape)
    load = np.broadcast_to(np.asarray(cpu_load, dtype=float), bw.shape)
    touched = memory_mb if touched_mb is None else min(touched_mb,
                                                       memory_mb)
    if streams is not None:
        streams = np.broadcast_to(np.asarray(streams, dtype=float), bw.shape)
    buffered = columns_mod.buffered_mb(mechanism, libvirt, streams, bw.shape)
    rate, stop_rate = _rates(bw, rtt, mechanism, load, libvirt, params,
                             streams)
    rtt_s = rtt / 1000.0
    dirty = max(dirty_rate_mibps, 0.0) * MIB
    inputs = (rate, stop_rate, rtt_s, mechanism, load, buffered)
    distinct = columns_mod.distinct_inputs(*inputs)
    columns = inputs if distinct is None else _distinct(inputs, distinct)
    sim_rate, sim_stop, sim_rtt, sim_mech, sim_load, sim_buf = columns
    # The expected and the worst-case run of every column, side by side
    # in one simulation (the model's loop costs mostly per round).
    m = sim_rate.shape[0]
    wf = params.worst_bandwidth_factor
    if isinstance(sim_mech, columns_mod.MechanismColumns):
        sim_mech = sim_mech.take(np.concatenate((np.arange(m),) * 2))
    both = simulate(
        memory_mb, touched,
        np.repeat([dirty, dirty * params.worst_dirty_factor], m),
        np.concatenate((sim_rate, np.maximum(sim_rate * wf, 1.0))),
        np.concatenate((sim_stop, np.maximum(sim_stop * wf, 1.0))),
        np.concatenate((sim_rtt, sim_rtt)), sim_mech, libvirt, params,
        disk_gb, bound=np.repeat([False, True], m),
        load=np.concatenate((sim_load, sim_load)),
        buffered_mb=np.concatenate((sim_buf, sim_buf)),
        working_mb=working_set_mb)
    exp = [a[:m] for a in both]
    worst = [a[m:] for a in both]
    exp.append(_race(exp, memory_mb, touched, dirty, columns, libvirt,
                     params, disk_gb, working_set_mb))
    if distinct is not None:
        exp = [a[distinct[1]] for a in exp]
        worst = [a[distinct[1]] for a in worst]
    return Estimate(expected_downtime_ms=exp[0],
                    worst_downtime_ms=np.maximum(worst[0], exp[0]),
                    total_time_s=exp[1],
                    worst_total_time_s=np.maximum(worst[1], exp[1]),
                    bytes_sent=exp[2],
                    rate_mibps=rate / MIB,
                    outcome=exp[3],
                    worst_outcome=worst[3],
                    rounds=exp[4],
                    race_downtime_ms=exp[5])


def _distinct(inputs, distinct):
    """The per-column inputs (rate, stop rate, rtt, mechanism, load,
    buffered) of the distinct columns (``columns.distinct_inputs``).
    """
    pick, _inverse, mech = distinct
    rate, stop_rate, rtt_s, _mechanism, load, buffered = inputs
    return (rate[pick], stop_rate[pick], rtt_s[pick], mech, load[pick],
            buffered[pick])


def idle_pause_ms(expected_ms, cpu_load, fixed_ms):
    """The expected pause as it would be on idle hosts.

    The load stretches the pause's fixed part (``fixed_ms``, the idle
    ``confirmation_ms`` + ``activation_ms``) by 1 + load; this takes the
    stretch off. The residuals' regimes are of such pauses: the testbed
    learnt them on idle hosts.
    """
    expected = np.asarray(expected_ms, dtype=float)
    return np.maximum(expected - fixed_ms * np.maximum(
        np.asarray(cpu_load, dtype=float), 0.0), 0.0)


def _rates(bw, rtt, mechanism, load, libvirt, params, streams):
    """(pre-copy rate, stop-and-copy rate), bytes/s per candidate."""
    rate = np.maximum(columns_mod.effective_rate(
        bw, rtt, mechanism, load, libvirt, params, streams), 1.0)
    if not libvirt.bandwidth_mibps:
        return rate, rate
    # QEMU lifts the bandwidth cap for the stop-and-copy.
    uncapped = dataclasses.replace(libvirt, bandwidth_mibps=0)
    return rate, np.maximum(columns_mod.effective_rate(
        bw, rtt, mechanism, load, uncapped, params, streams), rate)


def paper_worst_case_ms(memory_mb, bandwidth_gbps, params, rate_mibps=None):
    """The paper's bound: VMSize / LinkSpeed + confirmation + activation.

    :param rate_mibps: evaluate it at this rate (MiB/s) instead of the raw
        link speed ``bandwidth_gbps``.
    """
    if rate_mibps is not None:
        rate = np.asarray(rate_mibps, dtype=float) * MIB
    else:
        rate = np.asarray(bandwidth_gbps, dtype=float) * 1e9 / 8.0
    return memory_mb * MIB / rate * 1000.0 + params.fixed_pause_ms
