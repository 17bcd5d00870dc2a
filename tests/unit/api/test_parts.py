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

"""The pre-check's parts: body reading, ledger rules, route matching."""

import io
from unittest import mock

import testtools
import webob

from qslm_nova.api import body
from qslm_nova.api import ledger
from qslm_nova.api import routing

UUID = '6f1c2b8e-8f8a-4f59-9a55-0f4d3cf0e0a1'


class TestBody(testtools.TestCase):

    def test_loggable_forges_no_line(self):
        self.assertEqual('compute-b1', body.loggable('compute-b1'))
        self.assertEqual('h\u00f4te b', body.loggable('h\u00f4te b'))
        self.assertEqual('True', body.loggable(True))
        self.assertEqual("{'a': [1]}", body.loggable({'a': [1]}))
        forged = ('b\n2026-12-03 00:00:00.000 1 INFO qslm_nova.api.migration '
                  '[-] QSLM pre-check: request forged allowed\x00\x1b[2K'
                  '\r\u2028\t')
        shown = body.loggable(forged)
        self.assertTrue(shown.isprintable(), shown)
        self.assertIn('b\\n2026', shown)
        for escaped in ('\\x00', '\\x1b', '\\r', '\\u2028', '\\t'):
            self.assertIn(escaped, shown)
        self.assertTrue(body.loggable(['\n']).isprintable())
        long = body.loggable('x' * 5000)
        self.assertEqual('x' * body.LOG_VALUE_LIMIT + '... (5000 characters)',
                         long)

    def test_decode_like_nova(self):
        self.assertEqual({'os-migrateLive': {'host': 'b'}}, body.decode(
            b'{"os-migrat\\u0065Live": {"host": "a"}, '
            b'"os-migrateLive": {"host": "b"}}'))
        for raw, what in ((b'', 'no body'),
                          (b'\xef\xbb\xbf{}', 'Malformed'),
                          ('{}'.encode('utf-16'), 'Malformed'),
                          (b'\xff{}', 'Malformed'),
                          (b'[' * 100000, 'nested too deeply'),
                          (b'{"a": 1' + b'0' * 5000 + b'}', 'Malformed')):
            e = self.assertRaises(body.BodyError, body.decode, raw)
            self.assertEqual(400, e.status)
            self.assertIn(what, e.message)

    def test_action_of(self):
        self.assertEqual(('os-stop', None), body.action_of({'os-stop': None}))
        for value in ([], 'x', {}, {'a': 1, 'b': 2}):
            self.assertRaises(body.BodyError, body.action_of, value)

    def test_member(self):
        self.assertEqual({}, body.member({'m': {}}, 'm', 'The body'))
        for value in ([], {'m': []}, {}):
            e = self.assertRaises(body.BodyError, body.member, value, 'm',
                                  'The body')
            self.assertIn('The body', e.message)

    def test_read_leaves_the_bytes_for_nova(self):
        env = webob.Request.blank('/', method='POST').environ
        env.update({'wsgi.input': io.BytesIO(b'{"a": 1}'),
                    'HTTP_TRANSFER_ENCODING': 'chunked',
                    'wsgi.input_terminated': True})
        env.pop('CONTENT_LENGTH', None)
        self.assertEqual(b'{"a": 1}', body.read(env))
        self.assertEqual(b'{"a": 1}', webob.Request(env).body)
        self.assertEqual('8', env['CONTENT_LENGTH'])

    def test_read_with_a_length_like_webob(self):
        for length, data in (('8', b'{"a": 1}xyz'), ('0', b''),
                             (' 8', b'{"a": 1}'), ('+8', b'{"a": 1}')):
            env = webob.Request.blank('/', method='POST').environ
            env.update({'wsgi.input': io.BytesIO(data),
                        'CONTENT_LENGTH': length})
            expected = webob.Request(dict(
                env, **{'wsgi.input': io.BytesIO(data)})).body
            self.assertEqual(expected, body.read(env), length)
            self.assertEqual(expected, webob.Request(env).body)
            self.assertEqual(str(len(expected)), env['CONTENT_LENGTH'])
        env = webob.Request.blank('/', method='POST').environ
        env.update({'wsgi.input': io.BytesIO(b'{}'), 'CONTENT_LENGTH': '9'})
        e = self.assertRaises(body.BodyError, body.read, env)
        self.assertEqual(400, e.status)

    def test_read_turns_http_errors_into_refusals(self):
        class Limited(io.RawIOBase):
            def read(self, *args):
                raise webob.exc.HTTPRequestEntityTooLarge(
                    explanation='too large')
        env = webob.Request.blank('/', method='POST').environ
        env.update({'wsgi.input': Limited(), 'CONTENT_LENGTH': '5'})
        e = self.assertRaises(body.BodyError, body.read, env)
        self.assertEqual((413, 'too large'), (e.status, e.message))

    def test_content_type(self):
        for ctype in ('application/json', 'application/json; charset=x',
                      'text/plain', None,
                      'application/vnd.openstack.compute+json'):
            env = webob.Request.blank('/').environ
            if ctype:
                env['CONTENT_TYPE'] = ctype
            body.check_content_type(env)
        for ctype in ('application/xml', 'Application/JSON',
                      'multipart/form-data'):
            env = webob.Request.blank('/').environ
            env['CONTENT_TYPE'] = ctype
            e = self.assertRaises(body.BodyError, body.check_content_type,
                                  env)
            self.assertEqual(415, e.status)


class TestLedger(testtools.TestCase):

    def test_ledger_keys_as_a_lenient_collation_sees_them(self):
        for key in ('qslm:downtime_used_ms', 'QSLM:DOWNTIME_USED_MS',
                    ' qslm:budget_period_start', 'qslm:downtime_used_ms\n',
                    'qslm:dówntime_used_ms', 'qslm:downtime_used_ms\t',
                    'ｑslm:downtime_used_ms', 'qſlm:downtime_used_ms'):
            self.assertTrue(ledger.is_ledger_key(key), key)
        for key in ('qslm:downtime_used', 'qslm:max_downtime_ms', None, 5,
                    'qslm: downtime_used_ms', 'qslm:downtime-used-ms'):
            self.assertFalse(ledger.is_ledger_key(key), key)

    def test_changes(self):
        now = {'qslm:downtime_used_ms': '5', 'a': 'b'}
        self.assertFalse(ledger.changes(now, {'qslm:downtime_used_ms': '5'}))
        self.assertTrue(ledger.changes(now, {'a': 'b'}))
        self.assertTrue(ledger.changes(now, {'QSLM:downtime_used_ms': '5'}))
        self.assertTrue(ledger.changes(now, ledger.after_merge(
            now, {'qslm:downtime_used_ms ': '5'})))
        self.assertTrue(ledger.changes(now, {'qslm:downtime_used_ms': 5}))

    def test_may_write(self):
        self.assertTrue(ledger.may_write(['reader', 'ADMIN'], ['admin']))
        self.assertFalse(ledger.may_write(['reader'], ['admin']))
        self.assertFalse(ledger.may_write(['admin'], []))
        self.assertFalse(ledger.may_write(None, ['admin']))


class TestRouting(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.router = routing.Router()

    def match(self, method, path, query=''):
        env = webob.Request.blank(path, method=method).environ
        env.update(PATH_INFO=path, QUERY_STRING=query)
        return self.router.match(env)

    def test_targets(self):
        T = routing.Target
        meta = '/servers/%s/metadata' % UUID
        for method, path, query, expected in (
                ('POST', '/servers', '', (T.SERVER_CREATE, None, None)),
                ('POST', '/os-volumes_boot', '',
                 (T.SERVER_CREATE, None, None)),
                ('POST', '/servers/%s/action' % UUID, '',
                 (T.SERVER_ACTION, UUID, None)),
                ('POST', meta, '', (T.METADATA_MERGE, UUID, None)),
                ('PUT', meta, '', (T.METADATA_REPLACE, UUID, None)),
                ('PUT', meta + '/k', '', (T.METADATA_ITEM, UUID, 'k')),
                ('DELETE', meta + '/k', '', (T.METADATA_DELETE, UUID, 'k')),
                ('GET', meta + '/k', '_method=delete',
                 (T.METADATA_DELETE, UUID, 'k')),
                ('GET', meta + '/k', '', None),
                ('POST', '/servers/detail', '', None),
                ('POST', '/flavors', '', None)):
            route = self.match(method, path, query)
            got = route and (route.target, route.server_id, route.key)
            self.assertEqual(expected, got, (method, path, query))
            self.assertTrue(T.METADATA_ITEM.is_metadata)
            self.assertFalse(T.SERVER_ACTION.is_metadata)

    def test_cheap_test(self):
        self.assertFalse(routing.might_write({'REQUEST_METHOD': 'GET'}))
        self.assertTrue(routing.might_write({'REQUEST_METHOD': 'GET',
                                             'QUERY_STRING': 'a=1&_method'}))
        self.assertTrue(routing.might_write({'REQUEST_METHOD': 'DELETE'}))

    def test_unsupported_nova_fails_at_build(self):
        from nova.api.openstack.compute import routes as nova_routes
        reduced = tuple(r for r in nova_routes.ROUTE_LIST
                        if 'metadata/{id}' not in r[0])
        with mock.patch.object(nova_routes, 'ROUTE_LIST', reduced):
            e = self.assertRaises(RuntimeError, routing.Router().warm)
        self.assertIn('DELETE /servers/{id}/metadata/{key}', str(e))
        self.assertIn('PUT /servers/{id}/metadata/{key}', str(e))
