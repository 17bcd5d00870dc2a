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

"""Processes of the real cloud: started, waited for, and stopped.

Standard library only, so that ``tools/cloud/stop`` works even when the
cloud's virtualenv is broken. Every service runs in a process group of
its own and carries ``QSLM_CLOUD_DIR=<state dir>`` in its environment;
its pid is written to ``run/NAME.pid`` before anything else happens.
Stopping signals every recorded group, then every process that still
carries the marker (children that left their group, e.g. Erlang's
``epmd``), so a crashed start leaves nothing behind.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

MARKER = 'QSLM_CLOUD_DIR'


class CloudError(Exception):
    """The cloud could not be started or a service failed."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Supervisor(object):
    """Starts services under *state_dir* and stops them again."""

    def __init__(self, state_dir):
        self.state_dir = os.path.abspath(state_dir)
        self.run_dir = os.path.join(self.state_dir, 'run')
        self.log_dir = os.path.join(self.state_dir, 'log')
        self.procs = {}

    def env(self, extra=None):
        env = dict(os.environ)
        env[MARKER] = self.state_dir
        env.update(extra or {})
        return env

    def log_path(self, name):
        return os.path.join(self.log_dir, name + '.log')

    def spawn(self, name, argv, env=None, cwd=None):
        """Start *argv* as service *name* in a new process group."""
        os.makedirs(self.run_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        log = open(self.log_path(name), 'ab')
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=self.env(env), cwd=cwd,
                start_new_session=True)
        except OSError as e:
            raise CloudError('%s: cannot run %s: %s' % (name, argv[0], e))
        finally:
            log.close()
        with open(os.path.join(self.run_dir, name + '.pid'), 'w') as f:
            f.write('%d\n' % proc.pid)
        self.procs[name] = proc
        return proc

    def run(self, name, argv, env=None, timeout=600, input_text=None):
        """Run a one-off command; its output goes to log/NAME.log."""
        os.makedirs(self.log_dir, exist_ok=True)
        with open(self.log_path(name), 'ab') as log:
            try:
                proc = subprocess.run(
                    argv, input=input_text.encode() if input_text else None,
                    stdout=log, stderr=subprocess.STDOUT,
                    env=self.env(env), timeout=timeout)
            except subprocess.TimeoutExpired:
                raise CloudError('%s: %s did not finish in %d s (log: %s)'
                                 % (name, ' '.join(argv), timeout,
                                    self.log_path(name)))
        if proc.returncode:
            raise CloudError('%s: %s exited %d (log: %s)\n%s' % (
                name, ' '.join(argv), proc.returncode, self.log_path(name),
                self.tail(name)))

    def tail(self, name, lines=25):
        try:
            with open(self.log_path(name), 'rb') as f:
                text = f.read()[-20000:].decode('utf-8', 'replace')
        except OSError:
            return ''
        return '\n'.join(text.splitlines()[-lines:])

    def check_alive(self, name):
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is not None:
            raise CloudError('%s exited %s during start-up (log: %s)\n%s' % (
                name, proc.returncode, self.log_path(name), self.tail(name)))

    def wait(self, name, ready, timeout, what):
        """Poll *ready()* until true; fail early if *name* died."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive(name)
            try:
                if ready():
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise CloudError('%s: %s not ready after %d s (log: %s)\n%s'
                                 % (name, what, timeout,
                                    self.log_path(name), self.tail(name)))
            time.sleep(0.3)

    def wait_port(self, name, port, timeout=120):
        def ready():
            with socket.create_connection(('127.0.0.1', port), timeout=2):
                return True
        self.wait(name, ready, timeout, 'port %d' % port)

    def wait_http(self, name, url, timeout=180):
        def ready():
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return True
            except urllib.error.HTTPError as e:
                return e.code < 500
        self.wait(name, ready, timeout, url)

    # -- stopping ------------------------------------------------------
    def _recorded(self):
        found = {}
        if os.path.isdir(self.run_dir):
            for entry in sorted(os.listdir(self.run_dir)):
                if not entry.endswith('.pid'):
                    continue
                path = os.path.join(self.run_dir, entry)
                try:
                    with open(path) as f:
                        found[entry[:-4]] = (int(f.read().strip()), path)
                except (OSError, ValueError):
                    os.unlink(path)
        return found

    def marked(self):
        """Pids of processes whose environment carries our marker."""
        needle = ('%s=%s' % (MARKER, self.state_dir)).encode() + b'\0'
        pids = []
        for entry in os.listdir('/proc'):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open('/proc/%s/environ' % entry, 'rb') as f:
                    if needle in f.read() + b'\0':
                        pids.append(int(entry))
            except OSError:
                continue
        return pids

    @staticmethod
    def _signal(pid, sig, group):
        try:
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop_all(self, order=(), timeout=30):
        """Stop services (those named in *order* first); return names."""
        recorded = self._recorded()
        names = [n for n in order if n in recorded]
        names += [n for n in recorded if n not in names]
        for name in names:
            pid, _path = recorded[name]
            self._signal(pid, signal.SIGTERM, group=True)
            self._reap(pid, min(timeout, 15))
        for pid in self.marked():
            self._signal(pid, signal.SIGTERM, group=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = [p for p in self.marked()]
            left += [pid for pid, _ in recorded.values() if _exists(pid)]
            if not left:
                break
            time.sleep(0.3)
        else:
            for pid, _ in recorded.values():
                self._signal(pid, signal.SIGKILL, group=True)
            for pid in self.marked():
                self._signal(pid, signal.SIGKILL, group=False)
        for _pid, path in recorded.values():
            try:
                os.unlink(path)
            except OSError:
                pass
        return names

    def _reap(self, pid, timeout):
        proc = next((p for p in self.procs.values() if p.pid == pid), None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                return
            if proc is None and not _exists(pid):
                return
            time.sleep(0.2)
        self._signal(pid, signal.SIGKILL, group=True)


def _exists(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(') ', 1)[1][0] != 'Z'
    except (OSError, IndexError):
        return False
