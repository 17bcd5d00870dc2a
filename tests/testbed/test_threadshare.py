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

"""The migration threads' CPU, read from schedstat (no libvirt needed)."""

import os
import threading
import time

import fixtures
import testtools

from qslm_nova.testbed import threadshare


def _spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _spin_until(event, seconds=10.0):
    """Busy until *event* is set: runnable for the whole sampled time,
    however late the sampler starts on a loaded machine.
    """
    end = time.monotonic() + seconds
    while not event.is_set() and time.monotonic() < end:
        pass


class TestThreadShare(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.pidfile = os.path.join(self.tmp, 'qemu.pid')

    def test_threads_of_this_process(self):
        # This process plays both QEMUs: its main thread receives, a
        # thread named like QEMU's sender sends.
        cols = self._sampled(['live_migration'])
        self.assertEqual(set(threadshare.FIELDS), set(cols))
        # Both spun while sampled: each ran (how long depends on the
        # machine's load); run + wait cannot exceed the wall-clock time
        # sampled (about 0.3 s, 2 CPUs shared).
        self.assertGreater(cols['src_send_run_s'], 0.0)
        self.assertGreater(cols['dst_recv_run_s'], 0.0)
        # No multifd threads here.
        self.assertEqual('', cols['src_multifd_run_s'])
        self.assertEqual('', cols['dst_multifd_wait_s'])
        for role in ('src_send', 'dst_recv'):
            total = cols[role + '_run_s'] + cols[role + '_wait_s']
            self.assertLess(total, 2.0, role)
            self.assertGreater(threadshare.share(
                cols[role + '_run_s'], cols[role + '_wait_s']), 0.0)

    def _sampled(self, names):
        """The sampler's columns for this process, its main thread and
        threads named *names* all spinning while it samples.
        """
        with open(self.pidfile, 'w') as f:
            f.write('%d\n' % os.getpid())
        ready = threading.Barrier(len(names) + 1)
        done = threading.Event()

        def worker(name):
            with open('/proc/self/task/%d/comm' % threading.get_native_id(),
                      'w') as f:
                f.write(name)
            ready.wait(5)
            _spin_until(done)

        threads = [threading.Thread(target=worker, args=(n,)) for n in names]
        for t in threads:
            t.start()
        ready.wait(5)
        with threadshare.Sampler({'src': self.pidfile, 'dst': self.pidfile},
                                 interval=0.05) as shares:
            _spin(0.3)
        done.set()
        for t in threads:
            t.join()
        return shares.columns()

    def test_qemu_10_names(self):
        # QEMU 10's names for the sender and the multifd threads.
        cols = self._sampled(
            ['mig/src/main', 'mig/src/send_0', 'mig/dst/recv_1'])
        for role in ('src_send', 'src_multifd', 'dst_multifd'):
            self.assertGreater(cols[role + '_run_s'], 0.0, role)

    def test_unseen_threads_are_empty(self):
        with threadshare.Sampler({'src': self.pidfile, 'dst': self.pidfile},
                                 interval=0.05) as shares:
            time.sleep(0.1)
        self.assertEqual(dict.fromkeys(threadshare.FIELDS, ''),
                         shares.columns())

    def test_share(self):
        self.assertEqual(0.25, threadshare.share('1.0', '3.0'))
        self.assertIsNone(threadshare.share('', ''))
        self.assertIsNone(threadshare.share(None, 1))
        self.assertIsNone(threadshare.share(0, 0))

    def test_autogroup(self):
        path = os.path.join(self.tmp, 'autogroup')
        self.assertIsNone(threadshare.autogroup_enabled(path))
        with open(path, 'w') as f:
            f.write('0\n')
        self.assertEqual(0, threadshare.autogroup_enabled(path))


class TestNames(testtools.TestCase):

    def test_prefix(self):
        me = os.getpid()
        started, done = threading.Event(), threading.Event()
        tids = []

        def worker(name):
            tid = threading.get_native_id()
            with open('/proc/self/task/%d/comm' % tid, 'w') as f:
                f.write(name)
            tids.append(tid)
            started.set()
            done.wait(5)

        threads = [threading.Thread(target=worker, args=(n,))
                   for n in ('multifdsend_0', 'multifdsend_1',
                             'multifdrecv_0')]
        try:
            for t in threads:
                started.clear()
                t.start()
                started.wait(5)
            found = threadshare.thread_ids(me, 'multifdsend_*')
            self.assertEqual(sorted(tids[:2]), sorted(found))
            # A tuple: any of its names.
            found = threadshare.thread_ids(
                me, ('multifdsend_1', 'multifdrecv_*'))
            self.assertEqual(sorted(tids[1:]), sorted(found))
            self.assertEqual([tids[2]],
                             threadshare.thread_ids(me, 'multifdrecv_0'))
            self.assertEqual([], threadshare.thread_ids(me, 'multifd'))
        finally:
            done.set()
            for t in threads:
                t.join()


class TestFacts(testtools.TestCase):

    def _row(self, **kw):
        row = {'run_id': 'r', 'group': 'held-out', 'label': 'steps',
               'outcome': 'completed', 'status': 'ok', 'event_loop': '1',
               'guest_alive_on_dest': '1', 'load1_start': '6',
               'load1_end': '6', 'cpus': '2'}
        row.update(kw)
        return row

    def test_shares_beside_the_model(self):
        from qslm_nova.testbed import libvirt_facts
        rows = [self._row(dst_recv_run_s='1.0', dst_recv_wait_s='0.5',
                          src_send_run_s='', src_send_wait_s=''),
                self._row()]
        out = []
        libvirt_facts.threads(rows, out)
        # Load 3 per CPU: the model says 1 / 4; the thread got 2 / 3.
        self.assertEqual(1, len(out), out)
        self.assertIn('share of a CPU while runnable: 0.667 / 0.667 (n=1); '
                      "the model's 1 / (1 + load per CPU): 0.25 / 0.25 "
                      '(n=1)', out[0])

    def test_run_queue_beside_the_load_average(self):
        from qslm_nova.testbed import libvirt_facts
        out = []
        libvirt_facts.threads([self._row(runnable_per_cpu='3.5'),
                               self._row(runnable_per_cpu='')], out)
        self.assertEqual(['  runnable threads per CPU over the run (the run '
                          'queue, sampled): 3.5 / 3.5 (n=1); the load '
                          'average / CPUs: 3 / 3 (n=1)'], out)

    def test_old_runs_print_nothing(self):
        from qslm_nova.testbed import libvirt_facts
        out = []
        libvirt_facts.threads([self._row()], out)
        self.assertEqual([], out)


class _LocalHost(object):
    def popen(self, cmd, **kwargs):
        import subprocess
        return subprocess.Popen(cmd, **kwargs)


def _session(pid):
    with open('/proc/%d/stat' % pid) as f:
        return int(f.read().rsplit(')', 1)[1].split()[3])


class TestHogs(testtools.TestCase):

    def test_each_hog_in_a_session_of_its_own(self):
        from qslm_nova.testbed import hostload
        with hostload.CPUHogs([_LocalHost(), _LocalHost()], 2) as hogs:
            procs = list(hogs.procs)
            sessions = {_session(p.pid) for p in procs}
        self.assertEqual(4, len(procs))
        self.assertEqual(4, len(sessions))
        self.assertNotIn(_session(os.getpid()), sessions)
        # And all of them gone after.
        for p in procs:
            self.assertIsNotNone(p.poll())
