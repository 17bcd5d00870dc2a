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


"""[qslm] mirrors of the computes' [libvirt] live-migration options.

The downtime model must follow what the computes' libvirt driver does,
but the scheduler and API hosts usually do not carry the computes'
[libvirt] section, so its live-migration options are repeated here under
the same names with Nova's defaults. Set them to the computes' values.
"""

from oslo_config import cfg

from qslm_nova.conf import groups

_MIRROR = """
Mirror of the computes' ``[libvirt] %s``: set the same value (the
scheduler and API hosts usually do not read the computes' [libvirt]
section, and the downtime model must follow what the computes do)."""

libvirt_opts = [
    cfg.IntOpt('live_migration_downtime',
               default=500, min=100,
               help="""
Largest downtime limit, in milliseconds, Nova gives QEMU.
""" + _MIRROR % 'live_migration_downtime' + """

Nova starts a migration with a small limit and raises it step by step up
to this value; QEMU pauses the guest once what is left fits the limit in
force. A larger limit lets busy guests converge sooner but allows longer
pauses; the decision refuses destinations whose estimate exceeds the
instance's ``qslm:max_downtime_ms``.

Possible values:

* A number of milliseconds, 100 or more (Nova's default: 500).

Related options:

* ``live_migration_downtime_steps``, ``live_migration_downtime_delay``
* ``stop_share``
"""),
    cfg.IntOpt('live_migration_downtime_steps',
               # estimator.MAX_DOWNTIME_STEPS (a unit test compares).
               default=10, min=1, max=10000,
               help="""
Number of steps in which Nova raises the downtime limit.
""" + _MIRROR % 'live_migration_downtime_steps' + """

The first limit is ``live_migration_downtime`` divided by the number of
steps; each later step raises it by an equal amount until the full value
is reached. More steps start with a smaller limit, so a guest that
converges early pauses less.

Possible values:

* A positive number of steps, at most 10000 (Nova itself requires at
  least 3).

Related options:

* ``live_migration_downtime``
* ``live_migration_downtime_delay``
"""),
    cfg.IntOpt('live_migration_downtime_delay',
               default=75, min=0,
               help="""
Time, in seconds per GiB of guest data, between two downtime steps.
""" + _MIRROR % 'live_migration_downtime_delay' + """

Nova multiplies it by the data to transfer (the guest's RAM, at least
2 GiB, plus the disk of a block migration) to get the time between steps.
A shorter delay reaches the full limit sooner: fewer rounds, longer
pauses.

Possible values:

* 0 or a positive number of seconds per GiB (Nova's default: 75).

Related options:

* ``live_migration_downtime``
* ``live_migration_downtime_steps``
"""),
    cfg.IntOpt('live_migration_completion_timeout',
               default=800, min=0,
               help="""
Time, in seconds per GiB of guest data, before Nova ends a migration.
""" + _MIRROR % 'live_migration_completion_timeout' + """

What happens then is ``live_migration_timeout_action``. The decision
denies destinations where the expected migration would be aborted, and
without a timeout those where it would never converge.

Possible values:

* A positive number of seconds per GiB (Nova's default: 800).
* 0: no timeout.

Related options:

* ``live_migration_timeout_action``
* ``live_migration_permit_post_copy``
"""),
    cfg.StrOpt('live_migration_timeout_action',
               default='abort',
               choices=[('abort', 'Nova cancels the migration.'),
                        ('force_complete', 'Nova switches to post-copy if '
                                           'permitted, else pauses the '
                                           'guest until the copy ends.')],
               help="""
What Nova does when a migration reaches its completion timeout.
""" + _MIRROR % 'live_migration_timeout_action' + """

``abort`` cancels the migration; the decision then denies destinations
where that is the expected outcome. ``force_complete`` switches to
post-copy when it is permitted (a short pause, the rest of the memory
follows on demand) and otherwise pauses the guest until all dirty memory
is sent, which may be a long pause.

Related options:

* ``live_migration_completion_timeout``
* ``live_migration_permit_post_copy``
"""),
    cfg.BoolOpt('live_migration_permit_post_copy',
                default=False,
                help="""
Whether Nova may switch a migration to post-copy.
""" + _MIRROR % 'live_migration_permit_post_copy' + """

With ``force_complete`` at the completion timeout, post-copy runs the
guest on the destination at once and pulls the rest of its memory on
demand: the pause is short, the total migration time is not. When
post-copy is permitted Nova does not use auto-converge.

Possible values:

* False (Nova's default): no post-copy.
* True: post-copy at the completion timeout with ``force_complete``.

Related options:

* ``live_migration_timeout_action``
* ``live_migration_permit_auto_converge``
"""),
    cfg.BoolOpt('live_migration_permit_auto_converge',
                default=False,
                help="""
Whether QEMU may throttle the guest's CPU so that a migration converges.
""" + _MIRROR % 'live_migration_permit_auto_converge' + """

When the guest dirties memory faster than half the transfer rate, QEMU
slows its CPU (20 % first, 10 % more per further round), so busy guests
converge at the price of running slower during the migration. Nova
enables it only when post-copy is not permitted.

Possible values:

* False (Nova's default): no throttling.
* True: QEMU throttles guests that do not converge.

Related options:

* ``live_migration_permit_post_copy``
"""),
    cfg.IntOpt('live_migration_bandwidth',
               default=0, min=0,
               help="""
Largest transfer rate, in MiB/s, of a migration's pre-copy.
""" + _MIRROR % 'live_migration_bandwidth' + """

A cap keeps migrations from filling the network, at the price of more
rounds and a longer total time; QEMU lifts it for the final stop-and-copy,
so it does not lengthen the pause directly.

Possible values:

* 0: no cap (Nova's default).
* A positive rate in MiB/s.

Related options:

* ``live_migration_downtime``
"""),
    cfg.IntOpt('live_migration_parallel_connections',
               default=1, min=1,
               help="""
Number of parallel connections that carry a migration (Nova 33 and later).
""" + _MIRROR % 'live_migration_parallel_connections' + """

Above 1, QEMU sends the memory over this many connections (multifd),
each encrypted on a core of its own under native TLS; the estimate then
allows up to this many times one core's cipher throughput (no more
streams than the hosts have cores), still capped by the path's
bandwidth.

Possible values:

* 1 (Nova's default): one connection.
* A larger number of connections.

Related options:

* ``live_migration_bandwidth``
"""),
]


def register_opts(conf):
    conf.register_group(groups.QSLM_GROUP)
    conf.register_opts(libvirt_opts, group=groups.QSLM_GROUP)


def list_opts():
    return {groups.QSLM_GROUP: libvirt_opts}
