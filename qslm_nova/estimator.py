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
  during the previous one. QEMU keeps comparing what is left (the unsent
  part of the round plus what was dirtied since) with its bandwidth
  estimate times the downtime limit, and stops the guest as soon as it
  fits, inside a round too. It compares between send bursts of up to
  ``iteration_ms`` (QEMU's 50 ms), so it notices the crossing on average
  half a burst late: the pause carries that threshold (``stop_share`` of
  rate x limit) less half a burst, plus the device state and what the
  transport still buffers (``buffered_mb``), at the uncapped rate (QEMU
  lifts ``max-bandwidth`` for the stop-and-copy). QEMU's first bandwidth
  sample (``first_sample_ms`` in) also counts the data that filled the
  transport's buffers: a guest with little left by then stops at once,
  with more left than later samples would allow (small guests on fast
  links pause longer than larger ones, as the testbed measures).
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
the bandwidth, ``worst_stop_share`` of the threshold left for the pause
and ``worst_extra_ms`` of host jitter; when that run would be aborted it
still bounds a late completion at the largest limit reached. The testbed
(``qslm_nova/testbed``) fits these constants to real migrations. The
paper's bound (VMSize / LinkSpeed + confirmation + activation) is kept as
:func:`paper_worst_case_ms` for comparison.
"""

import dataclasses

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
    # QEMU's bandwidth estimate runs high, so the data it leaves for the
    # stop-and-copy is this many times rate x limit (expected, worst).
    stop_share: float = 1.0
    worst_stop_share: float = 1.75
    # Added to the worst-case pause: scheduling jitter of loaded hosts.
    worst_extra_ms: float = 50.0
    # QEMU checks what is left between send bursts of up to this long
    # (its MAX_WAIT); a stop inside a round leaves on average half a burst
    # less than the threshold. 0: check continuously.
    iteration_ms: float = 50.0
    # QEMU sets no stop threshold before its first bandwidth sample, taken
    # this long into the migration (its BUFFER_DELAY); that sample also
    # counts the data that filled the transport's buffers, so it runs
    # high. 0: ignore.
    first_sample_ms: float = 100.0

    @classmethod
    def from_conf(cls, group):
        return cls(setup_ms=group.setup_ms,
                   confirmation_ms=group.confirmation_ms,
                   activation_ms=group.activation_ms,
                   device_state_mb=group.device_state_mb,
                   worst_dirty_factor=group.worst_dirty_factor,
                   worst_bandwidth_factor=group.worst_bandwidth_factor,
                   stop_share=group.stop_share,
                   worst_stop_share=group.worst_stop_share,
                   worst_extra_ms=group.worst_extra_ms,
                   iteration_ms=group.iteration_ms,
                   first_sample_ms=group.first_sample_ms)


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


class MechanismColumns:
    """The cost fields of one mechanism per candidate, as arrays.

    Lets one :func:`estimate` call cover candidates that use different
    mechanisms (each element is computed on its own, so the results equal
    one call per mechanism).
    """

    FIELDS = ('crypto_gbps_per_core', 'overhead_bytes_per_packet',
              'handshake_rtts', 'buffered_mb')

    def __init__(self, mechanisms):
        mechs = list(mechanisms)
        for name in self.FIELDS:
            setattr(self, name, np.array([getattr(m, name) for m in mechs],
                                         dtype=float))

    @classmethod
    def repeat(cls, mechanisms, counts):
        """``counts[k]`` columns of ``mechanisms[k]``, in that order."""
        return cls(mechanisms).take(np.repeat(np.arange(len(mechanisms)),
                                              counts))

    def take(self, index):
        """The columns at ``index``, as a new MechanismColumns."""
        cols = MechanismColumns(())
        for name in self.FIELDS:
            setattr(cols, name, getattr(self, name)[index])
        return cols


def effective_rate(bandwidth_gbps, rtt_ms, mechanism, cpu_load, libvirt,
                   params):
    """Migration payload rate in bytes/s per candidate.

    :param mechanism: a Mechanism, or a :class:`MechanismColumns`.
    """
    bw = np.asarray(bandwidth_gbps, dtype=float) * 1e9 / 8.0
    payload = params.mss_bytes / (params.mss_bytes +
                                  params.frame_overhead_bytes +
                                  mechanism.overhead_bytes_per_packet)
    rate = bw * payload
    crypto = np.asarray(mechanism.crypto_gbps_per_core, dtype=float)
    if np.isfinite(crypto).any():
        free = np.clip(1.0 - np.asarray(cpu_load, dtype=float), 0.05, 1.0)
        rate = np.where(np.isfinite(crypto), np.minimum(
            rate, crypto * 1e9 / 8.0 * free), rate)
    rtt_s = np.asarray(rtt_ms, dtype=float) / 1000.0
    window = params.tcp_window_mb * MIB
    with np.errstate(divide='ignore'):
        rate = np.minimum(rate, np.where(rtt_s > 0, window / rtt_s, np.inf))
    if libvirt.bandwidth_mibps:
        rate = np.minimum(rate, libvirt.bandwidth_mibps * MIB)
    return rate


# Below this many columns, compacting (or merging equal inputs) costs
# more than it saves.
_COMPACT_MIN = 64


def _distinct_inputs(rate, stop_rate, rtt_s, mechanism):
    """The columns with distinct model inputs, to simulate each once.

    Past the effective rate, a column's run depends only on its rates,
    RTT and the mechanism's handshake and buffer: thousands of candidates
    whose bandwidth or host load differ often share them (a cipher's
    limit, or the link, binds). Each element is simulated on its own, so
    spreading the distinct results back gives what every column would.

    :returns: (picked columns, the picked column of each column, the
        mechanism of the picked columns), or None when there are too few
        columns or repeats to be worth it.
    """
    n = rate.shape[0]
    if n < _COMPACT_MIN:
        return None
    keys = [rtt_s, stop_rate, rate]
    columns = isinstance(mechanism, MechanismColumns)
    if columns:
        keys = [mechanism.buffered_mb, mechanism.handshake_rtts] + keys
    order = np.lexsort(keys)
    new = np.zeros(n, dtype=bool)
    for key in keys:
        k = key[order]
        new[1:] |= k[1:] != k[:-1]
    new[0] = True
    if np.count_nonzero(new) > n // 2:
        return None
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    pick = order[new]
    return pick, inverse, (mechanism.take(pick) if columns else mechanism)


def _simulate(memory_mb, touched_mb, dirty_Bps, rate, stop_rate, rtt_s,
              mechanism, libvirt, params, disk_gb, bound):
    """Run the pre-copy model for every candidate.

    QEMU compares what is left to send (the unsent part of the current
    round plus what the guest dirtied since) with ``rate x limit``
    continuously, not only between rounds, and stops the guest as soon as
    it fits, round 0 included. The stop-and-copy therefore carries about
    the whole threshold, or everything left if that is less.

    :param dirty_Bps: dirtying rate per column, bytes/s.
    :param rate: pre-copy rate, bytes/s (Nova's bandwidth cap applies).
    :param stop_rate: stop-and-copy rate, bytes/s (QEMU lifts the cap).
    :param bound: per column, True for a worst-case run
        (``worst_stop_share``, ``worst_extra_ms``, no early first stop).
        Expected and worst-case columns share one run of the loop.
    """
    n = rate.shape[0]
    steps = libvirt.steps(data_gb(memory_mb, disk_gb))
    step_t = np.array([s[0] for s in steps], dtype=float)
    step_v = np.array([s[1] for s in steps], dtype=float) / 1000.0
    timeout = libvirt.completion_timeout_s * data_gb(memory_mb, disk_gb)
    touched = touched_mb * MIB
    zero_pages = max(memory_mb - touched_mb, 0.0) * MIB / 4096.0
    # Device state and what sits in socket/tunnel buffers at the stop.
    tail = np.broadcast_to(
        (params.device_state_mb + mechanism.buffered_mb) * MIB, (n,))
    fixed = (params.confirmation_ms + params.activation_ms) / 1000.0
    share = np.where(bound, params.worst_stop_share, params.stop_share)
    fixed_down = np.where(bound, fixed + params.worst_extra_ms / 1000.0,
                          fixed)
    any_bound = bool(bound.any())
    expected = ~bound

    t = (params.setup_ms / 1000.0 + rtt_s * (1 + mechanism.handshake_rtts) +
         memory_mb * MIB / (params.scan_gibps * GIB))
    pending = np.full(n, touched + zero_pages * params.zero_page_bytes)
    sent = np.zeros(n)
    throttle = np.zeros(n)
    high = np.zeros(n, dtype=int)
    auto_converge = (libvirt.permit_auto_converge and
                     not libvirt.permit_post_copy)

    done = np.zeros(n, dtype=bool)
    outcome = np.full(n, COMPLETED)
    downtime = np.zeros(n)
    after = np.zeros(n)     # post-copy: time to pull the rest afterwards
    rounds = np.zeros(n, dtype=int)

    max_limit = step_v[-1]
    # By np.searchsorted(step_t, t, side='right'): the limit in force and
    # the time of the next step.
    limit_at = np.concatenate((step_v[:1], step_v))
    next_step_at = np.append(step_t, np.inf)

    def stop(mask, left, checked=False):
        mask = np.flatnonzero(mask)     # indexes faster than the mask
        if checked and params.iteration_ms > 0:
            # QEMU compares only between send bursts: it notices that
            # what is left fits on average half a burst (at most half of
            # what is left) later, with that much already sent. (The
            # worst case stops at the threshold itself.)
            if any_bound:
                exp = expected[mask]
                lm, part = mask[exp], left[exp]
            else:
                lm, part = mask, left
            late = 0.5 * np.minimum(
                part, rate[lm] * params.iteration_ms / 1000.0)
            sent[lm] += late
            t[lm] += late / rate[lm]
            if any_bound:
                left = left.copy()
                left[exp] = part - late
            else:
                left = left - late
        downtime[mask] = ((left + tail[mask]) / stop_rate[mask] +
                          fixed_down[mask])
        sent[mask] += left + tail[mask]
        done[mask] = True

    def timeout_action(mask):
        """Nova's completion-timeout action on the masked candidates."""
        if libvirt.timeout_action == 'abort':
            outcome[mask] = ABORTED
            downtime[mask] = 0.0
            worst = mask & bound
            if any_bound and worst.any():
                # Not a pause, but the worst case must still bound any run
                # of the envelope that completes before Nova aborts it: at
                # most the threshold of the limit reached by the timeout.
                reached = limit_at[np.searchsorted(step_t, t[worst],
                                                   side='right')]
                downtime[worst] = ((rate[worst] * reached * share[worst] +
                                    tail[worst]) /
                                   stop_rate[worst] + fixed_down[worst])
        elif libvirt.permit_post_copy:
            # The guest moves at once; its remaining pages follow on
            # demand: what one pass over memory leaves dirty.
            outcome[mask] = POST_COPY
            downtime[mask] = (tail[mask] / stop_rate[mask] + rtt_s[mask] +
                              fixed_down[mask])
            after[mask] = np.minimum(
                touched, dirty_Bps[mask] * touched / rate[mask]) / rate[mask]
            sent[mask] += pending[mask]
        else:
            outcome[mask] = FORCED_PAUSE
            downtime[mask] = ((pending[mask] + tail[mask]) /
                              stop_rate[mask] +
                              fixed_down[mask])
        done[mask] = True

    def next_event(at, nxt=None):
        """Time of the next downtime step or of the timeout."""
        if nxt is None:
            nxt = np.searchsorted(step_t, at, side='right')
        event = next_step_at[nxt]
        if timeout > 0:
            event = np.minimum(event, np.where(at < timeout, timeout,
                                               np.inf))
        return event

    if params.first_sample_ms > 0 and not bound.all():
        # The first threshold QEMU computes: rate plus the buffer fill
        # over the first sample. A guest with little left by then stops
        # at once, with more left than the steady threshold would allow.
        first = params.first_sample_ms / 1000.0
        buf = mechanism.buffered_mb * MIB
        moved = np.minimum(pending, rate * first + buf)
        rest = pending - moved
        dirtied = np.minimum(dirty_Bps * first, touched) * moved / np.maximum(
            pending, 1.0)
        thr1 = (rate + buf / first) * step_v[0] * share
        early = (rest > 0) & (rest + dirtied <= thr1) & expected
        if early.any():
            t[early] += first
            sent[early] += moved[early]
            stop(early, rest[early] + dirtied[early])

    # Columns still running, by their number in the caller's arrays; the
    # finished ones move out to ``out`` so that later rounds work on the
    # stragglers only (the same element-wise arithmetic, fewer columns).
    cols = np.arange(n)
    out = [np.zeros(n), np.zeros(n), np.zeros(n), np.full(n, COMPLETED),
           np.zeros(n), np.zeros(n, dtype=int)]
    for _ in range(params.max_rounds):
        active = ~done
        nact = np.count_nonzero(active)
        if not nact:
            break
        if nact <= len(active) // 2 and len(active) >= _COMPACT_MIN:
            gone = cols[done]
            for arr, part in zip(out, (t, sent, downtime, outcome, after,
                                       rounds)):
                arr[gone] = part[done]
            cols = cols[active]
            (rate, stop_rate, rtt_s, tail, t, pending, sent, throttle, high,
             outcome, downtime, after, rounds, dirty_Bps, share, fixed_down,
             bound, expected) = (
                x[active] for x in (rate, stop_rate, rtt_s, tail, t,
                                    pending, sent, throttle, high, outcome,
                                    downtime, after, rounds, dirty_Bps,
                                    share, fixed_down, bound, expected))
            any_bound = bool(bound.any())
            done = np.zeros(nact, dtype=bool)
            active = ~done
        if timeout > 0:
            late = active & (t >= timeout)
            if late.any():
                timeout_action(late)
                active = ~done
                if not active.any():
                    break
        nxt = np.searchsorted(step_t, t, side='right')
        limit = limit_at[nxt]
        if auto_converge:
            # A throttled guest is judged at Nova's largest limit: a hotter
            # guest then never expects a shorter pause than a cooler one.
            # (The worst case keeps the limit in force.)
            limit = np.where((throttle > 0) & expected, max_limit, limit)
        # QEMU's threshold in bytes: its (high) bandwidth estimate x limit.
        thr = rate * limit * share
        fits = active & (pending <= thr)
        if fits.any():
            stop(fits, pending[fits], checked=True)
            active = ~done
        dirty_now = dirty_Bps * (1.0 - throttle)
        dur = pending / rate
        # Within a round what is left (unsent + dirtied since) falls by
        # (rate - dirty) per second; it meets the threshold after tau.
        net = rate - dirty_now
        with np.errstate(divide='ignore', invalid='ignore'):
            tau = np.where(net > 0, (pending - thr) / net, np.inf)
        # (t is unchanged for the columns still active.)
        event = next_event(t, nxt)
        inside = active & (tau <= dur) & (t + tau <= event)
        if inside.any():
            sent[inside] += rate[inside] * tau[inside]
            t[inside] += tau[inside]
            stop(inside, thr[inside], checked=True)
            active = ~done
        # A step or the timeout comes first, within this round: go there
        # (a larger limit, or Nova's timeout action, applies from then).
        cross = active & (event - t < dur)
        if cross.any():
            span = event[cross] - t[cross]
            sent[cross] += rate[cross] * span
            pending[cross] = np.minimum(pending[cross] - net[cross] * span,
                                        touched)
            t[cross] = event[cross]
            active = active & ~cross
        if not auto_converge:
            # Slow geometric convergence (each round leaves 80-99.9 % of
            # the previous one) would take hundreds of rounds: skip whole
            # rounds in closed form up to where QEMU can stop inside a
            # round, or up to the next event.
            ratio = dirty_now / rate
            slow = active & (ratio > 0.8) & (ratio < 0.999)
            if slow.any():
                big, r_, rr = pending[slow], rate[slow], ratio[slow]
                k_conv = np.floor(np.log(thr[slow] / (rr * big)) /
                                  np.log(rr))
                room = 1.0 - (event[slow] - t[slow]) * r_ * (1.0 - rr) / big
                with np.errstate(divide='ignore', invalid='ignore'):
                    k_fit = np.where(room > 0, np.floor(
                        np.log(np.maximum(room, 1e-300)) / np.log(rr)),
                        np.inf)
                k = np.minimum(k_conv, k_fit)
                go = k >= 1.0
                idx = np.nonzero(slow)[0][go]
                k, big, r_, rr = k[go], big[go], r_[go], rr[go]
                moved = big * (1.0 - rr ** k) / (1.0 - rr)
                t[idx] += moved / r_
                sent[idx] += moved
                pending[idx] = big * rr ** k
                rounds[idx] += k.astype(int)
                active[idx] = False
        # A whole round for the rest.
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
        if stuck.any():
            # No progress at this limit: nothing changes until Nova raises
            # the limit (or the timeout hits), so jump there while QEMU
            # keeps sending at full rate.
            nxt_t = next_event(t)
            hold = stuck
            if auto_converge:
                # Throttling may still bring it down.
                hold = hold & (throttle >= 0.99)
            jump = hold & np.isfinite(nxt_t)
            never = hold & ~np.isfinite(nxt_t) & ~done
            sent = np.where(jump, sent + rate * (nxt_t - t), sent)
            t = np.where(jump, nxt_t, t)
            outcome[never] = NO_CONVERGENCE
            downtime[never] = np.inf
            done |= never
    else:
        left = ~done
        outcome[left] = NO_CONVERGENCE
        downtime[left] = np.inf
    for arr, part in zip(out, (t, sent, downtime, outcome, after, rounds)):
        arr[cols] = part
    t, sent, downtime, outcome, after, rounds = out
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
    :param mechanism: a :class:`qslm_nova.mechanisms.Mechanism`, or a
        :class:`MechanismColumns` with one mechanism per candidate.
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
    rate = np.maximum(
        effective_rate(bw, rtt, mechanism, load, libvirt, params), 1.0)
    stop_rate = rate
    if libvirt.bandwidth_mibps:
        # QEMU lifts the bandwidth cap for the stop-and-copy.
        uncapped = dataclasses.replace(libvirt, bandwidth_mibps=0)
        stop_rate = np.maximum(
            effective_rate(bw, rtt, mechanism, load, uncapped, params), rate)
    rtt_s = rtt / 1000.0
    dirty = max(dirty_rate_mibps, 0.0) * MIB
    distinct = _distinct_inputs(rate, stop_rate, rtt_s, mechanism)
    if distinct is None:
        sim_rate, sim_stop, sim_rtt, sim_mech = (rate, stop_rate, rtt_s,
                                                 mechanism)
    else:
        pick, inverse, sim_mech = distinct
        sim_rate, sim_stop, sim_rtt = rate[pick], stop_rate[pick], rtt_s[pick]
    # The expected and the worst-case run of every column, side by side
    # in one simulation (the model's loop costs mostly per round).
    m = sim_rate.shape[0]
    wf = params.worst_bandwidth_factor
    if isinstance(sim_mech, MechanismColumns):
        sim_mech = sim_mech.take(np.concatenate((np.arange(m),) * 2))
    both = _simulate(
        memory_mb, touched,
        np.repeat([dirty, dirty * params.worst_dirty_factor], m),
        np.concatenate((sim_rate, np.maximum(sim_rate * wf, 1.0))),
        np.concatenate((sim_stop, np.maximum(sim_stop * wf, 1.0))),
        np.concatenate((sim_rtt, sim_rtt)), sim_mech, libvirt, params,
        disk_gb, bound=np.repeat([False, True], m))
    exp = [a[:m] for a in both]
    worst = [a[m:] for a in both]
    if distinct is not None:
        exp = [a[inverse] for a in exp]
        worst = [a[inverse] for a in worst]
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
