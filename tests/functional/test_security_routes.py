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

"""Security matrix: the pre-check routes and reads requests as Nova does.

Every spelling of a path and a body that reaches a guarded Nova method is
judged; the records Nova keeps (host, metadata, migrations) prove that
nothing got through.
"""

import io

from nova.api.openstack.compute import routes as nova_routes
from nova.api.openstack.compute import server_metadata
from nova.api.openstack.compute import servers
from routes import middleware as routes_middleware
import webob

from qslm_nova.api import routing
from tests.functional import security_base as sb

UUID = '6f1c2b8e-8f8a-4f59-9a55-0f4d3cf0e0a1'
HEX = '0123456789abcdef0123456789abcdef'


def _nova_target(resource, action):
    """The guarded Target a Nova (controller, action) pair is, or None."""
    controller = type(resource.controller)
    if issubclass(controller, servers.ServersController):
        return {'create': routing.Target.SERVER_CREATE,
                'action': routing.Target.SERVER_ACTION}.get(action)
    if issubclass(controller, server_metadata.ServerMetadataController):
        return {'create': routing.Target.METADATA_MERGE,
                'update_all': routing.Target.METADATA_REPLACE,
                'update': routing.Target.METADATA_ITEM,
                'delete': routing.Target.METADATA_DELETE}.get(action)
    return None


class RoutingAgreementTest(sb.SecurityTestBase):
    """Our route table against Nova's own APIRouterV21, path by path."""

    SERVER_SPECS = None

    def _nova_route(self, router, environ):
        seen = {}

        def capture(env, start_response):
            seen.update(env['wsgiorg.routing_args'][1])
            return []
        routes_middleware.RoutesMiddleware(capture, router.map)(
            environ, lambda *a: None)
        if 'controller' not in seen:
            return None
        return (_nova_target(seen['controller'], seen.get('action')),
                seen.get('server_id') or seen.get('id'),
                seen.get('id') if 'server_id' in seen else None)

    def test_router_agrees_with_nova(self):
        nova_router = nova_routes.APIRouterV21()
        ours = routing.Router()
        cases = []
        for prefix in ('', '/' + HEX, '/p1', '/' + HEX.upper()):
            for method, path in (
                    ('POST', '/servers'), ('POST', '/servers/'),
                    ('POST', '/servers/%s/action' % UUID),
                    ('POST', '/servers/%s/action/' % UUID),
                    ('POST', '/servers/%s/action.json' % UUID),
                    ('POST', '/SERVERS/%s/action' % UUID),
                    ('POST', '/servers/%s/ACTION' % UUID),
                    ('POST', '/servers/%s/%%61ction' % UUID),
                    ('POST', '/servers/detail'),
                    ('POST', '/os-volumes_boot'),
                    ('POST', '/os-volumes_boot/%s/action' % UUID),
                    ('PUT', '/servers/%s' % UUID),
                    ('DELETE', '/servers/%s' % UUID),
                    ('POST', '/servers/%s/metadata' % UUID),
                    ('PUT', '/servers/%s/metadata' % UUID),
                    ('PUT', '/servers/%s/metadata/' % UUID),
                    ('PUT', '/servers/%s/metadata/%s' % (UUID, sb.USED)),
                    ('PUT', '/servers/%s/metadata/qslm%%3Ax' % UUID),
                    ('DELETE', '/servers/%s/metadata/%s' % (UUID, sb.USED)),
                    ('DELETE', '/servers/%s/metadata/a/b' % UUID),
                    ('POST', '/servers/%s/metadata/%s' % (UUID, sb.USED)),
                    ('POST', '/servers/%s/tags/x' % UUID),
                    ('POST', '/os-aggregates/1/action')):
                cases.append((method, prefix + path, ''))
        path = '/servers/%s/metadata/%s' % (UUID, sb.USED)
        for method, query in (('GET', '_method=DELETE'),
                              ('GET', '_method=delete'),
                              ('HEAD', '_method=DELETE'),
                              ('GET', '_method=GET&_method=DELETE'),
                              ('GET', '_method=DELETE&_method=GET'),
                              ('GET', 'x=1&_method=PUT'),
                              ('GET', '_method=%FF'),
                              ('POST', '_method=DELETE'),
                              ('DELETE', '_method=')):
            cases.append((method, path, query))
        cases.append(('GET', '/servers/%s/action' % UUID, '_method=POST'))
        cases.append(('GET', '/servers', '_method=POST'))
        guarded = 0
        for method, path, query in cases:
            env = webob.Request.blank(path, method=method).environ
            env.update(PATH_INFO=path, QUERY_STRING=query)
            expected = self._nova_route(nova_router, dict(env))
            route = ours.match(dict(env))
            got = None if route is None else (route.target, route.server_id,
                                              route.key)
            if expected is not None and expected[0] is None:
                expected = None
            self.assertEqual(expected, got, (method, path, query))
            guarded += got is not None
        self.assertGreater(guarded, 20)

    def test_form_post_method_override_agrees(self):
        nova_router = nova_routes.APIRouterV21()
        ours = routing.Router()
        path = '/servers/%s/metadata/%s' % (UUID, sb.USED)
        for body in (b'_method=DELETE', b'_method=delete&a=b', b'a=b'):
            env = webob.Request.blank(path, method='POST').environ
            env.update(PATH_INFO=path,
                       CONTENT_TYPE='application/x-www-form-urlencoded',
                       CONTENT_LENGTH=str(len(body)))
            env['wsgi.input'] = io.BytesIO(body)
            route = ours.match(env)
            # Our match made the body seekable; Nova's reads it again.
            env['wsgi.input'].seek(0)
            expected = self._nova_route(nova_router, env)
            got = None if route is None else (route.target, route.server_id,
                                              route.key)
            if expected is not None and expected[0] is None:
                expected = None
            self.assertEqual(expected, got, body)


class PipelineAttackTest(sb.SecurityTestBase):
    """Spellings that reach Nova's server action and metadata methods.

    Sent as raw WSGI requests through the whole application. The
    instance requires trusted hosts; compute-b2 is untrusted. The ledger
    is set; the member may not change it.
    """

    def setUp(self):
        super().setUp()
        resp = self.set_metadata(self.server, sb.LEDGER, admin=True)
        self.assertEqual(200, resp.status, resp.body)

    def migrate_body(self, host=sb.UNTRUSTED):
        return {'host': host, 'block_migration': 'auto', 'force': True}

    def assertUnchanged(self):
        self.assertStays()
        self.assertEqual(sb.LEDGER, self.get_metadata(self.server))

    def test_action_spellings_refused(self):
        sid = self.server['id']
        args = ('"host": "%s", "block_migration": "auto", "force": true'
                % sb.UNTRUSTED)
        bodies = [
            # JSON escapes in the action name and in the host.
            ('{"os-migrat\\u0065Live": {%s}}' % args).encode(),
            ('{"\\u006f\\u0073-migrateLive": {"host": "compute-b\\u0032", '
             '"block_migration": "auto", "force": true}}').encode(),
            # Duplicate keys: the last wins, for Nova and for us.
            ('{"os-migrateLive": {"host": "compute-b1", "block_migration": '
             '"auto", "force": true}, "os-migrateLive": {%s}}'
             % args).encode(),
            ('{"os-migrateLive": {"host": "compute-b1", %s}}'
             % args).encode(),
            # Whitespace, UTF-8 non-ASCII elsewhere, NaN-free oddities.
            ('\r\n\t {"os-migrateLive" : {%s , "x": "\\u00e9"} } \n'
             % args).encode(),
        ]
        for raw in bodies:
            for version in ('2.30', '2.67'):
                status, body = self.wsgi('POST', self.action_path(), raw,
                                         microversion=version)
                self.assertRefused(status, body, 409, 'compute-b2',
                                   'not trusted')
        # Other path forms Nova routes to the same method.
        for path in ('/v2.1/%s/servers/%s/action' % (self.api.project_id,
                                                     sid),
                     '/v2/%s/servers/%s/action' % (self.api.project_id, sid),
                     '/v2/servers/%s/action' % sid,
                     '/v2.1//servers//%s/action' % sid):
            status, body = self.wsgi(
                'POST', path, {'os-migrateLive': self.migrate_body()},
                microversion='2.30')
            self.assertRefused(status, body, 409, 'not trusted')
        # GET with a method override reaches the action method.
        status, body = self.wsgi(
            'GET', self.action_path(), {'os-migrateLive':
                                        self.migrate_body()},
            query='_method=POST', microversion='2.30')
        self.assertRefused(status, body, 409, 'not trusted')
        self.assertUnchanged()

    def test_bodies_only_nova_could_misread_refused(self):
        good = b'{"os-migrateLive": {"host": "compute-b2", "block_migration":'
        cases = [
            (b'\xef\xbb\xbf' + good + b' "auto"}}', 400),   # UTF-8 BOM
            (('{"os-migrateLive": {"host": "compute-b2", "block_migration":'
              ' "auto"}}').encode('utf-16'), 400),
            (b'{"os-migrateLive": {}, "os-stop": null}', 400),  # 2 actions
            (b'[{"os-migrateLive": {"host": "compute-b2"}}]', 400),
            (b'{"os-migrateLive": ' + b'[' * 50000 + b']' * 50000 + b'}',
             400),
            (b'{"os-migrateLive": {"host": 1e400}}', 400),
            (b'{"os-migrateLive": "compute-b2"}', 400),
            (b'', 400),
            (b'{"os-migrateLive": {"host": "compute-b2"', 400),
        ]
        for raw, code in cases:
            status, body = self.wsgi('POST', self.action_path(), raw,
                                     microversion='2.30')
            self.assertEqual(code, status, (raw[:60], body))
        # Content types Nova refuses before any controller; those it
        # reads as JSON (none, text/plain, parameters) are judged.
        raw = ('{"os-migrateLive": {"host": "compute-b2", '
               '"block_migration": "auto", "force": true}}').encode()
        for ctype, code in (('application/x-www-form-urlencoded', 415),
                            ('application/xml', 415),
                            ('Application/JSON', 415),
                            (None, 409), ('text/plain', 409),
                            ('application/json; charset=utf-16', 409),
                            ('application/vnd.openstack.compute+json',
                             409)):
            status, body = self.wsgi('POST', self.action_path(), raw,
                                     content_type=ctype,
                                     microversion='2.30')
            self.assertEqual(code, status, (ctype, body))
        self.assertUnchanged()

    def test_chunked_bodies_judged(self):
        raw = ('{"os-migrateLive": {"host": "compute-b2", '
               '"block_migration": "auto", "force": true}}').encode()
        # The server de-chunks and marks the end of input.
        status, body = self.wsgi('POST', self.action_path(), raw,
                                 chunked=True, microversion='2.30')
        self.assertRefused(status, body, 409, 'not trusted')
        # No end marker: sizelimit reads up to its limit; either way
        # Nova and the pre-check read the same bytes.
        status, body = self.wsgi('POST', self.action_path(), raw,
                                 chunked=True, terminated=False,
                                 microversion='2.30')
        self.assertIn(status, (400, 409), body)
        meta = ('{"metadata": {"%s": "0"}}' % sb.USED).encode()
        status, body = self.wsgi(
            'POST', '/v2.1/servers/%s/metadata' % self.server['id'], meta,
            role='member', chunked=True)
        self.assertRefused(status, body, 403, 'ledger_writer_roles')
        self.assertUnchanged()

    def test_ledger_spellings_refused(self):
        sid = self.server['id']
        meta = '/v2.1/servers/%s/metadata' % sid
        cases = [
            # The method override of Routes, query string and form.
            ('GET', meta + '/' + sb.USED, b'', '_method=DELETE', None),
            ('GET', meta + '/' + sb.USED, b'', '_method=delete', None),
            ('HEAD', meta + '/' + sb.USED, b'', '_method=DELETE', None),
            ('GET', meta, {'metadata': {}}, '_method=PUT', None),
            ('GET', meta, {'metadata': {sb.USED: '0'}}, '_method=post',
             None),
            ('GET', meta + '/' + sb.USED, {'meta': {sb.USED: '0'}},
             '_method=PUT', None),
            ('GET', self.action_path(), {'rebuild': {
                'imageRef': sb.IMAGE, 'metadata': {}}}, '_method=POST',
             None),
            ('POST', meta + '/' + sb.USED, b'_method=DELETE', '',
             'application/x-www-form-urlencoded'),
            # JSON escapes and collation variants of the key.
            ('POST', meta, ('{"metadata": {"qslm:downtime\\u005fused_ms": '
                            '"0"}}').encode(), '', 'application/json'),
            ('POST', meta, {'metadata': {'QSLM:Downtime_Used_MS': '0'}}, '',
             'application/json'),
            ('POST', meta, {'metadata': {sb.USED + ' ': '0'}}, '',
             'application/json'),
            ('POST', meta, {'metadata': {sb.USED + '\n': '0'}}, '',
             'application/json'),
            # Duplicate keys: the last (a ledger change) wins.
            ('POST', meta, ('{"metadata": {"a": "1"}, "metadata": {"%s": '
                            '"0"}}' % sb.USED).encode(), '',
             'application/json'),
            # Other paths to the same methods.
            ('DELETE', '/v2/servers/%s/metadata/%s' % (sid, sb.USED), b'', '',
             None),
            ('DELETE', '/v2.1/%s/servers/%s/metadata/%s' % (
                self.api.project_id, sid, sb.USED), b'', '', None),
            ('POST', '/v2.1/os-volumes_boot/%s/action' % sid,
             {'rebuild': {'imageRef': sb.IMAGE, 'metadata': {}}}, '',
             'application/json'),
            ('POST', '/v2.1/os-volumes_boot', {'server': {
                'name': 'x', 'imageRef': sb.IMAGE, 'flavorRef': '1',
                'networks': 'none', 'metadata': {sb.START: '2099-01-01'}}},
             '', 'application/json'),
        ]
        for method, path, raw, query, ctype in cases:
            status, body = self.wsgi(method, path, raw, role='member',
                                     query=query, content_type=ctype,
                                     microversion='2.37')
            self.assertIn(status, (403, 415), (method, path, query, body))
            if status == 403 and method != 'HEAD':
                self.assertIn('ledger_writer_roles',
                              body['forbidden']['message'])
        self.assertUnchanged()
        self.assertEqual(1, len(self.admin_api.get_servers()))


class NovaReadingTest(sb.SecurityTestBase):
    """What the pre-check relies on, shown on Nova without the pre-check.

    Nova decodes JSON escapes and keeps the last of duplicate keys, so
    such a body is a live migration to the last host named; Routes'
    method override turns a GET into a DELETE; a byte order mark, UTF-16
    and two actions are refused; a charset parameter is ignored; a
    chunked body is read.
    """

    PASTE_FILTERS = ()
    SERVER_SPECS = {}

    def test_nova_reading(self):
        sid = self.server['id']
        meta = '/v2.1/servers/%s/metadata' % sid
        status, body = self.wsgi('POST', meta, {'metadata': {'a': '1'}},
                                 role='member', chunked=True)
        self.assertEqual(200, status, body)
        status, body = self.wsgi(
            'POST', meta, {'metadata': {'b': '2'}}, role='member',
            content_type='application/json; charset=utf-16')
        self.assertEqual(200, status, body)
        status, body = self.wsgi('GET', meta + '/a', role='member',
                                 query='_method=DELETE')
        self.assertEqual(204, status, body)
        self.assertEqual({'b': '2'}, self.get_metadata(self.server))
        refused = [b'\xef\xbb\xbf{"os-stop": null}',
                   '{"os-stop": null}'.encode('utf-16'),
                   b'{"os-stop": null, "os-start": null}']
        for raw in refused:
            status, body = self.wsgi('POST', self.action_path(), raw)
            self.assertEqual(400, status, (raw, body))
        raw = ('{"os-migrat\\u0065Live": {"host": "compute-b2", '
               '"block_migration": "auto", "force": true}, '
               '"os-migrateLive": {"host": "compute-\\u0062\\u0031", '
               '"block_migration": "auto", "force": true}}').encode()
        status, body = self.wsgi('POST', self.action_path(), raw,
                                 microversion='2.67')
        self.assertEqual(202, status, body)
        migration = self.wait_for_migration(self.server)
        self.assertEqual(('completed', 'compute-b1'),
                         (migration['status'], migration['dest_compute']))
        self.wait_for_server(self.server, host='compute-b1')
