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

"""How far real pauses stray from the model's expected pause.

A residual is the pause a real migration had divided by the pause the
downtime model expected for that migration (the testbed's runs,
``data/testbed``, with the constants fitted to them): the error of the
model grows with the pause, so it is a ratio, not a difference. The
residuals are kept per transport (``tcp``, ``tls``...) and regime (the
model's expected pause under ``regimes.SHORT_PAUSE_MS``, where a few
milliseconds of scheduling jitter weigh much, or not; a migration the
model expects to end within ``regimes.FAST_MIGRATION_S``, which may stop
under QEMU's own downtime limit before Nova's first step lands; a
migration the model expects Nova to switch to post-copy, whose pause is
of another kind: what the connections still hold when the guest moves,
not what a pre-copy round left; or one the model expects Nova to pause
when its completion timeout passes, whose pause is all the guest dirtied
and was never sent, seconds, not a stop's threshold).

Each group is read split-conformally (:mod:`qslm_nova.risk.conformal`):
a group too small for the asked confidence gives way to its pool (all
regimes of the transport, then everything), though never to less than
its own few runs show (the pool may be of milder migrations); past the
largest pool the bound is infinite and the caller falls back to the
model's worst case. The post-copy regime pools only with itself
(``post-copy``, every transport): a switch's pause is not exchangeable
with a pre-copy stop's, so neither bounds the other. Nor is a forced
pause's (``forced-pause``, every transport, pooled the same way): on
the testbed the model's forced pauses erred by up to 4.85 times on
loaded hosts and 3.55 on idle ones, its stops of the same transports by
at most 1.62.

Exchangeable also means alike: a file may say, per group, the largest
dirty share of its runs (``dirty_share_max``: the rate the guest dirtied
memory over its path's bandwidth, :func:`dirty_share`). The model's
error grows as a guest dirties more of its link, so a migration that
dirties more than every run of its nearest group (:meth:`ResidualTable.
nearest`: the finest of at least ``MIN_RUNS`` runs, whatever the
confidence, so that a higher confidence never allows more) is outside
what the runs show, and the caller holds the model's worst case for it,
as past the largest pool. A file without the field bounds every
migration, as before.

Exchangeable also means as loaded: the pause Nova forces when a
migration does not converge grows with the load of the hosts (the
testbed's hosts with three and five CPU hogs per CPU paused up to three
times longer than the model expected, idle ones seldom more than
1.5 times). A file that says ``loaded_cpu_load`` (runnable threads per
CPU) keeps the runs between hosts that loaded, the busier of the two, in
groups of their own, ``tcp@loaded/long`` and so on, pooled in
``tcp@loaded``, then with the idle runs in ``all``; the idle runs'
groups keep the plain names, and their transport's pool (``tcp``) and
the pool of every transport's (``idle``) are of idle runs only: a
migration between idle hosts past its group is not held to the loaded
hosts' tail before ``all``. A migration is in the loaded
groups when the load the estimate used (of the busier host) reaches it.

:mod:`qslm_nova.risk.residuals_file` reads a table from its file.
"""

import math
import typing

import numpy as np

from qslm_nova import estimator
from qslm_nova import exception
from qslm_nova.risk import conformal
from qslm_nova.risk import regimes

#: A decision's end-to-end mechanism -> its groups' transport.
TRANSPORT_OF_MECHANISM = {'none': 'tcp', 'tls': 'tls', 'ssh': 'ssh',
                          'tunnelled': 'tunnelled', 'ipsec': 'ipsec'}
#: The pool every group falls back to.
ALL = 'all'
#: The pool of every pre-copy run between idle hosts, which an idle
#: migration tries before ``all`` (in a table that splits by load).
IDLE = 'idle'
#: The suffix of a transport's groups of runs between loaded hosts.
LOADED = '@loaded'


def idle_pool(own_pool):
    """The pool of the idle hosts' runs of a regime that pools only with
    itself (*own_pool*: ``post-copy``, ``forced-pause``), which such a
    migration between idle hosts tries before *own_pool* (in a table
    that splits by load): a crowded host's forced pause, many times the
    model's, then bounds an idle host's only past every idle run.
    """
    return '%s-%s' % (IDLE, own_pool)


def dirty_share(dirty_rate_mibps, bandwidth_gbps):
    """The share of its path's bandwidth a guest dirties: the dirty rate
    (MiB/s) over the bandwidth (Gbit/s), both in bytes per second;
    infinite without bandwidth. Numbers or arrays.
    """
    rate = np.asarray(dirty_rate_mibps, dtype=float) * estimator.MIB
    bandwidth = np.asarray(bandwidth_gbps, dtype=float) * 1e9 / 8.0
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(bandwidth > 0, rate / np.where(
            bandwidth > 0, bandwidth, 1.0), np.inf)


def share_bound(shares):
    """The ``dirty_share_max`` of some runs' shares: their largest,
    rounded up to the file's four decimals (never under a run's share).
    """
    return math.ceil(max(shares) * 1e4 - 1e-6) / 1e4


def transport_of(label):
    """The testbed transport of a decision's mechanism label (``tls``,
    ``none (+ipsec on 2 links)``): its end-to-end mechanism's; None
    when the testbed has no runs of it.
    """
    return TRANSPORT_OF_MECHANISM.get(str(label or '').split(' ', 1)[0])


def keyed(transport, cpu_load, loaded_cpu_load):
    """The transport's name in a table's groups for a migration whose
    busier host runs *cpu_load* runnable threads per CPU: with the
    ``@loaded`` suffix from *loaded_cpu_load* on (None: no split).
    """
    return loaded_name(transport, loaded_cpu_load is not None and
                       cpu_load >= loaded_cpu_load)


def loaded_name(transport, loaded):
    """The transport's name in the groups of loaded hosts if *loaded*."""
    return transport + LOADED if loaded and transport is not None \
        else transport


def base_transport(transport):
    """The transport of a group's transport name (``tcp@loaded``: tcp).
    """
    return transport[:-len(LOADED)] if transport.endswith(LOADED) \
        else transport


class RiskDataError(exception.QSLMError):
    """A residuals file that cannot be read or makes no sense."""


class Bound(typing.NamedTuple):
    """The ratio a table holds for a migration at a confidence."""

    #: The ratio held (infinite past what the runs can show).
    ratio: float
    #: The group whose conformal bound it is (the largest pool of the
    #: migration's kind when no group has the runs the confidence
    #: needs).
    group: conformal.ResidualGroup
    #: The finer group, too small for the confidence, whose own runs
    #: hold more than ``group``'s bound and set ``ratio``; or None.
    floor: conformal.ResidualGroup = None


class ResidualTable:
    """Residual groups per transport and regime, with their pools."""

    def __init__(self, leaves, origin=None, shares=None,
                 loaded_cpu_load=None):
        """:param leaves: {(transport, regime value): ratios}; a
            transport with the ``@loaded`` suffix holds the runs between
            loaded hosts.
        :param shares: {(transport, regime value): largest dirty share},
            for the leaves whose runs' shares are known.
        :param loaded_cpu_load: the load per CPU from which a migration
            is in the ``@loaded`` groups (None: the runs are not split,
            and there must be no such group).
        """
        self.origin = dict(origin or {})
        self.loaded_cpu_load = loaded_cpu_load
        self.groups = {}
        shares = shares or {}
        pools = {}
        for (transport, regime), ratios in leaves.items():
            name = '%s/%s' % (transport, regime)
            if transport.endswith(LOADED) and loaded_cpu_load is None:
                raise RiskDataError(
                    'group %s: runs of loaded hosts need the load they '
                    'start at (loaded_cpu_load)' % name)
            share = shares.get((transport, regime))
            self.groups[name] = conformal.ResidualGroup(
                name, np.sort(ratios), share)
            for pname in self.pools(transport, regimes.Regime(regime)):
                pools.setdefault(pname, []).append((ratios, share))
        for name, parts in pools.items():
            # A pool's largest share is known when each part's is.
            known = [s for _r, s in parts if s is not None]
            self.groups[name] = conformal.ResidualGroup(
                name, np.sort(np.concatenate([r for r, _s in parts])),
                max(known) if len(known) == len(parts) else None)
        if ALL not in self.groups:
            raise RiskDataError('no residuals of pre-copy stops (short or '
                                'long regime), the pool every group falls '
                                'back to')

    def keyed(self, transport, cpu_load):
        """:func:`keyed` with this table's ``loaded_cpu_load``."""
        return keyed(transport, cpu_load, self.loaded_cpu_load)

    def loaded(self, cpu_load):
        """Per load (runnable threads per CPU, of the busier host), True
        if its migrations are in the ``@loaded`` groups.
        """
        load = np.asarray(cpu_load, dtype=float)
        if self.loaded_cpu_load is None:
            return np.zeros(load.shape, dtype=bool)
        return load >= self.loaded_cpu_load

    def chain(self, transport, regime):
        """The group names to try for one migration, finest first;
        *transport* as :meth:`keyed` names it.
        """
        if transport is None:
            return (regime.own_pool or ALL,)
        return ('%s/%s' % (transport, regime.value),) + self.pools(
            transport, regime)

    def pools(self, transport, regime):
        """The pools, finest first, that the runs of *transport* and
        *regime* join: for a regime of its own, its pool (between idle
        hosts in a table split by load, first the pool of its idle runs,
        :func:`idle_pool`); else their transport's, then all (between
        idle hosts in a table split by load: their transport's, every
        idle run's, then all).
        """
        idle = (self.loaded_cpu_load is not None and
                not transport.endswith(LOADED))
        if regime.own_pool is not None:
            if idle:
                return (idle_pool(regime.own_pool), regime.own_pool)
            return (regime.own_pool,)
        if idle:
            return (transport, IDLE, ALL)
        return (transport, ALL)

    def group_for(self, transport, regime, confidence=None):
        """The finest group with the runs the confidence needs; the
        largest pool when none has.
        """
        need = conformal.runs_needed(confidence)
        for name in self.chain(transport, regime):
            group = self.groups.get(name)
            if group is not None and group.runs >= need:
                return group
        return self.largest(transport, regime)

    def largest(self, transport, regime):
        """The largest pool of the migration's kind: the last group of
        its chain that the table has (``forced-pause`` for a forced
        pause, ``all`` for a stop), whose largest ratio the worst case is
        never held under; ``all`` when it has none of its kind.
        """
        for name in reversed(self.chain(transport, regime)):
            group = self.groups.get(name)
            if group is not None and group.runs:
                return group
        return self.groups[ALL]

    def nearest(self, transport, regime):
        """The finest group of at least ``MIN_RUNS`` runs for one
        migration (None if no group has them): the runs most like it
        that stand for themselves, whose largest dirty share it must not
        exceed.
        """
        for name in self.chain(transport, regime):
            group = self.groups.get(name)
            if group is not None and group.runs >= conformal.MIN_RUNS:
                return group
        return None

    def outside(self, transport, regime, share):
        """True where share (per migration of this transport and regime)
        is larger than every run's of :meth:`nearest`.
        """
        near = self.nearest(transport, regime)
        if near is None:
            return np.zeros(np.shape(share), dtype=bool)
        return near.outside(share)

    def bound(self, transport, regime, confidence):
        """The :class:`Bound` held for one migration at confidence.

        The conformal bound of :meth:`group_for`'s group, never under
        what a finer group too small for the confidence shows, however
        few its runs (``ResidualGroup.seen``; that group is the bound's
        ``floor``): so the bound only grows with the confidence, and a
        pool never holds less than the migration's own runs measured.
        Infinite when no group has the runs. A migration between loaded
        hosts is never held to less than one between idle hosts: the
        idle runs' bound when theirs is the larger.
        """
        found = self._bound(transport, regime, confidence)
        if transport is not None and transport.endswith(LOADED):
            idle = self._bound(base_transport(transport), regime,
                               confidence)
            if idle.ratio > found.ratio:
                return idle
        return found

    def _bound(self, transport, regime, confidence):
        need = conformal.runs_needed(confidence)
        floor, source = 0.0, None
        for name in self.chain(transport, regime):
            group = self.groups.get(name)
            if group is None or not group.runs:
                continue
            if group.runs >= need:
                ratio = group.quantile(confidence)
                if floor > ratio:
                    return Bound(floor, group, source)
                return Bound(ratio, group)
            seen = group.seen(confidence)
            if seen > floor:
                floor, source = seen, group
        return Bound(math.inf, self.largest(transport, regime))
