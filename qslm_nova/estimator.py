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

"""Downtime and migration-time model of a libvirt/QEMU pre-copy migration.

The model follows what Nova's libvirt driver does, vectorised with numpy
over every candidate destination of one request:

* QEMU pre-copy: round 0 sends the guest's non-zero memory (zero pages
  cost only a marker), every later round sends what the guest dirtied
  during the previous one. QEMU stops the guest when the remaining data
  can be sent within the current downtime limit.
* Nova raises that limit stepwise (``[libvirt] live_migration_downtime``,
  ``_downtime_steps``, ``_downtime_delay``, scaled by the GiB to transfer,
  as in ``nova.virt.libvirt.migration.downtime_steps``).
* Nova aborts or forces a migration that runs past
  ``live_migration_completion_timeout`` (per GiB): ``force_complete``
  switches to post-copy when permitted, or pauses the guest.
* With auto-converge (only when post-copy is not permitted, as Nova
  does) QEMU throttles the guest CPU when it dirties memory faster than
  half the transfer rate: 20 % first, 10 % more per further round.
* The rate is the path's available bandwidth less frame and mechanism
  overhead, capped by the mechanism's crypto throughput on one core of
  the loaded hosts, by the TCP window over the round-trip time and by
  ``live_migration_bandwidth``.

The worst case runs the same model with the guest dirtying
``worst_dirty_factor`` times faster over ``worst_bandwidth_factor`` of
the bandwidth. The paper's bound (VMSize / LinkSpeed + confirmation +
activation) is kept as :func:`paper_worst_case_ms` for comparison.
"""

import dataclasses
import math

import numpy as np

MIB = 1024.0 * 1024.0
GIB = 1024.0 * MIB

OUTCOMES = ('completed', 'aborted', 'forced-pause', 'post-copy',
            'no-convergence')
COMPLETED, ABORTED, FORCED_PAUSE, POST_COPY, NO_CONVERGENCE = range(5)


@dataclasses.dataclass(frozen=True)
class LibvirtSettings:
    """The Nova [libvirt] live-migration settings the model follows.

    For a raw QEMU migration with a fixed downtime limit X ms, use
    ``downtime_ms=X, downtime_steps=1, downtime_delay_s=0``.
    """

    downtime_ms: float = 500.0
    downtime_steps: int = 10
    downtime_delay_s: float = 75.0
    completion_timeout_s: float = 800.0
    timeout_action: str = 'abort'
    permit_post_copy: bool = False
    permit_auto_converge: bool = False
    bandwidth_mibps: float = 0.0

    def steps(self, data_gb):
        """(start time s, downtime limit ms) pairs, as Nova computes them.

        Nova truncates both values to integers; so do we.
        """
        delay = int(self.downtime_delay_s * data_gb)
        base = self.downtime_ms / self.downtime_steps
        offset = (self.downtime_ms - base) / self.downtime_steps
        return [(int(delay * i), int(base + offset * i))
                for i in range(self.downtime_steps + 1)]

    @classmethod
    def from_conf(cls, group):
        return cls(
            downtime_ms=group.live_migration_downtime,
            downtime_steps=group.live_migration_downtime_steps,
            downtime_delay_s=group.live_migration_downtime_delay,
            completion_timeout_s=group.live_migration_completion_timeout,
            timeout_action=group.live_migration_timeout_action,
            permit_post_copy=group.live_migration_permit_post_copy,
            permit_auto_converge=group.live_migration_permit_auto_converge,
            bandwidth_mibps=group.live_migration_bandwidth)


@dataclasses.dataclass(frozen=True)
class ModelParams:
    """Constants of the model (see the [qslm] estimator options)."""

    setup_ms: float = 40.0
    confirmation_ms: float = 10.0
    activation_ms: float = 30.0
    device_state_mb: float = 1.0
    worst_dirty_factor: float = 2.0
    worst_bandwidth_factor: float = 0.7
    mss_bytes: float = 1448.0
    frame_overhead_bytes: float = 90.0
    zero_page_bytes: float = 16.0
    scan_gibps: float = 8.0
    tcp_window_mb: float = 6.0
    max_rounds: int = 200

    @classmethod
    def from_conf(cls, group):
        return cls(setup_ms=group.setup_ms,
                   confirmation_ms=group.confirmation_ms,
                   activation_ms=group.activation_ms,
                   device_state_mb=group.device_state_mb,
                   worst_dirty_factor=group.worst_dirty_factor,
                   worst_bandwidth_factor=group.worst_bandwidth_factor)


@dataclasses.dataclass
class Estimate:
    """Per-candidate results; every field is a numpy array."""

    expected_downtime_ms: np.ndarray
    worst_downtime_ms: np.ndarray
    total_time_s: np.ndarray
    worst_total_time_s: np.ndarray
    bytes_sent: np.ndarray
    rate_mibps: np.ndarray
    outcome: np.ndarray          # indices into OUTCOMES (expected case)
    worst_outcome: np.ndarray    # indices into OUTCOMES (worst case)
    rounds: np.ndarray

    def outcome_name(self, i, worst=False):
        return OUTCOMES[int((self.worst_outcome if worst
                             else self.outcome)[i])]


def data_gb(memory_mb, disk_gb=0.0):
    """GiB Nova scales its step delay and timeout by (RAM at least 2)."""
    return max(memory_mb / 1024.0, 2.0) + disk_gb


def effective_rate(bandwidth_gbps, rtt_ms, mechanism, cpu_load, libvirt,
                   params):
    """Migration payload rate in bytes/s per candidate."""
    bw = np.asarray(bandwidth_gbps, dtype=float) * 1e9 / 8.0
    payload = params.mss_bytes / (params.mss_bytes +
                                  params.frame_overhead_bytes +
                                  mechanism.overhead_bytes_per_packet)
    rate = bw * payload
    if math.isfinite(mechanism.crypto_gbps_per_core):
        free = np.clip(1.0 - np.asarray(cpu_load, dtype=float), 0.05, 1.0)
        rate = np.minimum(rate, mechanism.crypto_gbps_per_core * 1e9 / 8.0 *
                          free)
    rtt_s = np.asarray(rtt_ms, dtype=float) / 1000.0
    window = params.tcp_window_mb * MIB
    with np.errstate(divide='ignore'):
        rate = np.minimum(rate, np.where(rtt_s > 0, window / rtt_s, np.inf))
    if libvirt.bandwidth_mibps:
        rate = np.minimum(rate, libvirt.bandwidth_mibps * MIB)
    return rate


def stop_share(ratio):
    """Expected share of the threshold left to send at the stop.

    QEMU stops at the first round whose remaining data fits in
    ``rate x limit``. When each round leaves ``ratio`` (dirty rate / rate)
    of the previous one, that remainder falls anywhere in
    ``(ratio x threshold, threshold]``; taken as uniform in log space its
    mean is ``(1 - ratio) / ln(1 / ratio)`` of the threshold. This smooth
    mean (0 for an idle guest, 1 as the ratio nears 1) keeps the estimate
    monotone where the round-by-round remainder jumps about.
    """
    r = np.clip(np.asarray(ratio, dtype=float), 0.0, 1.0)
    out = np.ones_like(r)
    mid = (r > 1e-12) & (r < 1.0 - 1e-9)
    out[mid] = (1.0 - r[mid]) / np.log(1.0 / r[mid])
    out[r <= 1e-12] = 0.0
    return out


def _simulate(memory_mb, touched_mb, dirty_Bps, rate, rtt_s, mechanism,
              libvirt, params, disk_gb, bound):
    """Run the pre-copy model for every candidate.

    :param bound: True for the worst case: the data left at the stop is
        the whole threshold (QEMU's own bound), not its expected share.
    """
    n = rate.shape[0]
    steps = libvirt.steps(data_gb(memory_mb, disk_gb))
    step_t = np.array([s[0] for s in steps], dtype=float)
    step_v = np.array([s[1] for s in steps], dtype=float) / 1000.0
    timeout = libvirt.completion_timeout_s * data_gb(memory_mb, disk_gb)
    touched = touched_mb * MIB
    zero_pages = max(memory_mb - touched_mb, 0.0) * MIB / 4096.0
    state = params.device_state_mb * MIB
    fixed_down = (params.confirmation_ms + params.activation_ms) / 1000.0

    t = (params.setup_ms / 1000.0 +
         rtt_s * (1 + mechanism.handshake_rtts))
    round0 = touched + zero_pages * params.zero_page_bytes
    t = t + round0 / rate + memory_mb * MIB / (params.scan_gibps * GIB)
    sent = np.full(n, round0)
    # What the guest dirtied while round 0 was sent.
    pending = np.minimum(dirty_Bps * (round0 / rate), touched)
    first = pending.copy()
    throttle = np.zeros(n)
    high = np.zeros(n, dtype=int)
    auto_converge = (libvirt.permit_auto_converge and
                     not libvirt.permit_post_copy)

    done = np.zeros(n, dtype=bool)
    outcome = np.full(n, COMPLETED)
    downtime = np.zeros(n)
    after = np.zeros(n)     # post-copy: time to pull the rest afterwards
    rounds = np.ones(n, dtype=int)
    max_limit = step_v[-1]

    def timeout_action(mask):
        """Nova's completion-timeout action on the masked candidates."""
        if libvirt.timeout_action == 'abort':
            outcome[mask] = ABORTED
            downtime[mask] = 0.0
        elif libvirt.permit_post_copy:
            # The guest moves at once; its remaining pages follow on demand.
            outcome[mask] = POST_COPY
            downtime[mask] = (state / rate[mask] + rtt_s[mask] +
                              fixed_down)
            # What a full pass over memory leaves dirty: a steady-state
            # view that does not depend on where in a round the switch
            # fell.
            after[mask] = np.minimum(
                touched, dirty_Bps * touched / rate[mask]) / rate[mask]
            sent[mask] += pending[mask]
        else:
            outcome[mask] = FORCED_PAUSE
            downtime[mask] = ((pending[mask] + state) / rate[mask] +
                              fixed_down)
        done[mask] = True

    for _ in range(params.max_rounds):
        active = ~done
        if not active.any():
            break
        idx = np.searchsorted(step_t, t, side='right') - 1
        limit = step_v[np.clip(idx, 0, len(step_v) - 1)]
        conv = active & (pending <= rate * limit)
        if conv.any():
            lim = limit[conv]
            if bound:
                share = 1.0
            else:
                # The expected share follows the unthrottled ratio, and a
                # throttled guest is judged at Nova's largest limit: that
                # keeps the estimate monotone (a hotter guest is never
                # expected to pause for less) at some cost in precision.
                share = stop_share(dirty_Bps / rate[conv])
                if auto_converge:
                    lim = np.where(throttle[conv] > 0, max_limit, lim)
            left = np.minimum(first[conv], rate[conv] * lim * share)
            downtime[conv] = (left + state) / rate[conv] + fixed_down
        done |= conv
        active = ~done
        if timeout > 0:
            late = active & (t >= timeout)
            if late.any():
                timeout_action(late)
                active = ~done
        if not active.any():
            break
        dirty_now = dirty_Bps * (1.0 - throttle)
        if not auto_converge:
            # Slow geometric convergence (each round leaves 80-100 % of
            # the previous one) would take hundreds of rounds: jump over
            # whole rounds in closed form, up to convergence or the next
            # event (a downtime step, the timeout).
            ratio = dirty_now / rate
            slow = (active & (ratio > 0.8) & (ratio < 0.999) &
                    (pending < touched) & (pending > rate * limit))
            if slow.any():
                nxt = np.searchsorted(step_t, t[slow], side='right')
                event = np.where(nxt < len(step_t),
                                 step_t[np.clip(nxt, 0, len(step_t) - 1)],
                                 np.inf)
                if timeout > 0:
                    event = np.minimum(event, timeout)
                big, r_, rr = pending[slow], rate[slow], ratio[slow]
                k_conv = np.ceil(np.log(r_ * limit[slow] / big) /
                                 np.log(rr))
                room = 1.0 - (event - t[slow]) * r_ * (1.0 - rr) / big
                with np.errstate(divide='ignore', invalid='ignore'):
                    k_fit = np.where(room > 0, np.floor(
                        np.log(np.maximum(room, 1e-300)) / np.log(rr)),
                        np.inf)
                k = np.minimum(k_conv, k_fit)
                # Where not even one round fits before the event, the
                # ordinary round below handles it (and cuts at a timeout).
                go = k >= 1.0
                idx = np.nonzero(slow)[0][go]
                k, big, r_, rr = k[go], big[go], r_[go], rr[go]
                moved = big * (1.0 - rr ** k) / (1.0 - rr)
                t[idx] += moved / r_
                sent[idx] += moved
                pending[idx] = big * rr ** k
                rounds[idx] += k.astype(int)
                active[idx] = False
        # One more pre-copy round for the active candidates.
        dur = pending / rate
        if timeout > 0:
            # Nova checks the timeout every half second, not only between
            # rounds: a round that runs past it is cut at the timeout.
            cut = active & (t + dur > timeout)
            if cut.any():
                spent = np.maximum(timeout - t[cut], 0.0)
                sent[cut] += rate[cut] * spent
                pending[cut] = np.minimum(
                    pending[cut] - rate[cut] * spent +
                    dirty_now[cut] * spent, touched)
                t[cut] = timeout
                timeout_action(cut)
                active = active & ~done
        new_pending = np.minimum(dirty_now * dur, touched)
        stuck = active & (new_pending >= pending * 0.999)
        if auto_converge:
            hot = active & (new_pending > 0.5 * pending)
            high = np.where(hot, high + 1, 0)
            bump = hot & (high >= 2)
            throttle = np.where(bump & (throttle == 0), 0.2,
                                np.where(bump, np.minimum(throttle + 0.1,
                                                          0.99), throttle))
        t = np.where(active, t + dur, t)
        sent = np.where(active, sent + pending, sent)
        rounds = np.where(active, rounds + 1, rounds)
        pending = np.where(active, new_pending, pending)
        if not auto_converge and stuck.any():
            # No progress at this limit: nothing changes until Nova raises
            # the limit (or the timeout hits), so jump there while QEMU
            # keeps sending at full rate.
            nxt = np.searchsorted(step_t, t, side='right')
            nxt_t = np.where(nxt < len(step_t),
                             step_t[np.clip(nxt, 0, len(step_t) - 1)],
                             np.inf)
            if timeout > 0:
                nxt_t = np.minimum(nxt_t, timeout)
            jump = stuck & np.isfinite(nxt_t) & (nxt_t > t)
            never = stuck & ~np.isfinite(nxt_t)
            sent = np.where(jump, sent + rate * (nxt_t - t), sent)
            t = np.where(jump, np.maximum(nxt_t, t) + 1e-6, t)
            if timeout > 0:
                t = np.where(jump, np.minimum(t, timeout), t)
            outcome[never & ~done] = NO_CONVERGENCE
            downtime[never & ~done] = np.inf
            done |= never
    else:
        left = ~done
        outcome[left] = NO_CONVERGENCE
        downtime[left] = np.inf
    sent = sent + np.where(outcome == COMPLETED, pending + state, state)
    total = t + np.where(np.isfinite(downtime), downtime, 0.0) + after
    total = np.where(outcome == NO_CONVERGENCE, np.inf, total)
    return downtime * 1000.0, total, sent, outcome, rounds


def estimate(memory_mb, dirty_rate_mibps, bandwidth_gbps, rtt_ms,
             mechanism, cpu_load, libvirt, params, touched_mb=None,
             disk_gb=0.0):
    """Estimate downtime and total time for every candidate at once.

    :param memory_mb: guest RAM (MiB).
    :param dirty_rate_mibps: expected dirtying rate (MiB/s).
    :param bandwidth_gbps: available path bandwidth per candidate (Gbit/s).
    :param rtt_ms: round-trip time per candidate (ms).
    :param mechanism: a :class:`qslm_nova.mechanisms.Mechanism`.
    :param cpu_load: load (0..1) of the busier host per candidate.
    :param touched_mb: non-zero guest memory (MiB); default all of it.
    :param disk_gb: disk copied by a block migration (GiB); it only
        scales Nova's step delay and timeout here.
    """
    bw = np.atleast_1d(np.asarray(bandwidth_gbps, dtype=float))
    rtt = np.broadcast_to(np.asarray(rtt_ms, dtype=float), bw.shape)
    load = np.broadcast_to(np.asarray(cpu_load, dtype=float), bw.shape)
    touched = memory_mb if touched_mb is None else min(touched_mb,
                                                       memory_mb)
    rate = effective_rate(bw, rtt, mechanism, load, libvirt, params)
    rate = np.maximum(rate, 1.0)
    rtt_s = rtt / 1000.0
    dirty = max(dirty_rate_mibps, 0.0) * MIB
    exp = _simulate(memory_mb, touched, dirty, rate, rtt_s, mechanism,
                    libvirt, params, disk_gb, bound=False)
    worst_rate = np.maximum(rate * params.worst_bandwidth_factor, 1.0)
    worst = _simulate(memory_mb, touched,
                      dirty * params.worst_dirty_factor, worst_rate, rtt_s,
                      mechanism, libvirt, params, disk_gb, bound=True)
    return Estimate(expected_downtime_ms=exp[0],
                    worst_downtime_ms=np.maximum(worst[0], exp[0]),
                    total_time_s=exp[1],
                    worst_total_time_s=np.maximum(worst[1], exp[1]),
                    bytes_sent=exp[2],
                    rate_mibps=rate / MIB,
                    outcome=exp[3],
                    worst_outcome=worst[3],
                    rounds=exp[4])


def paper_worst_case_ms(memory_mb, bandwidth_gbps, params, rate_mibps=None):
    """The paper's bound: VMSize / LinkSpeed + confirmation + activation.

    :param rate_mibps: evaluate it at this rate (MiB/s) instead of the raw
        link speed ``bandwidth_gbps``.
    """
    if rate_mibps is not None:
        rate = np.asarray(rate_mibps, dtype=float) * MIB
    else:
        rate = np.asarray(bandwidth_gbps, dtype=float) * 1e9 / 8.0
    return (memory_mb * MIB / rate * 1000.0 + params.confirmation_ms +
            params.activation_ms)
