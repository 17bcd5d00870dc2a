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

"""Pre-check in nova-api (paste filter ``qslm_precheck``).

Placed right after ``keystonecontext`` in the v2.1 pipelines of
api-paste.ini, it judges every request exactly as Nova will route and
read it (:mod:`~qslm_nova.api.routing`, :mod:`~qslm_nova.api.body`):

* every ``os-migrateLive`` server action gets the QSLM decision before
  Nova acts on it, forced or not, with or without a host, at every
  microversion; a denial is answered at once with 409 in Nova's fault
  format, naming the reasons; an allowed request goes on unchanged;
* every ``evacuate`` naming a host gets the trust judgement of
  :mod:`qslm_nova.moves` (forced evacuations bypass the scheduler);
* every write of instance metadata (metadata APIs, server create,
  rebuild with ``metadata``) that would preset, change or drop the
  downtime ledger keys is refused (403) unless the caller has a role in
  ``[qslm] ledger_writer_roles`` (:mod:`~qslm_nova.api.ledger`);
* optionally limits live-migration requests per instance (429);
* logs every decision at INFO (request id, instance, user, project,
  requested host, outcome, reasons).

A request reaching a guarded method with a body Nova could read but the
pre-check could not judge (not JSON, not one action, the wrong shape) is
refused, never passed on unjudged. Every other request is handed on
untouched, after a method test (and, for write methods, a path test)
without reading its body. Requests Nova itself will refuse (policy,
unknown server or host, wrong state) are handed on, so Nova's own answer
reaches the caller. No exception of ours reaches Nova's fault wrapper: a
decision that cannot be computed follows ``[qslm] fail_closed``, and is
always a refusal for instances whose policy requires trust or
encryption; any other failure of the pre-check refuses the request.
"""

import collections
import math
import threading
import time

from oslo_log import log as logging

from qslm_nova.api import body as body_mod
from qslm_nova.api import ledger
from qslm_nova.api import lookup
from qslm_nova.api import migration
from qslm_nova.api import routing
from qslm_nova.api.verdict import fault
from qslm_nova.api.verdict import Verdict
from qslm_nova import conf as qslm_conf
from qslm_nova import policy as policy_mod

LOG = logging.getLogger(__name__)
CONF = qslm_conf.CONF

LIVE_MIGRATION = 'os-migrateLive'
EVACUATE = 'evacuate'
REBUILD = 'rebuild'
Target = routing.Target
#: The Engine of this API process (tests reset it).
ENGINES = migration.ENGINES

#: One route table per process, shared by every pipeline's filter.
ROUTER = routing.Router()


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


def _ledger_refusal(environ, ctxt, route, what):
    LOG.info('QSLM pre-check: request %(req)s refused %(target)s on the '
             'downtime ledger of instance %(uuid)s by user %(user)s project '
             '%(project)s (roles %(roles)s): %(what)s',
             {'req': migration.request_id(environ, ctxt),
              'target': route.target.value, 'uuid': route.server_id or '-',
              'user': ctxt.user_id, 'project': ctxt.project_id,
              'roles': ','.join(ctxt.roles or ()) or '-',
              'what': body_mod.loggable(what)})
    return Verdict.refuse(403, (
        'Only roles in [qslm] ledger_writer_roles (%s) may change the '
        'downtime ledger metadata keys %s of a server; this request would '
        '%s.' % (', '.join(CONF.qslm.ledger_writer_roles) or 'none',
                 ', '.join(policy_mod.LEDGER_KEYS), what)), 'denied')


class PreCheck:
    """The WSGI filter.

    One instance per pipeline, shared by all threads; it keeps no
    per-request state on itself.
    """

    def __init__(self, application, local_conf=None, router=None):
        self.application = application
        self.local_conf = dict(local_conf or {})
        self.router = router or ROUTER
        # Build Nova's route table now: a Nova release it cannot read
        # fails nova-api at start, not a request.
        self.router.warm()
        self.limiter = RateLimiter()
        self.moves = migration.MoveCheck(self.limiter)
        self._warned_no_context = False

    # -- WSGI entry: cheap tests first --------------------------------------
    def __call__(self, environ, start_response):
        if not routing.might_write(environ):
            return self.application(environ, start_response)
        try:
            route = self.router.match(environ)
            verdict = None if route is None else self._judge(environ, route)
        except body_mod.BodyError as e:
            verdict = Verdict.refuse(e.status, e.message, 'unreadable')
        except Exception as e:  # noqa: never a 500 because of us
            LOG.exception('QSLM pre-check failed on %s %s',
                          body_mod.loggable(environ.get('REQUEST_METHOD')),
                          body_mod.loggable(environ.get('PATH_INFO')))
            verdict = Verdict.refuse(409, (
                'The QSLM pre-check could not check this request (%s); it '
                'is refused.' % e), 'error')
        if verdict is None or not verdict.refused:
            return self.application(environ, start_response)
        return fault(verdict)(environ, start_response)

    def _judge(self, environ, route):
        ctxt = environ.get('nova.context')
        if ctxt is None:
            if not self._warned_no_context:
                self._warned_no_context = True
                LOG.error('QSLM pre-check: no nova.context in the request; '
                          'place qslm_precheck after keystonecontext in '
                          'api-paste.ini. Guarded requests are refused.')
            return Verdict.refuse(403, (
                'The QSLM pre-check has no request context (it must follow '
                'keystonecontext in api-paste.ini); %s is refused.'
                % route.target.value), 'error')
        body_mod.check_content_type(environ)
        if route.target.is_metadata:
            return self._metadata(environ, ctxt, route)
        if route.target is Target.SERVER_CREATE:
            return self._create(environ, ctxt, route)
        return self._action(environ, ctxt, route)

    @staticmethod
    def _body(environ):
        return body_mod.decode(body_mod.read(environ))

    @staticmethod
    def _writer(ctxt):
        return ledger.may_write(ctxt.roles, CONF.qslm.ledger_writer_roles)

    # -- server actions ----------------------------------------------------
    def _action(self, environ, ctxt, route):
        name, args = body_mod.action_of(self._body(environ))
        if name == LIVE_MIGRATION:
            return self.moves.live(environ, ctxt, route.server_id, args)
        if name == EVACUATE:
            return self.moves.evacuation(environ, ctxt, route.server_id,
                                         args)
        if name == REBUILD and not self._writer(ctxt):
            return self._rebuild(environ, ctxt, route, args)
        return None

    def _rebuild(self, environ, ctxt, route, args):
        if not isinstance(args, dict):
            raise body_mod.BodyError(400, 'rebuild must be a JSON object, '
                                     'not %s.' % type(args).__name__)
        if 'metadata' not in args:
            return None  # the metadata stays as it is
        new = args['metadata']
        if not isinstance(new, dict):
            raise body_mod.BodyError(400, 'rebuild metadata must be a JSON '
                                     'object, not %s.' % type(new).__name__)
        return self._replacing(environ, ctxt, route, new,
                               'replace them by rebuilding the server')

    # -- instance metadata -------------------------------------------------
    def _create(self, environ, ctxt, route):
        if self._writer(ctxt):
            return None
        server = body_mod.member(self._body(environ), 'server', 'The body')
        metadata = server.get('metadata')
        if metadata is None:
            return None
        if not isinstance(metadata, dict):
            raise body_mod.BodyError(400, 'server metadata must be a JSON '
                                     'object, not %s.'
                                     % type(metadata).__name__)
        keys = ledger.presets(metadata)
        if not keys:
            return None
        return _ledger_refusal(environ, ctxt, route,
                               'preset %s on a new server' % ', '.join(keys))

    def _metadata(self, environ, ctxt, route):
        if self._writer(ctxt):
            return None
        target = route.target
        if target is Target.METADATA_DELETE:
            if not ledger.is_ledger_key(route.key):
                return None
            return _ledger_refusal(environ, ctxt, route,
                                   'delete %s' % route.key)
        value = self._body(environ)
        if target is Target.METADATA_REPLACE:
            new = body_mod.member(value, 'metadata', 'The body')
            return self._replacing(environ, ctxt, route, new,
                                   'replace them')
        new = body_mod.member(value, 'meta' if target is Target.METADATA_ITEM
                              else 'metadata', 'The body')
        if not ledger.presets(new):
            return None  # a merge without ledger keys leaves them alone
        try:
            current = lookup.load_metadata(ctxt, route.server_id)
        except lookup.NotFound:
            return None  # Nova answers 404
        if not ledger.changes(current, ledger.after_merge(current, new)):
            return None
        return _ledger_refusal(environ, ctxt, route, 'set %s' % ', '.join(
            ledger.presets(new)))

    def _replacing(self, environ, ctxt, route, new, what):
        """Refuse replacing all metadata unless the ledger stays as it is.
        """
        try:
            current = lookup.load_metadata(ctxt, route.server_id)
        except lookup.NotFound:
            return None  # Nova answers 404
        if not ledger.changes(current, new):
            return None
        return _ledger_refusal(environ, ctxt, route, what)


def filter_factory(global_conf, **local_conf):
    """paste.filter_factory entry point ``qslm_precheck``."""
    def _filter(app):
        return PreCheck(app, local_conf)
    return _filter
