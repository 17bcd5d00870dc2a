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

"""A local Keylime verifier double speaking the verifier's REST API.

HTTPS on 127.0.0.1 with mutual TLS (a client certificate signed by the
test CA is required, as by the real verifier), answering

* ``GET /v<ver>/agents/<agent_id>``: ``{"code": 200, "status": "Success",
  "results": {...}}`` (the fields of keylime's ``process_get_status``) or
  404 ``agent id not found``;
* ``GET /v<ver>/agents/?bulk=true[&verifier=<id>]``: results keyed by
  agent id.

Certificates are generated with ``cryptography`` (EC keys, fast). Tests
set ``agents[agent_id]`` to a results dict (see :func:`agent_status`), or
to :data:`MALFORMED` (invalid JSON), raw ``bytes`` (the whole body) or an
int (that HTTP status); set ``delay`` to stall answers; read ``paths``
for the requests received.

Misbehaviours of a hostile or broken verifier (issue 15, item 3):

* ``trickle``: seconds between single bytes of the whole answer;
* ``silent``: read the request and never answer;
* ``close_connections``: answer with "Connection: close" (no keep-alive);
* ``body_size``: answer 200 with a body of that many bytes (a JSON
  prefix and padding), streamed as fast as the client reads;

and more in :mod:`tests.unit.hostile_servers` (TLS handshakes that
stall or trickle, connects that stall). Everything stops promptly on
``stop()``.
"""

import datetime
import http.server
import json
import os
import socket
import ssl
import threading
import time
import urllib.parse

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import NameOID

MALFORMED = object()
KEY_PASSWORD = 'kl-S3cret-passw0rd-7d1f'


def agent_status(state=3, last_ok=None, count=12, push_status=None):
    """The ``results`` of keylime's GET agent for one agent."""
    now = int(time.time())
    last_ok = now - 5 if last_ok is None else int(last_ok)
    return {
        'operational_state': state,
        'v': None, 'ip': '192.0.2.10', 'port': 9002,
        'tpm_policy': '{"mask": "0x400"}', 'meta_data': '{}',
        'has_mb_refstate': 0, 'has_runtime_policy': 1,
        'accept_tpm_hash_algs': ['sha512', 'sha384', 'sha256'],
        'accept_tpm_encryption_algs': ['ecc', 'rsa'],
        'accept_tpm_signing_algs': ['ecschnorr', 'rsassa'],
        'hash_alg': 'sha256', 'enc_alg': 'rsa', 'sign_alg': 'rsassa',
        'verifier_id': 'default', 'verifier_ip': '127.0.0.1',
        'verifier_port': 8881, 'severity_level': None,
        'last_event_id': None, 'attestation_count': count,
        'last_received_quote': max(last_ok, now - 2),
        'last_successful_attestation': last_ok,
        'attestation_status': push_status or (
            'PASS' if state in (3, 4, 5, 6) else
            'FAIL' if state in (7, 9, 10) else 'PENDING'),
        'attestation_period': '2s',
        'maximum_attestation_interval': '10s',
    }


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject_cn, key, issuer_cn, issuer_key, ca=False, san=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(_name(subject_cn)).issuer_name(_name(issuer_cn))
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=2))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


class PKI:
    """A CA, a server certificate for 127.0.0.1 and client certificates.

    ``client_key_enc`` is the client key encrypted with
    :data:`KEY_PASSWORD`; ``rogue_*`` is a client signed by another CA;
    ``other_ca`` is a CA that did not sign the server certificate.
    """

    def __init__(self, directory):
        import ipaddress
        self.dir = directory
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert('qslm test keylime CA', ca_key, 'qslm test keylime CA',
                   ca_key, ca=True)
        other_key = ec.generate_private_key(ec.SECP256R1())
        other = _cert('other CA', other_key, 'other CA', other_key, ca=True)
        srv_key = ec.generate_private_key(ec.SECP256R1())
        srv = _cert('verifier', srv_key, 'qslm test keylime CA', ca_key,
                    san=[x509.IPAddress(ipaddress.ip_address('127.0.0.1')),
                         x509.DNSName('localhost')])
        cli_key = ec.generate_private_key(ec.SECP256R1())
        cli = _cert('nova-scheduler', cli_key, 'qslm test keylime CA',
                    ca_key)
        rogue_key = ec.generate_private_key(ec.SECP256R1())
        rogue = _cert('rogue', rogue_key, 'other CA', other_key)
        self.cafile = self._write('ca.crt', _pem(ca))
        self.other_ca = self._write('other-ca.crt', _pem(other))
        self.server_cert = self._write('server.crt', _pem(srv))
        self.server_key = self._write('server.key', _key(srv_key))
        self.client_cert = self._write('client.crt', _pem(cli))
        self.client_key_pem = _key(cli_key)
        self.client_key = self._write('client.key', self.client_key_pem)
        self.client_key_enc_pem = _key(cli_key, KEY_PASSWORD)
        self.client_key_enc = self._write('client-enc.key',
                                          self.client_key_enc_pem)
        self.rogue_cert = self._write('rogue.crt', _pem(rogue))
        self.rogue_key = self._write('rogue.key', _key(rogue_key))

    def _write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, 'wb') as f:
            f.write(data)
        os.chmod(path, 0o600)
        return path


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _key(key, password=None):
    enc = (serialization.BestAvailableEncryption(password.encode())
           if password else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8, enc)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, status, results=None, raw=None):
        body = raw if raw is not None else json.dumps(
            {'code': code, 'status': status,
             'results': results if results is not None else {}}).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        if self.server.verifier.close_connections:
            self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body)

    def _send_slowly(self, data, pause):
        for i in range(len(data)):
            if self.server.verifier.stopping.wait(pause):
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()

    def _send_huge(self, size):
        head = b'{"code": 200, "status": "Success", "results": {"pad": "'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(size))
        self.end_headers()
        self.wfile.write(head)
        chunk = b'A' * 65536
        left = size - len(head)
        while left > 0 and not self.server.verifier.stopping.is_set():
            self.wfile.write(chunk[:left])
            left -= len(chunk)

    def do_GET(self):
        v = self.server.verifier
        with v.lock:
            v.paths.append(self.path)
            delay = v.delay
            agents = dict(v.agents)
            forced = v.force_status
            trickle, silent, body_size = v.trickle, v.silent, v.body_size
        if silent:
            v.stopping.wait()
            return
        if delay:
            with v.lock:
                v.in_flight += 1
                v.peak = max(v.peak, v.in_flight)
            try:
                if v.stopping.wait(delay):
                    return
            finally:
                with v.lock:
                    v.in_flight -= 1
        if body_size:
            return self._send_huge(body_size)
        if trickle:
            # Build the answer, then send it a byte at a time.
            real = self.wfile
            self.wfile = _Buffer()
            try:
                self._answer(agents, forced)
            finally:
                data, self.wfile = self.wfile.getvalue(), real
            return self._send_slowly(data, trickle)
        return self._answer(agents, forced)

    def _answer(self, agents, forced):
        if forced is not None:
            return self._send(forced, 'Internal Server Error')
        parts = urllib.parse.urlsplit(self.path)
        tokens = parts.path.strip('/').split('/')
        while tokens and not (tokens[0][:1] == 'v' and
                              tokens[0][1:2].isdigit()):
            tokens.pop(0)     # a path prefix in front of the API
        if (len(tokens) < 2 or not tokens[0].startswith('v') or
                tokens[1] != 'agents'):
            return self._send(400, 'Invalid URI')
        if len(tokens) == 2 or tokens[2] == '':
            query = dict(urllib.parse.parse_qsl(parts.query))
            if 'bulk' not in query:
                return self._send(200, 'Success',
                                  {'uuids': [[a] for a in agents]})
            out = {a: r for a, r in agents.items() if isinstance(r, dict)
                   and (not query.get('verifier') or
                        r.get('verifier_id') == query['verifier'])}
            return self._send(200, 'Success', out)
        agent = urllib.parse.unquote(tokens[2])
        res = agents.get(agent)
        if res is None:
            return self._send(404, 'agent id not found')
        if res is MALFORMED:
            return self._send(200, 'Success', raw=b'{"code": 200, "resu')
        if isinstance(res, bytes):
            return self._send(200, 'Success', raw=res)
        if isinstance(res, int):
            return self._send(res, 'error')
        return self._send(200, 'Success', res)


class _Buffer:
    """Collects what a handler writes (for trickled answers)."""

    def __init__(self):
        self._parts = []

    def write(self, data):
        self._parts.append(bytes(data))

    def flush(self):
        pass

    def getvalue(self):
        return b''.join(self._parts)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_connections = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self):
        """Close kept-alive connections too, as a stopped server does."""
        with self.connections_lock:
            connections = list(self.open_connections)
        for request in connections:
            try:
                request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass    # refused handshakes are part of the tests


class FakeVerifier:
    """The verifier double; ``start()`` it, ``stop()`` it."""

    def __init__(self, pki, require_client_cert=True):
        self.pki = pki
        self.agents = {}
        self.paths = []
        self.delay = 0
        # Requests stalled by ``delay`` at this moment, and the most at
        # once since start.
        self.in_flight = 0
        self.peak = 0
        self.force_status = None
        self.trickle = 0
        self.silent = False
        self.close_connections = False
        self.body_size = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.require_client_cert = require_client_cert
        self._server = None
        self._thread = None
        self.port = None

    @property
    def url(self):
        return 'https://127.0.0.1:%d' % self.port

    def start(self, port=0):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        ctx.load_verify_locations(self.pki.cafile)
        if self.require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
        srv = _Server(('127.0.0.1', port), _Handler)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        srv.verifier = self
        self._server = srv
        self.port = srv.server_address[1]
        self._thread = threading.Thread(target=srv.serve_forever,
                                        kwargs={'poll_interval': 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.drop_connections()
            self._thread.join(5)
            self._server = None

    def set(self, agent, value):
        with self.lock:
            self.agents[agent] = value

    def count(self, fragment=''):
        with self.lock:
            return sum(1 for p in self.paths if fragment in p)

    def reset_counts(self):
        with self.lock:
            del self.paths[:]
