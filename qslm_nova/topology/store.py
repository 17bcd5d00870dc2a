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

"""The current topology of a file, reloaded in the background on change.

Requests ask :meth:`TopologyStore.get` for the topology; the store looks
at the file's modification time, size and inode on every call (one
``stat``). When they change, a thread of the store reads, checks and
indexes the new file (seconds for 10,000 hosts of YAML) while every
request keeps getting the last good topology; the new one replaces it
only once it is complete and valid. Only the very first load, when there
is no topology yet, makes requests wait.

Whatever is wrong with a new file (invalid, hostile, torn, deleted, or a
bug while reading it) is logged once as an error and the last good
topology stays in force.
"""

import os
import threading

from oslo_log import log as logging

from qslm_nova import exception
from qslm_nova.topology import files
from qslm_nova.topology import reader
from qslm_nova.topology import seal as seal_mod

LOG = logging.getLogger(__name__)


class TopologyStore:
    """Thread-safe holder of the current topology of a file.

    ``get()`` returns the last good topology and starts a background
    reload when the file changed. A reload that fails is logged as an
    error and the last good topology is kept; without any good topology
    ``get()`` loads the file itself (other threads wait for it) and
    raises the TopologyError when that fails.

    :param seal: a :class:`~qslm_nova.topology.seal.Policy`: when files
        must carry a seal line.
    """

    def __init__(self, path, limits=reader.Limits(),
                 seal=seal_mod.Policy.AUTO):
        self.path = path
        self.limits = limits
        self.seal = seal
        # Held by the first load while it runs (the other threads wait
        # for it) and briefly to start or finish a background reload.
        self._lock = threading.Lock()
        self._topology = None
        # The file's stamp when it was last read, loaded or not.
        self._stamp = None
        self._error = None
        # A sealed file was loaded: under Policy.AUTO all later files
        # must be sealed too.
        self._sealed_seen = False
        self._reloader = None
        self._idle = threading.Event()
        self._idle.set()
        self.reloads = 0

    @classmethod
    def from_conf(cls, group):
        """The store of ``[qslm] topology_file`` with the [qslm] limits."""
        return cls(group.topology_file, reader.Limits.from_conf(group),
                   seal_mod.Policy(group.topology_seal))

    def _file_stamp(self):
        try:
            st = os.stat(self.path)
        except OSError as e:
            return ('missing', str(e))
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def get(self):
        stamp = self._file_stamp()
        current = self._topology
        if current is not None:
            if stamp != self._stamp:
                self._start_reload(stamp)
            return current
        # No topology yet: one thread loads, the others wait for it.
        with self._lock:
            if self._topology is None and stamp != self._stamp:
                self._load(stamp)
            if self._topology is None:
                raise self._error
            return self._topology

    def wait_for_reload(self, timeout=None):
        """Wait until no background reload runs; False on timeout."""
        return self._idle.wait(timeout)

    def _start_reload(self, stamp):
        with self._lock:
            if self._reloader is not None or stamp == self._stamp:
                return
            self._idle.clear()
            self._reloader = threading.Thread(
                target=self._reload, args=(stamp,),
                name='qslm-topology-reload', daemon=True)
            self._reloader.start()

    def _reload(self, stamp):
        try:
            while stamp != self._stamp:
                self._load(stamp)
                # Changed again while it was read: read it again.
                stamp = self._file_stamp()
        finally:
            with self._lock:
                self._reloader = None
                self._idle.set()

    def _load(self, stamp):
        """Read the file; publish it if it is good. Never raises."""
        require = (self.seal is seal_mod.Policy.REQUIRED or
                   (self.seal is seal_mod.Policy.AUTO and self._sealed_seen))
        try:
            topo, sealed = files.load_sealed(self.path, limits=self.limits,
                                             require_seal=require)
        except exception.TopologyError as e:
            self._failed(e)
        except Exception as e:
            # A fault of the code, not of the file: still no reason to
            # drop the last good topology.
            LOG.exception('Unexpected error loading the topology %s',
                          self.path)
            self._failed(exception.TopologyError([
                '%s: cannot load: %s' % (self.path, type(e).__name__)]))
        else:
            self._sealed_seen = self._sealed_seen or sealed
            self._topology = topo
            self._error = None
            self.reloads += 1
            LOG.info('Loaded topology %s: %d hosts, %d links%s',
                     self.path, len(topo.hosts),
                     topo.graph.number_of_edges(),
                     ' (sealed)' if sealed else '')
        # Published last: a request that sees this stamp finds the
        # topology (or the error) of that file.
        self._stamp = stamp

    def _failed(self, error):
        self._error = error
        if self._topology is not None:
            LOG.error('Topology reload failed, keeping the last good '
                      'topology: %s', error)
        else:
            LOG.error('Cannot load the topology: %s', error)
