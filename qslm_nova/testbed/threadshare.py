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

"""The CPU the migration's own threads got, from the kernel's schedstat.

The model gives the migration's CPU-bound thread ``1 / (1 + load)`` of a
core, with load the runnable threads per CPU. Under load that thread is
the destination QEMU's main thread, which receives the stream; the
source's ``live_migration`` thread mostly waits on its socket. With
``kernel.sched_autogroup_enabled`` (or cgroups) the kernel shares CPU
between groups of threads, not threads, so the load average can say far
more contention than a QEMU thread meets (``data/testbed/README.md``).

``/proc/PID/task/TID/schedstat`` holds a thread's time on a CPU and its
time runnable but waiting for one (ns). A sampler reads both for each
thread of interest while the migration runs; ``run / (run + wait)`` is
the share the thread got while it wanted a CPU, and ``wait / run`` the
load it met, in the model's terms.
"""

import os

from qslm_nova.testbed import hostload

#: The threads sampled: role -> (host side, thread names, or None for the
#: process's main thread; a name ending in ``*`` is a prefix). Over one
#: connection the destination's main thread receives and the source's
#: migration thread sends; over parallel connections (multifd) one thread
#: per connection on each side moves the pages. QEMU 10 names them
#: otherwise than 7.2 (``mig/src/main`` for ``live_migration``,
#: ``mig/src/send_N`` for ``multifdsend_N``, ``mig/dst/recv_N`` for
#: ``multifdrecv_N``): both names count, so one sampler reads both.
ROLES = {'dst_recv': ('dst', None),
         'src_send': ('src', ('live_migration', 'mig/src/main')),
         'dst_multifd': ('dst', ('multifdrecv_*', 'mig/dst/recv_*')),
         'src_multifd': ('src', ('multifdsend_*', 'mig/src/send_*'))}

FIELDS = tuple('%s_%s_s' % (role, what) for role in ROLES
               for what in ('run', 'wait'))


def read_pid(pidfile):
    """The pid in *pidfile*, or None while it is missing or partial."""
    try:
        with open(pidfile) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def schedstat(pid, tid):
    """(run ns, wait ns) of one thread, or None once it is gone."""
    try:
        with open('/proc/%d/task/%d/schedstat' % (pid, tid)) as f:
            run, wait = f.read().split()[:2]
        return int(run), int(wait)
    except (OSError, ValueError):
        return None


def _named(comm, names):
    if isinstance(names, str):
        names = (names,)
    return any(comm.startswith(n[:-1]) if n.endswith('*') else comm == n
               for n in names)


def thread_ids(pid, names):
    """Thread ids of *pid* with one of *names* (a name or a tuple of
    them; its main thread for None).
    """
    if names is None:
        return [pid]
    out = []
    try:
        tids = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open('/proc/%d/task/%s/comm' % (pid, tid)) as f:
                if _named(f.read().strip(), names):
                    out.append(int(tid))
        except (OSError, ValueError):
            continue
    return out


class Sampler(hostload.Periodic):
    """Reads the threads of :data:`ROLES` every *interval* seconds, and
    once more when the context closes.

    :param pidfiles: {'src': path, 'dst': path} of the QEMU pid files
        (the destination's appears when libvirt starts it).
    """

    def __init__(self, pidfiles, interval=0.25):
        super().__init__(interval, 'threadshare')
        self.pidfiles = dict(pidfiles)
        # (role, pid, tid) -> [first (run, wait), last (run, wait)]
        self.seen = {}

    def sample(self):
        for role, (side, names) in ROLES.items():
            pid = read_pid(self.pidfiles[side])
            if pid is None:
                continue
            for tid in thread_ids(pid, names):
                now = schedstat(pid, tid)
                if now is not None:
                    self.seen.setdefault((role, pid, tid),
                                         [now, now])[1] = now

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self.sample()

    def columns(self):
        """{field of :data:`FIELDS`: seconds, '' for a thread not seen}.
        """
        out = {f: '' for f in FIELDS}
        for role in ROLES:
            spans = [v for k, v in self.seen.items() if k[0] == role]
            if spans:
                out[role + '_run_s'] = round(sum(
                    last[0] - first[0] for first, last in spans) / 1e9, 4)
                out[role + '_wait_s'] = round(sum(
                    last[1] - first[1] for first, last in spans) / 1e9, 4)
        return out


def share(run_s, wait_s):
    """The share of a CPU a thread got while runnable (None if unknown)."""
    try:
        run, wait = float(run_s), float(wait_s)
    except (TypeError, ValueError):
        return None
    return run / (run + wait) if run + wait > 0 else None


def autogroup_enabled(path='/proc/sys/kernel/sched_autogroup_enabled'):
    """1 or 0 as the kernel says, None where it has no autogroup."""
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None
