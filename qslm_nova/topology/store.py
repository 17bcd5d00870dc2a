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

"""The current topology of a file, reloaded when the file changes."""

import os
import threading

from oslo_log import log as logging

from qslm_nova import exception
from qslm_nova.topology import reader
from qslm_nova.topology import schema

LOG = logging.getLogger(__name__)


def load(path, extra_keys=()):
    """Load and validate a topology file.

    :raises TopologyError: with every problem, each naming file and place.
    """
    doc, fname = reader.read_document(path)
    return schema.parse(doc, fname, extra_keys)


class TopologyStore:
    """Thread-safe holder of the current topology of a file.

    ``get()`` reloads the file when its modification time or size changed.
    A reload that fails is logged as an error and the last good topology is
    kept; without any good topology ``get()`` raises the TopologyError.
    While one thread reloads, ``get()`` in other threads returns the
    current topology instead of waiting for the load to finish.
    """

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._topology = None
        self._stamp = None
        self._error = None
        self.reloads = 0

    def _file_stamp(self):
        try:
            st = os.stat(self.path)
        except OSError as e:
            return ('missing', str(e))
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def get(self):
        stamp = self._file_stamp()
        current = self._topology
        if stamp == self._stamp and current is not None:
            return current
        # One thread loads a changed file; meanwhile the others keep
        # serving the current topology rather than wait (a 10,000-host
        # file takes seconds). Without any topology yet, they wait.
        if not self._lock.acquire(blocking=current is None):
            return current
        try:
            if stamp != self._stamp:
                try:
                    topo = load(self.path)
                except exception.TopologyError as e:
                    self._error = e
                    if self._topology is not None:
                        LOG.error('Topology reload failed, keeping the last '
                                  'good topology: %s', e)
                    else:
                        LOG.error('Cannot load the topology: %s', e)
                else:
                    self._topology = topo
                    self._error = None
                    self.reloads += 1
                    LOG.info('Loaded topology %s: %d hosts, %d links',
                             self.path, len(topo.hosts),
                             topo.graph.number_of_edges())
                self._stamp = stamp
            if self._topology is None:
                raise self._error
            return self._topology
        finally:
            self._lock.release()
