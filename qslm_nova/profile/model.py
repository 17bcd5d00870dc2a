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

"""What a compute host's Nova does on a live migration, and its costs."""

import dataclasses
import enum

from qslm_nova import estimator


class Transport(enum.Enum):
    """The data path Nova's libvirt driver takes from a source host.

    In Nova the transport is not chosen per migration: the source
    compute's ``[libvirt]`` options decide it. The values are the
    mechanism names of :mod:`qslm_nova.mechanisms`.
    """

    #: QEMU's own TCP stream, unprotected.
    PLAIN = 'none'
    #: QEMU native TLS (``live_migration_with_native_tls``); the
    #: destination needs QEMU's TLS certificates.
    NATIVE_TLS = 'tls'
    #: libvirt tunnelling (``live_migration_tunnelled``) through an
    #: encrypted libvirtd connection (``qemu+tls``, ``qemu+ssh``).
    TUNNELLED = 'tunnelled'

    @property
    def mechanism(self):
        return self.value


def transport_of(native_tls, tunnelled, scheme):
    """The transport of a host's [libvirt] options, and a note.

    Nova refuses to start with both ``live_migration_tunnelled`` and
    ``live_migration_with_native_tls``; such a host gets no transport.

    :param scheme: ``live_migration_scheme`` (None: tcp), or the scheme of
        ``live_migration_uri``.
    :returns: (Transport or None, note or None)
    """
    if native_tls and tunnelled:
        return None, ('live_migration_tunnelled and '
                      'live_migration_with_native_tls are both set: Nova '
                      'refuses to start with both')
    if native_tls:
        return Transport.NATIVE_TLS, None
    if tunnelled:
        if (scheme or 'tcp') in ('tls', 'ssh'):
            return Transport.TUNNELLED, None
        return Transport.PLAIN, ('live_migration_tunnelled over an '
                                 'unencrypted qemu+%s connection carries '
                                 'the stream in plain text' % (
                                     scheme or 'tcp'))
    return Transport.PLAIN, None


@dataclasses.dataclass(frozen=True)
class HostProfile:
    """One host's published migration profile.

    A field is None when it was not published (an older agent, or a
    partial reading: the destination table reads only what a destination
    needs).

    :param node: the compute node (resource provider) name.
    :param transport: the mechanism name Nova migrates with from here.
    :param accepts_tls: QEMU's TLS certificates are in place: the host
        can be the destination of a native-TLS migration.
    :param libvirt: the [libvirt] live-migration options Nova uses when
        this host is the source (downtime steps, timeout, bandwidth,
        parallel connections, post-copy, auto-converge).
    :param cipher_gbps_per_core: measured AES-GCM throughput of one TLS
        stream on one core (Gbit/s).
    :param cpu_load: measured CPU load, runnable threads per CPU, 0..16
        (rounded up to a step, :func:`traits.load_trait_value`).
    :param cores: online CPUs.
    :param seen_at: when the agent last published (epoch seconds, to ten
        minutes).
    :param errors: why parts of the published traits were not readable.
    """

    node: str
    transport: str = None
    accepts_tls: bool = None
    libvirt: estimator.LibvirtSettings = None
    cipher_gbps_per_core: float = None
    cpu_load: float = None
    cores: int = None
    libvirt_version: int = None
    qemu_version: int = None
    seen_at: int = None
    errors: tuple = ()

    def age_s(self, now_epoch):
        """Seconds since the agent last published; None if unknown."""
        if self.seen_at is None:
            return None
        return max(now_epoch - self.seen_at, 0)

    def streams_with(self, other):
        """Connections a migration from here to ``other`` really uses.

        Nova asks for ``live_migration_parallel_connections``; each takes
        a core on both sides, so no more than the fewer cores count.
        """
        wanted = (self.libvirt.parallel_connections
                  if self.libvirt is not None else 1)
        cores = [c for c in (self.cores, getattr(other, 'cores', None))
                 if c]
        return max(1, min([wanted] + cores))
