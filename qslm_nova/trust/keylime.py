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

Mapping to :class:`TrustState` (see :mod:`.keylime_answer`):

* trusted: the states listed in ``[qslm_keylime] trusted_states``
  (default ``Get Quote`` and ``Provide V``), or ``PASS`` in push mode;
  ``attested_at`` is ``last_successful_attestation``;
* untrusted: ``Failed`` (7), ``Terminated`` (8), ``Invalid Quote`` (9),
  ``Tenant Quote Failed`` (10), or ``FAIL`` in push mode;
* unknown (``trusted=None``): every other state, agents the verifier does
  not know (404), hosts without an agent id, and every error (unreachable
  verifier, TLS failure, timeout, HTTP error, malformed answer) and every
  agent without an answer when the decision's deadline passes.

Unknown counts as untrusted for instances that require trust (fail
closed).

Deadline: one call of :meth:`get_trust` (one scheduling decision) waits
at most ``[qslm_keylime] decision_timeout`` seconds, whatever the
verifier does (see :mod:`.keylime_http`). Look-ups run on a pool of
``max_concurrent_requests`` threads owned by the provider and shared by
all decisions. A request takes at most one ``decision_timeout`` too; one
still running when its decision gives up goes on, and its answer is
cached for the next decision. A look-up still queued when every decision
waiting for it has given up is dropped. After three failed requests in a
row the verifier counts as down: for ``cache_ttl`` seconds look-ups fail
at once, without a request, so an outage costs one ``decision_timeout``
per ``cache_ttl``, not one per decision. Neither threads nor queued work
pile up: at most ``max_concurrent_requests`` threads, at most one queued
look-up per agent.

Logs: one WARNING when the verifier starts failing and one INFO when it
answers again, whatever the number of hosts; one WARNING per decision
that ran out of time or got unusable answers, with the counts.

Requests use mutual TLS with a client certificate; the server certificate
is verified unless ``insecure`` is set. Answers (and failures) are cached
per agent for ``cache_ttl`` seconds; concurrent decisions asking for the
same agent share one request.
"""

import concurrent.futures
import itertools
import re
import threading
import time
import urllib.parse

from oslo_log import log as logging

from qslm_nova import exception
from qslm_nova.trust import base
from qslm_nova.trust import keylime_answer as answer
from qslm_nova.trust import keylime_http as http
from qslm_nova.trust import keylime_lookups as lookups
from qslm_nova.trust.keylime_lookups import Outcome
from qslm_nova.trust import keylime_opts

LOG = logging.getLogger(__name__)

_AGENT_ID_RE = re.compile(r'^[A-Za-z0-9._-]{1,255}$', re.ASCII)
#: Largest answer read for one agent (a real one is about 1 KiB).
MAX_AGENT_ANSWER = 1024 * 1024
#: Largest bulk answer read (about 70,000 agents).
MAX_BULK_ANSWER = 64 * 1024 * 1024
_MAX_CACHE = 100000
#: Failed look-ups in a row after which the verifier counts as down: no
#: request is sent for ``cache_ttl`` seconds, look-ups fail at once.
_DOWN_AFTER = 3
_PROVIDERS = itertools.count(1)
#: Clock of the cache (a module attribute so that tests can move it).
_clock = time.monotonic


class KeylimeTrustProvider(base.TrustProvider):
    """Trust from a Keylime verifier; see the module documentation."""

    name = 'keylime'
    config_opts = keylime_opts.ALL_OPTS
    config_group = keylime_opts.GROUP

    def __init__(self, conf):
        super().__init__(conf)
        # Protects the cache, the flights, the pool and the flags below.
        self._lock = threading.Lock()
        self._cache = {}
        self._inflight = {}
        self._failing = False     # an outage was logged, no recovery yet
        self._failures = 0        # DOWN look-ups in a row
        self._down_until = 0.0    # no request before this (_clock) time
        self._pool = None
        self._pool_size = None
        self._contexts = http.TLSContexts()
        self._resolver = http.Resolver()
        self._connections = http.Connections()   # per pool thread
        #: Names of this provider's look-up threads start with it.
        self.thread_prefix = 'qslm-keylime-%d' % next(_PROVIDERS)
        self.requests_sent = 0

    # -- configuration ---------------------------------------------------
    @property
    def _group(self):
        return self.conf.qslm_keylime

    def _trusted_states(self):
        return frozenset(answer.STATE_NUMBERS[s]
                         for s in self._group.trusted_states
                         if s in answer.STATE_NUMBERS)

    def _endpoint(self):
        return http.endpoint(self._group.verifier_url)

    def _ssl_context(self):
        g = self._group
        return self._contexts.get(g.cafile, g.certfile, g.keyfile,
                                  g.keyfile_password, g.insecure)

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

    # -- one request -----------------------------------------------------
    def _get(self, path, deadline, limit):
        host, port, prefix = self._endpoint()
        ctx = self._ssl_context()
        g = self._group
        with self._lock:
            self.requests_sent += 1
        return http.get(host, port, prefix + path, ctx, deadline,
                        self._resolver, g.connect_timeout, g.read_timeout,
                        limit, self._connections)

    def _fetch_one(self, agent, deadline):
        """TrustState for one agent (may raise VerifierError)."""
        status, body = self._get('/v%s/agents/%s' % (
            self._group.api_version, urllib.parse.quote(agent, safe='')),
            deadline, MAX_AGENT_ANSWER)
        if status == 404:
            return base.TrustState(
                None, None, 'Keylime agent %s is not enrolled with the '
                'verifier' % agent)
        found = answer.results(status, body, 'GET agent %s' % agent)
        return answer.parse_agent_status(agent, found,
                                         self._trusted_states())

    def _fetch_bulk(self, agents, deadline):
        query = {'bulk': 'true'}
        if self._group.verifier_id:
            query['verifier'] = self._group.verifier_id
        status, body = self._get('/v%s/agents/?%s' % (
            self._group.api_version, urllib.parse.urlencode(query)),
            deadline, MAX_BULK_ANSWER)
        found = answer.results(status, body, 'GET agents (bulk)')
        trusted = self._trusted_states()
        out = {}
        for agent in agents:
            if agent not in found:
                out[agent] = base.TrustState(
                    None, None, 'Keylime agent %s is not enrolled with the '
                    'verifier' % agent)
                continue
            try:
                out[agent] = answer.parse_agent_status(agent, found[agent],
                                                       trusted)
            except http.VerifierError as e:
                out[agent] = e
        return out

    # -- look-ups on the pool --------------------------------------------
    def _executor(self):
        size = self._group.max_concurrent_requests
        with self._lock:
            if self._pool is None or self._pool_size != size:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=size, thread_name_prefix=self.thread_prefix)
                self._pool_size = size
            return self._pool

    def _submit(self, agents):
        """Queue the look-ups: one bulk request, or one per agent."""
        batches = ([agents] if self._group.bulk_requests else
                   [[agent] for agent in agents])
        try:
            pool = self._executor()
            for batch in batches:
                pool.submit(self._look_up, batch)
        except RuntimeError as e:     # the interpreter is shutting down
            failure = lookups.unknown('Keylime verifier unavailable: '
                                      'cannot start a look-up (%s)' % e)
            self._finish({a: (failure, Outcome.DOWN) for a in agents})

    def _look_up(self, agents):
        """Run on the pool: ask the verifier, if it still makes sense.

        Not when every decision waiting for these agents has given up
        (LATE, not remembered), nor while the verifier is known to be
        down (DOWN, remembered like a failed request). A request that
        starts may take one ``decision_timeout``: its answer is cached
        for the next decision even if this one has given up.
        """
        g = self._group
        start = time.monotonic()
        with self._lock:
            deadline = max(self._inflight[a].deadline for a in agents)
            down = self._down_until > _clock()
        if down:
            self._finish({a: (lookups.unknown(
                'Keylime verifier unavailable: not asked, the last %d '
                'look-ups failed (asking again after cache_ttl)'
                % _DOWN_AFTER), Outcome.DOWN) for a in agents})
            return
        if start >= deadline:
            self._finish({a: (lookups.late(a, g.decision_timeout),
                              Outcome.LATE) for a in agents})
            return
        try:
            if g.bulk_requests:
                raw = self._fetch_bulk(agents, start + g.decision_timeout)
            else:
                raw = {agents[0]: self._fetch_one(
                    agents[0], start + g.decision_timeout)}
        except http.VerifierError as e:
            raw = dict.fromkeys(agents, e)
        except exception.TrustProviderError as e:
            raw = dict.fromkeys(agents, http.VerifierError(str(e)))
        except Exception as e:
            # A surprise still fails closed, with the stack for a bug
            # report.
            LOG.exception('Keylime look-up of %s failed', agents[0])
            raw = dict.fromkeys(agents, http.VerifierError(
                'unexpected %s' % type(e).__name__))
        outcomes = {agent: lookups.outcome_of(res)
                    for agent, res in raw.items()}
        self._finish(outcomes, failed=all(
            o is Outcome.DOWN for _s, o in outcomes.values()))

    def _finish(self, outcomes, failed=None):
        """Store the outcomes, end their flights, wake the decisions.

        :param failed: whether the request sent for them failed (True),
            got an answer (False), or None if none was sent.
        """
        now = _clock()
        with self._lock:
            if failed:
                self._failures += 1
                if self._failures >= _DOWN_AFTER:
                    self._down_until = now + self._group.cache_ttl
            elif failed is not None:
                self._failures, self._down_until = 0, 0.0
            for agent, (state, outcome) in outcomes.items():
                # A look-up dropped for lack of time is not remembered:
                # the next decision asks again.
                if outcome is not Outcome.LATE:
                    # Not asked while the verifier is down: remembered
                    # only until it is asked again.
                    self._store(agent, state, outcome, now,
                                self._down_until if failed is None else None)
                flight = self._inflight.pop(agent, None)
                if flight is not None:
                    flight.state, flight.outcome = state, outcome
                    flight.done.set()

    # -- cache -----------------------------------------------------------
    def _store(self, agent, state, outcome, now, until=None):
        ttl = self._group.cache_ttl
        if ttl <= 0:
            return
        expires = now + ttl if until is None else min(now + ttl, until)
        if len(self._cache) >= _MAX_CACHE:
            for k in [k for k, v in self._cache.items() if v.expires <= now]:
                del self._cache[k]
            if len(self._cache) >= _MAX_CACHE:
                self._cache.clear()
        self._cache[agent] = lookups.Entry(state, outcome, expires)

    def close(self):
        """Stop the look-up threads once their work is done."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def invalidate(self):
        """Forget every cached answer."""
        with self._lock:
            self._cache.clear()

    def _lookup(self, agents, deadline):
        """({agent: TrustState}, {agent: Outcome of a fresh look-up}).

        Answers come from the cache, from a look-up another decision
        started, or from new look-ups; agents without an answer by the
        deadline are unknown (LATE).
        """
        now = _clock()
        found, flights, new = {}, {}, []
        with self._lock:
            for agent in agents:
                entry = self._cache.get(agent)
                if entry is not None and entry.expires > now:
                    found[agent] = entry.state
                    continue
                flight = self._inflight.get(agent)
                if flight is None:
                    flight = self._inflight[agent] = lookups.Flight(deadline)
                    new.append(agent)
                else:
                    flight.deadline = max(flight.deadline, deadline)
                flights[agent] = flight
        if new:
            self._submit(new)
        fresh = {}
        for agent, flight in flights.items():
            if flight.done.wait(max(deadline - time.monotonic(), 0.0)):
                found[agent], fresh[agent] = flight.state, flight.outcome
            else:
                found[agent] = lookups.late(agent,
                                            self._group.decision_timeout)
                fresh[agent] = Outcome.LATE
        return found, fresh

    # -- logs ------------------------------------------------------------
    def _report(self, found, fresh):
        """The logs of one decision (see the module documentation)."""
        tally = lookups.Tally.of(found, fresh)
        with self._lock:
            was = self._failing
            if tally.failure or tally.answered:
                self._failing = bool(tally.failure)
        if tally.failure and not was:
            LOG.warning('Keylime verifier is failing; hosts it cannot '
                        'vouch for count as untrusted for instances that '
                        'require trust: %s', tally.failure)
        elif was and not tally.failure and tally.answered:
            LOG.info('Keylime verifier answers again')
        if tally.late or tally.unusable:
            LOG.warning('Keylime: %(late)d of %(n)d agents without an answer '
                        'within the %(t).1f s attestation deadline and '
                        '%(bad)d unusable answers in this decision; their '
                        'hosts count as untrusted for instances that '
                        'require trust%(eg)s',
                        {'late': tally.late, 'n': len(found),
                         'bad': tally.unusable,
                         't': self._group.decision_timeout,
                         'eg': ('' if not tally.unusable else
                                ' (e.g. %s)' % tally.first_unusable)})

    # -- TrustProvider ---------------------------------------------------
    def get_trust(self, hosts, topology, host_info=None):
        deadline = time.monotonic() + self._group.decision_timeout
        self._endpoint()   # configuration errors: the evaluator warns once
        result = {}
        by_agent = {}
        for host in hosts:
            agent = self.agent_id(host, topology)
            if agent is None:
                result[host] = lookups.unknown(
                    'no Keylime agent id known for host %s (topology '
                    'agent_id or [qslm_keylime] agent_ids)' % host)
            elif not isinstance(agent, str) or not _AGENT_ID_RE.match(agent):
                result[host] = lookups.unknown(
                    'invalid Keylime agent id %s for host %s' % (
                        exception.show_value(agent), host))
            else:
                by_agent.setdefault(agent, []).append(host)
        if by_agent:
            found, fresh = self._lookup(list(by_agent), deadline)
            self._report(found, fresh)
            for agent, names in by_agent.items():
                for host in names:
                    result[host] = found[agent]
        return result
