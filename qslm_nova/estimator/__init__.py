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
  half the transfer rate: judged at dirty-bitmap syncs at most once a
  second, every second hot period starts the throttle at 20 % or adds
  10 points (``auto_converge_sync_s``: QEMU 9.2's forced syncs).
* The rate is the path's available bandwidth less frame and mechanism
  overhead, capped by the mechanism's crypto throughput on one core of
  the loaded hosts, by the TCP window over the round-trip time and by
  ``live_migration_bandwidth``.

The worst case runs the same model with the guest dirtying
``worst_dirty_factor`` times faster over ``worst_bandwidth_factor`` of
the bandwidth, ``worst_stop_share`` of the threshold left for the pause
and ``worst_extra_ms`` of host jitter, and a post-copy switch with
``worst_postcopy_buffer_factor`` times the buffered data; when that run
would be aborted it still bounds a late completion at the largest limit
reached. The testbed
(``qslm_nova/testbed``) fits these constants to real migrations. The
paper's bound (VMSize / LinkSpeed + confirmation + activation) is kept as
:func:`paper_worst_case_ms` for comparison.
"""

from qslm_nova.estimator import columns
from qslm_nova.estimator import model
from qslm_nova.estimator import outcomes
from qslm_nova.estimator import settings

MIB = columns.MIB
GIB = columns.GIB

LibvirtSettings = settings.LibvirtSettings
MAX_CPU_LOAD = settings.MAX_CPU_LOAD
MAX_DOWNTIME_STEPS = settings.MAX_DOWNTIME_STEPS
TIMEOUT_ACTIONS = settings.TIMEOUT_ACTIONS
ModelParams = settings.ModelParams
data_gb = settings.data_gb
MechanismColumns = columns.MechanismColumns
effective_rate = columns.effective_rate
Outcome = outcomes.Outcome
Estimate = model.Estimate
estimate = model.estimate
paper_worst_case_ms = model.paper_worst_case_ms
idle_pause_ms = model.idle_pause_ms

#: Outcome labels by number, as the result arrays hold them.
OUTCOMES = tuple(o.label for o in Outcome)
