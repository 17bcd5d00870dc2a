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

"""The ``static`` trust provider: trust flags from the topology file."""

from qslm_nova.trust import base


class StaticTrustProvider(base.TrustProvider):
    """Reads ``trusted`` and ``attested_at`` of each host in the topology.

    Meant for clouds whose attestation tooling writes the topology file,
    and for tests. Hosts absent from the file are unknown.
    """

    name = 'static'

    def __init__(self, conf):
        super().__init__(conf)
        # name -> (topology Host, its TrustState): the state only changes
        # with the Host entry, and the scheduler asks for thousands of
        # hosts per request.
        self._memo = {}

    def get_trust(self, hosts, topology, host_info=None):
        result = {}
        memo = self._memo
        known = topology.hosts
        for name in hosts:
            host = known.get(name)
            if host is None:
                result[name] = base.TrustState(
                    None, None, 'host %s is not in the topology file' % name)
                continue
            hit = memo.get(name)
            if hit is None or hit[0] is not host:
                hit = (host, base.TrustState(
                    bool(host.trusted), host.attested_at,
                    'topology file says %s' % (
                        'trusted' if host.trusted else 'untrusted')))
                # Benign race: concurrent requests store equal values.
                memo[name] = hit
            result[name] = hit[1]
        return result
