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


"""[qslm] options on what the compute agents measure and publish.

The compute agent (``qslm-nova-agent``) publishes each host's migration
profile as Placement traits and each instance's observed dirty rate in
its metadata; these options say whether and how fresh the decision uses
them.
"""

from oslo_config import cfg

from qslm_nova.conf import groups

profile_opts = [
    cfg.BoolOpt('host_profiles',
                default=True,
                help="""
Use the migration profiles the compute agents publish in Placement.

Each compute host running ``qslm-nova-agent`` publishes what its Nova
really does on a live migration (transport from its ``[libvirt]``
options, parallel connections, downtime steps, completion timeout,
bandwidth), whether it can receive QEMU native TLS, its measured cipher
throughput and its CPU load, as ``CUSTOM_QSLM_MIG_*`` traits of its
compute node resource provider. With this option the decision uses a
host's published profile before the topology file's hand-written
``mechanisms`` and ``cpu_load`` and before the ``[qslm]
live_migration_*`` mirror options, which stay the fallback for hosts
without an agent. ``qslm-nova plan`` shows which source each figure came
from. Placement is read with the service's own ``[placement]``
credentials (those Nova's report client uses), mostly off the request
path (see ``host_profile_refresh``); without credentials there no
profiles are read.

Possible values:

* True (default): published profiles come first.
* False: ignore them (the topology file and the mirror options only).

Related options:

* ``host_profile_refresh``, ``host_profile_max_age``
"""),
    cfg.IntOpt('host_profile_refresh',
               default=60, min=5,
               help="""
Seconds between two readings of the destination hosts' profiles.

A background thread of the scheduler and of nova-api reads, with one
Placement query per distinct published value, which hosts can receive
QEMU native TLS and their cipher throughput and CPU load; requests use
the last table read. The source host's full profile is read on demand
and kept this long too. A failed reading keeps the last good table.

Possible values:

* A number of seconds, 5 or more.

Related options:

* ``host_profiles``, ``host_profile_max_age``
"""),
    cfg.FloatOpt('host_profile_timeout',
                 default=2.0, min=0.1,
                 help="""
Deadline, in seconds, of every Placement call reading host profiles.

The destination table is read in the background; a source's profile is
read on the request path once per ``host_profile_refresh`` and source
host, so this bounds what a slow Placement adds to one decision. A call
past it keeps the last profile read (or none) and is logged.

Possible values:

* A number of seconds.

Related options:

* ``host_profile_refresh``
"""),
    cfg.IntOpt('host_profile_max_age',
               default=1800, min=0,
               help="""
Age, in seconds, after which a host's measured CPU load is not used.

The agent republishes its profile at least every ``[qslm_agent]
profile_interval`` seconds with a time stamp (to 10 minutes). A profile
older than this still says how the host's Nova migrates (its
configuration rarely changes and an old truth beats a hand-written
guess), but its CPU load is replaced by the topology file's or
``default_host_cpu_load``, and ``qslm-nova plan`` notes the age.

Possible values:

* A number of seconds; 0 never treats the load as stale.

Related options:

* ``[qslm_agent] profile_interval``
"""),
    cfg.IntOpt('observed_dirty_rate_max_age',
               default=900, min=0,
               help="""
Age, in seconds, up to which an instance's observed dirty rate is used.

The compute agent samples each instance's dirty rate with QEMU's
page-sampling calculation and records it with its time in the instance
metadata key ``qslm:observed_dirty_rate`` (which tenants cannot write).
A fresh observation replaces the dirty-rate hint of the flavor, image,
metadata or ``default_dirty_rate_mibps`` in the estimate; an older one is
ignored. Page sampling hashes sampled pages: a guest that rewrites
memory with identical bytes looks clean, so the hint still matters for
such workloads.

Possible values:

* A number of seconds; 0 never uses observations.

Related options:

* ``default_dirty_rate_mibps``
* ``[qslm_agent] dirty_rate_interval``
"""),
]


def register_opts(conf):
    conf.register_group(groups.QSLM_GROUP)
    conf.register_opts(profile_opts, group=groups.QSLM_GROUP)


def list_opts():
    return {groups.QSLM_GROUP: profile_opts}
