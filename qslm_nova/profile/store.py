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

"""The published profiles a decision reads, kept fresh off its path.

:class:`ProfileStore` keeps the last destination table (refreshed by a
background thread every ``refresh_s``) and the source profiles asked for
(each re-read after ``refresh_s``). A failed reading keeps what was read
last and is logged once per failure streak, so a Placement outage costs
the decision stale profiles, never a crash or a wait beyond the first
reading's. Thread-safe: readers take whole snapshots, one lock guards
the source cache.
"""

import collections
import threading
import time

import numpy as np
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class DestinationTable:
    """The destination profiles of one reading, by node name.

    :meth:`arrays_for` lays them out over a topology's host numbers once
    per topology, so a request only indexes arrays.
    """

    def __init__(self, by_node, read_at=None):
        self.by_node = dict(by_node)
        self.read_at = read_at
        self._arrays = (None, None)

    def __len__(self):
        return len(self.by_node)

    def get(self, node):
        return self.by_node.get(node)

    def arrays_for(self, topo):
        """:class:`HostArrays` over ``topo``'s hosts (hosts by name)."""
        topo_seen, arrays = self._arrays
        if topo_seen is not topo:
            arrays = HostArrays.build(topo.host_index, self.by_node)
            self._arrays = (topo, arrays)
        return arrays


class HostArrays:
    """Published destination figures over a topology's host numbers.

    ``profiled`` is False for hosts without a profile; the figures are
    NaN where not published. ``seen_at`` in epoch seconds.
    """

    __slots__ = ('profiled', 'accepts_tls', 'cipher_gbps', 'cpu_load',
                 'cores', 'seen_at')

    @classmethod
    def build(cls, host_index, by_node):
        n = len(host_index)
        arrays = cls()
        arrays.profiled = np.zeros(n, dtype=bool)
        arrays.accepts_tls = np.zeros(n, dtype=bool)
        for name in ('cipher_gbps', 'cpu_load', 'cores', 'seen_at'):
            setattr(arrays, name, np.full(n, np.nan))
        for node, profile in by_node.items():
            i = host_index.get(node)
            if i is None:
                continue
            arrays.set(i, profile)
        return arrays

    def set(self, i, profile):
        self.profiled[i] = True
        self.accepts_tls[i] = bool(profile.accepts_tls)
        for name, value in (('cipher_gbps', profile.cipher_gbps_per_core),
                            ('cpu_load', profile.cpu_load),
                            ('cores', profile.cores),
                            ('seen_at', profile.seen_at)):
            getattr(self, name)[i] = np.nan if value is None else value

    def take(self, index):
        out = HostArrays()
        for name in self.__slots__:
            setattr(out, name, getattr(self, name)[index])
        return out


class ProfileStore:
    """Host profiles from a :class:`placement.PlacementReader`.

    :param refresh_s: seconds between two readings of the destination
        table, and how long a source profile is kept.
    :param first_wait_s: the first request waits this long at most for
        the first destination table.
    :param max_sources: source profiles kept at most (then forgotten).
    """

    def __init__(self, reader, refresh_s=60.0, first_wait_s=3.0,
                 max_sources=4096, clock=time.monotonic):
        self.reader = reader
        self.refresh_s = refresh_s
        self.first_wait_s = first_wait_s
        self.max_sources = max_sources
        self.clock = clock
        self._table = DestinationTable({})
        self._first = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._start_lock = threading.Lock()
        # Source profiles: node -> (read at, HostProfile or None, error).
        self._sources = collections.OrderedDict()
        self._sources_lock = threading.Lock()
        self._failing = False

    # -- destinations -------------------------------------------------------
    def destinations(self):
        """The last destination table (empty until the first reading)."""
        if self._thread is None:
            self._start()
        if not self._first.is_set():
            self._first.wait(self.first_wait_s)
        return self._table

    def refresh(self):
        """Read the destination table now (the thread calls this)."""
        try:
            table = DestinationTable(self.reader.destination_table(),
                                     read_at=time.time())
        except Exception as e:
            if not self._failing:
                LOG.warning('QSLM cannot read the published host profiles '
                            'from Placement (keeping the last %d): %s',
                            len(self._table), e)
            self._failing = True
            return False
        finally:
            self._first.set()
        if self._failing:
            LOG.info('QSLM reads the published host profiles again (%d '
                     'hosts)', len(table))
        self._failing = False
        self._table = table
        return True

    def _start(self):
        with self._start_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name='qslm-profile-refresh', daemon=True)
            self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.refresh_s)

    def close(self):
        self._stop.set()

    # -- sources ------------------------------------------------------------
    def source(self, node):
        """(HostProfile or None, error text or None) of a source host.

        Read from Placement at most once per ``refresh_s``; when a reading
        fails the last one read is kept (with the error), so a source's
        transport does not flip back to the topology file's guess during
        a Placement outage.
        """
        now = self.clock()
        with self._sources_lock:
            hit = self._sources.get(node)
        if hit is not None and now - hit[0] < self.refresh_s:
            return hit[1], hit[2]
        try:
            profile, error = self.reader.host_profile(node), None
        except Exception as e:
            error = 'host profile of %s unreadable: %s' % (node, e)
            LOG.warning('QSLM: %s', error)
            profile = hit[1] if hit is not None else None
        with self._sources_lock:
            if len(self._sources) >= self.max_sources:
                self._sources.popitem(last=False)
            self._sources[node] = (now, profile, error)
            self._sources.move_to_end(node)
        return profile, error
