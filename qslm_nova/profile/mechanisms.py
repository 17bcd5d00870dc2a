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

"""A published profile as the mechanism sets the decision works with.

A host's mechanisms are what its Nova will do: as a source exactly one
Nova transport (its [libvirt] options decide it), as a destination the
transports it can receive (plain TCP and libvirt tunnelling always,
native TLS only with QEMU's TLS certificates). Network-level mechanisms
the topology file lists for the host (IPsec between hosts, a site's own
like WireGuard) are not Nova's to decide and stay as written.
"""

from qslm_nova.profile import model

#: The mechanisms Nova's libvirt driver decides; the rest are network-level.
NOVA_TRANSPORTS = frozenset(t.value for t in model.Transport)
_ALWAYS_RECEIVED = frozenset([model.Transport.PLAIN.value,
                              model.Transport.TUNNELLED.value])


def network_level(topology_mechanisms):
    return frozenset(topology_mechanisms) - NOVA_TRANSPORTS


def sends(profile, topology_mechanisms=frozenset()):
    """What a migration from this host travels with; None if unknown."""
    if profile is None or profile.transport is None:
        return None
    return frozenset([profile.transport]) | network_level(
        topology_mechanisms)


def receives(accepts_tls, topology_mechanisms=frozenset()):
    """What a migration to a host with a profile may travel with.

    :param accepts_tls: the host's profile says it has QEMU's TLS
        certificates.
    """
    nova = _ALWAYS_RECEIVED
    if accepts_tls:
        nova = nova | {model.Transport.NATIVE_TLS.value}
    return nova | network_level(topology_mechanisms)


def _names(mechs):
    return ', '.join(sorted(mechs)) or 'none'


def source_mismatch(host, topology_mechanisms, profile):
    """Why the topology file's list differs from what the source's Nova
    does, or None.
    """
    listed = frozenset(topology_mechanisms) & NOVA_TRANSPORTS
    if profile is None or profile.transport is None:
        return None
    if listed == {profile.transport}:
        return None
    return ('topology file lists %s for %s but its Nova migrates with %s '
            '(published profile)' % (_names(listed), host,
                                     profile.transport))


def destination_mismatch(host, topology_mechanisms, accepts_tls):
    """Why the topology file's list differs from what the destination can
    receive, or None (only native TLS can be missing).
    """
    if accepts_tls or model.Transport.NATIVE_TLS.value not in frozenset(
            topology_mechanisms):
        return None
    return ('topology file lists tls for %s but it has no QEMU TLS '
            'certificates and cannot receive native TLS (published '
            'profile)' % host)


def mismatches(host, topology_mechanisms, profile):
    """Every difference between the topology file and a full profile."""
    if profile is None:
        return []
    found = [text for text in (
        source_mismatch(host, topology_mechanisms, profile),
        destination_mismatch(host, topology_mechanisms,
                             profile.accepts_tls)) if text]
    if profile.errors:
        found.append('published profile of %s is partly unreadable: %s'
                     % (host, '; '.join(profile.errors)))
    return found
