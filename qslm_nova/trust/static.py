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

import numpy as np

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
        # (topology, trusted, has_time, attested_us) over its hosts.
        self._arrays = None

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

    def _topology_arrays(self, topology):
        """The topology's trust flags as arrays, once per topology.

        A last entry answers for names not in the topology (index -1).
        """
        arrays = self._arrays
        if arrays is None or arrays[0] is not topology:
            hosts = [topology.hosts[h] for h in topology.host_names]
            arrays = (
                topology,
                np.array([1 if h.trusted else 0 for h in hosts] + [-1],
                         dtype=np.int8),
                np.array([h.attested_at is not None for h in hosts] +
                         [False], dtype=bool),
                np.array([0 if h.attested_at is None else
                          base.microseconds(h.attested_at) for h in hosts] +
                         [0], dtype=np.int64))
            # Benign race: concurrent requests store equal values.
            self._arrays = arrays
        return arrays

    def trust_table(self, hosts, topology, host_info=None, index=None):
        """The same answers as get_trust(), as arrays over the hosts."""
        hosts = list(hosts)
        if index is None:
            index = topology.host_positions(hosts)
        _topo, trusted, has_time, attested = self._topology_arrays(topology)

        def state(j):
            return self.get_trust([hosts[j]], topology)[hosts[j]]

        return base.TrustTable(trusted[index], has_time[index],
                               attested[index], state)
