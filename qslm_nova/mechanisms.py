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

"""Migration transport mechanisms and their protection and cost.

A mechanism is how the migration stream travels between two hosts, as
Nova's libvirt driver really carries it: ``none`` (QEMU's own TCP
stream), ``tls`` (QEMU native TLS, ``[libvirt]
live_migration_with_native_tls``), ``tunnelled`` (libvirt tunnelling
through the libvirtd connection, ``[libvirt] live_migration_tunnelled``
with an encrypted ``qemu+tls`` or ``qemu+ssh`` connection), or ``ipsec``
(network level: an IPsec tunnel between the hosts, or on a link between
two gateways). Each provides some protection and costs some throughput.

``ssh`` (an ``ssh -L`` tunnel of QEMU's stream) is no Nova data path; old
topology files and policies that name it still load, with a deprecation
warning, as ``tunnelled`` (:func:`canonical_name`).
"""

import dataclasses
import math

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Mechanism:
    """One transport mechanism.

    :param crypto_gbps_per_core: encryption throughput of one core, in
        Gbit/s; ``math.inf`` for mechanisms that do no cryptography. QEMU
        sends one migration stream, so one core per side does the work.
    :param overhead_bytes_per_packet: bytes the mechanism adds to every
        packet (record headers, MAC tags, tunnel headers).
    :param handshake_rtts: round trips spent setting the channel up.
    :param buffered_mb: data still in the socket and tunnel buffers when
        the source stops the guest (MiB); it lengthens the pause.
    """

    name: str
    confidentiality: bool = False
    integrity: bool = False
    authentication: bool = False
    crypto_gbps_per_core: float = math.inf
    overhead_bytes_per_packet: int = 0
    handshake_rtts: int = 0
    buffered_mb: float = 1.0

    @property
    def protects(self):
        """True if the mechanism gives confidentiality and integrity."""
        return self.confidentiality and self.integrity


# Built-in defaults. The crypto figures are conservative single-core
# AES-GCM/ChaCha20 rates of a current x86 server; operators measure their
# own with `qslm-nova calibrate` (or the compute agent publishes them) and
# override them in the topology file. The buffered data follows the
# testbed fit (data/testbed, Linux default socket buffers): about 2.5 MiB
# in a TCP connection, more behind TLS records. ``tunnelled`` keeps the
# figures measured for a relayed, encrypted stream (the SSH tunnel of the
# testbed): libvirtd relays the stream through its own encrypted
# connection, two sockets and an extra copy on each side.
BUILTIN = {
    'none': Mechanism('none', buffered_mb=2.5),
    'tls': Mechanism('tls', confidentiality=True, integrity=True,
                     authentication=True, crypto_gbps_per_core=2.5,
                     overhead_bytes_per_packet=29, handshake_rtts=2,
                     buffered_mb=3.25),
    'tunnelled': Mechanism('tunnelled', confidentiality=True,
                           integrity=True, authentication=True,
                           crypto_gbps_per_core=1.2,
                           overhead_bytes_per_packet=36, handshake_rtts=3,
                           buffered_mb=4.5),
    'ipsec': Mechanism('ipsec', confidentiality=True, integrity=True,
                       authentication=True, crypto_gbps_per_core=3.0,
                       overhead_bytes_per_packet=57, handshake_rtts=0,
                       buffered_mb=2.5),
}

FIELDS = {
    'confidentiality': bool,
    'integrity': bool,
    'authentication': bool,
    'crypto_gbps_per_core': float,
    'overhead_bytes_per_packet': int,
    'handshake_rtts': int,
    'buffered_mb': float,
}

#: Deprecated mechanism names and the mechanism each is read as.
DEPRECATED = {
    'ssh': 'tunnelled',
}

_warned = set()


def canonical_name(name, where=None):
    """The mechanism a name stands for, warning once about old names.

    ``ssh`` (an ``ssh -L`` tunnel) matches no path Nova's libvirt driver
    takes; it is read as ``tunnelled``, the Nova data path that carries
    the stream through an encrypted connection between the hosts.

    :param where: where the name was written (a file and entry, a policy
        key), for the warning.
    """
    new = DEPRECATED.get(name) if isinstance(name, str) else None
    if new is None:
        return name
    key = (name, where)
    if key not in _warned:
        if len(_warned) > 1000:
            _warned.clear()
        _warned.add(key)
        LOG.warning('Mechanism %(old)r%(where)s is deprecated: Nova never '
                    'migrates through an ssh -L tunnel. It is read as '
                    '%(new)r (libvirt tunnelling, [libvirt] '
                    'live_migration_tunnelled over a qemu+ssh or qemu+tls '
                    'connection); write %(new)r, or let the compute agent '
                    'publish what each host really does.',
                    {'old': name, 'new': new,
                     'where': ' in %s' % where if where else ''})
    return new


def default_names(names):
    """``[qslm] default_allowed_mechanisms`` with old names read anew."""
    return tuple(canonical_name(n, '[qslm] default_allowed_mechanisms')
                 for n in names)
