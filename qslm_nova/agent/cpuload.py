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

"""The host's CPU load: the busy share of all CPUs between two readings.

One read of ``/proc/stat``'s first line per interval: the cheapest
measure there is (no process list, no per-CPU work). Busy is everything
but idle and I/O wait; steal counts as busy, since a core another guest
takes is not free for the migration stream either.
"""

STAT = '/proc/stat'


def read_times(path=STAT):
    """(busy, total) jiffies of all CPUs since boot."""
    with open(path) as f:
        fields = f.readline().split()
    if not fields or fields[0] != 'cpu':
        raise ValueError('%s does not start with the cpu line' % path)
    values = [int(v) for v in fields[1:9]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values)
    return total - idle, total


class LoadMeter:
    """The load between the last two :meth:`sample` calls (0..1)."""

    def __init__(self, path=STAT):
        self.path = path
        self._last = read_times(path)
        self.load = None

    def sample(self):
        busy, total = read_times(self.path)
        last_busy, last_total = self._last
        self._last = (busy, total)
        if total > last_total:
            self.load = min(max((busy - last_busy) / float(
                total - last_total), 0.0), 1.0)
        return self.load
