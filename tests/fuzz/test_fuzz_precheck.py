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

"""Fuzzing the nova-api pre-check with the requests an attacker writes.

Requests come from :mod:`tests.fuzz.precheck_requests`: JSON text
with any character of any string escaped, duplicate keys, odd
whitespace, several actions, hostile values, deep nesting, sizes up to
Nova's body limit, mangled encodings; paths and method overrides. The
oracle is Nova's own code: ``action_peek`` and ``JSONDeserializer`` read
each body as Nova will, Nova's JSON schemas say whether Nova would act,
and a model of MySQL's collation says which host and which metadata
keys the database would take. Properties:

* no request makes the filter raise, log an unexpected exception or
  answer anything but pass, 400, 403, 409, 413 or 415, and each call
  finishes in bounded time;
* no request that Nova would run as a live migration or evacuation to
  the untrusted host passes;
* no request by a caller without a ledger-writer role that Nova would
  run and that presets, changes or drops the ledger passes; requests
  that leave the ledger alone, and every request of a writer, pass;
* Nova's router and the pre-check's route the same generated requests
  to the same guarded methods.
"""

import json
import time
import types
import unicodedata
from unittest import mock

from hypothesis import strategies as st
import jsonschema
from nova.api.openstack.compute.schemas import server_metadata as meta_schema
from nova.api.openstack import wsgi as nova_wsgi
from nova.api.validation import parameter_types
from nova import test as nova_test
from oslo_config import fixture as config_fixture
import webob

from qslm_nova.api import lookup
from qslm_nova.api import migration
from qslm_nova.api import precheck
from qslm_nova.api import routing
from qslm_nova import decision
from tests.fuzz import base
from tests.fuzz import precheck_requests as reqs

UUID, PROJECT = reqs.UUID, reqs.PROJECT
TRUSTED, UNTRUSTED = reqs.TRUSTED, reqs.UNTRUSTED
USED, START = reqs.USED, reqs.START
CURRENT = {USED: '100', START: '2026-11-01', 'c': 'd'}
WRITER = 'ledger-writer'
REFUSALS = (400, 403, 409, 413, 415)
#: Longest one filter call may take on a loaded machine.
CALL_LIMIT_S = 2.0


def mysql_fold(text):
    """A key as MySQL's accent- and case-insensitive, space-padded
    collation compares it (the oracle's model, kept apart from the code
    under test).
    """
    text = unicodedata.normalize('NFKD', text)
    text = ''.join(c for c in text if not unicodedata.combining(c))
    return text.casefold().rstrip(' ')


def loose(text):
    """Looser still: no blanks at all (for "no ledger key near here")."""
    return ''.join(mysql_fold(text).split())


_LEDGER_FOLDS = {mysql_fold(USED), mysql_fold(START)}
_LEDGER_LOOSE = {loose(USED), loose(START)}


# -- Nova as the oracle --------------------------------------------------

def nova_reads(raw):
    """The body value Nova's Resource hands the controller, or None."""
    try:
        return nova_wsgi.JSONDeserializer().deserialize(raw)['body']
    except Exception:  # noqa: Nova answers 400 or 500 and runs nothing
        return None


def nova_action(raw):
    """(action, argument) as Nova dispatches it, or None."""
    try:
        name = nova_wsgi.action_peek(raw)
    except Exception:  # noqa: Nova answers 400/404/500, runs nothing
        return None
    return name, nova_reads(raw)[name]


_VALIDATORS = {}


def valid(schema, value):
    """Does Nova's JSON schema accept the value?"""
    checker = _VALIDATORS.get(id(schema))
    if checker is None:
        checker = _VALIDATORS[id(schema)] = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.FormatChecker())
    try:
        checker.validate(value)
        return True
    except jsonschema.ValidationError:
        return False
    except Exception:  # noqa: values jsonschema itself cannot handle
        return False


def ledger_view(metadata):
    """The ledger rows as MySQL would see them; None when ambiguous."""
    view = {}
    for key, value in metadata.items():
        fold = mysql_fold(key)
        if fold in _LEDGER_FOLDS:
            if view.get(fold, value) != value:
                return None
            view[fold] = value
    return view


# -- the filter around a stub application --------------------------------

class Context:
    user_id = 'u'
    project_id = 'p'
    request_id = 'req'

    def __init__(self, roles):
        self.roles = roles
        self.is_admin = 'admin' in roles

    def can(self, rule, target=None, fatal=True):
        return True


def _decisions(hosts, denied_host):
    made = []
    for host in hosts:
        d = decision.Decision(host, allowed=host != denied_host,
                              mechanism='none', expected_downtime_ms=1.0,
                              worst_downtime_ms=2.0, score=0.5)
        if not d.allowed:
            d.reasons = ('host %s is not trusted' % host,)
        made.append(d)
    return decision.Decisions.of(made)


class PreCheckFuzzCase(base.FuzzTestCase):

    def setUp(self):
        super().setUp()
        self.passed = []
        self.filter = precheck.PreCheck(self._app)
        instance = types.SimpleNamespace(
            uuid=UUID, host='src', vm_state='active', task_state=None,
            project_id='p', user_id='u', metadata=dict(CURRENT),
            system_metadata={}, flavor=types.SimpleNamespace(
                memory_mb=1024, root_gb=1, ephemeral_gb=0, extra_specs={}))
        server = lookup.Server(instance, {'src': (True, True),
                                          TRUSTED: (True, True),
                                          UNTRUSTED: (True, True)})
        self._patch(lookup, 'load_server', return_value=server)
        self._patch(lookup, 'load_metadata',
                    side_effect=lambda c, u: dict(CURRENT))
        self._patch(lookup, 'load_host_info', return_value={})
        # The database's look-up of a requested host (MySQL collation).
        self._patch(lookup, 'resolve_host',
                    side_effect=lambda c, u, host, evacuation=False: [
                        h for h in (TRUSTED, UNTRUSTED)
                        if mysql_fold(h) == mysql_fold(host)])
        engine = mock.Mock()
        engine.decide.side_effect = lambda req, hosts, info: _decisions(
            hosts, UNTRUSTED)
        self._patch(precheck.ENGINES, 'get', return_value=engine)
        self._patch(migration.moves, 'decide_move',
                    side_effect=lambda e, req, kind, hosts, info:
                    _decisions(hosts, UNTRUSTED))
        self.unexpected = self._patch(precheck.LOG, 'exception')
        self.unexpected_moves = self._patch(migration.LOG, 'exception')
        self.config = self.useFixture(config_fixture.Config(precheck.CONF))
        self.config.config(ledger_writer_roles=['admin', WRITER],
                           group='qslm')

    def _patch(self, obj, name, **kwargs):
        patcher = mock.patch.object(obj, name, **kwargs)
        self.addCleanup(patcher.stop)
        return patcher.start()

    def _app(self, environ, start_response):
        self.passed.append(webob.Request(environ).body)
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'ok']

    def call(self, method, path, raw, roles, query='', ctype=None):
        """(status, passed) of one request through the filter."""
        self.passed = []
        req = webob.Request.blank('/', method=method)
        req.environ.update(SCRIPT_NAME='/v2.1', PATH_INFO=path)
        req.query_string = query
        req.body = raw
        if ctype is not None:
            req.content_type = ctype
        req.environ['nova.context'] = Context(roles)
        started = time.monotonic()
        resp = req.get_response(self.filter)
        self.assertLess(time.monotonic() - started, CALL_LIMIT_S)
        self.unexpected.assert_not_called()
        self.unexpected_moves.assert_not_called()
        if self.passed:
            self.assertEqual(200, resp.status_int)
            self.assertEqual([raw], self.passed)  # the same bytes
            return 200, True
        self.assertIn(resp.status_int, REFUSALS, resp.body)
        fault = json.loads(resp.body)
        self.assertTrue(list(fault.values())[0]['message'])
        return resp.status_int, False


class TestFuzzActions(PreCheckFuzzCase):

    @base.given(1500, raw=reqs.raw_bodies(reqs.action_bodies()),
                roles=st.sampled_from((['admin'], ['member'])),
                prefix=st.sampled_from(('', '/' + PROJECT)),
                budget_s=180)
    def test_no_refused_move_gets_through(self, raw, roles, prefix):
        status, passed = self.call('POST', '%s/servers/%s/action' % (
            prefix, UUID), raw, roles, ctype='application/json')
        action = nova_action(raw)
        if action is None:
            return  # Nova runs nothing
        name, args = action
        if name in ('os-migrateLive', 'evacuate') and isinstance(
                args, dict) and isinstance(args.get('host'), str) and (
                mysql_fold(args['host']) == mysql_fold(UNTRUSTED)):
            self.assertFalse(passed, 'a %s to the untrusted host passed: '
                             '%r' % (name, raw[:200]))
        if name not in ('os-migrateLive', 'evacuate', 'rebuild'):
            self.assertTrue(passed, 'a harmless %s action was refused '
                            '(%d)' % (name, status))


META_SCHEMAS = {'merge': meta_schema.create, 'replace': meta_schema.update_all,
                'item': meta_schema.update}


def nova_ledger_effect(route, value, key):
    """Would Nova run this write, and would the ledger change?

    (runs, changes, near): ``near`` when a key close to a ledger key is
    involved (then a refusal is not a false alarm).
    """
    metadata = None
    if route == 'delete':
        runs = key in CURRENT
        after = {k: v for k, v in CURRENT.items() if k != key}
        return runs, runs and ledger_view(after) != ledger_view(CURRENT), \
            loose(key) in _LEDGER_LOOSE
    if not isinstance(value, dict):
        return False, False, False
    if route in META_SCHEMAS:
        runs = valid(META_SCHEMAS[route], value)
        metadata = value.get('meta' if route == 'item' else 'metadata')
        if route == 'item' and runs and key not in metadata:
            runs = False  # "Request body and URI mismatch"
    else:
        outer = value.get('server' if route == 'create' else 'rebuild')
        if not isinstance(outer, dict):
            return False, False, False
        if 'metadata' not in outer:
            return True, False, False
        metadata = outer['metadata']
        runs = valid(parameter_types.metadata, metadata)
    if not isinstance(metadata, dict):
        return False, False, False
    near = any(loose(k) in _LEDGER_LOOSE for k in metadata)
    if route in ('merge', 'item'):
        after = dict(CURRENT, **metadata)
    elif route == 'create':
        after = dict(metadata)
        return runs, bool(ledger_view(after) != {}), near
    else:
        after = dict(metadata)
    return runs, ledger_view(after) != ledger_view(CURRENT), near


class TestFuzzLedger(PreCheckFuzzCase):

    @base.given(1200, request=reqs.metadata_requests(),
                writer=st.sampled_from((False, False, True)),
                data=st.data(), budget_s=120)
    def test_no_ledger_change_without_the_role(self, request, writer,
                                               data):
        route, method, path, doc, key = request
        rnd = data.draw(reqs.RANDOMS)
        raw = b'' if doc is None else reqs.emit(rnd, doc).encode(
            'utf-8', 'surrogatepass')
        roles = ['member', WRITER] if writer else ['member']
        status, passed = self.call(method, path, raw, roles,
                                   ctype='application/json')
        value = None if doc is None else nova_reads(raw)
        runs, changes, near = nova_ledger_effect(route, value, key)
        if not runs:
            return
        if writer:
            self.assertTrue(passed, 'a ledger writer was refused (%d): %r'
                            % (status, raw[:200]))
        elif changes:
            self.assertFalse(passed, 'a %s changing the ledger passed: %r'
                             % (route, raw[:200]))
        elif not near:
            self.assertTrue(passed, 'a %s leaving the ledger alone was '
                            'refused (%d): %r' % (route, status, raw[:200]))


class TestFuzzRoutes(base.FuzzTestCase, nova_test.NoDBTestCase):

    @base.given(800, method=st.sampled_from(
        ('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH')), path=reqs.paths(),
        query=reqs.queries(), budget_s=60)
    def test_router_agrees_with_nova(self, method, path, query):
        from nova.api.openstack.compute import routes as nova_routes
        from routes import middleware as routes_middleware
        if not hasattr(self, 'nova_mw'):
            seen = self.seen = {}

            def capture(env, start_response):
                seen.update(env['wsgiorg.routing_args'][1])
                return []
            self.nova_mw = routes_middleware.RoutesMiddleware(
                capture, nova_routes.APIRouterV21().map)
            self.ours = routing.Router()
        env = webob.Request.blank(path, method=method).environ
        env.update(PATH_INFO=path, QUERY_STRING=query)
        self.seen.clear()
        self.nova_mw(dict(env), lambda *a: None)
        expected = None
        if 'controller' in self.seen:
            controller = type(self.seen['controller'].controller).__name__
            expected = {
                ('ServersController', 'create'): 'SERVER_CREATE',
                ('VolumesBootController', 'create'): 'SERVER_CREATE',
                ('ServersController', 'action'): 'SERVER_ACTION',
                ('VolumesBootController', 'action'): 'SERVER_ACTION',
                ('ServerMetadataController', 'create'): 'METADATA_MERGE',
                ('ServerMetadataController', 'update_all'):
                    'METADATA_REPLACE',
                ('ServerMetadataController', 'update'): 'METADATA_ITEM',
                ('ServerMetadataController', 'delete'): 'METADATA_DELETE',
            }.get((controller, self.seen.get('action')))
        route = self.ours.match(dict(env))
        self.assertEqual(expected, route and route.target.name,
                         (method, path, query))
