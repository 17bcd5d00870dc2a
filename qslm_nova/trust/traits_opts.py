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


"""[qslm_traits]: options of the ``traits`` trust provider.

The provider declares them (``TraitTrustProvider.get_config_opts``); the
provider loader registers them when the provider is loaded.
"""

from oslo_config import cfg

GROUP = cfg.OptGroup(
    'qslm_traits',
    title='Placement trait trust provider options',
    help="""
Options of the ``traits`` trust provider, which reads host trust from the
placement traits of each compute node resource provider.
""")

ALL_OPTS = [
    cfg.StrOpt('trusted_trait',
               default='CUSTOM_QSLM_TRUSTED',
               help="""
Trait the attestation tooling sets on attested trusted compute nodes.

The scheduler reads the traits of every candidate's compute node from
placement, so whoever may set traits on compute nodes decides which hosts
are trusted. A node with neither this trait nor
``untrusted_trait`` is unknown.

Possible values:

* A placement trait name, usually ``CUSTOM_...``.

Related options:

* ``untrusted_trait``
* ``attested_at_trait_prefix``
"""),
    cfg.StrOpt('untrusted_trait',
               default='CUSTOM_QSLM_UNTRUSTED',
               help="""
Trait marking a compute node as attested untrusted.

It wins over ``trusted_trait``: a node carrying both is untrusted, so the
tooling can revoke trust by adding one trait.

Possible values:

* A placement trait name, usually ``CUSTOM_...``.
* Empty: no trait marks a node untrusted.

Related options:

* ``trusted_trait``
"""),
    cfg.StrOpt('attested_at_trait_prefix',
               default='CUSTOM_QSLM_ATTESTED_AT_',
               help="""
Prefix of traits carrying the attestation time as seconds since the epoch.

E.g. ``CUSTOM_QSLM_ATTESTED_AT_1764057600``. With several such traits on
a node the newest counts. A trusted node without one fails the ``[qslm]
max_attestation_age`` check unless ``trait_without_time_is_fresh`` is set.

Possible values:

* A trait name prefix, usually ``CUSTOM_...``.
* Empty: attestation times are not read from traits.

Related options:

* ``trait_without_time_is_fresh``
* ``[qslm] max_attestation_age``
"""),
    cfg.BoolOpt('trait_without_time_is_fresh',
                default=False,
                help="""
Treat ``trusted_trait`` without an attestation-time trait as attested now.

Set it only when the attestation tooling removes ``trusted_trait`` as soon
as an attestation fails or expires. Otherwise such hosts have no
attestation time and fail the ``[qslm] max_attestation_age`` check.

Possible values:

* False (default): a trusted trait needs a time trait.
* True: the trusted trait alone counts as a current attestation.

Related options:

* ``attested_at_trait_prefix``
* ``[qslm] max_attestation_age``
"""),
]
