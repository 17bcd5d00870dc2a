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

"""The pre-check's judgement of moves: live migrations and evacuations.

* ``os-migrateLive``: every request, forced or not, with or without a
  host, at every microversion, gets the full QSLM decision.
* ``evacuate`` with a host: with ``force`` (2.29-2.67) or before 2.29 the
  evacuation bypasses the scheduler and its filters; it is judged here
  whatever the microversion (host trust, see :mod:`qslm_nova.moves`),
  unless ``[qslm] check_non_live_moves`` is off. Without a host the
  scheduler picks, and the filter judges.

Requests Nova refuses itself (policy, unknown server or host, wrong
state) pass on so that Nova's own answer reaches the caller.
"""

import collections
import datetime
import time

from oslo_log import log as logging
from oslo_utils import uuidutils

from qslm_nova.api import body as body_mod
from qslm_nova.api import lookup
from qslm_nova.api.verdict import Verdict
from qslm_nova import conf as qslm_conf
from qslm_nova import decision
from qslm_nova.history import notifications as history
from qslm_nova import moves

LOG = logging.getLogger(__name__)
CONF = qslm_conf.CONF
#: At most this many groups of hosts are named in a refusal.
MAX_REASON_GROUPS = 8
LIVE = 'live migration'
EVACUATION = 'evacuation'
#: The Engine of this API process.
ENGINES = decision.EngineCache()


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


def block_migration(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ('true', 'false'):
        return value.lower() == 'true'
    return None  # 'auto' or absent: Nova decides by shared storage


def _host_of(args, action):
    """The requested host of an action's argument (None: any)."""
    if not isinstance(args, dict):
        raise body_mod.BodyError(400, '%s must be a JSON object, not %s.' % (
            action, type(args).__name__))
    host = args.get('host')
    if host is not None and not isinstance(host, str):
        raise body_mod.BodyError(400, '%s host must be a string or null, '
                                 'not %s.' % (action, type(host).__name__))
    return host or None


def failure(request, uuid, host, what, move=LIVE):
    """No decision: refuse protected instances, others per option."""
    target = (' to host %s' % host) if host else ''
    if request is None or lookup.needs_protection(request):
        why = ('the instance policy requires trust or encryption'
               if request is not None else 'its policy is unknown')
        message = ('QSLM refused the %s of server %s%s: %s, and %s.'
                   % (move, uuid, target, what, why))
        return Verdict('error-denied', status=409, message=message,
                       reasons=[what])
    if CONF.qslm.fail_closed:
        message = ('QSLM refused the %s of server %s%s: %s ([qslm] '
                   'fail_closed is set).' % (move, uuid, target, what))
        return Verdict('error-denied', status=409, message=message,
                       reasons=[what])
    return Verdict('error-allowed', reasons=[
        what + '; allowed unchecked ([qslm] fail_closed is False)'])


class MoveCheck:
    """Judges live migrations and evacuations; no per-request state."""

    def __init__(self, limiter):
        self.limiter = limiter

    def _judged(self, environ, ctxt, move, uuid, host, args, check):
        """Read the instance, run ``check``, audit what it decided."""
        if not uuidutils.is_uuid_like(uuid):
            return None  # Nova answers 404
        started = time.monotonic()
        info = {'candidates': 0}
        try:
            server = lookup.load_server(ctxt, uuid)
        except lookup.NotFound:
            return None
        except Exception as e:  # noqa: database down, cell down...
            LOG.exception('QSLM pre-check cannot read instance %s', uuid)
            verdict = failure(None, uuid, host, 'the instance could not be '
                              'read (%s)' % e, move)
        else:
            verdict = check(ctxt, server, host, args, info)
        if verdict.outcome != Verdict.PASS:
            _audit(environ, ctxt, move, uuid, host, args.get('force'),
                   verdict, info, time.monotonic() - started)
        return verdict

    # -- live migration ----------------------------------------------------
    def live(self, environ, ctxt, uuid, args):
        host = _host_of(args, 'os-migrateLive')
        return self._judged(environ, ctxt, LIVE, uuid, host, args,
                            self._check_live)

    def _check_live(self, ctxt, server, host, args, info):
        instance = server.instance
        uuid = instance.uuid
        if not lookup.may_migrate(ctxt, instance, host):
            return Verdict(Verdict.PASS)  # Nova answers 403
        if (not instance.host or instance.task_state is not None or
                instance.vm_state not in ('active', 'paused')):
            return Verdict(Verdict.PASS)  # Nova answers 409
        source = instance.host
        if host:
            if host == source:
                return Verdict(Verdict.PASS)  # Nova refuses
            # The hosts Nova's own look-up finds (any spelling its
            # database accepts); none: Nova answers 400.
            candidates = lookup.resolve_host(ctxt, uuid, host)
        else:
            candidates = sorted(h for h, (enabled, up) in
                                server.computes.items()
                                if enabled and up and h != source)
        if not candidates:
            return Verdict(Verdict.PASS)
        info.update(candidates=len(candidates), source=source)
        limited = self._rate_limited(uuid)
        if limited is not None:
            return limited
        request = None
        try:
            request = lookup.migration_request(
                instance, block_migration(args.get('block_migration')))
            host_info = lookup.load_host_info(ctxt, candidates + [source])
            engine = ENGINES.get(CONF)
            decisions = engine.decide(request, candidates, host_info)
        except Exception as e:  # noqa: trust provider, topology, bug
            LOG.exception('QSLM pre-check: decision failed for instance %s',
                          uuid)
            return failure(request, uuid, host,
                           'the decision could not be computed (%s)' % e)
        verdict = self._verdict(uuid, host, candidates, decisions)
        if host and verdict.outcome == 'allowed':
            history.emit_forced(decisions, request, host, request.now or
                                datetime.datetime.now(datetime.timezone.utc))
        return verdict

    def _rate_limited(self, uuid):
        limit = CONF.qslm.precheck_rate_limit
        if not limit:
            return None
        window = CONF.qslm.precheck_rate_window
        wait = self.limiter.hit(uuid, limit, window)
        if not wait:
            return None
        message = ('Too many live-migration requests for server %s: at most '
                   '%d in %d s ([qslm] precheck_rate_limit); retry in %d s.'
                   % (uuid, limit, window, wait))
        reasons = ['more than %d live-migration requests in %d s'
                   % (limit, window)]
        return Verdict('rate-limited', status=429, message=message,
                       reasons=reasons, retry_after=wait)

    @staticmethod
    def _verdict(uuid, host, candidates, decisions, move=None):
        move = move or LIVE
        best, count = decisions.best()
        if best is not None and (not host or count == len(candidates)):
            reasons = ['%s %s' % (best.host, best.summary)]
            reasons.extend(best.notes)
            if not host:
                reasons.insert(0, '%d of %d candidate hosts qualify' % (
                    count, len(candidates)))
            return Verdict('allowed', reasons=reasons)
        if host:
            denied = [d for d in decisions if not d.allowed]
            if len(candidates) == 1:
                reasons = list(denied[0].reasons) or ['denied']
            else:  # the database knows the name in several spellings
                reasons = group_reasons(denied)
            message = ('QSLM refused the %s of server %s to host %s: %s.'
                       % (move, uuid, host, '; '.join(reasons)))
        else:
            reasons = group_reasons(decisions)
            message = ('QSLM refused the %s of server %s: none of the %d '
                       'candidate hosts qualifies (%s).' % (
                           move, uuid, len(candidates), ' | '.join(reasons)))
        return Verdict('denied', status=409, message=message,
                       reasons=reasons)

    # -- evacuation --------------------------------------------------------
    def evacuation(self, environ, ctxt, uuid, args):
        host = _host_of(args, 'evacuate')
        if host is None or not CONF.qslm.check_non_live_moves:
            return None  # the scheduler picks; the filter judges
        return self._judged(environ, ctxt, EVACUATION, uuid, host, args,
                            self._check_evacuation)

    def _check_evacuation(self, ctxt, server, host, args, info):
        instance = server.instance
        uuid = instance.uuid
        if not lookup.may_evacuate(ctxt, instance):
            return Verdict(Verdict.PASS)  # Nova answers 403
        candidates = lookup.resolve_host(ctxt, uuid, host, evacuation=True)
        if not candidates:
            return Verdict(Verdict.PASS)  # Nova answers 404
        info.update(candidates=len(candidates), source=instance.host)
        request = None
        try:
            request = lookup.migration_request(instance)
            # The source of an evacuation is down and never judged.
            host_info = lookup.load_host_info(ctxt, candidates)
            decisions = moves.decide_move(
                ENGINES.get(CONF), request,
                moves.MoveKind.EVACUATION, candidates, host_info)
        except Exception as e:  # noqa: trust provider, topology, bug
            LOG.exception('QSLM pre-check: decision failed for instance %s',
                          uuid)
            return failure(request, uuid, host, 'the decision could not be '
                           'computed (%s)' % e, EVACUATION)
        return self._verdict(uuid, host, candidates, decisions, EVACUATION)


def _audit(environ, ctxt, move, uuid, host, force, verdict, info, seconds):
    LOG.info('QSLM pre-check: request %(req)s %(move)s of instance %(uuid)s '
             'user %(user)s project %(project)s source %(source)s '
             'requested host %(host)s force %(force)s candidates '
             '%(cands)d: %(outcome)s in %(ms).1f ms: %(reasons)s',
             {'req': request_id(environ, ctxt), 'move': move, 'uuid': uuid,
              'user': ctxt.user_id, 'project': ctxt.project_id,
              'source': info.get('source'),
              'host': body_mod.loggable(host) if host else '(any)',
              'force': body_mod.loggable(force),
              'cands': info.get('candidates', 0),
              'outcome': verdict.outcome, 'ms': seconds * 1000.0,
              'reasons': ' | '.join(verdict.reasons) or '-'})


def request_id(environ, ctxt):
    """The id the caller sees in x-openstack-request-id."""
    return environ.get('openstack.request_id') or ctxt.request_id
