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

"""TCP servers that misbehave below HTTP, for deadline tests.

* :class:`StallServer`: accepts TCP and never speaks TLS, or never
  accepts at all so that connects stall once its backlog is full;
* :class:`TrickleProxy`: forwards to a real server (e.g. the Keylime
  verifier double), what the server sends one byte at a time, the TLS
  handshake included.
"""

import socket
import threading


class StallServer:
    """A TCP server that never speaks TLS.

    ``accept=True``: connections are accepted and held open in silence
    (the TLS handshake stalls). ``accept=False``: the listening socket
    never accepts; once its backlog is full, new connects stall.
    """

    def __init__(self, accept=True):
        self.accept = accept
        self.stopping = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(('127.0.0.1', 0))
        self._sock.listen(0 if not accept else 128)
        self.port = self._sock.getsockname()[1]
        self._held = []
        self._thread = None

    @property
    def url(self):
        return 'https://127.0.0.1:%d' % self.port

    def start(self):
        if self.accept:
            self._sock.settimeout(0.05)
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self):
        while not self.stopping.is_set():
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                continue
            self._held.append(conn)

    def stop(self):
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        for conn in self._held:
            conn.close()
        self._sock.close()


class TrickleProxy:
    """Forwards TCP to a server, its answers a byte per ``pause`` s."""

    def __init__(self, upstream_port, pause=0.3):
        self.upstream = ('127.0.0.1', upstream_port)
        self.pause = pause
        self.stopping = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(('127.0.0.1', 0))
        self._sock.listen(128)
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self._threads = []

    @property
    def url(self):
        return 'https://127.0.0.1:%d' % self.port

    def start(self):
        self._spawn(self._accept)
        return self

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                client, _addr = self._sock.accept()
            except OSError:
                continue
            client.settimeout(0.05)
            server = socket.create_connection(self.upstream, timeout=5)
            server.settimeout(0.05)
            self._spawn(self._pipe, client, server, 0)
            self._spawn(self._pipe, server, client, self.pause)

    def _pipe(self, src, dst, pause):
        try:
            while not self.stopping.is_set():
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                step = 1 if pause else len(data)
                for i in range(0, len(data), step):
                    if pause and self.stopping.wait(pause):
                        return
                    dst.sendall(data[i:i + step])
        except OSError:
            pass
        finally:
            src.close()
            dst.close()

    def stop(self):
        self.stopping.set()
        for thread in self._threads:
            thread.join(5)
        self._sock.close()
