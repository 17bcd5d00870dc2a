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

"""The host's CPU load: runnable threads per CPU, as the model reads it.

The estimator gives the migration thread 1 / (1 + load) of a core, where
load is the runnable threads per CPU (the libvirt testbed's fit takes the
load average over the CPU count). Two readings per interval, both cheap
(no process list, no per-CPU work):

* the busy share of all CPUs between two readings of ``/proc/stat``'s
  first line: busy is everything but idle and I/O wait; steal counts as
  busy, since a core another guest takes is not free for the migration
  stream either. It sees a load that rose during the interval, but it
  stops at 1, however many threads queue for the cores;
* the one-minute load average of ``/proc/loadavg`` over the online CPUs
  (the ``cpuN`` lines of ``/proc/stat``): it goes above 1 on a saturated
  host, but lags a load that has just risen.

The load published is the larger of the two, so it reads no lighter than
either measure. Without a load average (an unreadable
``/proc/loadavg``) the busy share alone is published, with a warning.
"""

import math

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

STAT = '/proc/stat'
LOADAVG = '/proc/loadavg'


def read_times(path=STAT):
    """(busy, total) jiffies of all CPUs since boot, and the online CPUs."""
    with open(path) as f:
        lines = f.read().splitlines()
    fields = lines[0].split() if lines else []
    if not fields or fields[0] != 'cpu':
        raise ValueError('%s does not start with the cpu line' % path)
    values = [int(v) for v in fields[1:9]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values)
    cpus = sum(1 for line in lines[1:]
               if line.startswith('cpu') and line[3:4].isdigit())
    return total - idle, total, cpus


def read_load_average(path=LOADAVG):
    """The one-minute load average."""
    with open(path) as f:
        fields = f.read().split()
    value = float(fields[0]) if fields else math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ValueError('%s has no load average: %r' % (path, fields[:1]))
    return value


class LoadMeter:
    """The load between the last two :meth:`sample` calls (threads/CPU)."""

    def __init__(self, path=STAT, loadavg_path=LOADAVG):
        self.path = path
        self.loadavg_path = loadavg_path
        self._last = read_times(path)[:2]
        self.load = None
        #: The two readings of the last sample (busy share, load
        #: average per CPU), for the log.
        self.parts = None
        self._warned = False

    def sample(self):
        busy, total, cpus = read_times(self.path)
        last_busy, last_total = self._last
        self._last = (busy, total)
        if total > last_total:
            share = min(max((busy - last_busy) / float(
                total - last_total), 0.0), 1.0)
            per_cpu = self._per_cpu(cpus)
            self.parts = (share, per_cpu)
            self.load = max(share, per_cpu)
        return self.load

    def _per_cpu(self, cpus):
        try:
            value = read_load_average(self.loadavg_path) / max(cpus, 1)
        except (OSError, ValueError, IndexError) as e:
            if not self._warned:
                LOG.warning('Cannot read the load average (%s): the CPU '
                            'load published is the busy share alone, at '
                            'most 1 however busy the host is', e)
                self._warned = True
            return 0.0
        self._warned = False
        return value
