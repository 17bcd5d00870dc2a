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

"""How a column of the pre-copy run ends: QEMU's stop, Nova's actions.

:class:`ColumnEndings` holds the steps of :class:`~qslm_nova.estimator.
precopy.PreCopyRun` that end columns: the guest paused (at QEMU's first
bandwidth sample, when what is left fits, or by Nova's timeout action),
post-copy, or Nova's abort. They read and write the run's per-column
arrays (``t``, ``sent``, ``pending``, ``downtime``, ``outcome``, ...).
"""

import numpy as np

from qslm_nova.estimator import columns as columns_mod
from qslm_nova.estimator import outcomes

MIB = columns_mod.MIB
Outcome = outcomes.Outcome


class ColumnEndings:
    """The ways a column ends; mixed into PreCopyRun (see the module)."""

    def first_sample_stop(self):
        """Stop at QEMU's first bandwidth sample where little is left.

        The first threshold QEMU computes uses the rate plus the buffer
        fill over the first sample: a guest with little left by then
        stops at once, with more left than the steady threshold would
        allow. (Not for the worst case.)

        """
        params = self.params
        if params.first_sample_ms <= 0 or self.bound.all():
            return
        first = params.first_sample_ms / 1000.0
        buf = self.buffered
        pending = self.pending
        moved = np.minimum(pending, self.rate * first + buf)
        rest = pending - moved
        dirtied = (np.minimum(self.dirty_Bps * first, self.working) *
                   moved / np.maximum(pending, 1.0))
        threshold = ((self.rate + buf / first) * self.schedule.first_limit *
                     self.share)
        early = (rest > 0) & (rest + dirtied <= threshold) & self.expected
        if early.any():
            self.t[early] += first
            self.sent[early] += moved[early]
            self.stop(early, rest[early] + dirtied[early])

    def first_interval_floor(self):
        """Worst-case pause under QEMU's own limit, per column (0: none).

        Nova's first ``migrateSetMaxDowntime`` may land
        ``monitor_delay_s`` late; until then QEMU's default limit holds.
        Where it is larger than Nova's first step and the guest could
        stop before then (all its memory sent by then, had it dirtied
        nothing), the worst case is a stop at that limit.
        """
        p = self.params
        floor = np.zeros(len(self.t))
        limit = p.qemu_default_downtime_ms / 1000.0
        if (not self.any_bound or p.monitor_delay_s <= 0 or
                limit <= self.schedule.first_limit):
            return floor
        threshold = self.rate * limit * self.share
        window = p.monitor_delay_s - self.t
        could = self.bound & (window > 0) & (
            self.pending <= self.rate * np.maximum(window, 0.0) + threshold)
        left = np.minimum(self.pending, threshold)
        return np.where(could, (left + self.tail) / self.stop_rate +
                        self.fixed_down, 0.0)

    def stop(self, mask, left, checked=False):
        """Pause the masked columns with ``left`` bytes still to send."""
        mask = np.flatnonzero(mask)     # indexes faster than the mask
        if checked and self.params.iteration_ms > 0:
            left = self.noticed_late(mask, left)
        tail = self.tail[mask]
        self.downtime[mask] = ((left + tail) / self.stop_rate[mask] +
                               self.fixed_down[mask])
        self.sent[mask] += left + tail
        self.done[mask] = True

    def noticed_late(self, mask, left):
        """What is left when QEMU notices that it fits.

        QEMU compares only between send bursts: it notices that what is
        left fits on average half a burst (at most half of what is left)
        later, with that much already sent. (The worst case stops at the
        threshold itself.)
        """
        if self.any_bound:
            expected = self.expected[mask]
            late_cols, part = mask[expected], left[expected]
        else:
            late_cols, part = mask, left
        rate = self.rate[late_cols]
        late = 0.5 * np.minimum(part,
                                rate * self.params.iteration_ms / 1000.0)
        self.sent[late_cols] += late
        self.t[late_cols] += late / rate
        if self.any_bound:
            left = left.copy()
            left[expected] = part - late
            return left
        return left - late

    def timeout_action(self, mask):
        """Nova's completion-timeout action on the masked columns."""
        if self.libvirt.timeout_action == 'abort':
            self.abort(mask)
        elif self.libvirt.permit_post_copy:
            # The guest moves at once; what is left (the round's unsent
            # part and what the guest dirtied, at most its working set)
            # follows, sent in the background and pulled on demand, at a
            # share of the pre-copy rate.
            self.outcome[mask] = Outcome.POST_COPY
            self.downtime[mask] = (self.switch_tail(mask) /
                                   self.stop_rate[mask] +
                                   self.rtt_s[mask] + self.fixed_down[mask])
            self.after[mask] = self.pending[mask] / (
                self.rate[mask] * self.params.postcopy_rate_share)
            self.sent[mask] += self.pending[mask]
        else:
            # Paused where it stands; a late action (the worst case) waits
            # for at least what was left when it was due.
            self.outcome[mask] = Outcome.FORCED_PAUSE
            left = np.maximum(self.pending[mask], self.left_on_time[mask])
            self.downtime[mask] = ((left + self.tail[mask]) /
                                   self.stop_rate[mask] +
                                   self.fixed_down[mask])
        self.done[mask] = True

    def switch_tail(self, mask):
        """What the masked columns still send at a post-copy switch: the
        device state and the connections' buffers, those
        ``worst_postcopy_buffer_factor`` times in the worst case.
        """
        tail = self.tail[mask]
        if not self.any_bound:
            return tail
        more = self.params.worst_postcopy_buffer_factor - 1.0
        return tail + np.where(self.bound[mask], more, 0.0) * \
            self.buffered[mask]

    def abort(self, mask):
        """Nova aborts: no pause. The worst case must still bound any run
        of the envelope that completes before Nova aborts it: at most the
        threshold of the limit reached by the timeout.
        """
        self.outcome[mask] = Outcome.ABORTED
        self.downtime[mask] = 0.0
        worst = mask & self.bound
        if self.any_bound and worst.any():
            reached = self.schedule.limit_at[
                self.schedule.index(self.t[worst])]
            self.downtime[worst] = (
                (self.rate[worst] * reached * self.share[worst] +
                 self.tail[worst]) / self.stop_rate[worst] +
                self.fixed_down[worst])
