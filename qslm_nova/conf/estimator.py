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


"""[qslm] constants of the downtime model (qslm_nova.estimator).

The defaults are fitted to real QEMU migrations by the testbed
(``qslm-nova-testbed campaign`` and ``fit``). All but
``default_host_cpu_load`` are model internals, marked ``advanced``:
change them only from measurements of your own hosts.
"""

from oslo_config import cfg

from qslm_nova.conf import groups
from qslm_nova.conf import worst_case

_CALIBRATE = worst_case.CALIBRATE

timing_opts = [
    cfg.FloatOpt('setup_ms',
                 default=40.0, min=0.0, advanced=True,
                 help="""
Time, in milliseconds, to set up a migration before memory is sent.

It covers what libvirt and QEMU do before the stream starts, excluding the
round trips of the mechanism's handshake (the topology file gives those
per mechanism). It is not part of the pause: it lengthens the total
migration time and brings the completion timeout nearer.
""" + _CALIBRATE + """

Possible values:

* 0 or a positive number of milliseconds.

Related options:

* ``live_migration_completion_timeout``
"""),
    cfg.FloatOpt('confirmation_ms',
                 default=10.0, min=0.0, advanced=True,
                 help="""
Time, in milliseconds, for the destination to confirm its copy.

The destination confirms it holds a consistent copy of the guest (the
paper's ConfirmationTime). It is part of every downtime: the guest stays
paused until the destination confirms. The value is for an idle host:
where the busier host has a load of L runnable threads per CPU, it takes
1 + L times as long (the libvirt testbed measured QEMU's switch-over and
the destination's resume stretching that way). A larger value raises
every downtime estimate.

Possible values:

* 0 or a positive number of milliseconds.

Related options:

* ``activation_ms``: the other fixed part of the pause.
"""),
    cfg.FloatOpt('activation_ms',
                 default=30.0, min=0.0, advanced=True,
                 help="""
Time, in milliseconds, to activate the guest on the destination.

The paper calls it ActivationTime. It is part of every downtime: the
guest runs again only once it is activated. Like ``confirmation_ms``, the
value is for an idle host and is stretched by 1 + the load per CPU. A
larger value raises every downtime estimate.

Possible values:

* 0 or a positive number of milliseconds.

Related options:

* ``confirmation_ms``: the other fixed part of the pause.
"""),
    cfg.FloatOpt('device_state_mb',
                 default=1.0, min=0.0, advanced=True,
                 help="""
Device state, in MiB, sent while the guest is paused.

After the last memory is sent QEMU sends the state of the guest's devices
(CPU registers, virtual devices); it adds to the data of the
stop-and-copy, so its time at the stop-and-copy rate adds to every
downtime. Guests with many or large devices carry more.

Possible values:

* 0 or a positive size in MiB.

Related options:

* ``live_migration_bandwidth``: does not limit the stop-and-copy.
"""),
]

qemu_opts = [
    cfg.FloatOpt('auto_converge_sync_s',
                 default=5.0, min=0.0, advanced=True,
                 help="""
Seconds between the forced dirty-bitmap syncs of auto-converging QEMU.

With auto-converge, QEMU judges once a second at most, at a sync of its
dirty bitmap, whether the guest dirtied more than half of what was sent
since the last judgement; every second such period starts the CPU
throttle at 20 % or raises it by 10 points. Syncs end every pass over
memory; since QEMU 9.2 a timer also forces one when a pass has run this
long without one (round 0 excepted), so a large guest's throttle rises
every few seconds, not once per long pass.

Possible values:

* A positive number of seconds (QEMU 9.2 and later: 5). The model never
  forces a sync within a second of the last one.
* 0: syncs only at the end of a pass (QEMU before 9.2).

Related options:

* ``live_migration_permit_auto_converge``
"""),
    cfg.FloatOpt('iteration_ms',
                 default=50.0, min=0.0, advanced=True,
                 help="""
Longest send burst of QEMU, in milliseconds (QEMU's MAX_WAIT).

QEMU checks whether what is left fits the downtime limit only between two
bursts and so notices the crossing on average half a burst late: the
pause carries half a burst less than the threshold (or half of what is
left, if less). A longer burst shortens expected pauses, most on fast
links.

Possible values:

* A positive number of milliseconds (QEMU: 50).
* 0: model a continuous check.

Related options:

* ``first_sample_ms``
* ``stop_share``
"""),
    cfg.FloatOpt('first_sample_ms',
                 default=100.0, min=0.0, advanced=True,
                 help="""
Time of QEMU's first bandwidth sample, in milliseconds (BUFFER_DELAY).

QEMU sets no stop threshold before that sample, and the sample also
counts the data that filled the socket buffers, so it runs high: a small
guest on a fast link may stop right then with more left than later
samples would allow, and pause longer than the limit. The worst case
ignores this early stop.
""" + _CALIBRATE + """

Possible values:

* A positive number of milliseconds (QEMU: 100; the testbed fits about
  200).
* 0: ignore the first sample.

Related options:

* ``iteration_ms``
"""),
    cfg.FloatOpt('migration_gbps_per_core',
                 default=10.0, min=0.01, advanced=True,
                 help="""
Payload one migration thread sends per second on a whole core, Gbit/s.

What QEMU's migration thread sends on one core before any encryption
(scanning pages, tracking dirty pages, writing the socket). Per byte, the
cipher's cost adds to it (the topology's ``crypto_gbps_per_core``), and
on a host with ``load`` runnable threads per CPU the thread gets
1 / (1 + load) of its core, so loaded hosts migrate more slowly, plain
TCP too. Parallel connections add cores only as far as the host has idle
CPU time. The rate is that of the slower side: the destination's
receiving thread costs CPU per byte too. The default is a single
migration stream on KVM, which QEMU's developers call a bottleneck on
10 Gbit/s links. The testbed's hosts (QEMU's TCG in a virtual machine)
receive 2.6 Gbit per CPU second, and the shipped residuals are learnt at
that rate: they hold the model's error on hosts whose rate this option
states, not the gap to a wrong one (the agent's calibration history
learns that gap on your hosts).
""" + _CALIBRATE + """

Possible values:

* A positive number of Gbit/s.

Related options:

* ``default_host_cpu_load``
* ``live_migration_parallel_connections``
"""),
    cfg.FloatOpt('postcopy_rate_share',
                 default=0.7, min=0.05, max=1.0, advanced=True,
                 help="""
Share of the pre-copy rate at which memory moves after a post-copy switch.

When Nova switches a migration to post-copy, the guest runs on the
destination and the memory it has not yet received follows, streamed in
the background and fetched page by page when the guest touches it. The
destination places each page with a fault-safe copy and serves the
guest's page faults meanwhile, so the rest moves more slowly than the
pre-copy rounds did. It lengthens the estimated total time of post-copy
migrations only, not their pause. The libvirt testbed's fits put it at
0.63 to 0.68 (25 post-copy runs under QEMU's TCG over one connection,
fitted alone or together with ``migration_gbps_per_core``).
""" + _CALIBRATE + """

Possible values:

* A share above 0 and at most 1 (1: as fast as the pre-copy rounds).

Related options:

* ``migration_gbps_per_core``
* ``live_migration_permit_post_copy``
"""),
    cfg.FloatOpt('qemu_default_downtime_ms',
                 default=300.0, min=0.0, advanced=True,
                 help="""
QEMU's own downtime limit, in milliseconds (QEMU: 300).

It holds until Nova's first ``migrateSetMaxDowntime`` lands. Nova makes
that call during libvirt's prepare, before QEMU sends a byte, so the
expected case never sees this limit; the worst case assumes it for
``monitor_delay_s`` (the larger of it and Nova's first step). A
migration expected to end within 5.5 s also has a race pause: its
expected pause had this limit held until Nova's first step landed 5.5 s
after the start (about one testbed run in five), which
``sla_confidence`` holds against its limit (the fast runs' residuals
are of that pause). So has one expected to end within 6.27 s, which a
run 1.14 times faster than the model expects (one in twenty on the
testbed) ends before that step: the fast runs' bound of its race pause
is held when it is the larger.

Possible values:

* 0 or a positive number of milliseconds.

Related options:

* ``monitor_delay_s``
* ``live_migration_downtime``
"""),
    cfg.FloatOpt('monitor_delay_s',
                 default=0.0, min=0.0, advanced=True,
                 help="""
How late, in seconds, Nova's monitor may act in the worst case.

libvirt's client library can lose the wake-up of a call made while
another thread waits for ``migrateToURI3`` (measured with libvirt 9.0):
the call then leaves only with the daemon's next keepalive, a few
seconds later. With a positive value the worst case keeps QEMU's default
limit until Nova's first downtime step lands this late, and applies
Nova's completion timeout action this late. A guest that the link can
send within that time then has a worst case of at least QEMU's default
limit times ``worst_stop_share``, so fast links lose their advantage for
tight downtime limits. In the testbed's 977 Nova-driven runs with
libvirt's event loop, the first step landed more than 1 s late (about
5 s, 3 times 10 s, once never) in 199, idle hosts included; 6 guests
stopped before it landed, all under QEMU's 300 ms, and one of them
paused more than the default's worst case. With 8 s the worst case
holds that run too, but allows 25 % fewer of the testbed's
(QEMU 10.0.2) requests; the default keeps the faster links.
""" + _CALIBRATE + """

Possible values:

* 0 (default: Nova acts on time) or a positive number of seconds, e.g. 8
  (libvirt's keepalive interval of 5 s, Nova's first poll and margin)
  where the worst case must hold this race too.

Related options:

* ``qemu_default_downtime_ms``
* ``live_migration_completion_timeout``
"""),
]

#: estimator.MAX_CPU_LOAD, written out so that listing the options does
#: not import numpy (a unit test checks that the two agree).
MAX_HOST_CPU_LOAD = 16.0

host_opts = [
    cfg.FloatOpt('default_host_cpu_load',
                 default=0.3, min=0.0, max=MAX_HOST_CPU_LOAD,
                 help="""
CPU load assumed for hosts whose topology entry gives none.

The estimator reads a host's load as runnable threads per CPU (the load
average over the CPU count; below saturation about the CPUs' busy share),
as the compute agent publishes it. On the busier of the two hosts
the migration stream gets 1 / (1 + load) of a core, with or without a
cipher, and libvirt's prepare takes 1 + load times as long, so a higher
load gives slower migrations and longer downtime estimates. Set
``cpu_load`` per host in the topology file where hosts differ; a host's
published profile overrides both.

Possible values:

* Runnable threads per CPU, from 0 (idle) to 16 (the migration thread
  gets 1/17 of a core).

Related options:

* ``topology_file``: per-host ``cpu_load``.
* ``default_require_encryption``
"""),
]

ALL_OPTS = timing_opts + worst_case.opts + qemu_opts + host_opts


def register_opts(conf):
    conf.register_group(groups.QSLM_GROUP)
    conf.register_opts(ALL_OPTS, group=groups.QSLM_GROUP)


def list_opts():
    return {groups.QSLM_GROUP: ALL_OPTS}
