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

"""The ``traits`` trust provider: placement traits of the compute node.

For attestation tooling that writes traits on the compute node resource
provider::

    openstack --os-placement-api-version 1.6 resource provider trait set \\
        --trait CUSTOM_QSLM_TRUSTED \\
        --trait CUSTOM_QSLM_ATTESTED_AT_1764057600 <rp uuid>

It reads ``host_info[host]['traits']`` (a set of trait names) as the
scheduler and API adapters pass it. A host without that information is
unknown, which counts as untrusted for instances that require trust.
"""

import datetime

from qslm_nova.trust import base
from qslm_nova.trust import traits_opts

UTC = datetime.timezone.utc


class TraitTrustProvider(base.TrustProvider):
    """Trust from placement traits (see the module documentation).

    ``CUSTOM_QSLM_UNTRUSTED`` present: untrusted. ``CUSTOM_QSLM_TRUSTED``
    present: trusted, attested at the newest
    ``CUSTOM_QSLM_ATTESTED_AT_<epoch>`` trait; without one the attestation
    time is unknown (the host then fails ``[qslm] max_attestation_age``)
    unless ``[qslm_traits] trait_without_time_is_fresh`` says the trait
    itself is current. Neither trait: unknown.
    """

    name = 'traits'
    config_opts = traits_opts.ALL_OPTS
    config_group = traits_opts.GROUP

    def get_trust(self, hosts, topology, host_info=None):
        g = self.conf.qslm_traits
        now = datetime.datetime.now(UTC)
        return {h: self._one(h, base.host_facts(host_info, h), g, now)
                for h in hosts}

    def _one(self, host, info, g, now):
        if info is None or info.get('traits') is None:
            return base.TrustState(None, None, 'no trait information for '
                                   'host %s' % host)
        traits = set(info['traits'])
        attested = None
        prefix = g.attested_at_trait_prefix
        if prefix:
            stamps = []
            for trait in traits:
                if trait.startswith(prefix) and trait[len(prefix):].isdigit():
                    try:
                        stamps.append(datetime.datetime.fromtimestamp(
                            int(trait[len(prefix):]), UTC))
                    except (OverflowError, OSError, ValueError):
                        continue
            attested = max(stamps) if stamps else None
        if g.untrusted_trait and g.untrusted_trait in traits:
            return base.TrustState(False, attested, 'host %s has trait %s'
                                   % (host, g.untrusted_trait))
        if g.trusted_trait in traits:
            why = 'host %s has trait %s' % (host, g.trusted_trait)
            if attested is None and g.trait_without_time_is_fresh:
                attested = now
                why += ' (no attestation time trait, taken as current)'
            return base.TrustState(True, attested, why)
        return base.TrustState(None, None, 'host %s has neither %s nor %s'
                               % (host, g.trusted_trait, g.untrusted_trait))
