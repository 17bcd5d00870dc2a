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

"""The inputs of the model that do not vary per candidate.

:class:`LibvirtSettings` are the Nova ``[libvirt]`` live-migration
options the model follows; :class:`ModelParams` its constants, fitted to
real migrations by the testbed (``qslm_nova/testbed``).

"""

import dataclasses

import numpy as np

from qslm_nova import conf_fields


#: The heaviest host load the model takes (runnable threads per CPU):
#: the migration thread gets 1/17 of a core. Heavier loads read as this
#: (the testbed's heaviest run had 18, ``data/testbed/README.md``).
MAX_CPU_LOAD = 16.0


#: The most downtime steps a migration is modelled with: the model walks
#: every step, so a count from a damaged or forged profile, history or
#: option (a trait may hold 15 digits) must not make it walk 10^15.
#: Nova sets no maximum; 10,000 steps of a 500 ms limit start at 0.05 ms.
MAX_DOWNTIME_STEPS = 10000
#: The ``live_migration_timeout_action`` values Nova knows.
TIMEOUT_ACTIONS = ('abort', 'force_complete')


@dataclasses.dataclass(frozen=True)
class LibvirtSettings:
    """The Nova [libvirt] live-migration settings the model follows.

    For a raw QEMU migration with a fixed downtime limit X ms, use
    ``downtime_ms=X, downtime_steps=1, downtime_delay_s=0``.

    """

    # Each field names the [qslm] option it mirrors (qslm_nova.conf.libvirt).
    downtime_ms: float = conf_fields.option(
        'live_migration_downtime', 500.0)
    downtime_steps: int = conf_fields.option(
        'live_migration_downtime_steps', 10)
    downtime_delay_s: float = conf_fields.option(
        'live_migration_downtime_delay', 75.0)
    completion_timeout_s: float = conf_fields.option(
        'live_migration_completion_timeout', 800.0)
    timeout_action: str = conf_fields.option(
        'live_migration_timeout_action', 'abort')
    permit_post_copy: bool = conf_fields.option(
        'live_migration_permit_post_copy', False)
    permit_auto_converge: bool = conf_fields.option(
        'live_migration_permit_auto_converge', False)
    bandwidth_mibps: float = conf_fields.option(
        'live_migration_bandwidth', 0.0)
    # Streams QEMU sends the memory over (multifd): each one is encrypted
    # on a core of its own.
    parallel_connections: int = conf_fields.option(
        'live_migration_parallel_connections', 1)

    def steps(self, data_gb):
        """(start time s, downtime limit ms) pairs, as Nova computes them.

        Nova truncates both values to integers; so do we.

        """
        delay = int(self.downtime_delay_s * data_gb)
        base = self.downtime_ms / self.downtime_steps
        offset = (self.downtime_ms - base) / self.downtime_steps
        return [(int(delay * i), int(base + offset * i))
                for i in range(self.downtime_steps + 1)]

    @property
    def auto_converge(self):
        """QEMU throttles the guest: Nova enables it only without
        post-copy.
        """
        return self.permit_auto_converge and not self.permit_post_copy

    @classmethod
    def from_conf(cls, group):
        return conf_fields.from_group(cls, group)


@dataclasses.dataclass(frozen=True)
class ModelParams:
    """Constants of the model (see the [qslm] estimator options)."""

    # Each field names the [qslm] option that sets it
    # (qslm_nova.conf.estimator) or is a constant of the model.
    # libvirt's prepare on an idle host (begin, the destination QEMU's
    # start, perform): CPU work, stretched by (1 + load).
    setup_ms: float = conf_fields.option('setup_ms', 40.0)
    confirmation_ms: float = conf_fields.option('confirmation_ms', 10.0)
    activation_ms: float = conf_fields.option('activation_ms', 30.0)
    device_state_mb: float = conf_fields.option('device_state_mb', 1.0)
    worst_dirty_factor: float = conf_fields.option('worst_dirty_factor', 2.0)
    worst_bandwidth_factor: float = conf_fields.option(
        'worst_bandwidth_factor', 0.7)
    mss_bytes: float = conf_fields.constant(1448.0)
    frame_overhead_bytes: float = conf_fields.constant(90.0)
    zero_page_bytes: float = conf_fields.constant(16.0)
    scan_gibps: float = conf_fields.constant(8.0)
    tcp_window_mb: float = conf_fields.constant(6.0)
    max_rounds: int = conf_fields.constant(200)
    # QEMU's bandwidth estimate runs high, so the data it leaves for the
    # stop-and-copy is this many times rate x limit (expected, worst).
    stop_share: float = conf_fields.option('stop_share', 1.0)
    worst_stop_share: float = conf_fields.option('worst_stop_share', 1.75)
    # Added to the worst-case pause: scheduling jitter of loaded hosts.
    worst_extra_ms: float = conf_fields.option('worst_extra_ms', 50.0)
    # The worst case of a post-copy switch: this many times what the
    # connections buffer is still to go through before the guest runs.
    worst_postcopy_buffer_factor: float = conf_fields.option(
        'worst_postcopy_buffer_factor', 5.0)
    # With auto-converge, QEMU 9.2 and later force a dirty-bitmap sync
    # when a pass (after the first) has run this long without one, s
    # (0: syncs only end passes, as before 9.2).
    auto_converge_sync_s: float = conf_fields.option(
        'auto_converge_sync_s', 5.0)
    # QEMU checks what is left between send bursts of up to this long
    # (its MAX_WAIT); a stop inside a round leaves on average half a burst
    # less than the threshold. 0: check continuously.
    iteration_ms: float = conf_fields.option('iteration_ms', 50.0)
    # QEMU sets no stop threshold before its first bandwidth sample, taken
    # this long into the migration (its BUFFER_DELAY); that sample also
    # counts the data that filled the transport's buffers, so it runs
    # high. 0: ignore.
    first_sample_ms: float = conf_fields.option('first_sample_ms', 100.0)
    # What one migration thread sends per second on a whole core, before
    # encryption (page scanning, dirty tracking, socket writes), Gbit/s.
    # The stream gets 1 / (1 + load) of its core.
    migration_gbps_per_core: float = conf_fields.option(
        'migration_gbps_per_core', 10.0)
    # After a post-copy switch the rest moves at this share of the
    # pre-copy rate (the destination places each page with a fault-safe
    # copy while it also serves the guest's page faults).
    postcopy_rate_share: float = conf_fields.option(
        'postcopy_rate_share', 0.7)
    # QEMU's own downtime limit, in force until Nova's first
    # migrateSetMaxDowntime lands; in the worst case that call (and the
    # timeout action) is this late (libvirt's client can lose the wake-up
    # of a call made while migrateToURI3 waits; the daemon's keepalive
    # then sends it).
    qemu_default_downtime_ms: float = conf_fields.option(
        'qemu_default_downtime_ms', 300.0)
    monitor_delay_s: float = conf_fields.option('monitor_delay_s', 0.0)
    # Nova's forced pause or post-copy switch takes effect this long after
    # its completion timeout: its monitor acts on the next poll (every
    # 0.5 s) and libvirt then pauses or switches the guest (the testbed:
    # 0.6 s median of the fitting runs). Nova's abort is not delayed.
    timeout_action_s: float = conf_fields.constant(0.6)
    # When Nova's first downtime step lands if it is late: in about one
    # testbed run in five it waited for libvirt's next keepalive, 5 s
    # after Nova's first poll (up to 0.5 s). A migration expected to end
    # before then may stop under QEMU's own limit (the estimate's
    # ``race_downtime_ms``).
    late_first_step_s: float = conf_fields.constant(5.5)
    # How much longer the model's clock runs than a real migration's, at
    # the 95th percentile: the shipped constants' expected migration time
    # over the measured time of the stop, 1.14 over the testbed's 333
    # QEMU 10 runs expected to complete in 3 to 9 s (median 1.00, 90th
    # percentile 1.09, largest 1.31). A migration the model expects to
    # end a little after the late first step may still stop before it.
    race_clock_factor: float = conf_fields.constant(1.14)

    @property
    def race_reach_s(self):
        """When Nova's late first step lands on the model's clock for
        a migration that runs as much faster than the model expects as
        ``race_clock_factor`` allows: one the model expects to end
        between ``late_first_step_s`` and this may still race it.
        """
        return self.late_first_step_s * self.race_clock_factor

    @property
    def fixed_pause_ms(self):
        """The pause's fixed part on an idle host: confirmation +
        activation.
        """
        return self.confirmation_ms + self.activation_ms

    @classmethod
    def from_conf(cls, group):
        return conf_fields.from_group(cls, group)


def data_gb(memory_mb, disk_gb=0.0):
    """GiB Nova scales its step delay and timeout by (RAM at least 2)."""
    return max(memory_mb / 1024.0, 2.0) + disk_gb


class StepSchedule:
    """Nova's downtime limits over time and its completion timeout.

    Limits are in seconds here; ``index(t)`` is the number of steps
    started by time ``t`` (``np.searchsorted(side='right')``), which
    reads the limit in force and the time of the next step. Nova sets its
    first step during libvirt's prepare, before QEMU sends a byte, so
    the steps hold from the start. A forced pause or post-copy switch
    takes effect ``timeout_action_s`` after Nova's completion timeout (an
    abort at once); worst-case columns (``bound``) see
    Nova's timeout action ``monitor_delay_s`` late (QEMU's default limit
    before Nova's late first step is :class:`precopy.PreCopyRun`'s
    ``first_interval_floor``).

    """

    def __init__(self, libvirt, gib, params, first_step_at=0.0):
        """:param first_step_at: when Nova's first step lands (s); QEMU's
            own limit (``qemu_default_downtime_ms``) holds until then.
        """
        steps = libvirt.steps(gib)
        if first_step_at > 0:
            landed = [s for s in steps if s[0] <= first_step_at][-1]
            steps = ([(0.0, params.qemu_default_downtime_ms),
                      (first_step_at, landed[1])] +
                     [s for s in steps if s[0] > first_step_at])
        self.start_s = np.array([s[0] for s in steps], dtype=float)
        limits = np.array([s[1] for s in steps], dtype=float) / 1000.0
        self.first_limit = limits[0]
        self.limit_at = np.concatenate((limits[:1], limits))
        self.next_step_at = np.append(self.start_s, np.inf)
        timeout = libvirt.completion_timeout_s * gib
        if timeout > 0 and libvirt.timeout_action != 'abort':
            timeout += params.timeout_action_s
        #: When Nova's timeout action takes effect, on time.
        self.timeout_s = timeout if timeout > 0 else np.inf
        self._timeout_at = (self.timeout_s,
                            self.timeout_s + params.monitor_delay_s)

    def index(self, t):
        return np.searchsorted(self.start_s, t, side='right')

    def timeout(self, bound):
        """Nova's timeout action per column, s (inf: none)."""
        return np.where(bound, self._timeout_at[1], self._timeout_at[0])

    def next_event(self, at, bound, index=None):
        """Time of the next downtime step or of the timeout (for a
        worst-case column, the timeout on time too: what is left then
        bounds its late forced pause from below).
        """
        if index is None:
            index = self.index(at)
        timeout = self.timeout(bound)
        on_time = self._timeout_at[0]
        step = self.next_step_at[index]
        late = np.where(at < timeout, timeout, np.inf)
        due = np.where(at < on_time, on_time, np.inf)
        return np.minimum(np.minimum(step, late), due)
