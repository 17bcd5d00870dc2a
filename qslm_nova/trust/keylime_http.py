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

"""HTTPS GETs to the Keylime verifier that end by a deadline.

Socket timeouts bound each operation, not a request: a verifier that
sends one byte every 0.3 s never trips a 5 s read timeout. Here every
blocking step gets the time left until one deadline (capped by the
connect or read timeout): the TCP connect, the TLS handshake (which
Python bounds as a whole by the socket timeout), sending the request and
every single read of the answer, which also counts the bytes and stops
at a size limit. Name resolution cannot be interrupted; one lookup runs
at a time, its result is kept for a minute, and callers that would wait
past their deadline for it give up instead.
"""

import http.client
import io
import socket
import ssl
import threading
import time
import urllib.parse

from qslm_nova import exception

#: Seconds a resolved verifier address is reused.
ADDRESS_TTL = 60.0


class VerifierError(Exception):
    """The verifier could not give a usable answer (never a secret).

    ``transport`` is True when the verifier could not be reached or did
    not answer in time (an outage), False when it answered, but not with
    something usable (a malformed answer for one agent).
    """

    def __init__(self, message, transport=True):
        super().__init__(message)
        self.transport = transport


class DeadlinePassed(VerifierError):
    """The deadline passed before the verifier answered."""

    def __init__(self, what='the verifier answered'):
        super().__init__('the attestation deadline passed before %s' % what)


def too_large(limit):
    """The error of an answer beyond the size limit (not an outage)."""
    return VerifierError('answer larger than %d bytes' % limit,
                         transport=False)


def remaining(deadline, what='the verifier answered'):
    """Seconds left until the deadline; raises DeadlinePassed if none."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed(what)
    return left


def endpoint(url):
    """(host, port, path prefix) of the verifier URL.

    :raises TrustProviderError: if it is unset or not an https URL.
    """
    if not url:
        raise exception.TrustProviderError(
            '[qslm_keylime] verifier_url is not set')
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != 'https' or not parts.hostname:
        raise exception.TrustProviderError(
            '[qslm_keylime] verifier_url must be an https URL with a host '
            'name')
    return parts.hostname, parts.port or 443, parts.path.rstrip('/')


class TLSContexts:
    """The client TLS context, made again only when its settings change.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._key = self._ctx = None

    def get(self, cafile, certfile, keyfile, password, insecure):
        key = (cafile, certfile, keyfile, password, insecure)
        with self._lock:
            if self._ctx is not None and self._key == key:
                return self._ctx
        try:
            ctx = ssl.create_default_context(cafile=cafile or None)
        except (OSError, ssl.SSLError) as e:
            raise VerifierError('cannot load the CA bundle %s: %s' % (
                cafile, describe(e)))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if certfile:
            try:
                ctx.load_cert_chain(certfile, keyfile or None,
                                    password=password or None)
            except (OSError, ssl.SSLError) as e:
                raise VerifierError(
                    'cannot load the client certificate %s and key %s: %s'
                    % (certfile, keyfile or '(in certfile)', describe(e)))
        if insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        with self._lock:
            self._key, self._ctx = key, ctx
        return ctx


class Resolver:
    """Addresses of the verifier, looked up once a minute, one at a time.

    ``getaddrinfo`` cannot be interrupted: a slow DNS server holds the
    thread that asks. Only one thread asks at a time; the others wait for
    its answer at most until their deadline.
    """

    def __init__(self, clock=time.monotonic):
        self._lock = threading.Lock()
        self._cache = {}      # (host, port) -> (expires, addresses)
        self._clock = clock

    def addresses(self, host, port, deadline):
        key = (host, port)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        if not self._lock.acquire(timeout=remaining(
                deadline, 'the name %s was resolved' % host)):
            raise DeadlinePassed('the name %s was resolved' % host)
        try:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > self._clock():
                return hit[1]
            try:
                infos = socket.getaddrinfo(host, port,
                                           type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as e:
                raise VerifierError('cannot resolve %s: %s' % (
                    host, describe(e)))
            found = [(family, addr) for family, _t, _p, _c, addr in infos]
            self._cache[key] = (self._clock() + ADDRESS_TTL, found)
            return found
        finally:
            self._lock.release()


class _Reader(io.RawIOBase):
    """Reads the answer; every read ends by the deadline and counts bytes.
    """

    def __init__(self, sock, deadline, read_timeout, limit):
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._read_timeout = read_timeout
        self._limit = limit
        self.total = 0

    def readable(self):
        return True

    def readinto(self, buf):
        self._sock.settimeout(min(self._read_timeout,
                                  remaining(self._deadline)))
        n = self._sock.recv_into(buf)
        self.total += n
        if self.total > self._limit:
            raise too_large(self._limit)
        return n


class _Socket:
    """What http.client needs of a socket, with the deadline applied.

    http.client closes its socket when the answer says "Connection:
    close" while the answer is still being read; the real socket is
    closed by :func:`get` when it is done.
    """

    def __init__(self, sock, deadline, read_timeout, limit):
        self._sock = sock
        self._args = (deadline, read_timeout, limit)

    def sendall(self, data):
        deadline, read_timeout, _limit = self._args
        self._sock.settimeout(min(read_timeout, remaining(deadline)))
        self._sock.sendall(data)

    def makefile(self, mode='rb', *args, **kwargs):
        return io.BufferedReader(_Reader(self._sock, *self._args))

    def close(self):
        pass


def _connect(addresses, connect_timeout, deadline):
    """A TCP connection to the first address that answers in time."""
    error = None
    for family, addr in addresses:
        timeout = min(connect_timeout, remaining(
            deadline, 'the connection was made'))
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(addr)
            return sock
        except OSError as e:
            sock.close()
            error = e
    raise error or VerifierError('no address to connect to')


class Connections(threading.local):
    """One kept-alive verifier connection per thread.

    The provider's pool threads each keep the connection of their last
    request open for the next one, so that a decision over thousands of
    agents costs a handful of TLS handshakes, not one per agent. A
    connection is only reused for the same verifier and TLS settings,
    and never after an error.
    """

    def __init__(self):
        self.key = None
        self.sock = None

    def take(self, key):
        sock, self.sock = self.sock, None
        if sock is not None and self.key != key:
            sock.close()
            sock = None
        return sock

    def keep(self, key, sock):
        if self.sock is not None:
            self.sock.close()
        self.key, self.sock = key, sock


def _open(host, port, context, deadline, resolver, connect_timeout):
    """A new TLS connection, by the deadline."""
    addresses = resolver.addresses(host, port, deadline)
    sock = _connect(addresses, connect_timeout, deadline)
    try:
        sock.settimeout(min(connect_timeout, remaining(
            deadline, 'the TLS handshake ended')))
        return context.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def _exchange(sock, host, port, path, deadline, read_timeout, limit):
    """Send the GET and read the answer: (status, body, reusable)."""
    conn = http.client.HTTPConnection(host, port)
    conn.sock = _Socket(sock, deadline, read_timeout, limit)
    conn.request('GET', path, headers={'Accept': 'application/json'})
    resp = conn.getresponse()
    body = resp.read(limit + 1)
    if len(body) > limit:
        raise too_large(limit)
    return resp.status, body, not resp.will_close


def get(host, port, path, context, deadline, resolver, connect_timeout,
        read_timeout, limit, connections=None):
    """GET ``path``; return (HTTP status, body bytes).

    :param connections: this thread's :class:`Connections`, to reuse a
        kept-alive connection and keep this one; None: a new connection.
    :raises VerifierError: on any failure, including the deadline.
    """
    key = (host, port, id(context))
    reused = connections.take(key) if connections is not None else None
    sock = None
    try:
        while True:
            sock = reused or _open(host, port, context, deadline, resolver,
                                   connect_timeout)
            try:
                status, body, reusable = _exchange(
                    sock, host, port, path, deadline, read_timeout, limit)
                break
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError):
                # The verifier closed a kept-alive connection: once more
                # on a new one.
                if sock is not reused:
                    raise
                sock.close()
                sock = reused = None
        if reusable and connections is not None:
            connections.keep(key, sock)
            sock = None
        return status, body
    except VerifierError:
        raise
    except TimeoutError:
        # The time left until the deadline, not a per-step timeout, ran
        # out: say so.
        if time.monotonic() >= deadline - 0.05:
            raise DeadlinePassed()
        raise VerifierError('timed out')
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise VerifierError(describe(e))
    finally:
        if sock is not None:
            sock.close()


def describe(exc):
    """A short, secret-free description of a transport error."""
    if isinstance(exc, TimeoutError):
        return 'timed out'
    if isinstance(exc, ssl.SSLCertVerificationError):
        return 'server certificate verification failed (%s)' % (
            exc.verify_message or exc.reason)
    if isinstance(exc, ssl.SSLError):
        return 'TLS error (%s)' % (exc.reason or type(exc).__name__)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return '%s: %s' % (type(exc).__name__, str(exc)[:200])
