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

"""The trust provider interface."""

import abc
import dataclasses
import datetime


@dataclasses.dataclass(frozen=True)
class TrustState:
    """What one provider knows about one host.

    :param trusted: True (attested good), False (attested bad or revoked)
        or None (the provider does not know the host or cannot tell).
    :param attested_at: time of the attestation the answer rests on
        (aware datetime), or None if unknown.
    :param reason: a short explanation, shown to operators; never a secret.
    """

    trusted: bool = None
    attested_at: datetime.datetime = None
    reason: str = ''


class TrustProvider(metaclass=abc.ABCMeta):
    """A source of host attestation results.

    Providers are loaded by name from the ``qslm_nova.trust`` entry point
    namespace and constructed with the oslo.config ``conf`` object. They
    must be thread-safe: the scheduler and the API call them from several
    native threads at once. A provider that cannot answer raises
    :class:`qslm_nova.exception.TrustProviderError` (or returns
    ``TrustState(None, ...)`` per host); callers treat both as untrusted.
    """

    name = None

    def __init__(self, conf):
        self.conf = conf

    @abc.abstractmethod
    def get_trust(self, hosts, topology, host_info=None):
        """Return {host: TrustState} for the given host names.

        :param hosts: iterable of compute host names (as Nova names them).
        :param topology: the current :class:`qslm_nova.topology.Topology`.
        :param host_info: optional {host: mapping} with what the caller
            knows about each host (e.g. ``aggregate_metadata``, ``traits``
            from Nova's HostState); providers may ignore it.
        """
