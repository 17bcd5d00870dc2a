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


"""[qslm_aggregate]: options of the ``aggregate`` trust provider.

The provider declares them (``AggregateTrustProvider.get_config_opts``);
the provider loader registers them when the provider is loaded.
"""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'qslm_aggregate',
    title='Aggregate trust provider options',
    help="""
Options of the ``aggregate`` trust provider, which reads host trust from
the metadata of the host aggregates a compute host belongs to.
""")

ALL_OPTS = [
    cfg.StrOpt('trusted_key',
               default='qslm:trusted',
               help="""
Aggregate metadata key saying whether the hosts are attested trusted.

Whoever may set aggregate metadata (admins, by Nova's default policy)
decides which hosts are trusted, so the attestation tooling needs that
right. A host in several aggregates with different values counts as
untrusted; a host in no aggregate with the key is unknown.

Possible values:

* A metadata key. Its values are ``true``/``false`` (and the other forms
  oslo accepts).

Related options:

* ``attested_at_key``
"""),
    cfg.StrOpt('attested_at_key',
               default='qslm:attested_at',
               help="""
Aggregate metadata key with the time of the last successful attestation.

A trusted host without it fails the ``[qslm] max_attestation_age`` check
unless that check is disabled. With several aggregates giving a time, the
oldest counts.

Possible values:

* A metadata key. Its values are an ISO 8601 time
  (``2026-11-25T06:00:00Z``) or seconds since the epoch.

Related options:

* ``trusted_key``
* ``[qslm] max_attestation_age``
"""),
]
