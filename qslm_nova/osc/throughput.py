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


"""Throughput of a migration transport, measured the way QEMU uses it.

QEMU sends a live migration as one stream on one connection: on the
source its migration thread writes the guest's memory in 32 KiB buffers,
and with native TLS encrypts them on that one core; on the destination
one thread reads and decrypts. The figure that matters for
``crypto_gbps_per_core`` is therefore what one such stream achieves per
core, not the raw cipher speed of ``openssl speed``, which is several
times higher (no record layer, no socket copies).

* ``tls``: a TLS 1.3 connection over loopback TCP with the cipher suite
  GnuTLS negotiates under QEMU's default priority ``NORMAL``
  (TLS_AES_256_GCM_SHA384); OpenSSL, through Python's ssl module, does
  the record layer; one thread writes 32 KiB buffers, another reads.
* ``ssh``: the same stream through an OpenSSH tunnel (a private sshd on
  127.0.0.1 and ``ssh -L``, the testbed's SSH transport).
* ``none``: the same stream in plain TCP, for comparison: the kernel's
  own per-core limit, included in the two figures above.

Per core is the payload over the CPU time of the busier side (sender or
receiver; for ssh the ssh client and sshd processes), so other load on
this host lowers the stream's wall-clock rate but not the figure.
"""

import dataclasses
import datetime
import os
import socket
import ssl
import tempfile
import threading
import time

from qslm_nova import exception

#: QEMU's migration buffer (IO_BUF_SIZE of migration/qemu-file.c).
CHUNK = 32 * 1024
#: Cipher suite GnuTLS 3.7/3.8 negotiates with priority NORMAL.
TLS_SUITE = 'TLS_AES_256_GCM_SHA384'
#: How long to wait for a side to finish after the sender stopped.
DRAIN_TIMEOUT = 30.0


@dataclasses.dataclass
class Measurement:
    """One stream: payload bytes, wall time, CPU time of each side."""

    mechanism: str
    method: str
    cipher: str
    seconds: float
    payload_bytes: int
    sender_cpu_s: float
    receiver_cpu_s: float

    @property
    def stream_gbps(self):
        return self.payload_bytes * 8 / self.seconds / 1e9

    @property
    def per_core_gbps(self):
        busiest = max(self.sender_cpu_s, self.receiver_cpu_s, 1e-9)
        return self.payload_bytes * 8 / busiest / 1e9


def _self_signed(folder):
    """A throw-away EC certificate and key for 'localhost'."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'localhost')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .sign(key, hashes.SHA256()))
    cert_file = os.path.join(folder, 'cert.pem')
    key_file = os.path.join(folder, 'key.pem')
    with open(cert_file, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_file, key_file


class _Receiver(threading.Thread):
    """Accepts one connection and reads it to its end."""

    def __init__(self, listener, wrap):
        super().__init__(daemon=True)
        self.listener = listener
        self.wrap = wrap
        self.payload_bytes = 0
        self.cpu_s = 0.0
        self.error = None

    def run(self):
        # A tunnel may hand over an empty connection first (ssh -L opens
        # one for the probe that checked the forward): skip those.
        try:
            for _attempt in range(3):
                conn, _addr = self.listener.accept()
                conn.settimeout(DRAIN_TIMEOUT)
                with self.wrap(conn) as stream:
                    buf = bytearray(1 << 20)
                    start = time.thread_time()
                    while True:
                        n = stream.recv_into(buf)
                        if not n:
                            break
                        self.payload_bytes += n
                    self.cpu_s = time.thread_time() - start
                if self.payload_bytes:
                    return
        except (OSError, ssl.SSLError) as e:
            self.error = e


def stream(seconds, connect, wrap_client, wrap_server, listener,
           on_tick=None, meter=None):
    """Send ``seconds`` worth of 32 KiB buffers; return the counts.

    :param meter: optional object whose ``start()`` and ``stop()`` are
        called when the stream is connected and when it has ended.

    :returns: (payload bytes, wall seconds, sender CPU, receiver CPU, the
        client stream's TLS cipher or None).
    """
    receiver = _Receiver(listener, wrap_server)
    receiver.start()
    data = os.urandom(CHUNK)
    sent = 0
    with wrap_client(connect()) as out:
        cipher = out.cipher()[0] if hasattr(out, 'cipher') else None
        if meter is not None:
            meter.start()
        start = time.perf_counter()
        cpu = time.thread_time()
        end = start + seconds
        now = start
        while now < end:
            for _ in range(32):
                out.sendall(data)
            sent += 32 * CHUNK
            now = time.perf_counter()
            if on_tick is not None:
                on_tick(now - start)
        sender_cpu = time.thread_time() - cpu
        # End the stream but keep the socket until the receiver has read
        # it all: closing with unread data (TLS 1.3 session tickets) would
        # reset the connection and lose what is still in flight.
        out.shutdown(socket.SHUT_WR)
        receiver.join(DRAIN_TIMEOUT)
        wall = time.perf_counter() - start
    if meter is not None:
        meter.stop()
    if receiver.is_alive() or receiver.error is not None:
        raise exception.QSLMError('the receiving side of the stream failed: '
                                  '%s' % (receiver.error or 'no end seen'))
    if receiver.payload_bytes != sent:
        raise exception.QSLMError('the stream lost data: %d bytes sent, %d '
                                  'received' % (sent, receiver.payload_bytes))
    return sent, wall, sender_cpu, receiver.cpu_s, cipher


def _listener(port=0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', port))
    sock.listen(1)
    sock.settimeout(DRAIN_TIMEOUT)
    return sock


def _plain(sock):
    return sock


def tcp_stream(seconds, on_tick=None):
    """Plain TCP over loopback: the kernel's per-core limit."""
    with _listener() as lsock:
        port = lsock.getsockname()[1]
        sent, wall, tx, rx, _c = stream(
            seconds, lambda: socket.create_connection(('127.0.0.1', port),
                                                      DRAIN_TIMEOUT),
            _plain, _plain, lsock, on_tick)
    return Measurement('none', 'TCP stream', '-', wall, sent, tx, rx)


def tls_stream(seconds, on_tick=None):
    """One TLS 1.3 stream as QEMU's native TLS carries a migration."""
    with tempfile.TemporaryDirectory(prefix='qslm-calibrate-') as folder:
        cert_file, key_file = _self_signed(folder)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.minimum_version = ssl.TLSVersion.TLSv1_3
        server.load_cert_chain(cert_file, key_file)
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.minimum_version = ssl.TLSVersion.TLSv1_3
        client.load_verify_locations(cert_file)
        with _listener() as lsock:
            port = lsock.getsockname()[1]
            sent, wall, tx, rx, cipher = stream(
                seconds,
                lambda: socket.create_connection(('127.0.0.1', port),
                                                 DRAIN_TIMEOUT),
                lambda s: client.wrap_socket(s, server_hostname='localhost'),
                lambda s: server.wrap_socket(s, server_side=True),
                lsock, on_tick)
    return Measurement('tls', 'TLS 1.3 stream', cipher, wall, sent, tx, rx)


class ProcessCPU:
    """CPU time of this process's descendants, by command name (Linux)."""

    TICK = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100

    def __init__(self):
        self.first = self.last = {}

    @staticmethod
    def sample():
        """{pid: (command, parent, CPU ticks)} of the descendants."""
        procs = {}
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            # comm may hold spaces and parentheses: it ends at the last ')'.
            comm = stat[stat.index('(') + 1:stat.rindex(')')]
            rest = stat[stat.rindex(')') + 2:].split()
            procs[int(entry)] = (comm, int(rest[1]),
                                 int(rest[11]) + int(rest[12]))
        mine, todo = {}, [os.getpid()]
        while todo:
            parent = todo.pop()
            for pid, info in procs.items():
                if info[1] == parent and pid not in mine:
                    mine[pid] = info
                    todo.append(pid)
        return mine

    def start(self):
        self.first = self.sample()

    def stop(self):
        self.last = self.sample()

    def seconds(self, *names):
        """CPU seconds used between start and stop by these commands."""
        ticks = 0
        for pid, (comm, _parent, total) in self.last.items():
            if comm in names:
                before = self.first.get(pid)
                ticks += total - (before[2] if before else 0)
        return ticks / float(self.TICK)


def ssh_stream(seconds, cipher, on_tick=None):
    """One stream through an OpenSSH tunnel (client and sshd on this host).
    """
    from qslm_nova.testbed import TestbedError
    from qslm_nova.testbed import transports

    meter = ProcessCPU()
    with tempfile.TemporaryDirectory(prefix='qslm-calibrate-') as workdir:
        try:
            with transports.SSHTransport(workdir, cipher=cipher) as tunnel:
                with _listener(tunnel.dst_port) as lsock:
                    sent, wall, _tx, _rx, _c = stream(
                        seconds,
                        lambda: socket.create_connection(
                            ('127.0.0.1', tunnel.src_port), DRAIN_TIMEOUT),
                        _plain, _plain, lsock, on_tick, meter)
        except TestbedError as e:
            raise exception.QSLMError('ssh: %s' % e)
    return Measurement('ssh', 'SSH tunnel stream', cipher, wall, sent,
                       meter.seconds('ssh'),
                       meter.seconds('sshd', 'sshd-session'))
