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
decision reads the network path and the link security from it. The file is
read at the first decision and again whenever its modification time
changes; a file that fails to load is reported in the log and the last
good topology stays in use, so a bad edit never empties the cloud. Until
one good file has been read, no decision can be computed and
``fail_closed`` applies.

Possible values:

* An absolute path to a file readable by the nova-scheduler and nova-api
  service users.

Related options:

* ``trust_providers``: the ``static`` provider reads host trust from this
  file.
* ``fail_closed``: what happens while the file cannot be read.
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
    cfg.BoolOpt('apply_to_cold_migrations',
                default=False,
                help="""
Also apply the security policy to cold migrations and resizes.

By default only live migrations are checked; boots, cold migrations,
resizes, evacuations and rebuilds pass the filter untouched. With this
set, cold migrations and resizes are decided like live migrations (the
same policy, path and trust checks), which also means a cold move can be
refused for lack of an allowed destination. Evacuations and rebuilds are
never checked.

Possible values:

* False (default): only live migrations are checked.
* True: cold migrations and resizes are checked like live migrations.

Related options:

* ``fail_closed``: also applies to the cold moves checked.
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
