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

"""One run of the pre-copy model over many columns at once.

A column is one candidate's migration, expected or worst case. QEMU
compares what is left to send (the unsent part of the current round plus
what the guest dirtied since) with ``rate x limit`` continuously, not
only between rounds, and stops the guest as soon as it fits, round 0
included. The stop-and-copy therefore carries about the whole threshold,
or everything left if that is less.

:class:`PreCopyRun` walks all columns round by round; every step of a
round is a method named after what QEMU or Nova does in it (the ways a
column ends are in :mod:`.endings`). Columns that
finish leave the arrays once they are the majority, so that later rounds
work on the stragglers only (the same element-wise arithmetic, fewer
columns).

"""

import numpy as np

from qslm_nova.estimator import columns as columns_mod
from qslm_nova.estimator import endings
from qslm_nova.estimator import outcomes
from qslm_nova.estimator import settings as settings_mod

MIB = columns_mod.MIB
GIB = columns_mod.GIB
Outcome = outcomes.Outcome


class PreCopyRun(endings.ColumnEndings):
    """The pre-copy model for every column of one estimate.

    :param dirty_Bps: dirtying rate per column, bytes/s.
    :param rate: pre-copy rate, bytes/s (Nova's bandwidth cap applies).
    :param stop_rate: stop-and-copy rate, bytes/s (QEMU lifts the cap).
    :param bound: per column, True for a worst-case run
        (``worst_stop_share``, ``worst_extra_ms``, no early first stop,
        Nova's first step and timeout action late). Expected and
        worst-case columns share one run.
    :param load: per column, the load per CPU of the busier host: it
        stretches libvirt's prepare (``setup_ms``) and its part of the
        pause (``confirmation_ms``, ``activation_ms``).
    :param buffered_mb: per column, what the connections' buffers hold
        at the stop (MiB).
    :param working_mb: the memory the guest keeps writing (MiB; default
        all it touched): what a round leaves dirty is at most this.
    :param first_step_at: s until Nova's first step (QEMU's own limit).
    """

    # Per-column arrays; they leave the run together when columns finish.
    COLUMN_STATE = ('rate', 'stop_rate', 'rtt_s', 'tail', 'buffered', 't',
                    'pending', 'sent', 'throttle', 'high', 'outcome',
                    'downtime', 'after', 'rounds', 'dirty_Bps', 'share',
                    'fixed_down', 'bound', 'expected', 'left_on_time',
                    'period_at', 'period_sent', 'period_dirty',
                    'synced_at', 'cool', 'calls')
    # What a finished column keeps.
    RESULTS = ('t', 'sent', 'downtime', 'outcome', 'after', 'rounds')

    def __init__(self, memory_mb, touched_mb, dirty_Bps, rate, stop_rate,
                 rtt_s, mechanism, libvirt, params, disk_gb, bound, load,
                 buffered_mb, working_mb=None, first_step_at=0.0):
        n = rate.shape[0]
        self.params = params
        self.libvirt = libvirt
        self.schedule = settings_mod.StepSchedule(
            libvirt, settings_mod.data_gb(memory_mb, disk_gb), params,
            first_step_at)
        self.touched = touched_mb * MIB
        self.working = (self.touched if working_mb is None else
                        min(working_mb, touched_mb) * MIB)
        zero_pages = max(memory_mb - touched_mb, 0.0) * MIB / 4096.0
        self.mechanism = mechanism
        self.rate, self.stop_rate, self.rtt_s = rate, stop_rate, rtt_s
        self.dirty_Bps, self.bound = dirty_Bps, bound
        # Device state and what sits in socket/tunnel buffers at the stop.
        self.buffered = np.broadcast_to(buffered_mb, (n,)) * MIB
        self.tail = params.device_state_mb * MIB + self.buffered
        # libvirt's prepare (the destination QEMU's start) and its part of
        # the pause (QEMU's switch-over, the destination's resume) are
        # work of threads that wait for a core: 1 + load times longer.
        stretch = 1.0 + np.maximum(load, 0.0)
        fixed = stretch * params.fixed_pause_ms / 1000.0
        self.share = np.where(bound, params.worst_stop_share,
                              params.stop_share)
        self.fixed_down = np.where(
            bound, fixed + params.worst_extra_ms / 1000.0, fixed)
        self.any_bound = bool(bound.any())
        self.expected = ~bound
        self.t = (params.setup_ms / 1000.0 * stretch +
                  rtt_s * (1 + mechanism.handshake_rtts) +
                  memory_mb * MIB / (params.scan_gibps * GIB))
        self.pending = np.full(
            n, self.touched + zero_pages * params.zero_page_bytes)
        self.sent = np.zeros(n)
        self.throttle = np.zeros(n)
        self.high = np.zeros(n, dtype=int)
        # Auto-converge's measuring period: since when (QEMU's first
        # bitmap sync, at the start), what was sent before it, and what
        # the round ends since found dirty.
        self.period_at = self.t.copy()
        self.period_sent = np.zeros(n)
        self.period_dirty = np.zeros(n)
        self.synced_at = self.t.copy()
        self.cool = np.zeros(n, dtype=bool)
        self.calls = np.zeros(n, dtype=int)
        self.done = np.zeros(n, dtype=bool)
        self.outcome = np.full(n, Outcome.COMPLETED.value)
        self.downtime = np.zeros(n)
        self.after = np.zeros(n)  # post-copy: pulling the rest afterwards
        self.rounds = np.zeros(n, dtype=int)
        # What was left when Nova's timeout was due (-1: not yet): a
        # worst-case column's late forced pause carries at least that.
        self.left_on_time = np.full(n, -1.0)
        self.floor = self.first_interval_floor()
        # Columns still running, by their number in the caller's arrays;
        # finished ones move to ``finished``.
        self.columns = np.arange(n)
        self.finished = {'t': np.zeros(n), 'sent': np.zeros(n),
                         'downtime': np.zeros(n),
                         'outcome': np.full(n, Outcome.COMPLETED.value),
                         'after': np.zeros(n),
                         'rounds': np.zeros(n, dtype=int)}

    # -- the run --------------------------------------------------------
    def run(self):
        """Run every column to its end.

        :returns: (downtime ms, total s, bytes sent, outcome, rounds) per
            column.
        """
        self.first_sample_stop()
        while self.one_round():
            pass
        return self.results()

    def one_round(self):
        """One pre-copy round of every running column; False when none
        runs any more.
        """
        # A column still running after max_rounds calls does not
        # converge (calls that went to a forced sync do not count).
        over = ~self.done & (self.calls >= self.params.max_rounds)
        self.outcome[over] = Outcome.NO_CONVERGENCE
        self.downtime[over] = np.inf
        self.done |= over
        active = ~self.done
        running = np.count_nonzero(active)
        if not running:
            return False
        if (running <= len(active) // 2 and
                len(active) >= columns_mod.COMPACT_MIN):
            self.compact(active)
            active = ~self.done
        due = (active & (self.left_on_time < 0) &
               (self.t >= self.schedule.timeout_s))
        self.left_on_time[due] = self.pending[due]
        late = active & (self.t >= self.schedule.timeout(self.bound))
        if late.any():
            self.timeout_action(late)
            active = ~self.done
            if not active.any():
                return False
        self.calls += active
        index = self.schedule.index(self.t)
        threshold = self.stop_threshold(index)
        fits = active & (self.pending <= threshold)
        if fits.any():
            self.stop(fits, self.pending[fits], checked=True)
            active = ~self.done
        dirty_now = self.dirty_Bps * (1.0 - self.throttle)
        duration = self.pending / self.rate
        # Within a round what is left (unsent + dirtied since) falls by
        # (rate - dirty) per second.
        net = self.rate - dirty_now
        event = self.schedule.next_event(self.t, self.bound, index)
        if self.libvirt.auto_converge:
            forced = self.forced_sync_at()
            event = np.minimum(event, forced)
        active = self.stop_inside_round(active, threshold, net, duration,
                                        event)
        active, cross, again = self.go_to_event(active, net, duration,
                                                event)
        if self.libvirt.auto_converge:
            synced = cross & (event == forced)
            self.synced_at[synced] = self.t[synced]
            self.calls -= synced
            hot = self.throttle_at_sync(synced, again)
            self.cool |= synced & ~hot
        else:
            self.skip_converging_rounds(active, dirty_now, threshold,
                                        event)
        self.whole_round(active, dirty_now, duration)
        return True

    # -- the steps of a round -------------------------------------------
    def stop_threshold(self, index):
        """QEMU's threshold in bytes: its (high) bandwidth estimate x the
        downtime limit in force.
        """
        # A throttled guest too: it stops under the limit in force (on
        # QEMU 10 auto-converge runs paused at 0.35 of the largest
        # limit's expectation; libvirt-report-qemu10.txt).
        return self.rate * self.schedule.limit_at[index] * self.share

    def stop_inside_round(self, active, threshold, net, duration, event):
        """Stop the guest where what is left meets the threshold within
        this round, before the next step or the timeout.
        """
        with np.errstate(divide='ignore', invalid='ignore'):
            tau = np.where(net > 0, (self.pending - threshold) / net,
                           np.inf)
        inside = active & (tau <= duration) & (self.t + tau <= event)
        if not inside.any():
            return active
        self.sent[inside] += self.rate[inside] * tau[inside]
        self.t[inside] += tau[inside]
        self.stop(inside, threshold[inside], checked=True)
        return ~self.done

    def go_to_event(self, active, net, duration, event):
        """A step, the timeout or a forced sync comes first, within this
        round: go there (a larger limit, or Nova's timeout action, applies
        from then).

        :returns: (the columns still in their round, the columns that
            went to their event, per column what the guest dirtied again
            of the part already sent: what a sync there finds).
        """
        cross = active & (event - self.t < duration)
        found = np.zeros(len(cross))
        if not cross.any():
            return active, cross, found
        span = event[cross] - self.t[cross]
        self.sent[cross] += self.rate[cross] * span
        # What is left: the round's unsent part plus what the guest
        # dirtied again of the part already sent (at most the working
        # set's share of that part).
        pending = self.pending[cross]
        sent = np.minimum(self.rate[cross] * span, pending)
        dirtied = (self.rate[cross] - net[cross]) * span
        again = np.minimum(dirtied,
                           self.working * sent / np.maximum(pending, 1.0))
        self.pending[cross] = np.minimum(pending - sent + again,
                                         self.touched)
        self.t[cross] = event[cross]
        found[cross] = again
        return active & ~cross, cross, found

    def forced_sync_at(self):
        """When QEMU's timer forces a dirty-bitmap sync into a long pass
        (QEMU 9.2 and later, with auto-converge; inf: none).

        The timer ticks every ``auto_converge_sync_s`` and syncs at a
        tick when none happened since the tick before, so 1 to 2 ticks
        after the last sync: 1.5 on average, and never within a second
        of it (QEMU judges a period at most once a second, so a shorter
        tick would only add calls). Not in round 0; nor, until
        the pass ends, once a forced sync found the period cool or the
        throttle is at its top: the rest of the pass would judge alike
        and change nothing.
        """
        every = self.params.auto_converge_sync_s
        if every <= 0:
            return np.full(len(self.t), np.inf)
        return np.where((self.rounds >= 1) & ~self.cool &
                        (self.throttle < 0.99),
                        self.synced_at + max(1.5 * every, 1.001),
                        np.inf)

    def skip_converging_rounds(self, active, dirty_now, threshold, event):
        """Slow geometric convergence (each round leaves 80-99.9 % of the
        previous one) would take hundreds of rounds: skip whole rounds in
        closed form up to where QEMU can stop inside a round, or up to the
        next event. Skipped columns leave ``active`` (in place).
        """
        ratio = dirty_now / self.rate
        slow = active & (ratio > 0.8) & (ratio < 0.999)
        if not slow.any():
            return
        big, rate, rr = self.pending[slow], self.rate[slow], ratio[slow]
        k_conv = np.floor(np.log(threshold[slow] / (rr * big)) / np.log(rr))
        room = 1.0 - (event[slow] - self.t[slow]) * rate * (1.0 - rr) / big
        with np.errstate(divide='ignore', invalid='ignore'):
            k_fit = np.where(room > 0, np.floor(
                np.log(np.maximum(room, 1e-300)) / np.log(rr)), np.inf)
        k = np.minimum(k_conv, k_fit)
        go = k >= 1.0
        idx = np.nonzero(slow)[0][go]
        k, big, rate, rr = k[go], big[go], rate[go], rr[go]
        moved = big * (1.0 - rr ** k) / (1.0 - rr)
        self.t[idx] += moved / rate
        self.sent[idx] += moved
        self.pending[idx] = big * rr ** k
        self.rounds[idx] += k.astype(int)
        active[idx] = False

    def whole_round(self, active, dirty_now, duration):
        """Send the whole round; what the guest dirtied meanwhile is the
        next one. Auto-converge throttles a guest that stays hot.
        """
        new_pending = np.minimum(dirty_now * duration, self.working)
        stuck = active & (new_pending >= self.pending * 0.999)
        self.t = np.where(active, self.t + duration, self.t)
        self.sent = np.where(active, self.sent + self.pending, self.sent)
        self.rounds = np.where(active, self.rounds + 1, self.rounds)
        self.pending = np.where(active, new_pending, self.pending)
        if self.libvirt.auto_converge:
            self.synced_at = np.where(active, self.t, self.synced_at)
            self.cool &= ~active
            self.throttle_at_sync(active, new_pending)
        if stuck.any():
            self.wait_when_stuck(stuck)

    def throttle_at_sync(self, active, found):
        """QEMU's auto-converge at a dirty-bitmap sync of the masked
        columns (*active*): the end of a round, or one forced into it.

        It judges a period once more than a second has passed since the
        last judged one: the period is hot when the pages its syncs found
        newly dirty (*found*, bytes per column) exceed half the bytes
        sent in it. Every second
        hot period (the count never falls back on a cool one) starts the
        throttle at 20 % or raises it by 10 points, up to 99 %.
        """
        self.period_dirty = np.where(active, self.period_dirty + found,
                                     self.period_dirty)
        judged = active & (self.t > self.period_at + 1.0)
        hot = judged & (self.period_dirty >
                        0.5 * (self.sent - self.period_sent))
        high = np.where(hot, self.high + 1, self.high)
        bump = hot & (high >= 2)
        self.high = np.where(bump, 0, high)
        self.throttle = np.where(
            bump & (self.throttle == 0), 0.2,
            np.where(bump, np.minimum(self.throttle + 0.1, 0.99),
                     self.throttle))
        self.period_at = np.where(judged, self.t, self.period_at)
        self.period_sent = np.where(judged, self.sent, self.period_sent)
        self.period_dirty = np.where(judged, 0.0, self.period_dirty)
        return hot

    def wait_when_stuck(self, stuck):
        """No progress at this limit: nothing changes until Nova raises
        the limit (or the timeout hits), so jump there while QEMU keeps
        sending at full rate; with no event left it never converges.
        """
        next_at = self.schedule.next_event(self.t, self.bound)
        hold = stuck
        if self.libvirt.auto_converge:
            # Throttling may still bring it down.
            hold = hold & (self.throttle >= 0.99)
        jump = hold & np.isfinite(next_at)
        never = hold & ~np.isfinite(next_at) & ~self.done
        self.sent = np.where(jump, self.sent + self.rate * (next_at - self.t),
                             self.sent)
        self.t = np.where(jump, next_at, self.t)
        self.outcome[never] = Outcome.NO_CONVERGENCE
        self.downtime[never] = np.inf
        self.done |= never

    # -- bookkeeping -----------------------------------------------------
    def compact(self, active):
        """Move the finished columns out; keep running on the others."""
        done = self.done
        gone = self.columns[done]
        for name in self.RESULTS:
            self.finished[name][gone] = getattr(self, name)[done]
        self.columns = self.columns[active]
        for name in self.COLUMN_STATE:
            setattr(self, name, getattr(self, name)[active])
        self.any_bound = bool(self.bound.any())
        self.done = np.zeros(len(self.columns), dtype=bool)

    def results(self):
        for name in self.RESULTS:
            self.finished[name][self.columns] = getattr(self, name)
        out = self.finished
        downtime, outcome = out['downtime'], out['outcome']
        downtime = np.where(np.isfinite(downtime),
                            np.maximum(downtime, self.floor), downtime)
        total = (out['t'] + np.where(np.isfinite(downtime), downtime, 0.0) +
                 out['after'])
        total = np.where(outcome == Outcome.NO_CONVERGENCE, np.inf, total)
        return downtime * 1000.0, total, out['sent'], outcome, out['rounds']
