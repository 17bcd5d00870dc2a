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

"""A small QMP (QEMU Machine Protocol) client over a unix socket."""

import json
import queue
import socket
import threading
import time

from oslo_log import log as logging

from qslm_nova.testbed import TestbedError

LOG = logging.getLogger(__name__)


class QMPError(TestbedError):
    """QEMU answered a command with an error."""

    def __init__(self, command, error):
        self.command = command
        self.error = error
        super().__init__('QMP %s failed: %s: %s' % (
            command, error.get('class'), error.get('desc')))


class QMPClient(object):
    """Blocking QMP client: connect, negotiate, execute commands."""

    def __init__(self, path, timeout=30.0):
        self.path = path
        self.timeout = timeout
        self.events = []
        self._sock = None
        self._buf = b''
        self.greeting = None

    def connect(self, wait=10.0):
        deadline = time.monotonic() + wait
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if time.monotonic() > deadline:
                    raise TestbedError(
                        'QMP socket %s did not appear within %.0f s'
                        % (self.path, wait))
                time.sleep(0.05)
        self._sock = sock
        self.greeting = self.read_message()
        if 'QMP' not in self.greeting:
            raise TestbedError('no QMP greeting on %s' % self.path)
        self.execute('qmp_capabilities')
        return self

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def read_message(self):
        """The next message QEMU sends (reply or event), parsed."""
        while b'\n' not in self._buf:
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                raise TestbedError('QMP %s: no answer within %.0f s'
                                   % (self.path, self.timeout))
            except OSError as e:
                raise TestbedError('QMP %s: %s' % (self.path, e))
            if not chunk:
                raise TestbedError('QMP %s: QEMU closed the connection'
                                   % self.path)
            self._buf += chunk
        line, self._buf = self._buf.split(b'\n', 1)
        return json.loads(line)

    def send(self, command, arguments=None):
        """Send *command*; the reply is the caller's to read."""
        msg = {'execute': command}
        if arguments:
            msg['arguments'] = arguments
        try:
            self._sock.sendall(json.dumps(msg).encode() + b'\n')
        except OSError as e:
            raise TestbedError('QMP %s %s: %s' % (self.path, command, e))

    def wait_without_timeout(self):
        """Let :meth:`read_message` wait for as long as QEMU is silent
        (a reader thread's loop; closing the socket ends the wait).
        """
        self._sock.settimeout(None)

    def shutdown(self):
        """Shut the socket down, waking a reader blocked on it."""
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def execute(self, command, **arguments):
        self.send(command, arguments)
        while True:
            reply = self.read_message()
            if 'event' in reply:
                self.events.append(reply)
                continue
            if 'error' in reply:
                raise QMPError(command, reply['error'])
            return reply.get('return')


class QMPWatcher(object):
    """A QMP connection whose events are read by a thread of its own.

    For a second monitor next to libvirt's (``-qmp`` in the domain's
    ``qemu:commandline``): QEMU broadcasts its events (STOP, RESUME,
    MIGRATION, with QEMU's own time stamps) to every monitor, and
    ``query-migrate`` answers with ``expected-downtime`` that libvirt
    does not pass on. Commands may be sent from one thread at a time.
    """

    def __init__(self, path, timeout=10.0):
        self.client = QMPClient(path, timeout=timeout)
        self.events = []
        self._replies = queue.Queue()
        self._thread = None
        self.closed = False

    def connect(self, wait=10.0):
        self.client.connect(wait)
        self.events.extend(self.client.events)
        self.client.wait_without_timeout()
        self._thread = threading.Thread(target=self._reader, daemon=True,
                                        name='qmp-%s' % self.client.path)
        self._thread.start()
        return self

    def _reader(self):
        while True:
            try:
                msg = self.client.read_message()
            except (TestbedError, ValueError):
                self.closed = True
                self._replies.put(None)
                return
            if 'event' in msg:
                self.events.append(msg)
            else:
                self._replies.put(msg)

    def execute(self, command, timeout=5.0, **arguments):
        if self.closed:
            raise TestbedError('QMP %s: closed' % self.client.path)
        self.client.send(command, arguments)
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise TestbedError('QMP %s %s: no answer within %.0f s' % (
                self.client.path, command, timeout))
        if reply is None:
            raise TestbedError('QMP %s: QEMU closed the connection'
                               % self.client.path)
        if 'error' in reply:
            raise QMPError(command, reply['error'])
        return reply.get('return')

    def event_times(self, name):
        """Host-clock times (s since the epoch) of the events *name*."""
        out = []
        for ev in list(self.events):
            if ev.get('event') == name:
                ts = ev.get('timestamp', {})
                out.append(ts.get('seconds', 0) +
                           ts.get('microseconds', 0) / 1e6)
        return out

    def close(self):
        self.client.shutdown()
        self.client.close()
        if self._thread is not None:
            self._thread.join(2)
