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


"""[qslm] options every qslm-nova service reads: where the topology is,
which trust providers to ask, what to do when no decision can be made,
which moves are checked and how much the weigher counts.
"""

from oslo_config import cfg

from qslm_nova.conf import groups

topology_opts = [
    cfg.StrOpt('topology_file',
               default='/etc/qslm-nova/topology.yaml',
               help="""
Path of the topology file (YAML or JSON, version 1).

The file describes the compute hosts (named as Nova names them), the
network nodes, the links with their bandwidth, latency, utilisation and
security level, and the migration mechanisms each host supports. Every
decision reads the network path and the link security from it. The file
is read at the first decision and again, in the background, whenever its
modification time, size or inode changes: requests keep using the last
good topology until the new file is read and checked. A file that fails
to load (invalid, too large, torn or hostile) is reported in the log and
the last good topology stays in use, so a bad edit never empties the
cloud. Until one good file has been read, no decision can be computed and
``fail_closed`` applies. Write the file atomically (a temporary file
renamed over it) and seal it (``topology_seal``).

Possible values:

* An absolute path to a file readable by the nova-scheduler and nova-api
  service users.

Related options:

* ``trust_providers``: the ``static`` provider reads host trust from this
  file.
* ``fail_closed``: what happens while the file cannot be read.
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
namespace and combined according to ``trust_combination``. Only instances
that require a trusted host (``default_require_trusted_host`` or the
``qslm:require_trusted_host`` extra spec) depend on the answer. Each
provider adds its own cost per decision: ``static`` reads the topology
file, ``keylime`` asks a Keylime verifier over the network (cached),
``aggregate`` and ``traits`` read what the scheduler already knows about
the host. A name that cannot be loaded is an error: no decision can be
made until it is fixed, and the log names the provider.

Possible values:

* A comma-separated list of provider names: ``static`` (the topology
  file's ``trusted`` and ``attested_at``), ``keylime`` (a Keylime
  verifier, see ``[qslm_keylime]``), ``aggregate`` (host aggregate
  metadata, see ``[qslm_aggregate]``), ``traits`` (placement traits, see
  ``[qslm_traits]``), or a provider another package registers.
* An empty list: no host is trusted, so instances that require a trusted
  host cannot move.

Related options:

* ``trust_combination``
* ``max_attestation_age``
* ``topology_file``
"""),
    cfg.StrOpt('trust_combination',
               default='all',
               choices=[('all', 'A host is trusted only if every provider '
                                'says it is trusted.'),
                        ('first', 'The first provider that has an answer '
                                  'for the host decides.')],
               help="""
How the answers of several trust providers are combined.

``all`` is the safe choice: one provider that fails, does not know the
host or reports it untrusted makes the host untrusted. ``first`` lets a
later provider answer for hosts the earlier ones do not know (e.g.
Keylime for attested hosts, then the topology file for the rest), but an
unavailable provider then hands the decision to the next one. With a
single provider both give the same result.

Related options:

* ``trust_providers``
* ``max_attestation_age``: applies to the answer that decides, under
  either rule.
"""),
    cfg.IntOpt('max_attestation_age',
               default=86400,
               min=0,
               help="""
Maximum age, in seconds, of a host attestation.

A host whose last successful attestation is older than this counts as
untrusted for instances that require a trusted host, and so does a host
whose provider gives no attestation time. A short age catches hosts whose
attestation tooling stopped running; it must stay longer than the interval
at which that tooling attests, or hosts drop out between attestations.

Possible values:

* A positive number of seconds (default: one day).
* 0: no age check (not recommended: a host attested once stays trusted).

Related options:

* ``trust_providers``
* ``[qslm_traits] trait_without_time_is_fresh``
"""),
]

failure_opts = [
    cfg.BoolOpt('fail_closed',
                default=True,
                help="""
Refuse a live migration when its decision cannot be computed.

A decision cannot be computed when the topology cannot be loaded, a host
is missing from it, the instance cannot be looked up or a policy value is
malformed. Refusing keeps every security and SLA promise but blocks
migrations (host maintenance, too) until the cause is fixed; letting them
through keeps the cloud operable and is logged. Instances whose policy
requires trust or encryption are always refused in such cases, whatever
this option says.

Possible values:

* True (default): the scheduler filter removes every host and the API
  pre-check answers 409.
* False: the migration goes on unchecked, unless the instance's policy
  requires trust or encryption.

Related options:

* ``topology_file``
* ``default_require_trusted_host``, ``default_require_encryption``
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

The weigher gives allowed hosts a weight between 0 and 1 (more downtime
budget left after the estimate, more security headroom and a quicker
migration weigh more) and denied hosts -1. Nova normalises every weigher
and adds them up after multiplying each by its multiplier, so this sets
how much QSLM counts against Nova's own weighers. Host aggregate metadata
``qslm_weight_multiplier`` overrides it per aggregate, like Nova's own
weighers.

Possible values:

* A positive number: prefer hosts with the larger margin.
* 0: QSLM does not influence the choice among allowed hosts.
* A negative number: prefer the hosts with the smaller margin.

Related options:

* ``[filter_scheduler] weight_classes`` must list
  ``qslm_nova.scheduler.weights.QSLMWeigher``.
"""),
]

ALL_OPTS = topology_opts + trust_opts + failure_opts + weigher_opts


def register_opts(conf):
    conf.register_group(groups.QSLM_GROUP)
    conf.register_opts(ALL_OPTS, group=groups.QSLM_GROUP)


def list_opts():
    return {groups.QSLM_GROUP: ALL_OPTS}
