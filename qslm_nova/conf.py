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

"""The [qslm] configuration options.

Nova-style help text: a summary, the possible values and the related
options. ``list_opts`` is the ``oslo.config.opts`` entry point used by
``oslo-config-generator`` (``tox -e genconfig``).
"""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'qslm',
    title='QoS-aware secure live migration options',
    help="""
Options of the qslm-nova plugin, which decides for every live migration
whether a destination keeps the instance's security requirements (host
trust, link security, encrypted transport) and its downtime SLA.
""")

topology_opts = [
    cfg.StrOpt('topology_file',
               default='/etc/qslm-nova/topology.yaml',
               help="""
Path of the topology file (YAML, version 1).

It describes the compute hosts (named as Nova names them), the network
nodes, the links with their bandwidth, latency, utilisation and security
level, and the migration mechanisms each host supports. The file is read
at start and again, in the background, whenever its modification time,
size or inode changes: requests keep using the last good topology until
the new file is read and checked. A file that fails to load (invalid,
too large, torn or hostile) is reported in the log and the last good
topology is kept. YAML or JSON; write it atomically (a temporary file
renamed over it) or seal it (``topology_seal``).

Possible values:

* An absolute path to a readable YAML file.

Related options:

* ``trust_providers``: the ``static`` provider reads host trust from this
  file.
* ``topology_seal``, ``topology_max_bytes``, ``topology_max_depth``,
  ``topology_max_values``: what a file must be to replace the current
  topology.
"""),
    cfg.StrOpt('topology_seal',
               default='auto',
               choices=[('optional', 'A seal line is checked when the file '
                                     'has one; a file without one is '
                                     'read.'),
                        ('auto', 'As optional until a sealed file has been '
                                 'loaded; from then on, until the service '
                                 'restarts, every file must be sealed.'),
                        ('required', 'Every topology file must end with a '
                                     'valid seal line.')],
               help="""
When the topology file must carry a seal line.

A program that rewrites the topology file in place leaves a moment in
which the file is only partly written; a YAML topology cut after any line
may still be valid, with hosts or links missing. A sealed file ends with
``# qslm-nova-seal: sha256=<digest of the content>``, which ``qslm-nova
topology seal FILE`` adds (it also writes the file atomically) and the
devstack plugin writes. A file whose seal does not match its content (cut
short, or edited after it was sealed) is always refused; a refused file
is logged and the last good topology stays in force.

Possible values:

* ``optional``: unsealed files are read (nothing detects a torn write of
  an unsealed file).
* ``auto`` (default): unsealed files are read until a sealed one has been
  loaded; then a file without a seal is taken for a torn one.
* ``required``: only sealed files are read. Recommended for every
  deployment whose topology writer seals; planned as the default of a
  later release.

Related options:

* ``topology_file``
"""),
    cfg.IntOpt('topology_max_bytes',
               default=64 * 1024 * 1024,
               min=1024,
               help="""
Largest topology file, in bytes, that is read.

A larger file is refused before it is parsed (the last good topology
stays in force). A generated topology of 50,000 hosts takes about 16 MB
as YAML.

Possible values:

* An integer of at least 1024.

Related options:

* ``topology_max_depth``, ``topology_max_values``
"""),
    cfg.IntOpt('topology_max_depth',
               default=32,
               min=8,
               max=200,
               help="""
Deepest nesting of lists and mappings read from a topology file.

The reader checks the depth before it enters a list or mapping, so a
hostile file of thousands of nested brackets is refused instead of
exhausting the stack. A valid topology nests four levels deep.

Possible values:

* An integer from 8 to 200.

Related options:

* ``topology_max_bytes``, ``topology_max_values``
"""),
    cfg.IntOpt('topology_max_values',
               default=5000000,
               min=1000,
               help="""
Most values (scalars, lists and mappings) a topology file may stand for.

YAML aliases (``*name``) repeat an anchored value without repeating its
text; a few hundred bytes of nested aliases can stand for billions of
values. Every alias counts as the values it stands for, and a file over
this limit is refused. A 10,000-host topology holds about 300,000 values.

Possible values:

* An integer of at least 1000.

Related options:

* ``topology_max_bytes``, ``topology_max_depth``
"""),
]

trust_opts = [
    cfg.ListOpt('trust_providers',
                default=['static'],
                help="""
Trust providers asked whether a host is attested trusted.

Providers are loaded by name from the ``qslm_nova.trust`` entry point
namespace. They are combined according to ``trust_combination``.

Possible values:

* A list of provider names, e.g. ``static`` or ``keylime,static``.

Related options:

* ``trust_combination``
* ``max_attestation_age``
"""),
    cfg.StrOpt('trust_combination',
               default='all',
               choices=[('all', 'A host is trusted only if every provider '
                                'says it is trusted.'),
                        ('first', 'The first provider that has an answer '
                                  'for the host decides.')],
               help="""
How the answers of several trust providers are combined.

Related options:

* ``trust_providers``
"""),
    cfg.IntOpt('max_attestation_age',
               default=86400,
               min=0,
               help="""
Maximum age, in seconds, of a host attestation.

A host whose last successful attestation is older than this counts as
untrusted for instances that require a trusted host. 0 disables the age
check (not recommended).

Possible values:

* 0 or a positive number of seconds.

Related options:

* ``trust_providers``
"""),
]

policy_opts = [
    cfg.BoolOpt('default_require_trusted_host',
                default=False,
                help="""
Require attested trusted source and destination hosts for every instance.

Flavor extra spec ``qslm:require_trusted_host``, image property and
instance metadata may require it too; none can turn it off when this is
set.
"""),
    cfg.StrOpt('default_min_link_security',
               default='untrusted',
               help="""
Weakest link security level a migration may cross without encryption.

Possible values:

* A level name from the topology file's ``security_levels`` (default
  levels: untrusted, wan, shared, private, isolated). ``untrusted``
  accepts every link.

Related options:

* Flavor extra spec ``qslm:min_link_security`` may raise it.
"""),
    cfg.BoolOpt('default_require_encryption',
                default=False,
                help="""
Require an encrypting mechanism for every live migration.
"""),
    cfg.ListOpt('default_allowed_mechanisms',
                default=['none', 'tls', 'ssh', 'ipsec'],
                help="""
Mechanisms a migration may use unless the flavor narrows the list.

Possible values:

* Names of mechanisms: none, tls, ssh, ipsec, or ones defined in the
  topology file.
"""),
    cfg.FloatOpt('default_dirty_rate_mbps',
                 default=16.0,
                 min=0.0,
                 help="""
Expected rate, in MiB/s, at which an instance dirties its memory.

Used when neither the flavor (``qslm:dirty_rate_mbps``), the image nor the
instance metadata gives one. Higher values give longer downtime
estimates.
"""),
    cfg.IntOpt('default_budget_period_days',
               default=30,
               min=1,
               help="""
Length of the downtime budget period, in days, for flavors that set a
budget (``qslm:downtime_budget_ms``) without ``qslm:budget_period_days``.
"""),
    cfg.StrOpt('sla_estimate',
               default='worst',
               choices=[('worst', 'Compare the worst-case downtime with the '
                                  'SLA (safe).'),
                        ('expected', 'Compare the expected downtime with '
                                     'the SLA (places more, may violate).')],
               help="""
Which downtime estimate is held against the SLA limits.
"""),
]

failure_opts = [
    cfg.BoolOpt('fail_closed',
                default=True,
                help="""
Refuse a live migration when the decision cannot be computed.

When the topology cannot be loaded, a host is missing from it, or a
policy value is malformed, the migration is refused if this is True.
Instances whose policy requires trust or encryption are always refused in
such cases, whatever this option says.
"""),
    cfg.BoolOpt('check_non_live_moves',
                default=True,
                help="""
Judge host trust for moves that are not live migrations.

When True, the scheduler filter judges every evacuation, cold migration,
resize and unshelve that goes through the scheduler, and the API
pre-check every evacuation that names a host (a forced one bypasses the
scheduler): an instance whose policy requires trusted hosts only goes to
a trusted host, and for a cold migration or resize only from a trusted
source. Nothing else is judged for these moves: the downtime model and
budget are those of live migrations, Nova copies the disks of a cold
migration over its SSH transport, an evacuation sends nothing from the
failed host. Instances without a trust requirement pass. When False,
these moves pass the filter and the pre-check untouched.

Possible values:

* True (default): judge host trust for non-live moves.
* False: only live migrations are judged.

Related options:

* ``trust_providers``, ``max_attestation_age``
* ``apply_to_cold_migrations``
"""),
    cfg.BoolOpt('apply_to_cold_migrations',
                default=False,
                deprecated_for_removal=True,
                deprecated_reason="""
Cold migrations and resizes are judged for host trust by
``check_non_live_moves``; the live-migration downtime model does not
describe them.
""",
                help="""
Judge cold migrations and resizes like live migrations.

When True, a cold migration or resize gets the full live-migration
decision (trust, path, mechanism, downtime budget) instead of the trust
judgement of ``check_non_live_moves``.

Possible values:

* False (default): judged as ``check_non_live_moves`` says.
* True: judged like a live migration.

Related options:

* ``check_non_live_moves``
"""),
]

weigher_opts = [
    cfg.FloatOpt('weight_multiplier',
                 default=1.0,
                 help="""
Multiplier of the QSLM weigher.

Positive values prefer hosts with a larger margin (downtime budget left
after the estimate, security headroom). Host aggregate metadata
``qslm_weight_multiplier`` overrides it per aggregate, like Nova's own
weighers.
"""),
]

estimator_opts = [
    cfg.FloatOpt('setup_ms',
                 default=40.0, min=0.0,
                 help='Fixed time, in ms, to set up a migration before '
                      'the first byte of memory is sent (excluding '
                      'handshake round trips).'),
    cfg.FloatOpt('confirmation_ms',
                 default=10.0, min=0.0,
                 help='Time, in ms, for the destination to confirm it '
                      'holds a consistent copy (paper: ConfirmationTime).'),
    cfg.FloatOpt('activation_ms',
                 default=30.0, min=0.0,
                 help='Time, in ms, to activate the instance on the '
                      'destination (paper: ActivationTime).'),
    cfg.FloatOpt('device_state_mb',
                 default=1.0, min=0.0,
                 help='Device state, in MiB, sent while the instance is '
                      'paused.'),
    cfg.FloatOpt('worst_dirty_factor',
                 default=2.0, min=1.0,
                 help='The worst-case estimate assumes the instance '
                      'dirties memory this many times faster than '
                      'expected.'),
    cfg.FloatOpt('worst_bandwidth_factor',
                 default=0.7, min=0.01, max=1.0,
                 help='The worst-case estimate assumes only this share of '
                      'the available path bandwidth.'),
    cfg.FloatOpt('stop_share',
                 default=1.0, min=0.1,
                 help='Data QEMU leaves for the stop-and-copy, as a multiple '
                      'of rate x downtime limit (QEMU stops as soon as what '
                      'is left fits; its bandwidth estimate runs high). '
                      'Calibrated by the testbed.'),
    cfg.FloatOpt('worst_stop_share',
                 default=1.75, min=0.1,
                 help='The same multiple for the worst-case estimate.'),
    cfg.FloatOpt('worst_extra_ms',
                 default=50.0, min=0.0,
                 help='Milliseconds added to the worst-case pause for '
                      'scheduling jitter on loaded hosts.'),
    cfg.FloatOpt('iteration_ms',
                 default=50.0, min=0.0,
                 help='QEMU checks whether what is left fits the downtime '
                      'limit only between send bursts of up to this many '
                      'ms (QEMU\'s MAX_WAIT); the pause carries on average '
                      'half a burst less than the threshold. 0 models a '
                      'continuous check.'),
    cfg.FloatOpt('first_sample_ms',
                 default=100.0, min=0.0,
                 help='When QEMU takes its first bandwidth sample (its '
                      'BUFFER_DELAY after the start; the testbed fits '
                      '200). That sample also counts the data that filled '
                      'the socket buffers, so a small guest on a fast link '
                      'may stop right then with more left. 0 ignores it.'),
    cfg.FloatOpt('default_host_cpu_load',
                 default=0.3, min=0.0, max=0.95,
                 help='CPU load assumed for hosts whose topology entry '
                      'gives none; it reduces crypto throughput.'),
]

libvirt_opts = [
    cfg.IntOpt('live_migration_downtime',
               default=500, min=100,
               help="""
Mirror of Nova's ``[libvirt] live_migration_downtime`` (ms).

The scheduler and API hosts usually do not carry the computes' [libvirt]
settings, so set the same values here for the downtime model.
"""),
    cfg.IntOpt('live_migration_downtime_steps',
               default=10, min=1,
               help="Mirror of ``[libvirt] live_migration_downtime_steps``."),
    cfg.IntOpt('live_migration_downtime_delay',
               default=75, min=0,
               help="Mirror of ``[libvirt] live_migration_downtime_delay`` "
                    "(seconds per GiB)."),
    cfg.IntOpt('live_migration_completion_timeout',
               default=800, min=0,
               help="Mirror of ``[libvirt] live_migration_completion_"
                    "timeout`` (seconds per GiB, 0 disables it)."),
    cfg.StrOpt('live_migration_timeout_action',
               default='abort', choices=['abort', 'force_complete'],
               help="Mirror of ``[libvirt] live_migration_timeout_action``."),
    cfg.BoolOpt('live_migration_permit_post_copy',
                default=False,
                help="Mirror of ``[libvirt] live_migration_permit_post_"
                     "copy``."),
    cfg.BoolOpt('live_migration_permit_auto_converge',
                default=False,
                help="Mirror of ``[libvirt] live_migration_permit_auto_"
                     "converge``."),
    cfg.IntOpt('live_migration_bandwidth',
               default=0, min=0,
               help="Mirror of ``[libvirt] live_migration_bandwidth`` "
                    "(MiB/s, 0 = unlimited)."),
]

ALL_OPTS = (topology_opts + trust_opts + policy_opts + failure_opts +
            weigher_opts + estimator_opts + libvirt_opts)


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(ALL_OPTS, group=GROUP)


def list_opts():
    # Imported here: the provider and API modules import this one.
    from qslm_nova.trust import opts as trust_opts
    result = [(GROUP, ALL_OPTS)] + list(trust_opts.list_opts())
    try:
        from qslm_nova.api import opts as api_opts
    except ImportError:  # pragma: no cover - the API adapter is optional
        return result
    return result + list(api_opts.list_opts())


CONF = cfg.CONF
register_opts(CONF)
