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

import numpy as np

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_US = datetime.timedelta(microseconds=1)


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


def microseconds(when):
    """Microseconds since the epoch of an aware datetime (exact)."""
    return (when - _EPOCH) // _US


class TrustTable:
    """What one provider says about a list of hosts, as arrays.

    ``trusted``: 1 (trusted), 0 (not trusted) or -1 (unknown or no
    answer) per host; ``attested_us``: the attestation time in
    microseconds since the epoch where ``has_time``. ``state(j)`` gives
    the provider's :class:`TrustState` of host j (or None) for the
    reasons shown to operators.
    """

    __slots__ = ('trusted', 'has_time', 'attested_us', 'state')

    def __init__(self, trusted, has_time, attested_us, state):
        self.trusted = trusted
        self.has_time = has_time
        self.attested_us = attested_us
        self.state = state

    @classmethod
    def from_states(cls, states):
        """A table from one TrustState (or None) per host."""
        states = list(states)
        n = len(states)
        trusted = np.full(n, -1, dtype=np.int8)
        has_time = np.zeros(n, dtype=bool)
        attested = np.zeros(n, dtype=np.int64)
        for j, state in enumerate(states):
            if state is None or state.trusted is None:
                continue
            trusted[j] = 1 if state.trusted else 0
            if state.attested_at is not None:
                has_time[j] = True
                attested[j] = microseconds(state.attested_at)
        return cls(trusted, has_time, attested, states.__getitem__)


class TrustProvider(metaclass=abc.ABCMeta):
    """A source of host attestation results.

    Providers are loaded by name from the ``qslm_nova.trust`` entry point
    namespace and constructed with the oslo.config ``conf`` object, on
    which the loader has registered their options. They must be
    thread-safe: the scheduler and the API call them from several native
    threads at once. A provider that cannot answer raises
    :class:`qslm_nova.exception.TrustProviderError` (or returns
    ``TrustState(None, ...)`` per host); callers treat both as untrusted.
    """

    name = None
    #: The provider's options and their group (``qslm_<name>`` by
    #: convention); a provider without options keeps these.
    config_opts = ()
    config_group = None

    def __init__(self, conf):
        self.conf = conf

    @classmethod
    def get_config_opts(cls):
        """The provider's own options: ``config_opts``.

        The provider loader registers them under :meth:`get_config_group`
        before it constructs the provider, and ``qslm_nova.conf.opts``
        lists them for the sample configuration: a new provider brings
        its options without editing a central file.
        """
        return list(cls.config_opts)

    @classmethod
    def get_config_group(cls):
        """The ``cfg.OptGroup`` of the provider's options."""
        return cls.config_group

    @abc.abstractmethod
    def get_trust(self, hosts, topology, host_info=None):
        """Return {host: TrustState} for the given host names.

        :param hosts: iterable of compute host names (as Nova names them).
        :param topology: the current :class:`qslm_nova.topology.Topology`.
        :param host_info: optional {host: mapping} with what the caller
            knows about each host (e.g. ``aggregate_metadata``, ``traits``
            from Nova's HostState); providers may ignore it.
        """

    def trust_table(self, hosts, topology, host_info=None, index=None):
        """Return a :class:`TrustTable` for the given host names.

        The default asks :meth:`get_trust`. Providers that know every
        host of a topology up front override it to answer with arrays
        instead of one TrustState per host.

        :param index: optional positions of ``hosts`` in
            ``topology.host_names`` (-1 for unknown names).
        """
        hosts = list(hosts)
        answer = self.get_trust(hosts, topology, host_info)
        return TrustTable.from_states([answer.get(h) for h in hosts])


def host_facts(host_info, host):
    """The adapter's facts about *host* (a dict), or None if it has none."""
    if not host_info:
        return None
    info = host_info.get(host)
    return info if isinstance(info, dict) else None
