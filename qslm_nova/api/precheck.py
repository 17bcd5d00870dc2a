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

"""Live-migration pre-check in nova-api (paste filter ``qslm_precheck``).

Placed right after ``keystonecontext`` in the v2.1 pipelines of
api-paste.ini, it

* decides every ``os-migrateLive`` server action before Nova acts on it,
  forced or not, with or without a requested host, for every
  microversion; a denial is answered at once with 409 in Nova's fault
  format, naming the reasons; an allowed request goes on unchanged;
* refuses (403) every non-admin server-metadata write that would change
  the downtime ledger keys (``qslm:downtime_used_ms``,
  ``qslm:budget_period_start``);
* optionally limits live-migration requests per instance (429);
* logs every decision at INFO (request id, instance, user, project,
  requested host, outcome, reasons).

Every other request is handed on untouched, after a method and path test
and without reading its body. Requests Nova itself will refuse (policy,
unknown server or host, wrong state, malformed body) are handed on too,
so Nova's own answer reaches the caller. No exception of ours reaches
Nova's fault wrapper: a decision that cannot be computed follows
``[qslm] fail_closed``, and is always a refusal for instances whose
policy requires trust or encryption.
"""

import collections
import io
import math
import re
import threading
import time

from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import uuidutils
import webob
import webob.exc

from qslm_nova.api import lookup
from qslm_nova import conf as qslm_conf
from qslm_nova import decision
from qslm_nova import policy as policy_mod

LOG = logging.getLogger(__name__)
CONF = qslm_conf.CONF

ACTION = 'os-migrateLive'
_ACTION_BYTES = ACTION.encode('ascii')
_WRITE_METHODS = frozenset(('POST', 'PUT', 'DELETE'))
# Path after /v2.1 or /v2 (urlmap moved the prefix to SCRIPT_NAME),
# optionally led by a project id.
_ACTION_RE = re.compile(r'^(?:/[^/]+)?/servers/([^/]+)/action/?$')
_META_RE = re.compile(
    r'^(?:/[^/]+)?/servers/([^/]+)/metadata(?:/([^/]+))?/?$')
_LEDGER = frozenset(k.lower() for k in policy_mod.LEDGER_KEYS)
#: The Engine of this API process.
ENGINES = decision.EngineCache()
#: At most this many groups of hosts are named in a refusal.
MAX_REASON_GROUPS = 8


def read_body(environ):
    """Read the request body and put the same bytes back for Nova."""
    length = environ.get('CONTENT_LENGTH')
    if length and length.isdigit():
        raw = environ['wsgi.input'].read(int(length))
        environ['wsgi.input'] = io.BytesIO(raw)
        environ['CONTENT_LENGTH'] = str(len(raw))
        return raw
    # Chunked or no length: webob knows the rules and makes it seekable.
    return webob.Request(environ).body


def is_ledger_key(key):
    """Ledger keys, matched like a case-insensitive database would."""
    return isinstance(key, str) and key.strip().lower() in _LEDGER


def _ledger_of(metadata):
    return {k: str(v) for k, v in metadata.items() if is_ledger_key(k)}


def ledger_after(method, key, body, current):
    """The ledger entries after a metadata write, or None if unknowable.

    :param key: the key in the path (``/metadata/{key}``) or None.
    :param body: the decoded request body (None for DELETE).
    :param current: the instance's metadata now.
    """
    after = dict(current)
    if method == 'DELETE':
        after.pop(key, None)
    elif key is not None:  # PUT /metadata/{key} {"meta": {key: value}}
        meta = body.get('meta') if isinstance(body, dict) else None
        if not isinstance(meta, dict) or key not in meta:
            return None
        after[key] = meta[key]
    else:
        meta = body.get('metadata') if isinstance(body, dict) else None
        if not isinstance(meta, dict):
            return None
        if method == 'PUT':  # replace all
            after = dict(meta)
        else:  # POST: merge
            after.update(meta)
    return _ledger_of(after)


def names_ledger(method, key, body):
    """Could this metadata write touch the ledger (before any read)?"""
    if key is not None:
        return is_ledger_key(key)
    if method == 'PUT':
        return True  # a full replace drops keys it does not carry
    meta = body.get('metadata') if isinstance(body, dict) else None
    return isinstance(meta, dict) and any(is_ledger_key(k) for k in meta)


class RateLimiter:
    """Sliding-window request counter per key, bounded, thread-safe."""

    def __init__(self, max_keys=10000, clock=time.monotonic):
        self.max_keys = max_keys
        self._clock = clock
        self._hits = collections.OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key, limit, window):
        """Count one request; return 0, or seconds to wait if over limit.
        """
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = collections.deque()
            else:
                self._hits.move_to_end(key)
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, int(math.ceil(hits[0] + window - now)))
            hits.append(now)
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return 0


class Verdict:
    """Outcome of one pre-check: pass on, or answer with a fault."""

    PASS = 'pass'

    def __init__(self, outcome, message=None, status=None, reasons=(),
                 retry_after=None):
        self.outcome = outcome
        self.message = message
        self.status = status
        self.reasons = list(reasons)
        self.retry_after = retry_after

    @property
    def refused(self):
        return self.status is not None


def _fault(status, message, retry_after=None):
    from nova.api.openstack import wsgi as nova_wsgi
    if status == 409:
        exc = webob.exc.HTTPConflict(explanation=message)
    elif status == 403:
        exc = webob.exc.HTTPForbidden(explanation=message)
    else:
        exc = webob.exc.HTTPTooManyRequests(
            explanation=message,
            headers={'Retry-After': str(retry_after or 1)})
    return nova_wsgi.Fault(exc)


def _best(decisions):
    """(best allowed Decision, number allowed), or (None, 0).

    The engine's Decisions answer from their arrays, building only the
    best Decision (thousands of candidates when no host is given); a plain
    list is scanned.
    """
    if isinstance(decisions, decision.Decisions):
        return decisions.best()
    allowed = [d for d in decisions if d.allowed]
    if not allowed:
        return None, 0
    return max(allowed, key=lambda d: d.score), len(allowed)


def group_reasons(decisions):
    """'reason (hosts a, b); other reason (host c)' for denied hosts."""
    groups = collections.OrderedDict()
    for d in decisions:
        groups.setdefault('; '.join(d.reasons) or 'denied', []).append(
            d.host)
    parts = []
    for reason, hosts in list(groups.items())[:MAX_REASON_GROUPS]:
        parts.append('%s %s: %s' % ('host' if len(hosts) == 1 else 'hosts',
                                    ', '.join(hosts), reason))
    if len(groups) > MAX_REASON_GROUPS:
        parts.append('and %d more groups of hosts' % (
            len(groups) - MAX_REASON_GROUPS))
    return parts


class PreCheck:
    """The WSGI filter.

    One instance per pipeline, shared by all threads; it keeps no
    per-request state on itself.
    """

    def __init__(self, application, local_conf=None):
        self.application = application
        self.local_conf = dict(local_conf or {})
        self.limiter = RateLimiter()
        self._warned_no_context = False

    # -- WSGI entry: cheap tests first --------------------------------------
    def __call__(self, environ, start_response):
        method = environ.get('REQUEST_METHOD')
        if method not in _WRITE_METHODS:
            return self.application(environ, start_response)
        path = environ.get('PATH_INFO') or ''
        if '/servers/' not in path:
            return self.application(environ, start_response)
        if method == 'POST' and path.rstrip('/').endswith('/action'):
            match = _ACTION_RE.match(path)
            handler = self._migration
        elif '/metadata' in path:
            match = _META_RE.match(path)
            handler = self._metadata
        else:
            match = None
        if match is None:
            return self.application(environ, start_response)
        try:
            verdict = handler(environ, method, *match.groups())
        except Exception as e:  # noqa: never a 500 because of us
            LOG.exception('QSLM pre-check failed on %s %s', method, path)
            verdict = self._internal_error(handler, e)
        if verdict is None or not verdict.refused:
            return self.application(environ, start_response)
        return _fault(verdict.status, verdict.message,
                      verdict.retry_after)(environ, start_response)

    def _internal_error(self, handler, exc):
        if handler == self._migration:
            return Verdict('error', status=409, message=(
                'The QSLM pre-check could not check this live migration '
                '(%s); it is refused because the instance policy could not '
                'be read.' % exc))
        return Verdict('error', status=403, message=(
            'The QSLM pre-check could not verify that this request leaves '
            'the downtime ledger metadata unchanged (%s).' % exc))

    def _context(self, environ):
        ctxt = environ.get('nova.context')
        if ctxt is None and not self._warned_no_context:
            self._warned_no_context = True
            LOG.error('QSLM pre-check: no nova.context in the request; '
                      'place qslm_precheck after keystonecontext in '
                      'api-paste.ini. Requests pass unchecked.')
        return ctxt

    @staticmethod
    def _json_body(environ, marker=None):
        raw = read_body(environ)
        if marker is not None and marker not in raw:
            return None
        try:
            return jsonutils.loads(raw)
        except (ValueError, TypeError):
            return None  # Nova answers 400 itself

    # -- metadata: ledger keys ---------------------------------------------
    def _metadata(self, environ, method, server_id, key):
        ctxt = self._context(environ)
        if ctxt is None or ctxt.is_admin:
            return None
        writers = set(CONF.qslm.ledger_writer_roles)
        if writers and writers.intersection(ctxt.roles or ()):
            return None
        body = None
        if method != 'DELETE':
            body = self._json_body(environ)
            if not isinstance(body, dict):
                return None
        if not names_ledger(method, key, body):
            return None
        try:
            current = lookup.load_metadata(ctxt, server_id)
        except lookup.NotFound:
            return None
        after = ledger_after(method, key, body, current)
        if after is None or after == _ledger_of(current):
            return None
        LOG.info('QSLM pre-check: request %(req)s refused %(method)s on '
                 'the downtime ledger of instance %(uuid)s by user '
                 '%(user)s project %(project)s (not admin)',
                 {'req': _request_id(environ, ctxt), 'method': method,
                  'uuid': server_id, 'user': ctxt.user_id,
                  'project': ctxt.project_id})
        return Verdict('denied', status=403, message=(
            'Only administrators may change the downtime ledger metadata '
            'keys %s of a server.' % ', '.join(policy_mod.LEDGER_KEYS)))

    # -- live migration ----------------------------------------------------
    def _migration(self, environ, method, server_id):
        body = self._json_body(environ, marker=_ACTION_BYTES)
        if not isinstance(body, dict):
            return None
        args = body.get(ACTION)
        if not isinstance(args, dict):
            return None
        host = args.get('host')
        if host is not None and not isinstance(host, str):
            return None
        ctxt = self._context(environ)
        if ctxt is None or not uuidutils.is_uuid_like(server_id):
            return None
        started = time.monotonic()
        verdict, info = self._check_migration(ctxt, server_id, host, args)
        if verdict.outcome != Verdict.PASS:
            self._audit(environ, ctxt, server_id, host, args, verdict,
                        info, time.monotonic() - started)
        return verdict

    def _check_migration(self, ctxt, uuid, host, args):
        info = {'candidates': 0}
        try:
            server = lookup.load_server(ctxt, uuid)
        except lookup.NotFound:
            return Verdict(Verdict.PASS), info
        except Exception as e:  # noqa: database down, cell down...
            LOG.exception('QSLM pre-check cannot read instance %s', uuid)
            return self._failure(
                None, uuid, host,
                'the instance could not be read (%s)' % e), info
        instance = server.instance
        if not lookup.may_migrate(ctxt, instance, host):
            return Verdict(Verdict.PASS), info  # Nova answers 403
        if (not instance.host or instance.task_state is not None or
                instance.vm_state not in ('active', 'paused')):
            return Verdict(Verdict.PASS), info  # Nova answers 409
        source = instance.host
        if host:
            if host not in server.computes or host == source:
                return Verdict(Verdict.PASS), info  # Nova answers 400
            candidates = [host]
        else:
            candidates = sorted(h for h, (enabled, up) in
                                server.computes.items()
                                if enabled and up and h != source)
            if not candidates:
                return Verdict(Verdict.PASS), info  # NoValidHost
        info['candidates'] = len(candidates)
        info['source'] = source
        limit = CONF.qslm.precheck_rate_limit
        if limit:
            window = CONF.qslm.precheck_rate_window
            wait = self.limiter.hit(uuid, limit, window)
            if wait:
                message = ('Too many live-migration requests for server %s: '
                           'at most %d in %d s ([qslm] precheck_rate_limit); '
                           'retry in %d s.' % (uuid, limit, window, wait))
                reasons = ['more than %d live-migration requests in %d s'
                           % (limit, window)]
                return Verdict('rate-limited', status=429, message=message,
                               reasons=reasons, retry_after=wait), info
        request = None
        try:
            request = lookup.migration_request(
                instance, _block_migration(args.get('block_migration')))
            host_info = lookup.load_host_info(ctxt, candidates)
            engine = ENGINES.get(CONF)
            decisions = engine.decide(request, candidates, host_info)
        except Exception as e:  # noqa: trust provider, topology, bug
            LOG.exception('QSLM pre-check: decision failed for instance %s',
                          uuid)
            return self._failure(
                request, uuid, host,
                'the decision could not be computed (%s)' % e), info
        best, count = _best(decisions)
        if best is not None:
            reasons = ['%s %s' % (best.host, best.summary)]
            reasons.extend(best.notes)
            if not host:
                reasons.insert(0, '%d of %d candidate hosts qualify' % (
                    count, len(candidates)))
            return Verdict('allowed', reasons=reasons), info
        if host:
            reasons = list(decisions[0].reasons) or ['denied']
            message = ('QSLM refused the live migration of server %s to '
                       'host %s: %s.' % (uuid, host, '; '.join(reasons)))
        else:
            reasons = group_reasons(decisions)
            message = ('QSLM refused the live migration of server %s: none '
                       'of the %d candidate hosts qualifies (%s).' % (
                           uuid, len(candidates), ' | '.join(reasons)))
        return Verdict('denied', status=409, message=message,
                       reasons=reasons), info

    def _failure(self, request, uuid, host, what):
        """No decision: refuse protected instances, others per option."""
        target = (' to host %s' % host) if host else ''
        if request is None or lookup.needs_protection(request):
            why = ('the instance policy requires trust or encryption'
                   if request is not None else 'its policy is unknown')
            message = ('QSLM refused the live migration of server %s%s: %s, '
                       'and %s.' % (uuid, target, what, why))
            return Verdict('error-denied', status=409, message=message,
                           reasons=[what])
        if CONF.qslm.fail_closed:
            message = ('QSLM refused the live migration of server %s%s: %s '
                       '([qslm] fail_closed is set).' % (uuid, target, what))
            return Verdict('error-denied', status=409, message=message,
                           reasons=[what])
        return Verdict('error-allowed', reasons=[
            what + '; allowed unchecked ([qslm] fail_closed is False)'])

    @staticmethod
    def _audit(environ, ctxt, uuid, host, args, verdict, info, seconds):
        LOG.info('QSLM pre-check: request %(req)s instance %(uuid)s user '
                 '%(user)s project %(project)s source %(source)s requested '
                 'host %(host)s force %(force)s candidates %(cands)d: '
                 '%(outcome)s in %(ms).1f ms: %(reasons)s',
                 {'req': _request_id(environ, ctxt), 'uuid': uuid,
                  'user': ctxt.user_id, 'project': ctxt.project_id,
                  'source': info.get('source'),
                  'host': host or '(any)', 'force': args.get('force'),
                  'cands': info.get('candidates', 0),
                  'outcome': verdict.outcome, 'ms': seconds * 1000.0,
                  'reasons': ' | '.join(verdict.reasons) or '-'})


def _request_id(environ, ctxt):
    """The id the caller sees in x-openstack-request-id."""
    return environ.get('openstack.request_id') or ctxt.request_id


def _block_migration(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ('true', 'false'):
        return value.lower() == 'true'
    return None  # 'auto' or absent: Nova decides by shared storage


def filter_factory(global_conf, **local_conf):
    """paste.filter_factory entry point ``qslm_precheck``."""
    def _filter(app):
        return PreCheck(app, local_conf)
    return _filter
