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

"""The API pre-check as a WSGI filter around a stub application.

Nova objects are replaced by the functions of ``qslm_nova.api.lookup``
being mocked; Nova's route table is the real one. The functional tests
(test_precheck, test_security_*) run it in Nova's real pipeline.
"""

import io
import json
import types
from unittest import mock

import fixtures
from nova import exception as nova_exception
from oslo_config import fixture as config_fixture
from oslotest import base
import webob

from qslm_nova.api import lookup
from qslm_nova.api import migration
from qslm_nova.api import precheck
from qslm_nova import conf as qslm_conf
from qslm_nova import decision

UUID = '6f1c2b8e-8f8a-4f59-9a55-0f4d3cf0e0a1'
PROJECT = '0123456789abcdef0123456789abcdef'
USED = 'qslm:downtime_used_ms'
START = 'qslm:budget_period_start'


class StubApp:
    """Records what reaches it and answers 200 with the body it got."""

    def __init__(self):
        self.calls = []

    def __call__(self, environ, start_response):
        length = int(environ.get('CONTENT_LENGTH') or 0)
        body = environ['wsgi.input'].read(length) if length else b''
        self.calls.append((environ, body))
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'app:' + body]


class UnreadableInput(io.RawIOBase):
    """A wsgi.input that fails the test if anyone reads it."""

    def read(self, *args):
        raise AssertionError('body read')

    readline = readinto = read


class FakeContext:

    def __init__(self, is_admin=True, roles=('admin',), allowed=True):
        self.is_admin = is_admin
        self.roles = list(roles)
        self.user_id = 'u1'
        self.project_id = 'p1'
        self.request_id = 'req-ctx'
        self.allowed = allowed
        self.checked = []

    def can(self, rule, target=None, fatal=True):
        self.checked.append((rule, target, fatal))
        return self.allowed


def fake_instance(host='src', specs=None, metadata=None, vm_state='active',
                  task_state=None):
    flavor = types.SimpleNamespace(memory_mb=2048, root_gb=20,
                                   ephemeral_gb=5, extra_specs=specs or {})
    return types.SimpleNamespace(
        uuid=UUID, host=host, vm_state=vm_state, task_state=task_state,
        project_id='p1', user_id='u1', flavor=flavor, metadata=metadata or {},
        system_metadata={'image_qslm:require_encryption': 'true',
                         'image_hw_foo': 'x'})


def allowed(host, score=0.5):
    d = decision.Decision(host, allowed=True, mechanism='none',
                          expected_downtime_ms=20.0, worst_downtime_ms=40.0,
                          score=score)
    return d


def denied(host, *reasons):
    d = decision.Decision(host)
    for r in reasons:
        d.deny(r)
    return d


class DecisionsEngine:
    """The engine the pre-check sees.

    What the mock engine's ``decide`` lists, answered as the real engine
    answers (:class:`decision.Decisions`).
    """

    def __init__(self, inner):
        self.inner = inner

    def decide(self, *args, **kwargs):
        return decision.Decisions.of(self.inner.decide(*args, **kwargs))

    def __getattr__(self, name):
        return getattr(self.inner, name)


class PreCheckTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.cfg = self.useFixture(config_fixture.Config(qslm_conf.CONF))
        self.app = StubApp()
        self.filter = precheck.filter_factory({})(self.app)
        self.ctxt = FakeContext()
        self.instance = fake_instance()
        self.server = lookup.Server(
            self.instance,
            {'src': (True, True), 'a': (True, True), 'b': (True, True),
             'off': (False, True), 'down': (True, False)})
        self.load = self.patch(lookup, 'load_server',
                               return_value=self.server)
        self.patch(lookup, 'load_host_info', return_value={})
        self.resolve = self.patch(
            lookup, 'resolve_host',
            side_effect=lambda c, u, host, evacuation=False:
            [host] if host in self.server.computes else [])
        self.engine = mock.Mock()
        self.engine.decide.side_effect = lambda req, hosts, info: [
            allowed(h) for h in hosts]
        self.patch(precheck.ENGINES, 'get',
                   return_value=DecisionsEngine(self.engine))

    def patch(self, obj, name, **kwargs):
        p = mock.patch.object(obj, name, **kwargs)
        self.addCleanup(p.stop)
        return p.start()

    def request(self, method, path, body=None, ctxt=None, raw=None,
                no_context=False):
        req = webob.Request.blank('/v2.1' + path, method=method)
        req.script_name = '/v2.1'
        req.path_info, _sep, req.query_string = path.partition('?')
        if raw is not None:
            req.body = raw
            req.content_type = 'application/json'
        elif body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = 'application/json'
        if not no_context:
            req.environ['nova.context'] = ctxt or self.ctxt
        req.environ['openstack.request_id'] = 'req-env'
        return req, req.get_response(self.filter)

    def migrate(self, host=None, force=None, ctxt=None, **extra):
        args = dict({'host': host, 'block_migration': 'auto'}, **extra)
        if force is not None:
            args['force'] = force
        return self.request('POST', '/servers/%s/action' % UUID,
                            {'os-migrateLive': args}, ctxt=ctxt)

    def assertPassed(self, resp, body=None):
        self.assertEqual(200, resp.status_int, resp.body)
        self.assertEqual(1, len(self.app.calls))
        if body is not None:
            self.assertEqual(b'app:' + body, resp.body)

    def assertFault(self, resp, status, name):
        self.assertEqual(status, resp.status_int, resp.body)
        self.assertEqual([], self.app.calls)
        fault = json.loads(resp.body)[name]
        self.assertEqual(status, fault['code'])
        return fault['message']


class TestUntouched(PreCheckTestCase):

    def test_other_methods_and_paths_never_read(self):
        for method, path, query in (
                ('GET', '/servers/detail', ''),
                ('GET', '/servers/%s/action' % UUID, ''),
                ('GET', '/servers/%s/action' % UUID, 'method=POST'),
                ('HEAD', '/servers/%s' % UUID, ''),
                ('PUT', '/servers/%s' % UUID, ''),
                ('DELETE', '/servers/%s' % UUID, ''),
                ('POST', '/os-aggregates/1/action', ''),
                ('POST', '/servers/%s/os-interface' % UUID, ''),
                ('POST', '/servers/%s/action/extra' % UUID, ''),
                ('POST', '/servers/%s/action/' % UUID, ''),
                ('POST', '/p1/servers/%s/action' % UUID, ''),
                ('GET', '/servers/%s/metadata' % UUID, '_method=GET')):
            environ = {'REQUEST_METHOD': method, 'PATH_INFO': path,
                       'QUERY_STRING': query,
                       'wsgi.input': UnreadableInput(),
                       'CONTENT_LENGTH': '0'}
            seen = []

            def app(env, start_response):
                seen.append(env)
                start_response('204 No Content', [])
                return [b'x']
            f = precheck.PreCheck(app)
            result = f(environ, lambda *a: None)
            self.assertEqual([b'x'], result, (method, path))
            self.assertEqual([environ], seen)
        self.load.assert_not_called()

    def test_get_and_head_untouched_without_reading_anything(self):
        environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/servers/detail'}
        before = dict(environ)
        f = precheck.PreCheck(lambda env, sr: [b'x'])
        self.assertEqual([b'x'], f(environ, None))
        self.assertEqual(before, environ)  # nothing added

    def test_other_action_body_byte_for_byte(self):
        raw = b'{"os-stop" : null,  "x": "\\u00e9"}'
        req, resp = self.request('POST', '/servers/%s/action' % UUID,
                                 raw=raw)
        self.assertFault(resp, 400, 'badRequest')  # two keys: Nova's 400
        raw = b'{"os-stop" : null}'
        req, resp = self.request('POST', '/servers/%s/action' % UUID,
                                 raw=raw)
        self.assertPassed(resp, raw)
        self.load.assert_not_called()

    def test_chunked_body_read_through_webob(self):
        raw = b'{"os-migrateLive": {"host": "a"}}'
        req = webob.Request.blank('/servers/%s/action' % UUID,
                                  method='POST')
        environ = req.environ
        environ['PATH_INFO'] = '/servers/%s/action' % UUID
        environ['wsgi.input'] = io.BytesIO(raw)
        environ.pop('CONTENT_LENGTH', None)
        environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
        environ['wsgi.input_terminated'] = True
        environ['nova.context'] = self.ctxt
        resp = req.get_response(self.filter)
        self.assertPassed(resp, raw)
        self.assertEqual(['a'], self.engine.decide.call_args[0][1])

    def test_project_id_in_path(self):
        req, resp = self.request(
            'POST', '/%s/servers/%s/action' % (PROJECT, UUID),
            {'os-migrateLive': {'host': 'a', 'block_migration': 'auto'}})
        self.assertPassed(resp)
        self.load.assert_called_once_with(self.ctxt, UUID)

    def test_method_override_judged(self):
        req, resp = self.request(
            'GET', '/servers/%s/action?_method=POST' % UUID,
            {'os-migrateLive': {'host': 'b', 'block_migration': 'auto'}})
        self.assertPassed(resp)
        self.assertEqual(['b'], self.engine.decide.call_args[0][1])

    def test_unreadable_bodies_refused(self):
        for raw in (b'{"os-migrateLive": ', b'["os-migrateLive"]',
                    b'{"os-migrateLive": "x"}', b'',
                    b'{"os-migrateLive": {"host": 5}}',
                    b'\xef\xbb\xbf{"os-stop": null}',
                    b'{"a": null, "b": null}', b'[' * 100000,
                    b'{"x": 1' + b'0' * 5000 + b'}'):
            req, resp = self.request('POST', '/servers/%s/action' % UUID,
                                     raw=raw)
            msg = self.assertFault(resp, 400, 'badRequest')
            self.assertTrue(msg)
        self.load.assert_not_called()

    def test_unsupported_content_type_refused(self):
        req = webob.Request.blank('/servers/%s/action' % UUID,
                                  method='POST')
        req.path_info = '/servers/%s/action' % UUID
        req.body = b'{"os-migrateLive": {"host": "b"}}'
        req.content_type = 'application/xml'
        req.environ['nova.context'] = self.ctxt
        resp = req.get_response(self.filter)
        self.assertFault(resp, 415, 'badMediaType')

    def test_no_context_refuses_and_logs_once(self):
        with mock.patch.object(precheck.LOG, 'error') as error:
            for _i in range(2):
                req, resp = self.request(
                    'POST', '/servers/%s/action' % UUID,
                    {'os-migrateLive': {'host': 'a'}}, no_context=True)
                msg = self.assertFault(resp, 403, 'forbidden')
                self.assertIn('keystonecontext', msg)
        self.assertEqual(1, error.call_count)

    def test_not_a_uuid(self):
        req, resp = self.request('POST', '/servers/abc/action',
                                 {'os-migrateLive': {'host': 'a'}})
        self.assertPassed(resp)
        self.load.assert_not_called()


class TestMigration(PreCheckTestCase):

    def test_allowed_passes_same_bytes(self):
        req, resp = self.migrate('a', force=True)
        self.assertPassed(resp)
        sent = json.loads(self.app.calls[0][1])
        self.assertEqual({'os-migrateLive': {'host': 'a', 'force': True,
                                             'block_migration': 'auto'}},
                         sent)
        call = self.engine.decide.call_args
        request, hosts = call[0][0], call[0][1]
        self.assertEqual(['a'], hosts)
        self.assertEqual('src', request.source_host)
        self.assertEqual(2048, request.memory_mb)
        self.assertEqual(0.0, request.disk_gb)
        self.assertEqual({'qslm:require_encryption': 'true'},
                         request.image_props)
        self.assertEqual(
            [('os_compute_api:os-migrate-server:migrate_live:host',
              {'project_id': 'p1'}, False)], self.ctxt.checked)

    def test_block_migration_counts_disks(self):
        self.migrate('a', block_migration=True)
        self.assertEqual(25.0, self.engine.decide.call_args[0][0].disk_gb)
        self.engine.reset_mock()
        self.migrate('a', block_migration='False', disk_over_commit=False)
        self.assertEqual(0.0, self.engine.decide.call_args[0][0].disk_gb)

    def test_denied_host_409(self):
        self.engine.decide.side_effect = lambda req, hosts, info: [
            denied('b', 'estimated downtime 1250 ms exceeds the remaining '
                        'SLA budget of 300 ms')]
        with mock.patch.object(migration.LOG, 'info') as info:
            req, resp = self.migrate('b', force=False)
        msg = self.assertFault(resp, 409, 'conflictingRequest')
        self.assertIn('server %s to host b' % UUID, msg)
        self.assertIn('estimated downtime 1250 ms exceeds the remaining SLA '
                      'budget of 300 ms', msg)
        self.assertEqual('application/json', resp.content_type)
        fields = info.call_args[0][1]
        self.assertEqual('req-env', fields['req'])
        self.assertEqual('denied', fields['outcome'])
        self.assertEqual(('u1', 'p1', 'b', UUID), (
            fields['user'], fields['project'], fields['host'],
            fields['uuid']))

    def test_host_null_candidates_and_grouped_reasons(self):
        self.engine.decide.side_effect = lambda req, hosts, info: [
            denied('a', 'too slow'), denied('b', 'too slow')]
        req, resp = self.migrate(None)
        msg = self.assertFault(resp, 409, 'conflictingRequest')
        self.assertEqual(['a', 'b'], self.engine.decide.call_args[0][1])
        self.assertIn('none of the 2 candidate hosts qualifies '
                      '(hosts a, b: too slow)', msg)
        self.assertEqual('os_compute_api:os-migrate-server:migrate_live',
                         self.ctxt.checked[0][0])

    def test_host_null_one_qualifies(self):
        self.engine.decide.side_effect = lambda req, hosts, info: [
            denied('a', 'too slow'), allowed('b')]
        with mock.patch.object(migration.LOG, 'info') as info:
            req, resp = self.migrate(None)
        self.assertPassed(resp)
        self.assertIn('1 of 2 candidate hosts qualify',
                      info.call_args[0][1]['reasons'])

    def test_nova_answers_itself(self):
        cases = [
            (dict(ctxt=FakeContext(is_admin=False, roles=['member'],
                                   allowed=False)), 'a'),
            ({}, 'no-such-host'),
            ({}, 'src'),
        ]
        for kwargs, host in cases:
            self.app.calls = []
            req, resp = self.migrate(host, **kwargs)
            self.assertPassed(resp)
        for state in (dict(vm_state='stopped'),
                      dict(task_state='migrating'), dict(host=None)):
            self.server.instance = fake_instance(**state)
            self.app.calls = []
            req, resp = self.migrate('a')
            self.assertPassed(resp)
        self.load.side_effect = nova_exception.InstanceNotFound(
            instance_id=UUID)
        self.app.calls = []
        req, resp = self.migrate('a')
        self.assertPassed(resp)
        self.engine.decide.assert_not_called()

    def test_no_candidates_passes(self):
        self.server.computes = {'src': (True, True), 'x': (False, True)}
        req, resp = self.migrate(None)
        self.assertPassed(resp)
        self.engine.decide.assert_not_called()

    def test_long_reason_list_capped(self):
        hosts = ['h%d' % i for i in range(20)]
        self.server.computes = {h: (True, True) for h in hosts + ['src']}
        self.engine.decide.side_effect = lambda req, hs, info: [
            denied(h, 'reason %s' % h) for h in hs]
        req, resp = self.migrate(None)
        msg = self.assertFault(resp, 409, 'conflictingRequest')
        self.assertIn('and 12 more groups of hosts', msg)


class TestHostLookup(PreCheckTestCase):

    def test_requested_host_judged_as_nova_finds_it(self):
        self.resolve.side_effect = lambda c, u, host, evacuation=False: (
            ['b'] if host.strip().lower() == 'b' else [])
        self.engine.decide.side_effect = lambda req, hosts, info: [
            denied(h, 'host %s is not trusted' % h) for h in hosts]
        req, resp = self.migrate('B ', force=True)
        msg = self.assertFault(resp, 409, 'conflictingRequest')
        self.assertIn('to host B : host b is not trusted', msg)
        self.assertEqual(['b'], self.engine.decide.call_args[0][1])
        self.resolve.assert_called_with(self.ctxt, UUID, 'B ')

    def test_every_record_found_is_judged(self):
        self.resolve.side_effect = lambda c, u, host, evacuation=False: [
            'b', 'B']
        self.engine.decide.side_effect = lambda req, hosts, info: [
            allowed('b'), denied('B', 'not trusted')]
        req, resp = self.migrate('b')
        msg = self.assertFault(resp, 409, 'conflictingRequest')
        self.assertIn('host B: not trusted', msg)


class TestEvacuation(PreCheckTestCase):

    def setUp(self):
        super().setUp()
        self.moves = self.patch(
            migration.moves, 'decide_move',
            side_effect=lambda engine, req, kind, hosts, info:
            decision.Decisions.of(
                allowed(h) if h != 'b' else denied(h, 'b is not trusted')
                for h in hosts))

    def evacuate(self, host=None, ctxt=None, **extra):
        args = dict(extra)
        if host is not None:
            args['host'] = host
        return self.request('POST', '/servers/%s/action' % UUID,
                            {'evacuate': args}, ctxt=ctxt)

    def test_named_host_judged_whatever_the_microversion(self):
        for extra in ({}, {'force': True}, {'force': False},
                      {'onSharedStorage': False}):
            self.app.calls = []
            req, resp = self.evacuate('b', **extra)
            msg = self.assertFault(resp, 409, 'conflictingRequest')
            self.assertIn('evacuation of server %s to host b' % UUID, msg)
        kind = self.moves.call_args[0][2]
        self.assertEqual(migration.moves.MoveKind.EVACUATION, kind)
        self.resolve.assert_called_with(self.ctxt, UUID, 'b',
                                        evacuation=True)
        self.assertEqual(('os_compute_api:os-evacuate',
                          {'user_id': 'u1', 'project_id': 'p1'}, False),
                         self.ctxt.checked[-1])
        self.app.calls = []
        req, resp = self.evacuate('a', force=True)
        self.assertPassed(resp)

    def test_passed_on(self):
        for kwargs in ({'host': None},  # the scheduler picks
                       {'host': 'nowhere'},  # Nova answers 404
                       {'host': 'b', 'ctxt': FakeContext(
                           is_admin=False, roles=['member'],
                           allowed=False)}):
            self.app.calls = []
            req, resp = self.evacuate(**kwargs)
            self.assertPassed(resp)
        self.cfg.config(check_non_live_moves=False, group='qslm')
        self.app.calls = []
        req, resp = self.evacuate('b', force=True)
        self.assertPassed(resp)
        self.moves.assert_not_called()

    def test_failures(self):
        self.moves.side_effect = RuntimeError('keylime down')
        req, resp = self.evacuate('a', force=True)
        msg = self.assertFault(resp, 409, 'conflictingRequest')
        self.assertIn('evacuation of server %s to host a: the decision '
                      'could not be computed (keylime down)' % UUID, msg)
        self.app.calls = []
        req, resp = self.request('POST', '/servers/%s/action' % UUID,
                                 {'evacuate': {'host': 7}})
        self.assertFault(resp, 400, 'badRequest')


class TestFailures(PreCheckTestCase):

    def test_lookup_error_refuses(self):
        self.load.side_effect = RuntimeError('db down')
        self.cfg.config(fail_closed=False, group='qslm')
        req, resp = self.migrate('a')
        msg = self.assertFault(resp, 409, 'conflictingRequest')
        self.assertIn('db down', msg)
        self.assertIn('policy is unknown', msg)

    def test_engine_error_protected_instance_always_refused(self):
        self.cfg.config(fail_closed=False, group='qslm')
        self.engine.decide.side_effect = RuntimeError('keylime down')
        req, resp = self.migrate('a')
        msg = self.assertFault(resp, 409, 'conflictingRequest')
        self.assertIn('requires trust or encryption', msg)

    def test_engine_error_unprotected_follows_option(self):
        self.server.instance.system_metadata = {}
        self.engine.decide.side_effect = RuntimeError('bug')
        req, resp = self.migrate('a')
        msg = self.assertFault(resp, 409, 'conflictingRequest')
        self.assertIn('fail_closed is set', msg)
        self.cfg.config(fail_closed=False, group='qslm')
        req, resp = self.migrate('a')
        self.assertPassed(resp)

    def test_unexpected_error_never_500(self):
        with mock.patch.object(migration.MoveCheck, '_check_live',
                               side_effect=ZeroDivisionError()):
            req, resp = self.migrate('a')
        self.assertFault(resp, 409, 'conflictingRequest')
        with mock.patch.object(lookup, 'load_metadata',
                               side_effect=ZeroDivisionError()):
            req, resp = self.request(
                'PUT', '/servers/%s/metadata' % UUID,
                {'metadata': {'a': 'b'}},
                ctxt=FakeContext(is_admin=False, roles=['member']))
        self.assertFault(resp, 409, 'conflictingRequest')
        with mock.patch.object(precheck.ROUTER, 'match',
                               side_effect=ZeroDivisionError()):
            req, resp = self.migrate('a')
        self.assertFault(resp, 409, 'conflictingRequest')

    def test_error_log_shows_the_path_escaped(self):
        logger = self.useFixture(fixtures.FakeLogger(
            name='qslm_nova.api.precheck'))
        with mock.patch.object(precheck.ROUTER, 'match',
                               side_effect=ZeroDivisionError()):
            req, resp = self.request(
                'PUT', '/servers/%s/metadata\nforged line' % UUID,
                {'metadata': {'a': 'b'}},
                ctxt=FakeContext(is_admin=False, roles=['member']))
        self.assertFault(resp, 409, 'conflictingRequest')
        self.assertIn('metadata\\nforged line', logger.output)
        self.assertNotIn('\nforged', logger.output)

    def test_needs_protection(self):
        req = decision.MigrationRequest(UUID, 'src', 1024)
        self.assertFalse(lookup.needs_protection(req))
        self.assertTrue(lookup.needs_protection(None))
        for specs in ({'qslm:require_trusted_host': 'yes'},
                      {'qslm:min_link_security': 'private'},
                      {'qslm:require_encryption': 'maybe'}):
            req.flavor_extra_specs = specs
            self.assertTrue(lookup.needs_protection(req), specs)
        req.flavor_extra_specs = {}
        self.cfg.config(default_require_encryption=True, group='qslm')
        self.assertTrue(lookup.needs_protection(req))


class TestRateLimit(PreCheckTestCase):

    def test_limiter_window_and_bound(self):
        now = [100.0]
        limiter = precheck.RateLimiter(max_keys=2, clock=lambda: now[0])
        self.assertEqual(0, limiter.hit('i', 2, 60))
        self.assertEqual(0, limiter.hit('i', 2, 60))
        now[0] = 130.0
        self.assertEqual(30, limiter.hit('i', 2, 60))
        now[0] = 160.5
        self.assertEqual(0, limiter.hit('i', 2, 60))
        limiter.hit('j', 2, 60)
        limiter.hit('k', 2, 60)
        self.assertEqual(['j', 'k'], list(limiter._hits))

    def test_429_in_nova_format(self):
        self.cfg.config(precheck_rate_limit=1, precheck_rate_window=60,
                        group='qslm')
        req, resp = self.migrate('a')
        self.assertPassed(resp)
        self.app.calls = []
        req, resp = self.migrate('a')
        msg = self.assertFault(resp, 429, 'overLimit')
        self.assertIn('precheck_rate_limit', msg)
        self.assertEqual('60', resp.headers['Retry-After'])
        self.assertEqual(1, self.engine.decide.call_count)


class TestLedger(PreCheckTestCase):

    def setUp(self):
        super().setUp()
        self.tenant = FakeContext(is_admin=False, roles=['member'])
        self.current = {USED: '100', START: '2026-11-01', 'c': 'd'}
        self.meta = self.patch(lookup, 'load_metadata',
                               side_effect=lambda c, u: dict(self.current))

    def meta_request(self, method, key=None, body=None, ctxt=None):
        path = '/servers/%s/metadata' % UUID
        if key:
            path += '/' + key
        return self.request(method, path, body, ctxt=ctxt or self.tenant)

    def test_tenant_changes_refused(self):
        cases = [('POST', None, {'metadata': {USED: '0'}}),
                 ('PUT', USED, {'meta': {USED: '0'}}),
                 ('PUT', 'QSLM:Downtime_Used_MS', {'meta': {
                     'QSLM:Downtime_Used_MS': '0'}}),
                 ('DELETE', START, None),
                 ('PUT', None, {'metadata': {'c': 'd'}}),
                 ('PUT', None, {'metadata': {USED: '0', START: '2026-11-01'}})]
        for method, key, body in cases:
            req, resp = self.meta_request(method, key, body)
            msg = self.assertFault(resp, 403, 'forbidden')
            self.assertIn(USED, msg)

    def test_tenant_unchanged_ledger_and_other_keys_pass(self):
        cases = [('POST', None, {'metadata': {'x': 'y'}}),
                 ('PUT', 'x', {'meta': {'x': 'y'}}),
                 ('DELETE', 'x', None),
                 ('POST', None, {'metadata': {USED: '100'}}),
                 ('PUT', None, {'metadata': {USED: '100',
                                             START: '2026-11-01'}})]
        for method, key, body in cases:
            self.app.calls = []
            req, resp = self.meta_request(method, key, body)
            self.assertPassed(resp)
        # Only requests naming the ledger or replacing all were read.
        self.assertEqual(2, self.meta.call_count)

    def test_admin_and_writer_roles_not_read(self):
        req, resp = self.meta_request('DELETE', USED, ctxt=self.ctxt)
        self.assertPassed(resp)
        self.cfg.config(ledger_writer_roles=['Service'], group='qslm')
        self.app.calls = []
        req, resp = self.meta_request(
            'PUT', USED, {'meta': {USED: '5'}},
            ctxt=FakeContext(is_admin=False, roles=['service']))
        self.assertPassed(resp)
        self.meta.assert_not_called()
        # is_admin without a writer role is refused.
        self.app.calls = []
        req, resp = self.meta_request('DELETE', USED, ctxt=self.ctxt)
        msg = self.assertFault(resp, 403, 'forbidden')
        self.assertIn('ledger_writer_roles (Service)', msg)

    def test_unknown_server_to_nova_bad_body_refused(self):
        self.meta.side_effect = nova_exception.InstanceNotFound(
            instance_id=UUID)
        req, resp = self.meta_request('PUT', None, {'metadata': {}})
        self.assertPassed(resp)
        self.meta.side_effect = None
        for body in ({'metadata': 'x'}, ['metadata'], {'meta': []}):
            self.app.calls = []
            req, resp = self.meta_request('PUT', None, body)
            self.assertFault(resp, 400, 'badRequest')

    def test_create_presets_refused(self):
        body = {'server': {'name': 'x', 'metadata': {' qslm:Budget_Period_'
                                                     'Start': '2099-01-01'}}}
        req, resp = self.request('POST', '/servers', body, ctxt=self.tenant)
        msg = self.assertFault(resp, 403, 'forbidden')
        self.assertIn('preset  qslm:Budget_Period_Start on a new server',
                      msg)
        for body in ({'server': {'name': 'x'}},
                     {'server': {'metadata': {'a': 'b'}}}):
            self.app.calls = []
            req, resp = self.request('POST', '/servers', body,
                                     ctxt=self.tenant)
            self.assertPassed(resp)
        self.app.calls = []
        req, resp = self.request('POST', '/servers', {
            'server': {'metadata': {USED: '0'}}})
        self.assertPassed(resp)  # self.ctxt holds the admin role
        self.meta.assert_not_called()

    def test_rebuild(self):
        path = '/servers/%s/action' % UUID
        for meta in ({}, {'c': 'd'}, {USED: '0', START: '2026-11-01'}):
            req, resp = self.request('POST', path, {'rebuild': {
                'imageRef': 'i', 'metadata': meta}}, ctxt=self.tenant)
            self.assertFault(resp, 403, 'forbidden')
        for rebuild in ({'imageRef': 'i'}, {'imageRef': 'i', 'metadata': {
                USED: '100', START: '2026-11-01', 'x': 'y'}}):
            self.app.calls = []
            req, resp = self.request('POST', path, {'rebuild': rebuild},
                                     ctxt=self.tenant)
            self.assertPassed(resp)
        self.app.calls = []
        req, resp = self.request('POST', path, {'rebuild': {
            'imageRef': 'i', 'metadata': 'x'}}, ctxt=self.tenant)
        self.assertFault(resp, 400, 'badRequest')


class TestOpts(base.BaseTestCase):

    def test_block_migration_values(self):
        self.assertIsNone(migration.block_migration('auto'))
        self.assertIsNone(migration.block_migration(None))
        self.assertTrue(migration.block_migration('True'))
        self.assertFalse(migration.block_migration(False))


class TestLoadHostInfo(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        from nova import objects
        objects.register_all()

    def test_disagreeing_aggregates_stay_visible(self):
        # Same shape as the scheduler adapter gives the trust providers:
        # a host trusted by one aggregate and not by another is not
        # flattened to whichever aggregate came last.
        aggs = [types.SimpleNamespace(hosts=['h1', 'h2'],
                                      metadata={'qslm:trusted': 'true'}),
                types.SimpleNamespace(hosts=['h1'],
                                      metadata={'qslm:trusted': 'false'})]
        ctxt = mock.Mock()
        with mock.patch('nova.objects.AggregateList.get_all',
                        return_value=aggs, create=True):
            info = lookup.load_host_info(ctxt, ['h1', 'h2', 'h3'])
        self.assertEqual({'qslm:trusted': {'true', 'false'}},
                         info['h1']['aggregate_metadata'])
        self.assertEqual({'qslm:trusted': {'true'}},
                         info['h2']['aggregate_metadata'])
        self.assertEqual({}, info['h3']['aggregate_metadata'])
