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

"""The ``keylime`` trust provider: attestation state from a Keylime verifier.

The verifier's REST API (pull mode, API 2.x) answers
``GET /v<version>/agents/<agent_id>`` with::

    {"code": 200, "status": "Success",
     "results": {"operational_state": 3, "attestation_count": 197,
                 "last_received_quote": 1721046078,
                 "last_successful_attestation": 1721046078, ...}}

and ``GET /v<version>/agents/?bulk=true`` with ``results`` keyed by agent
id. ``operational_state`` is a number (keylime/common/states.py); in push
mode it is null and ``attestation_status`` (PASS, FAIL, PENDING, TIMEOUT)
tells. An unknown agent gets 404.

Mapping to :class:`TrustState`:

* trusted: the states listed in ``[qslm_keylime] trusted_states``
  (default ``Get Quote`` and ``Provide V``), or ``PASS`` in push mode;
  ``attested_at`` is ``last_successful_attestation``;
* untrusted: ``Failed`` (7), ``Terminated`` (8), ``Invalid Quote`` (9),
  ``Tenant Quote Failed`` (10), or ``FAIL`` in push mode;
* unknown (``trusted=None``): every other state, agents the verifier does
  not know (404), hosts without an agent id, and every error (unreachable
  verifier, TLS failure, timeout, HTTP error, malformed answer).

Unknown counts as untrusted for instances that require trust (fail
closed). One WARNING is logged when the verifier starts failing and one
INFO when it answers again, whatever the number of hosts.

Requests use mutual TLS with a client certificate; the server certificate
is verified unless ``insecure`` is set. Answers (and failures) are cached
per agent for ``cache_ttl`` seconds; missing agents are fetched
concurrently (or with one bulk request), and concurrent callers asking for
the same agent share one request.
"""

import concurrent.futures
import datetime
import http.client
import json
import re
import ssl
import threading
import time
import urllib.parse

from oslo_log import log as logging

from qslm_nova import exception
from qslm_nova.trust import base
from qslm_nova.trust import opts

LOG = logging.getLogger(__name__)

STATES = opts.KEYLIME_STATES
UNTRUSTED_STATES = frozenset((7, 8, 9, 10))
_STATE_NUMBERS = {v: k for k, v in STATES.items()}
_AGENT_ID_RE = re.compile(r'^[A-Za-z0-9._-]{1,255}$')
_MAX_BODY = 4 * 1024 * 1024
_MAX_CACHE = 100000
#: Clock of the cache (a module attribute so that tests can move it).
_clock = time.monotonic


class _VerifierError(Exception):
    """The verifier could not give a usable answer (never a secret)."""


def _epoch_to_dt(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value <= 0:
        return None
    try:
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def parse_agent_status(agent_id, results, trusted_states):
    """Map one agent's ``results`` to a TrustState.

    :raises _VerifierError: if the answer is malformed.
    """
    if not isinstance(results, dict):
        raise _VerifierError('malformed answer for agent %s: results is '
                             'not an object' % agent_id)
    state = results.get('operational_state')
    count = results.get('attestation_count')
    last_ok = _epoch_to_dt(results.get('last_successful_attestation'))
    last_quote = _epoch_to_dt(results.get('last_received_quote'))
    when = last_ok.isoformat() if last_ok else 'never'
    if state is None:
        status = results.get('attestation_status')
        if not isinstance(status, str):
            raise _VerifierError('malformed answer for agent %s: no '
                                 'operational_state nor attestation_status'
                                 % agent_id)
        why = ('Keylime agent %s attestation status %s, last successful '
               'attestation %s' % (agent_id, status, when))
        if status == 'PASS':
            return base.TrustState(True, last_ok, why)
        if status == 'FAIL':
            return base.TrustState(False, last_quote or last_ok, why)
        return base.TrustState(None, None, why)
    if isinstance(state, str) and state in _STATE_NUMBERS:
        state = _STATE_NUMBERS[state]
    if isinstance(state, bool) or not isinstance(state, int):
        raise _VerifierError('malformed answer for agent %s: '
                             'operational_state %r is not a number'
                             % (agent_id, state))
    name = STATES.get(state, 'unknown state')
    why = ('Keylime agent %s is in state %s (%d), %s attestations, last '
           'successful attestation %s' % (
               agent_id, name, state,
               count if isinstance(count, int) else '?', when))
    if state in trusted_states:
        return base.TrustState(True, last_ok, why)
    if state in UNTRUSTED_STATES:
        return base.TrustState(False, last_quote or last_ok, why)
    return base.TrustState(None, None, why)


class _Entry:
    __slots__ = ('state', 'expires')

    def __init__(self, state, expires):
        self.state = state
        self.expires = expires


class _Flight:
    """A look-up in progress, shared by the threads that need it."""

    __slots__ = ('done', 'deadline', 'state')

    def __init__(self, deadline):
        self.done = threading.Event()
        self.deadline = deadline
        self.state = None


class KeylimeTrustProvider(base.TrustProvider):
    """Trust from a Keylime verifier; see the module documentation."""

    name = 'keylime'

    def __init__(self, conf):
        super().__init__(conf)
        opts.register_opts(conf)
        self._lock = threading.Lock()
        self._cache = {}
        self._inflight = {}
        self._failing = False
        self._ctx = None
        self._ctx_key = None
        self.requests_sent = 0

    # -- configuration ---------------------------------------------------
    @property
    def _group(self):
        return self.conf.qslm_keylime

    def _trusted_states(self):
        return frozenset(_STATE_NUMBERS[s] for s in self._group.trusted_states
                         if s in _STATE_NUMBERS)

    def _endpoint(self):
        url = self._group.verifier_url
        if not url:
            raise exception.TrustProviderError(
                '[qslm_keylime] verifier_url is not set')
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != 'https' or not parts.hostname:
            raise exception.TrustProviderError(
                '[qslm_keylime] verifier_url must be an https URL with a '
                'host name')
        prefix = parts.path.rstrip('/')
        return parts.hostname, parts.port or 443, prefix

    def _ssl_context(self):
        g = self._group
        key = (g.cafile, g.certfile, g.keyfile, g.keyfile_password,
               g.insecure)
        with self._lock:
            if self._ctx is not None and self._ctx_key == key:
                return self._ctx
        try:
            ctx = ssl.create_default_context(cafile=g.cafile or None)
        except (OSError, ssl.SSLError) as e:
            raise _VerifierError('cannot load the CA bundle %s: %s' % (
                g.cafile, _describe(e)))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if g.certfile:
            try:
                ctx.load_cert_chain(g.certfile, g.keyfile or None,
                                    password=g.keyfile_password or None)
            except (OSError, ssl.SSLError) as e:
                raise _VerifierError(
                    'cannot load the client certificate %s and key %s: %s'
                    % (g.certfile, g.keyfile or '(in certfile)',
                       _describe(e)))
        if g.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        with self._lock:
            self._ctx, self._ctx_key = ctx, key
        return ctx

    def agent_id(self, host, topology):
        """The Keylime agent id of a Nova host, or None."""
        entry = topology.hosts.get(host) if topology is not None else None
        if entry is not None and getattr(entry, 'agent_id', None):
            return entry.agent_id
        mapping = self._group.agent_ids or {}
        if host in mapping:
            return mapping[host]
        if self._group.agent_id_fallback == 'hostname':
            return host
        return None

    # -- HTTP ------------------------------------------------------------
    def _get(self, path):
        """GET path on the verifier; return (status, parsed JSON or None)."""
        host, port, prefix = self._endpoint()
        ctx = self._ssl_context()
        g = self._group
        conn = http.client.HTTPSConnection(host, port, context=ctx,
                                           timeout=g.connect_timeout)
        with self._lock:
            self.requests_sent += 1
        try:
            conn.connect()
            conn.sock.settimeout(g.read_timeout)
            conn.request('GET', prefix + path,
                         headers={'Accept': 'application/json'})
            resp = conn.getresponse()
            body = resp.read(_MAX_BODY + 1)
            status = resp.status
        except (OSError, http.client.HTTPException) as e:
            raise _VerifierError('Keylime verifier %s:%d: %s' % (
                host, port, _describe(e)))
        finally:
            conn.close()
        if len(body) > _MAX_BODY:
            raise _VerifierError('Keylime verifier %s:%d: answer larger '
                                 'than %d bytes' % (host, port, _MAX_BODY))
        try:
            doc = json.loads(body.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            doc = None
        return status, doc

    def _check(self, status, doc, what):
        if status != 200:
            detail = ''
            if isinstance(doc, dict) and isinstance(doc.get('status'), str):
                detail = ': %s' % doc['status'][:200]
            raise _VerifierError('Keylime verifier answered HTTP %d to %s%s'
                                 % (status, what, detail))
        if not isinstance(doc, dict) or not isinstance(
                doc.get('results'), dict):
            raise _VerifierError('Keylime verifier sent a malformed answer '
                                 'to %s (not a JSON object with results)'
                                 % what)
        return doc['results']

    def _fetch_one(self, agent):
        """TrustState for one agent (may raise _VerifierError)."""
        ver = self._group.api_version
        status, doc = self._get('/v%s/agents/%s' % (
            ver, urllib.parse.quote(agent, safe='')))
        if status == 404:
            return base.TrustState(
                None, None, 'Keylime agent %s is not enrolled with the '
                'verifier' % agent)
        results = self._check(status, doc, 'GET agent %s' % agent)
        return parse_agent_status(agent, results, self._trusted_states())

    def _fetch_bulk(self, agents):
        ver = self._group.api_version
        query = {'bulk': 'true'}
        if self._group.verifier_id:
            query['verifier'] = self._group.verifier_id
        status, doc = self._get('/v%s/agents/?%s' % (
            ver, urllib.parse.urlencode(query)))
        results = self._check(status, doc, 'GET agents (bulk)')
        trusted = self._trusted_states()
        out = {}
        for agent in agents:
            if agent not in results:
                out[agent] = base.TrustState(
                    None, None, 'Keylime agent %s is not enrolled with the '
                    'verifier' % agent)
                continue
            try:
                out[agent] = parse_agent_status(agent, results[agent],
                                                trusted)
            except _VerifierError as e:
                out[agent] = e
        return out

    # -- outage tracking -------------------------------------------------
    def _note(self, errors):
        """Log one WARNING per outage and one INFO per recovery."""
        with self._lock:
            was = self._failing
            self._failing = bool(errors)
        if errors and not was:
            LOG.warning('Keylime verifier is failing; hosts it cannot '
                        'vouch for count as untrusted for instances that '
                        'require trust: %s', errors[0])
        elif was and not errors:
            LOG.info('Keylime verifier answers again')

    # -- cache -----------------------------------------------------------
    def _store(self, agent, state, now):
        ttl = self._group.cache_ttl
        if ttl <= 0:
            return
        if len(self._cache) >= _MAX_CACHE:
            for k in [k for k, v in self._cache.items() if v.expires <= now]:
                del self._cache[k]
            if len(self._cache) >= _MAX_CACHE:
                self._cache.clear()
        self._cache[agent] = _Entry(state, now + ttl)

    def invalidate(self):
        """Forget every cached answer."""
        with self._lock:
            self._cache.clear()

    def _lookup(self, agents):
        """{agent: TrustState} for the agents, from cache or verifier.

        Agents another thread is fetching right now are not asked again:
        this thread waits for that answer (at most as long as the fetch
        may take with the configured timeouts).
        """
        now = _clock()
        found, mine, theirs = {}, [], {}
        g = self._group
        rounds = -(-len(agents) // max(g.max_concurrent_requests, 1))
        if g.bulk_requests:
            rounds = 1
        deadline = (time.monotonic() +
                    (g.connect_timeout + g.read_timeout) * rounds + 1.0)
        with self._lock:
            for agent in agents:
                entry = self._cache.get(agent)
                if entry is not None and entry.expires > now:
                    found[agent] = entry.state
                elif agent in self._inflight:
                    theirs[agent] = self._inflight[agent]
                else:
                    self._inflight[agent] = _Flight(deadline)
                    mine.append(agent)
        if mine:
            fetched = {}
            try:
                fetched = self._fetch(mine)
            finally:
                now = _clock()
                with self._lock:
                    for agent in mine:
                        flight = self._inflight.pop(agent)
                        flight.state = fetched.get(agent)
                        if flight.state is not None:
                            self._store(agent, flight.state, now)
                        flight.done.set()
            found.update(fetched)
        for agent, flight in theirs.items():
            flight.done.wait(max(flight.deadline - time.monotonic(), 0.0))
            found[agent] = flight.state or base.TrustState(
                None, None, 'Keylime agent %s: concurrent look-up gave no '
                'answer in time' % agent)
        return found

    def _fetch(self, agents):
        """Ask the verifier; errors become unknown states (fail closed)."""
        errors = []
        out = {}
        try:
            if self._group.bulk_requests:
                try:
                    raw = self._fetch_bulk(agents)
                except _VerifierError as e:
                    raw = {a: e for a in agents}
            else:
                raw = {}
                workers = min(self._group.max_concurrent_requests,
                              len(agents))
                if workers <= 1:
                    for agent in agents:
                        raw[agent] = self._try_one(agent)
                else:
                    with concurrent.futures.ThreadPoolExecutor(
                            max_workers=workers,
                            thread_name_prefix='qslm-keylime') as pool:
                        for agent, res in zip(agents, pool.map(
                                self._try_one, agents)):
                            raw[agent] = res
        except exception.TrustProviderError as e:
            raw = {a: _VerifierError(str(e)) for a in agents}
        for agent, res in raw.items():
            if isinstance(res, _VerifierError):
                errors.append(str(res))
                out[agent] = base.TrustState(
                    None, None, 'Keylime verifier unavailable: %s' % res)
            else:
                out[agent] = res
        self._note(errors)
        return out

    def _try_one(self, agent):
        try:
            return self._fetch_one(agent)
        except _VerifierError as e:
            return e

    # -- TrustProvider ---------------------------------------------------
    def get_trust(self, hosts, topology, host_info=None):
        self._endpoint()   # configuration errors: the evaluator warns once
        result = {}
        by_agent = {}
        for host in hosts:
            agent = self.agent_id(host, topology)
            if agent is None:
                result[host] = base.TrustState(
                    None, None, 'no Keylime agent id known for host %s '
                    '(topology agent_id or [qslm_keylime] agent_ids)' % host)
            elif not _AGENT_ID_RE.match(agent):
                result[host] = base.TrustState(
                    None, None, 'invalid Keylime agent id %r for host %s'
                    % (agent, host))
            else:
                by_agent.setdefault(agent, []).append(host)
        if by_agent:
            states = self._lookup(list(by_agent))
            for agent, names in by_agent.items():
                state = states.get(agent) or base.TrustState(
                    None, None, 'Keylime agent %s: no answer' % agent)
                for host in names:
                    result[host] = state
        return result


def _describe(exc):
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
