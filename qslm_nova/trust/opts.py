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

"""Options of the trust providers: [qslm_keylime], [qslm_aggregate],
[qslm_traits].

``list_opts`` returns them for ``oslo-config-generator``; each provider
registers its group on the ``conf`` object it is constructed with.
"""

from oslo_config import cfg
from oslo_config import types

#: Keylime agent operational states (keylime/common/states.py).
KEYLIME_STATES = {
    0: 'Registered',
    1: 'Start',
    2: 'Saved',
    3: 'Get Quote',
    4: 'Get Quote (retry)',
    5: 'Provide V',
    6: 'Provide V (retry)',
    7: 'Failed',
    8: 'Terminated',
    9: 'Invalid Quote',
    10: 'Tenant Quote Failed',
}

keylime_group = cfg.OptGroup(
    'qslm_keylime',
    title='Keylime trust provider options',
    help="""
Options of the ``keylime`` trust provider, which reads the attestation
state of each compute host's Keylime agent from a Keylime verifier
(enable it with ``[qslm] trust_providers = keylime``).
""")

keylime_opts = [
    cfg.URIOpt('verifier_url',
               schemes=['https'],
               help="""
Base URL of the Keylime verifier's REST API.

Possible values:

* An ``https`` URL with host and port, e.g.
  ``https://keylime-verifier.example.com:8881``. The verifier only speaks
  TLS; plain ``http`` is not accepted.

Related options:

* ``api_version``
* ``cafile``, ``certfile``, ``keyfile``
"""),
    cfg.StrOpt('api_version',
               default='2.1',
               regex=r'^[0-9]+\.[0-9]+$',
               help="""
Keylime REST API version used in request paths (``/v<api_version>/...``).

Possible values:

* A version the verifier supports, e.g. ``2.1`` (Keylime 6.4 and later)
  or ``2.3``.
"""),
    cfg.StrOpt('cafile',
               help="""
CA bundle used to verify the verifier's server certificate.

Possible values:

* Path to a PEM file, usually the Keylime CA (``cacert.crt``).
* Unset: the system CA store is used.

Related options:

* ``insecure``
"""),
    cfg.StrOpt('certfile',
               help="""
Client certificate presented to the verifier (mutual TLS).

The Keylime verifier requires a client certificate signed by its CA for
every API request.

Possible values:

* Path to a PEM certificate (with or without the key).

Related options:

* ``keyfile``, ``keyfile_password``
"""),
    cfg.StrOpt('keyfile',
               help="""
Private key of the client certificate.

Possible values:

* Path to a PEM private key, readable only by the service user.
* Unset: the key is read from ``certfile``.
"""),
    cfg.StrOpt('keyfile_password',
               secret=True,
               help="""
Password of an encrypted ``keyfile``. Never logged.
"""),
    cfg.BoolOpt('insecure',
                default=False,
                help="""
Skip verification of the verifier's server certificate.

Only for testing: a host could be reported trusted by anybody able to
intercept the connection. The client certificate is still presented.
"""),
    cfg.FloatOpt('decision_timeout',
                 default=5.0,
                 min=0.1,
                 max=30.0,
                 help="""
Seconds one scheduling decision waits, in all, for the verifier.

Every live-migration decision (scheduler filter or API pre-check) that
needs attestation asks the verifier for all its hosts at once and waits
at most this long, whatever the verifier does: refusing, silent,
answering one byte at a time, stalling the TLS handshake, sending huge
answers, or a slow DNS server. Hosts without an answer by then count as
untrusted for instances that require trust (fail closed), and one
WARNING per decision says how many. Look-ups still running go on, bounded
by the same deadline, and their answers are cached for the next
decision; look-ups still queued are dropped.

Keep it well below Nova's ``rpc_response_timeout`` (60 s by default):
the scheduler answers the conductor only after every filter has run.

Possible values:

* 0.1 to 30 seconds. With per-agent requests a decision can ask about
  ``max_concurrent_requests`` agents per round trip of the verifier;
  use ``bulk_requests`` for clouds where that does not fit.

Related options:

* ``connect_timeout``, ``read_timeout``: caps of each step within it
* ``max_concurrent_requests``, ``bulk_requests``, ``cache_ttl``
"""),
    cfg.FloatOpt('connect_timeout',
                 default=3.0,
                 min=0.1,
                 help="""
Seconds to wait for the TCP connection and, again, for the TLS handshake
with the verifier.

Each step also ends when the decision's ``decision_timeout`` runs out.

Related options:

* ``decision_timeout``
"""),
    cfg.FloatOpt('read_timeout',
                 default=5.0,
                 min=0.1,
                 help="""
Seconds to wait for each read of the verifier's answer.

A verifier sending a byte at a time never trips it: the whole answer
must arrive within ``decision_timeout``. Answers larger than 1 MiB for one
agent (64 MiB for a bulk request) are refused as unusable.

Related options:

* ``decision_timeout``
"""),
    cfg.IntOpt('cache_ttl',
               default=30,
               min=0,
               help="""
Seconds an agent's state read from the verifier is reused.

A scheduling request asks about many hosts, several times; answers are
cached per agent so that the verifier sees at most one request per agent
(or one bulk request) per ``cache_ttl``. Failed look-ups are cached for
the same time, so a verifier outage costs at most one
``decision_timeout`` per ``cache_ttl``. A host flipped to untrusted in
Keylime is seen as untrusted at most ``cache_ttl`` seconds later. 0
disables the cache.

Related options:

* ``decision_timeout``
"""),
    cfg.IntOpt('max_concurrent_requests',
               default=8,
               min=1,
               help="""
Maximum number of agent look-ups sent to the verifier at once when
``bulk_requests`` is False.

They run on a pool of this many threads per process, shared by all
decisions; no other thread is ever started for the verifier.

Related options:

* ``decision_timeout``
"""),
    cfg.BoolOpt('bulk_requests',
                default=False,
                help="""
Read all agents with one ``GET /v<api_version>/agents/?bulk=true`` request.

Useful when the verifier monitors about as many agents as there are
compute hosts. With many unrelated agents, per-agent requests are
cheaper.

Related options:

* ``verifier_id``
"""),
    cfg.StrOpt('verifier_id',
               help="""
Restrict bulk requests to the agents of this verifier id
(``&verifier=<id>``), for deployments with several verifiers sharing a
database.
"""),
    cfg.DictOpt('agent_ids',
                default={},
                help="""
Keylime agent id of compute hosts, as ``host:agent_id`` pairs.

The topology file's per-host ``agent_id`` takes precedence.

Possible values:

* e.g. ``compute-1:d432fbb3-d2f1-4a97-9ef7-75bd81c00000``

Related options:

* ``agent_id_fallback``
"""),
    cfg.StrOpt('agent_id_fallback',
               default='none',
               choices=[('none', 'Hosts without a known agent id are '
                                 'unknown, hence untrusted.'),
                        ('hostname', 'Use the Nova host name as the agent '
                                     'id (Keylime agent option '
                                     '``uuid = "hostname"``).')],
               help="""
Agent id of hosts that have none in the topology file or ``agent_ids``.
"""),
    cfg.ListOpt('trusted_states',
                default=['Get Quote', 'Provide V'],
                item_type=types.String(choices=[
                    'Get Quote', 'Get Quote (retry)', 'Provide V',
                    'Provide V (retry)']),
                help="""
Keylime operational states in which an agent counts as trusted.

Keylime keeps an agent in ``Get Quote`` while its periodic quotes verify.
``Failed``, ``Invalid Quote``, ``Terminated`` and ``Tenant Quote Failed``
always count as untrusted; every other state (``Registered``, ``Start``,
``Saved``, retry states unless listed here, unknown numbers) counts as
unknown, which is untrusted for instances that require trust. In the
retry states the verifier currently cannot reach the agent.

Possible values:

* A list among ``Get Quote``, ``Get Quote (retry)``, ``Provide V``,
  ``Provide V (retry)``.
"""),
]

aggregate_group = cfg.OptGroup(
    'qslm_aggregate',
    title='Aggregate trust provider options',
    help="""
Options of the ``aggregate`` trust provider, which reads host trust from
the metadata of the host aggregates a compute host belongs to.
""")

aggregate_opts = [
    cfg.StrOpt('trusted_key',
               default='qslm:trusted',
               help="""
Aggregate metadata key saying whether the hosts are attested trusted.

Values ``true``/``false`` (and the other forms oslo accepts). If a host is
in several aggregates with different values it counts as untrusted.
"""),
    cfg.StrOpt('attested_at_key',
               default='qslm:attested_at',
               help="""
Aggregate metadata key with the time of the last successful attestation.

Possible values of the metadata: an ISO 8601 time (``2026-11-25T06:00:00Z``)
or seconds since the epoch. A trusted host without it fails the
``[qslm] max_attestation_age`` check unless that check is disabled.
"""),
]

traits_group = cfg.OptGroup(
    'qslm_traits',
    title='Placement trait trust provider options',
    help="""
Options of the ``traits`` trust provider, which reads host trust from the
placement traits of each compute node resource provider.
""")

traits_opts = [
    cfg.StrOpt('trusted_trait',
               default='CUSTOM_QSLM_TRUSTED',
               help="""
Trait the attestation tooling sets on attested trusted compute nodes.
"""),
    cfg.StrOpt('untrusted_trait',
               default='CUSTOM_QSLM_UNTRUSTED',
               help="""
Trait marking a compute node as attested untrusted; it wins over
``trusted_trait``.
"""),
    cfg.StrOpt('attested_at_trait_prefix',
               default='CUSTOM_QSLM_ATTESTED_AT_',
               help="""
Prefix of a trait carrying the attestation time as seconds since the
epoch, e.g. ``CUSTOM_QSLM_ATTESTED_AT_1764057600``. The newest one counts.

Related options:

* ``trait_without_time_is_fresh``
"""),
    cfg.BoolOpt('trait_without_time_is_fresh',
                default=False,
                help="""
Treat ``trusted_trait`` without an attestation-time trait as attested now.

Set it only when the attestation tooling removes ``trusted_trait`` as soon
as an attestation fails or expires. Otherwise such hosts have no
attestation time and fail the ``[qslm] max_attestation_age`` check.
"""),
]


def register_opts(conf):
    for group, opts in list_opts():
        conf.register_group(group)
        conf.register_opts(opts, group=group)


def list_opts():
    return [(keylime_group, keylime_opts),
            (aggregate_group, aggregate_opts),
            (traits_group, traits_opts)]
