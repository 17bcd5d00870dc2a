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


"""[qslm_keylime]: options of the ``keylime`` trust provider.

The provider declares them (``KeylimeTrustProvider.get_config_opts``);
the provider loader registers them when the provider is loaded.
"""

from oslo_config import cfg
from oslo_config import types

GROUP = cfg.OptGroup(
    'qslm_keylime',
    title='Keylime trust provider options',
    help="""
Options of the ``keylime`` trust provider, which reads the attestation
state of each compute host's Keylime agent from a Keylime verifier
(enable it with ``[qslm] trust_providers = keylime``).
""")

connection_opts = [
    cfg.URIOpt('verifier_url',
               schemes=['https'],
               help="""
Base URL of the Keylime verifier's REST API.

Every look-up the provider makes goes to this verifier, over mutual TLS.
Without it the provider cannot answer: every host counts as untrusted for
instances that require trust, and the log says why once.

Possible values:

* An ``https`` URL with host and port, e.g.
  ``https://keylime-verifier.example.com:8881``. The verifier only speaks
  TLS; plain ``http`` is not accepted.
* Unset (default): the provider is not configured.

Related options:

* ``api_version``
* ``cafile``, ``certfile``, ``keyfile``
"""),
    cfg.StrOpt('api_version',
               default='2.1',
               regex=r'^[0-9]+\.[0-9]+$',
               help="""
Keylime REST API version used in request paths (``/v<api_version>/...``).

The verifier answers only the versions it supports; a version it does
not know makes every look-up fail, so every host counts as untrusted for
instances that require trust.

Possible values:

* A version the verifier supports, e.g. ``2.1`` (Keylime 6.4 and later)
  or ``2.3``.

Related options:

* ``verifier_url``
"""),
    cfg.StrOpt('cafile',
               help="""
CA bundle used to verify the verifier's server certificate.

The provider refuses a verifier whose certificate this bundle does not
vouch for, so that nobody between the scheduler and the verifier can
report a host trusted.

Possible values:

* Path to a PEM file, usually the Keylime CA (``cacert.crt``).
* Unset (default): the system CA store is used.

Related options:

* ``insecure``
* ``certfile``
"""),
    cfg.StrOpt('certfile',
               help="""
Client certificate presented to the verifier (mutual TLS).

The Keylime verifier requires a client certificate signed by its CA for
every API request; without one it refuses the connection and every host
counts as untrusted for instances that require trust.

Possible values:

* Path to a PEM certificate (with or without the key).
* Unset (default): no client certificate is presented.

Related options:

* ``keyfile``, ``keyfile_password``
* ``cafile``
"""),
    cfg.StrOpt('keyfile',
               help="""
Private key of the client certificate.

Keep it readable only by the service user: whoever holds it can query
the verifier as this service.

Possible values:

* Path to a PEM private key.
* Unset (default): the key is read from ``certfile``.

Related options:

* ``certfile``
* ``keyfile_password``
"""),
    cfg.StrOpt('keyfile_password',
               secret=True,
               help="""
Password of an encrypted ``keyfile``.

It is only used to load the key and is never logged.

Possible values:

* The password of the key.
* Unset (default): the key is not encrypted.

Related options:

* ``keyfile``
"""),
    cfg.BoolOpt('insecure',
                default=False,
                help="""
Skip verification of the verifier's server certificate.

Only for testing: a host could be reported trusted by anybody able to
intercept the connection. The client certificate is still presented.

Possible values:

* False (default): the server certificate is verified.
* True: any server certificate is accepted.

Related options:

* ``cafile``
"""),
]

request_opts = [
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
Seconds to wait for the TCP connection, and again for the TLS handshake.

Each step also ends when the decision's ``decision_timeout`` runs out.
Short values give up on a slow network sooner; the decision as a whole
never waits longer than ``decision_timeout`` anyway.

Possible values:

* A number of seconds, 0.1 or more.

Related options:

* ``decision_timeout``
* ``read_timeout``
"""),
    cfg.FloatOpt('read_timeout',
                 default=5.0,
                 min=0.1,
                 help="""
Seconds to wait for each read of the verifier's answer.

A verifier sending a byte at a time never trips it: the whole answer
must arrive within ``decision_timeout``. Answers larger than 1 MiB for one
agent (64 MiB for a bulk request) are refused as unusable.

Possible values:

* A number of seconds, 0.1 or more.

Related options:

* ``decision_timeout``
* ``connect_timeout``
"""),
    cfg.IntOpt('cache_ttl',
               default=30,
               min=0,
               help="""
Seconds an agent's state read from the verifier is reused.

A scheduling request asks about many hosts, several times; answers are
cached per agent so that the verifier sees at most one request per agent
(or one bulk request) per ``cache_ttl``. Failed look-ups are cached for
the same time, and after three failed requests in a row the verifier
counts as down for ``cache_ttl`` seconds, so an outage costs at most one
``decision_timeout`` per ``cache_ttl``. A host flipped to untrusted in
Keylime is seen as untrusted at most ``cache_ttl`` seconds later.

Possible values:

* A positive number of seconds.
* 0: no cache (every decision asks the verifier).

Related options:

* ``decision_timeout``
* ``[qslm] max_attestation_age``
"""),
    cfg.IntOpt('max_concurrent_requests',
               default=8,
               min=1,
               help="""
Maximum number of agent look-ups sent to the verifier at once.

Without ``bulk_requests`` the provider asks for each agent it has no
cached answer for; the look-ups run on a pool of this many threads per
process, shared by all decisions (no other thread is ever started for
the verifier). More threads finish a large scheduling request sooner but
load the verifier more.

Possible values:

* A positive number of requests.

Related options:

* ``bulk_requests``
* ``decision_timeout``
"""),
    cfg.BoolOpt('bulk_requests',
                default=False,
                help="""
Read all agents with one request.

The provider then sends ``GET /v<api_version>/agents/?bulk=true`` instead
of one request per agent. Useful when the verifier monitors about as many
agents as there are compute hosts; with many unrelated agents, per-agent
requests are cheaper.

Possible values:

* False (default): one request per agent.
* True: one bulk request per look-up.

Related options:

* ``verifier_id``
* ``max_concurrent_requests``
"""),
    cfg.StrOpt('verifier_id',
               help="""
Verifier id that bulk requests are restricted to.

For deployments where several verifiers share a database, bulk requests
then ask only for this verifier's agents (``&verifier=<id>``).

Possible values:

* The id of the verifier in ``verifier_url``.
* Unset (default): all agents.

Related options:

* ``bulk_requests``
"""),
]

agent_opts = [
    cfg.DictOpt('agent_ids',
                default={},
                help="""
Keylime agent id of compute hosts, as ``host:agent_id`` pairs.

The topology file's per-host ``agent_id`` takes precedence. A host with
neither is unknown to the provider unless ``agent_id_fallback`` says
otherwise.

Possible values:

* e.g. ``compute-1:d432fbb3-d2f1-4a97-9ef7-75bd81c00000``
* Empty (default): agent ids come from the topology file.

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

``hostname`` saves listing every host, but only fits agents set up to use
the host name as their id; an agent registered under another id is then
looked up in vain and the host counts as unknown.

Related options:

* ``agent_ids``
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

Related options:

* ``[qslm] max_attestation_age``
"""),
]

ALL_OPTS = connection_opts + request_opts + agent_opts
