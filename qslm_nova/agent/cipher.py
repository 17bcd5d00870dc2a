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

"""This host's cipher throughput, measured the way QEMU's TLS stream runs.

QEMU's native-TLS migration is one TLS session per connection, encrypted
by the source's migration thread and decrypted by the destination's, so
one core on each side carries a stream: GnuTLS's AES-GCM, record framing,
copies and QEMU's own page handling. The agent measures exactly that:
two QEMU processes of this host's binary, a stopped guest whose RAM is
filled with random bytes, migrated over QEMU native TLS on the loopback;
the figure is the payload per second of CPU time of the busier process
(so it holds on a loaded host too; the decision lowers it by the
measured load). Where QEMU cannot be run, one TLS 1.3 stream of
OpenSSL's AES-GCM between two threads (Python's ssl module) stands in;
it leaves QEMU's page handling out and reads several times higher (five
times on the development machine: 13.6 against 2.7 Gbit/s per core). A
raw cipher benchmark (``openssl speed``) is higher still.

Measured once per boot (the hardware, QEMU and the crypto libraries do
not change without one) and kept in the agent's state directory.
"""

import dataclasses
import json
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from oslo_log import log as logging

from qslm_nova.testbed import qmp as qmp_mod
from qslm_nova.testbed import transports

LOG = logging.getLogger(__name__)
CHUNK = 16384
BOOT_ID = '/proc/sys/kernel/random/boot_id'


QEMU_RAM_MIB = 128


def _free_port():
    """A loopback port nobody listens on now (the kernel's choice).

    Not a fixed one: other agents (hosts sharing a network namespace) or
    services may hold any given port.
    """
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@dataclasses.dataclass(frozen=True)
class CipherMeasurement:
    """One measurement: ``method`` is ``qemu`` or ``openssl-stream``."""

    gbps_per_core: float
    stream_gbps: float
    cipher: str
    seconds: float
    payload_bytes: int
    method: str = 'openssl-stream'
    boot_id: str = None

    def to_json(self):
        return dataclasses.asdict(self)


def _contexts(directory):
    """TLS 1.3 server and client contexts with throw-away certificates."""
    server_dir = os.path.join(directory, 'server')
    client_dir = os.path.join(directory, 'client')
    transports.make_tls_certs(server_dir, client_dir)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.TLSv1_3
    server.load_cert_chain(os.path.join(server_dir, 'server-cert.pem'),
                           os.path.join(server_dir, 'server-key.pem'))
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.minimum_version = ssl.TLSVersion.TLSv1_3
    client.check_hostname = False
    client.load_verify_locations(os.path.join(client_dir, 'ca-cert.pem'))
    return server, client


def measure_openssl(seconds=2.0):
    """Stream TLS for about ``seconds``; return a CipherMeasurement."""
    with tempfile.TemporaryDirectory(prefix='qslm-cipher-') as tmp:
        server_ctx, client_ctx = _contexts(tmp)
        a, b = socket.socketpair()
        result = {}
        errors = []

        def receive():
            try:
                with server_ctx.wrap_socket(b, server_side=True) as s:
                    buf = bytearray(CHUNK * 4)
                    got = 0
                    start = time.thread_time()
                    while True:
                        n = s.recv_into(buf)
                        if not n:
                            break
                        got += n
                    result['rx_cpu'] = time.thread_time() - start
                    result['rx'] = got
            except (OSError, ssl.SSLError) as e:
                errors.append(e)

        receiver = threading.Thread(target=receive, daemon=True)
        receiver.start()
        payload = os.urandom(CHUNK)
        with client_ctx.wrap_socket(a) as s:
            cipher = s.cipher()[0]
            sent = 0
            wall = time.monotonic()
            cpu = time.thread_time()
            deadline = wall + seconds
            while time.monotonic() < deadline:
                for _ in range(64):
                    s.sendall(payload)
                sent += 64 * CHUNK
            tx_cpu = time.thread_time() - cpu
            wall = time.monotonic() - wall
        a.close()
        receiver.join(seconds + 30)
        if errors or 'rx' not in result:
            raise RuntimeError('TLS stream failed: %s' % (
                errors[0] if errors else 'no receiver result'))
    busier = max(tx_cpu, result['rx_cpu'], 1e-6)
    return CipherMeasurement(
        gbps_per_core=result['rx'] * 8 / busier / 1e9,
        stream_gbps=result['rx'] * 8 / max(wall, 1e-6) / 1e9,
        cipher=cipher, seconds=round(wall, 3), payload_bytes=result['rx'])


def _cpu_s(proc):
    with open('/proc/%d/stat' % proc.pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def _qemu(binary, tmp, name, ram, extra):
    sock = os.path.join(tmp, name + '.qmp')
    mib = QEMU_RAM_MIB
    proc = subprocess.Popen(
        [binary, '-machine', 'pc,memory-backend=ram', '-m', '%dM' % mib,
         '-object', 'memory-backend-file,id=ram,size=%dM,mem-path=%s,'
         'share=off' % (mib, ram), '-nographic', '-nodefaults', '-S',
         '-qmp', 'unix:%s,server=on,wait=off' % sock] + extra,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    return proc, sock


def measure_qemu(binary, timeout=60.0):
    """Migrate a stopped guest of random RAM between two QEMUs over TLS.
    """
    with tempfile.TemporaryDirectory(prefix='qslm-cipher-') as tmp:
        ram = os.path.join(tmp, 'ram')
        with open(ram, 'wb') as f:
            for _ in range(QEMU_RAM_MIB):
                f.write(os.urandom(1 << 20))
        server, client = os.path.join(tmp, 's'), os.path.join(tmp, 'c')
        transports.make_tls_certs(server, client)
        creds = 'tls-creds-x509,id=tls0,dir=%s,endpoint=%s,verify-peer=on'
        procs = []
        try:
            dst, dsock = _qemu(binary, tmp, 'dst', ram, [
                '-object', creds % (server, 'server'), '-incoming', 'defer'])
            procs.append(dst)
            src, ssock = _qemu(binary, tmp, 'src', ram, [
                '-object', creds % (client, 'client')])
            procs.append(src)
            with qmp_mod.QMPClient(dsock, timeout) as qd, \
                    qmp_mod.QMPClient(ssock, timeout) as qs:
                qd.connect()
                qs.connect()
                qd.execute('migrate-set-parameters', **{'tls-creds': 'tls0'})
                qs.execute('migrate-set-parameters', **{
                    'tls-creds': 'tls0', 'tls-hostname': 'localhost',
                    'max-bandwidth': 1 << 40})
                uri = 'tcp:127.0.0.1:%d' % _free_port()
                qd.execute('migrate-incoming', uri=uri)
                cpu = (_cpu_s(src), _cpu_s(dst))
                start = time.monotonic()
                qs.execute('migrate', uri=uri)
                while True:
                    info = qs.execute('query-migrate')
                    if info.get('status') in ('completed', 'failed',
                                              'cancelled'):
                        break
                    if time.monotonic() - start > timeout:
                        raise RuntimeError('QEMU TLS migration did not end '
                                           'within %.0f s' % timeout)
                    time.sleep(0.02)
                wall = time.monotonic() - start
                busier = max(_cpu_s(src) - cpu[0], _cpu_s(dst) - cpu[1],
                             0.01)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
    if info.get('status') != 'completed':
        raise RuntimeError('QEMU TLS migration %s' % info.get('status'))
    sent = info['ram']['transferred']
    return CipherMeasurement(
        gbps_per_core=sent * 8 / busier / 1e9,
        stream_gbps=sent * 8 / max(wall, 1e-6) / 1e9,
        cipher='QEMU native TLS (GnuTLS)', seconds=round(wall, 3),
        payload_bytes=sent, method='qemu')


def measure(qemu_binary=None, seconds=2.0):
    """QEMU's own TLS stream if it can run, else the OpenSSL stream."""
    if qemu_binary:
        try:
            return measure_qemu(qemu_binary)
        except Exception as e:
            LOG.warning('Cannot measure QEMU\'s TLS stream with %s (%s); '
                        'measuring an OpenSSL TLS stream instead, which '
                        'leaves out QEMU\'s page handling', qemu_binary, e)
    return measure_openssl(seconds)


def boot_id():
    try:
        with open(BOOT_ID) as f:
            return f.read().strip()
    except OSError:
        return None


def once_per_boot(state_path, qemu_binary=None, seconds=2.0,
                  measure_fn=measure):
    """The measurement of this boot: from the state file, else measured.
    """
    path = os.path.join(state_path, 'cipher.json')
    boot = boot_id()
    try:
        with open(path) as f:
            saved = json.load(f)
        if saved.get('boot_id') == boot and boot is not None:
            return CipherMeasurement(**saved)
    except (OSError, ValueError, TypeError):
        pass
    found = dataclasses.replace(measure_fn(qemu_binary, seconds),
                                boot_id=boot)
    LOG.info('Cipher throughput of one TLS stream (%s, %s): %.2f Gbit/s '
             'per core (stream %.2f Gbit/s over %.1f s)', found.method,
             found.cipher, found.gbps_per_core, found.stream_gbps,
             found.seconds)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(found.to_json(), f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return found
