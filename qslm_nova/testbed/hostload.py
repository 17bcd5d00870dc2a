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

"""Host load as a measured input: CPU hogs, and what the CPUs really did.

The machine is shared: whatever else runs on it loads the migration too,
so every run records the load it had (load average, busy and steal share
of the CPUs over the run from ``/proc/stat``), with or without hogs.
"""

import dataclasses
import os
import signal
import subprocess
import threading
import time

# /proc/stat "cpu" columns: user nice system idle iowait irq softirq steal
_IDLE = (3, 4)
_STEAL = 7


def _cpu_times():
    with open('/proc/stat') as f:
        fields = f.readline().split()[1:]
    return [int(x) for x in fields[:8]]


@dataclasses.dataclass
class LoadSample(object):
    load1_start: float
    cpu_times: list
    load1_end: float = 0.0
    busy: float = 0.0
    steal: float = 0.0

    @classmethod
    def start(cls):
        return cls(load1_start=os.getloadavg()[0], cpu_times=_cpu_times())

    def stop(self):
        """Busy and steal share of all CPUs since start (0..1)."""
        now = _cpu_times()
        delta = [b - a for a, b in zip(self.cpu_times, now)]
        total = float(sum(delta)) or 1.0
        self.busy = 1.0 - sum(delta[i] for i in _IDLE) / total
        self.steal = delta[_STEAL] / total
        self.load1_end = os.getloadavg()[0]
        return self

    def as_row(self):
        return {'load1_start': round(self.load1_start, 2),
                'load1_end': round(self.load1_end, 2),
                'cpu_busy': round(self.busy, 3),
                'cpu_steal': round(self.steal, 4),
                'cpus': os.cpu_count()}


def procs_running(path='/proc/stat'):
    """Threads runnable at this instant (the kernel's ``procs_running``,
    the reader included), or None where the file has no such line.
    """
    try:
        with open(path) as f:
            for line in f:
                if line.startswith('procs_running '):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class Periodic(object):
    """A daemon thread that calls :meth:`sample` every *interval* seconds
    while the context is open, and once when it opens.
    """

    def __init__(self, interval, name):
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=name)

    def sample(self):
        raise NotImplementedError()

    def _loop(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5.0)


class RunQueue(Periodic):
    """The runnable threads per CPU over a run, sampled every *interval*.

    The one-minute load average lags: a run of 20 s after a run with
    other hogs reads mostly the earlier run's load. The mean of the
    instantaneous count (less the sampler itself) over the run is what
    the load average tends to on a host whose load holds still, as a
    compute host's guests do.
    """

    def __init__(self, interval=0.25, path='/proc/stat'):
        super().__init__(interval, 'runqueue')
        self.path = path
        self.samples = []

    def sample(self):
        n = procs_running(self.path)
        if n is not None:
            self.samples.append(max(n - 1, 0))

    def as_row(self):
        """``runnable_per_cpu``: the mean over the samples ('' if none)."""
        if not self.samples:
            return {'runnable_per_cpu': ''}
        return {'runnable_per_cpu': round(
            sum(self.samples) / float(len(self.samples)) /
            (os.cpu_count() or 1), 3)}


class CPUHogs(object):
    """*count* busy loops inside each of *hosts* (LibvirtHost objects).

    Each loop runs in a session of its own, as libvirt starts each QEMU:
    the load stands for other guests. Where the kernel shares CPU between
    sessions (``kernel.sched_autogroup_enabled``), loops in one session
    would be one group, and the load average would count their threads
    as contention a QEMU thread does not meet (``data/testbed/README.md``;
    campaigns up to 9 ran them so).
    """

    def __init__(self, hosts, count):
        self.hosts = list(hosts)
        self.count = count
        self.procs = []

    def __enter__(self):
        for host in self.hosts:
            for _ in range(self.count):
                self.procs.append(host.popen(
                    ['sh', '-c', 'while :; do :; done'],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True))
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
        self.procs = []


def settle(hosts, count, seconds, stop=None):
    """Run *count* hogs in each of *hosts* for *seconds* before a run, so
    the one-minute load average reaches the load the run will have (it
    moves 1 - exp(-t / 60) of the way in t seconds: 86 % in 120 s).

    :param stop: a threading.Event that ends the wait early.
    :returns: the seconds waited.
    """
    if seconds <= 0:
        return 0.0
    stop = stop or threading.Event()
    started = time.monotonic()
    with CPUHogs(hosts, count):
        stop.wait(seconds)
    return time.monotonic() - started
