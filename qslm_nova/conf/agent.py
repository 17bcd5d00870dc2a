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


"""[qslm_agent] options of the compute agent, and its service credentials.

``qslm-nova-agent`` runs beside nova-compute with its own configuration
file (``/etc/qslm-nova/qslm-nova-agent.conf``): ``[qslm_agent]`` for what
it does, ``[nova]`` and ``[placement]`` for the Keystone credentials and
endpoints it uses (keystoneauth1's standard options), oslo.log's
``[DEFAULT]`` and oslo.messaging's ``[oslo_messaging_notifications]``.
It reads the compute's own ``nova.conf`` only for ``[libvirt]`` and
``[DEFAULT] host``. These options are registered by the agent on its
own ConfigOpts, never on the services' global one.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

AGENT_GROUP = cfg.OptGroup(
    'qslm_agent',
    title='qslm-nova compute agent options',
    help="""
Options of ``qslm-nova-agent``, the daemon beside nova-compute that
publishes the host's migration profile, charges measured downtime to the
instances' ledgers and samples their dirty rates.
""")
NOVA_GROUP = cfg.OptGroup(
    'nova', title='Nova API credentials of the compute agent',
    help="""
Keystone credentials, session and endpoint options the agent uses for
the Nova API (ledger charges, migration records, observed dirty rates).
The user needs a role in ``[qslm] ledger_writer_roles`` of nova-api
(or admin), and Nova policy that lets it read servers and migrations and
write server metadata of every project (admin does).
""")
PLACEMENT_GROUP = cfg.OptGroup(
    'placement', title='Placement credentials of the compute agent',
    help="""
Keystone credentials, session and endpoint options the agent uses for
Placement (the host profile traits). The user needs Placement's trait
policies (admin, or ``service`` with Placement's default policy).
""")

host_opts = [
    cfg.StrOpt('nova_config_file',
               default='/etc/nova/nova.conf',
               help="""
The compute service's own nova.conf.

The agent reads from it what Nova does on a live migration from this
host (``[libvirt]`` ``live_migration_with_native_tls``,
``live_migration_tunnelled``, ``live_migration_scheme``,
``live_migration_parallel_connections``, downtime, steps, delay,
completion timeout and action, post-copy, auto-converge, bandwidth,
``connection_uri``) and the Nova host name (``[DEFAULT] host``). It is
read again when its modification time changes.

Possible values:

* The path of the nova.conf nova-compute reads (the agent does not
  follow its ``--config-dir``: name the file that holds ``[libvirt]``).

Related options:

* ``qemu_config_file``
"""),
    cfg.StrOpt('qemu_config_file',
               default='/etc/libvirt/qemu.conf',
               help="""
libvirt's qemu.conf, for where QEMU's TLS certificates are.

A host can receive a native-TLS migration only when QEMU finds its
certificates: ``ca-cert.pem``, ``server-cert.pem`` and
``server-key.pem`` in ``migrate_tls_x509_cert_dir`` (else
``default_tls_x509_cert_dir``, else ``/etc/pki/qemu``). The agent
publishes whether they are there.

Possible values:

* The path of libvirt's qemu.conf.
"""),
    cfg.StrOpt('node_name',
               help="""
Name of this host's compute node resource provider in Placement.

Nova names it after the hypervisor host name libvirt reports; the agent
asks libvirt the same way, so this is needed only where that differs.

Possible values:

* Unset (default): the host name libvirt reports.
* A resource provider name.
"""),
    cfg.StrOpt('state_path',
               default='/var/lib/qslm-nova-agent',
               help="""
Directory of the agent's durable state.

It holds the spool of measured migrations (``migrations.sqlite``, WAL,
synced on every change, with an append-only journal beside it that
rebuilds it should it be corrupt), the migration history and the cipher
measurement of the current boot.

Possible values:

* A directory writable by the agent's user.
"""),
]

schedule_opts = [
    cfg.IntOpt('profile_interval',
               default=300, min=30,
               help="""
Seconds between two publications of the host profile at the latest.

The profile is published at start, whenever a figure changes (the CPU
load by a step, nova.conf) and at least this often, with a time
stamp the decision uses to tell a live agent from a dead one.

Possible values:

* A number of seconds, 30 or more; keep it well below ``[qslm]
  host_profile_max_age``.

Related options:

* ``load_interval``
* ``[qslm] host_profile_max_age``
"""),
    cfg.IntOpt('load_interval',
               default=30, min=1,
               help="""
Seconds between two readings of the host's CPU load.

The load is what the downtime model takes, runnable threads per CPU:
the larger of the one-minute load average over the online CPUs
(``/proc/loadavg``) and the busy share of all CPUs over the interval
(``/proc/stat``). The first goes above 1 when threads queue for the
cores, the second sees a load that has just risen. It is rounded up to
a step (5 % up to 100 %, 25 % up to 400 %, 100 % up to 1600 %); a new
step is published at most once per interval.

Possible values:

* A number of seconds, 1 or more.

Related options:

* ``profile_interval``
"""),
    cfg.IntOpt('dirty_rate_interval',
               default=300, min=0,
               help="""
Seconds between two dirty-rate samples of each instance.

Every interval the agent asks QEMU for each running instance's dirty
rate with libvirt's ``virDomainStartDirtyRateCalc`` (page sampling:
QEMU hashes a sample of pages and counts those that changed) and writes
it with its time to the instance metadata key
``qslm:observed_dirty_rate`` through the Nova API, when it changed by
more than ``dirty_rate_change`` or half of ``[qslm]
observed_dirty_rate_max_age`` has passed. Instances being migrated are
skipped.

Possible values:

* A number of seconds; 0 disables sampling.

Related options:

* ``dirty_rate_calc_seconds``, ``dirty_rate_change``
* ``[qslm] observed_dirty_rate_max_age``
"""),
    cfg.IntOpt('dirty_rate_calc_seconds',
               default=1, min=1, max=60,
               help="""
Seconds QEMU samples the pages of one instance for its dirty rate.

Longer sampling averages bursts out and costs the guest nothing more
(QEMU hashes the same sample pages twice); all instances are sampled at
the same time.

Possible values:

* 1 to 60 seconds.
"""),
    cfg.FloatOpt('dirty_rate_change',
                 default=0.25, min=0.0,
                 help="""
Relative change of an observed dirty rate that is published at once.

Possible values:

* A fraction, e.g. 0.25 for 25 %; 0 publishes every sample.

Related options:

* ``dirty_rate_interval``
"""),
    cfg.FloatOpt('cipher_seconds',
                 default=2.0, min=0.2, max=60.0,
                 help="""
Seconds of the stand-in TLS stream, where QEMU cannot be run.

Once per boot the agent measures this host's cipher throughput the way
QEMU's TLS migration stream runs: two QEMU processes migrate a stopped
guest of 128 MiB of random memory over QEMU native TLS on the loopback
(a few seconds), and the payload per second of CPU time of the busier
one (Gbit/s of one core) is published. If QEMU cannot be run, one
OpenSSL TLS 1.3 stream between two threads stands in for this long; it
reads several times higher than QEMU (no page handling) and is logged
as such.

Possible values:

* 0.2 to 60 seconds.
"""),
]

charge_opts = [
    cfg.FloatOpt('api_timeout',
                 default=10.0, min=0.5,
                 help="""
Deadline, in seconds, of every Nova and Placement call of the agent.

A call past it fails; a ledger charge then stays in the spool and is
retried, a profile publication at the next interval.

Possible values:

* A number of seconds.

Related options:

* ``retry_interval``
"""),
    cfg.IntOpt('retry_interval',
               default=15, min=1,
               help="""
Seconds before a failed ledger charge is first tried again.

Each further failure doubles the wait up to ``retry_max_interval``.
Charges are never dropped for failing: they stay in the spool until
Nova takes them (or the instance no longer exists).

Possible values:

* A number of seconds.

Related options:

* ``retry_max_interval``
"""),
    cfg.IntOpt('retry_max_interval',
               default=600, min=1,
               help="""
Longest wait, in seconds, between two tries of a failed ledger charge.

Related options:

* ``retry_interval``
"""),
    cfg.IntOpt('migration_lookup_timeout',
               default=3600, min=60,
               help="""
Seconds to look for Nova's record of a measured migration.

A charge is keyed by Nova's migration id (so that it is charged once,
whatever is retried). A migration Nova has no record of (libvirt moved
the domain without Nova) is charged after this long under a key of the
agent's own, and logged.

Possible values:

* A number of seconds, 60 or more.
"""),
    cfg.IntOpt('clock_skew_tolerance',
               default=3600, min=60,
               help="""
Largest believable difference, in seconds, between this host's clock and
Nova's record of a migration.

The ledger's period is counted from the date a migration ended. If this
host's clock disagrees with the times of Nova's migration record by more
than this (a clock jump), the record's time is used instead and a
warning is logged.

Possible values:

* A number of seconds.
"""),
    cfg.BoolOpt('charge_outgoing',
                default=False,
                help="""
Also charge completed migrations from this host.

The destination's agent charges a completed migration (its completed-job
statistics carry the downtime); the source's charges only failed
migrations that paused the instance. With this option the source
charges completed ones too, for destinations without an agent. A
migration is charged once whichever agent comes first (keyed by Nova's
migration id in the instance metadata).

Possible values:

* False (default): destinations charge completions.
* True: sources charge them too.
"""),
    cfg.IntOpt('completed_stats_wait',
               default=30, min=1,
               help="""
Seconds to wait for libvirt's completed-job statistics of an incoming
migration after the instance resumed here.

Post-copy migrations finish after the resume; their statistics come
when the last page arrived.

Possible values:

* A number of seconds.
"""),
    cfg.IntOpt('history_days',
               default=365, min=1,
               help="""
Days the agent keeps measured migrations in its own history.

The history (estimate-free: the measured figures and Nova's migration
id) feeds ``qslm-nova calibrate --from-history`` together with the
estimates the scheduler and nova-api publish as notifications.

Possible values:

* A number of days.
"""),
]

ALL_OPTS = host_opts + schedule_opts + charge_opts


def register_opts(conf):
    """Register [qslm_agent], [nova] and [placement] on an agent's conf."""
    conf.register_group(AGENT_GROUP)
    conf.register_opts(ALL_OPTS, group=AGENT_GROUP)
    for group in (NOVA_GROUP, PLACEMENT_GROUP):
        conf.register_group(group)
        ks_loading.register_session_conf_options(conf, group.name)
        ks_loading.register_auth_conf_options(conf, group.name)
        ks_loading.register_adapter_conf_options(conf, group.name)


def _keystone_opts():
    opts = (ks_loading.get_session_conf_options() +
            ks_loading.get_auth_common_conf_options() +
            ks_loading.get_auth_plugin_conf_options('password') +
            ks_loading.get_adapter_conf_options())
    seen = set()
    return [o for o in opts if not (o.dest in seen or seen.add(o.dest))]


def list_opts():
    """The agent's groups for oslo-config-generator."""
    return [(AGENT_GROUP, ALL_OPTS),
            (NOVA_GROUP, _keystone_opts()),
            (PLACEMENT_GROUP, _keystone_opts())]
