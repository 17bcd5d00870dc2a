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

"""The ways a migration stream may travel between two hosts.

A transport option is an end-to-end mechanism both hosts support and the
policy allows, optionally with a link-level mechanism (an IPsec tunnel
between gateways) on the links below the required security level. The
options to a destination depend only on the two hosts' mechanisms, the
policy's mechanism rules and minimum level, and on a weak path the
pattern of its links: :class:`OptionsMemo` keeps them per topology.
"""

import dataclasses

#: At most this many transport option lists are remembered per topology.
MEMO_MAX = 65536


@dataclasses.dataclass(frozen=True)
class TransportOption:
    """One way to carry the stream, and what it costs (``mechanism``)."""

    label: str
    mechanism: object
    # The two parts (``link`` None without a link-level mechanism): the
    # end-to-end cipher runs on the hosts, whose measured throughput may
    # replace its figure; the link-level one on the gateways.
    end_to_end: object = None
    link: object = None

    @classmethod
    def of(cls, end_to_end, link=None):
        """An end-to-end mechanism, with a link-level one on weak links.

        The two costs add up (overhead, handshakes, buffers); the slower
        cipher limits the rate.
        """
        if link is None:
            return cls(end_to_end.name, end_to_end, end_to_end)
        merged = dataclasses.replace(
            end_to_end,
            name='%s+%s' % (end_to_end.name, link.name),
            crypto_gbps_per_core=min(end_to_end.crypto_gbps_per_core,
                                     link.crypto_gbps_per_core),
            overhead_bytes_per_packet=(end_to_end.overhead_bytes_per_packet +
                                       link.overhead_bytes_per_packet),
            handshake_rtts=end_to_end.handshake_rtts + link.handshake_rtts,
            buffered_mb=end_to_end.buffered_mb + link.buffered_mb)
        return cls('%s (+%s on weak links)' % (end_to_end.name, link.name),
                   merged, end_to_end, link)


def transport_options(mechanisms, pol, src_mechanisms, dst_mechanisms,
                      weak_path):
    """The transport options to a destination.

    :param mechanisms: the topology's mechanisms by name.
    :param dst_mechanisms: the mechanisms the destination supports.
    :param weak_path: None on a path as secure as required, else the
        path's (link levels, link mechanisms).
    """
    names = sorted(src_mechanisms & dst_mechanisms & pol.allowed_mechanisms)
    weak_links = [] if weak_path is None else [
        m for level, m in zip(*weak_path) if level < pol.min_link_security]
    link_level = set()
    if weak_links:
        link_level = set.intersection(*(set(m) for m in weak_links))
        link_level &= pol.allowed_mechanisms
    options = []
    for name in names:
        mech = mechanisms[name]
        if pol.require_encryption and not mech.protects:
            continue
        if not weak_path or mech.protects:
            options.append(TransportOption.of(mech))
            continue
        for link_name in sorted(link_level):
            link_mech = mechanisms[link_name]
            if link_mech.protects:
                options.append(TransportOption.of(mech, link_mech))
    return options


def no_option_reason(pol, src, dst, weak, required, sends=None,
                     receives=None, profiled=False):
    """Why no transport option protects the stream from src to dst.

    :param sends: what the source migrates with (default: its topology
        list); ``receives`` what the destination can receive (default:
        its topology list).
    :param profiled: ``sends`` is the source's published profile.
    """
    sends = src.mechanisms if sends is None else sends
    receives = dst.mechanisms if receives is None else receives
    both = sorted(sends & receives)
    allowed = sorted(pol.allowed_mechanisms)
    if weak:
        what = ('every path from %s to %s crosses links weaker than the '
                'required %s' % (src.name, dst.name, required))
    else:
        what = 'the instance requires encryption'
    if profiled:
        return ('%s and no protecting mechanism is what %s\'s Nova migrates '
                'with (%s, published profile), %s can receive (%s) and the '
                'policy allows (%s)' % (
                    what, src.name, ', '.join(sorted(sends)), dst.name,
                    ', '.join(sorted(receives)) or 'none',
                    ', '.join(allowed) or 'none'))
    return ('%s and no protecting mechanism is both supported by the two '
            'hosts (%s) and allowed by the policy (%s)' % (
                what, ', '.join(both) or 'none in common',
                ', '.join(allowed) or 'none'))


class OptionsMemo:
    """Transport options already worked out, per topology.

    They depend only on the two hosts' mechanisms, the policy's mechanism
    rules and minimum level, and the pattern of a weak path (numbered by
    the topology): a handful of keys serve every request. A new topology
    starts afresh; a full memo is emptied. Thread-safe without a lock:
    a concurrent request may install its own dict, and each keeps using
    the one it took.
    """

    def __init__(self, max_entries=MEMO_MAX):
        self.max_entries = max_entries
        self._seen = (None, {})

    def __len__(self):
        return len(self._seen[1])

    def for_topology(self, topo):
        seen = self._seen
        if seen[0] is not topo or len(seen[1]) >= self.max_entries:
            seen = self._seen = (topo, {})
        return seen[1]
