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

"""The cost of a transport per candidate: its fields and its rate."""

import numpy as np

MIB = 1024.0 * 1024.0
GIB = 1024.0 * MIB

#: Below this many columns, compacting (or merging equal inputs) costs
#: more than it saves.
COMPACT_MIN = 64


class MechanismColumns:
    """The cost fields of one mechanism per candidate, as arrays.

    Lets one :func:`estimate` call cover candidates that use different
    mechanisms (each element is computed on its own, so the results equal
    one call per mechanism).
    """

    FIELDS = ('crypto_gbps_per_core', 'overhead_bytes_per_packet',
              'handshake_rtts', 'buffered_mb')

    def __init__(self, mechanisms):
        mechs = list(mechanisms)
        for name in self.FIELDS:
            setattr(self, name, np.array([getattr(m, name) for m in mechs],
                                         dtype=float))

    @classmethod
    def repeat(cls, mechanisms, counts):
        """``counts[k]`` columns of ``mechanisms[k]``, in that order."""
        return cls(mechanisms).take(np.repeat(np.arange(len(mechanisms)),
                                              counts))

    def take(self, index):
        """The columns at ``index``, as a new MechanismColumns."""
        cols = MechanismColumns(())
        for name in self.FIELDS:
            setattr(cols, name, getattr(self, name)[index])
        return cols


def effective_rate(bandwidth_gbps, rtt_ms, mechanism, cpu_load, libvirt,
                   params, streams=None):
    """Migration payload rate in bytes/s per candidate.

    The least of the path's payload rate, what the migration's CPU time
    sends, the TCP window over the round-trip time and Nova's
    ``live_migration_bandwidth``.

    CPU: one migration thread sends ``migration_gbps_per_core`` on a
    whole core, less with a cipher (the costs per byte add:
    1/rate = 1/send + 1/cipher). On a host whose load per CPU is ``load``
    (runnable threads per CPU) the thread gets 1 / (1 + load) of its
    core: the testbed's migrations, plain TCP too, slow down that way on
    loaded hosts.

    :param mechanism: a Mechanism, or a :class:`MechanismColumns`.
    :param cpu_load: load per CPU of the busier host, per candidate or
        one for all (0 idle; above 1, more runnable threads than CPUs).
    :param streams: connections carrying the stream, per candidate or one
        for all; default ``libvirt.parallel_connections``. Each connection
        is sent and encrypted by a thread of its own (Nova's
        ``live_migration_parallel_connections``, QEMU's multifd) and has
        a TCP window of its own; a further thread adds a core only as far
        as the host has idle CPU time (1 - load), so on a saturated host
        parallel connections do not send faster (the testbed measures
        that); the path's bandwidth does not grow either.
    """
    if streams is None:
        streams = libvirt.parallel_connections
    streams = np.maximum(np.asarray(streams, dtype=float), 1.0)
    load = np.maximum(np.asarray(cpu_load, dtype=float), 0.0)
    bw = np.asarray(bandwidth_gbps, dtype=float) * 1e9 / 8.0
    payload = params.mss_bytes / (params.mss_bytes +
                                  params.frame_overhead_bytes +
                                  mechanism.overhead_bytes_per_packet)
    rate = bw * payload
    per_core = _per_core_Bps(params.migration_gbps_per_core,
                             mechanism.crypto_gbps_per_core)
    if np.isfinite(per_core).any():
        idle = np.clip(1.0 - load, 0.0, 1.0)
        cores = (1.0 + (streams - 1.0) * idle) / (1.0 + load)
        rate = np.minimum(rate, per_core * cores)
    rtt_s = np.asarray(rtt_ms, dtype=float) / 1000.0
    window = params.tcp_window_mb * MIB * streams
    with np.errstate(divide='ignore'):
        rate = np.minimum(rate, np.where(rtt_s > 0, window / rtt_s, np.inf))
    if libvirt.bandwidth_mibps:
        rate = np.minimum(rate, libvirt.bandwidth_mibps * MIB)
    return rate


def buffered_mb(mechanism, libvirt, streams, shape):
    """What the connections still hold at the stop, MiB per candidate.

    Each connection has buffers of its own (``mechanism.buffered_mb``
    each); their content is sent during the pause.
    """
    if streams is None:
        streams = libvirt.parallel_connections
    return np.broadcast_to(mechanism.buffered_mb * np.maximum(
        streams, 1.0), shape).astype(float)


def _per_core_Bps(send_gbps, crypto_gbps):
    """Bytes/s one thread sends on a whole core: send and cipher costs per
    byte add (inf: no limit).
    """
    with np.errstate(divide='ignore'):
        cost = (1.0 / (np.asarray(send_gbps, dtype=float) * 1e9 / 8.0) +
                1.0 / (np.asarray(crypto_gbps, dtype=float) * 1e9 / 8.0))
        return np.where(cost > 0, 1.0 / np.where(cost > 0, cost, 1.0),
                        np.inf)


def distinct_inputs(rate, stop_rate, rtt_s, mechanism, load, buffered):
    """The columns with distinct model inputs, to simulate each once.

    Past the effective rate, a column's run depends only on its rates,
    RTT, host load (libvirt's prepare), the mechanism's handshake and
    what its connections buffer (*buffered*): thousands of candidates
    whose bandwidth differs often share them (a cipher's limit, or the
    link, binds). Each element is
    simulated on its own, so spreading the distinct results back gives
    what every column would.

    :returns: (picked columns, the picked column of each column, the
        mechanism of the picked columns), or None when there are too few
        columns or repeats to be worth it.
    """
    n = rate.shape[0]
    if n < COMPACT_MIN:
        return None
    keys = [buffered, load, rtt_s, stop_rate, rate]
    columns = isinstance(mechanism, MechanismColumns)
    if columns:
        keys = [mechanism.handshake_rtts] + keys
    order = np.lexsort(keys)
    new = np.zeros(n, dtype=bool)
    for key in keys:
        k = key[order]
        new[1:] |= k[1:] != k[:-1]
    new[0] = True
    if np.count_nonzero(new) > n // 2:
        return None
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    pick = order[new]
    return pick, inverse, (mechanism.take(pick) if columns else mechanism)
