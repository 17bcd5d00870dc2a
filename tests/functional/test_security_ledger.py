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

"""Security matrix: every Nova 34 route that writes instance metadata.

Each route, each caller (a plain member, the admin, a member holding the
ledger-writer role), the key plain, JSON-escaped, in another case and
with a trailing space; the instance metadata Nova stores afterwards
shows whether the ledger moved.
"""

import json

from tests.functional import security_base as sb

#: Spellings of the ledger key: plain, JSON-escaped, case, trailing space.
SPELLINGS = ('"%s"' % sb.USED,
             '"qslm:downtime\\u005fused\\u005fms"',
             '"QSLM:Downtime_Used_MS"',
             '"%s "' % sb.USED)


def _meta(key_json, value='0'):
    """A JSON object text with one key (already JSON text) and a value."""
    return '{%s: "%s"}' % (key_json, value)


class LedgerRoutesTest(sb.SecurityTestBase):

    SERVER_SPECS = {}

    def setUp(self):
        super().setUp()
        resp = self.set_metadata(self.server, dict(sb.LEDGER, color='red'),
                                 admin=True)
        self.assertEqual(200, resp.status, resp.body)
        self.meta_path = '/v2.1/servers/%s/metadata' % self.server['id']

    def metadata(self):
        return self.get_metadata(self.server)

    def requests(self, key_json):
        """(label, method, path, raw body) of every metadata route."""
        key = json.loads(key_json)
        return [
            ('merge', 'POST', self.meta_path,
             '{"metadata": %s}' % _meta(key_json)),
            ('replace keeping nothing', 'PUT', self.meta_path,
             '{"metadata": {"color": "blue"}}'),
            ('replace with a new ledger', 'PUT', self.meta_path,
             '{"metadata": %s}' % _meta(key_json)),
            ('item', 'PUT', self.meta_path + '/' + key,
             '{"meta": %s}' % _meta(key_json)),
            ('rebuild dropping all', 'POST', self.action_path(),
             '{"rebuild": {"imageRef": "%s", "metadata": {}}}' % sb.IMAGE),
            ('rebuild with a new ledger', 'POST', self.action_path(),
             '{"rebuild": {"imageRef": "%s", "metadata": %s}}' % (
                 sb.IMAGE, _meta(key_json))),
        ]

    def test_member_refused_everywhere(self):
        before = self.metadata()
        for key_json in SPELLINGS:
            for label, method, path, raw in self.requests(key_json):
                status, body = self.wsgi(method, path, raw.encode(),
                                         role='member')
                self.assertRefused(status, body, 403, 'ledger_writer_roles')
                self.assertEqual(before, self.metadata(), (label, key_json))
        for key in (sb.USED, sb.START, sb.START.upper()):
            status, body = self.wsgi('DELETE',
                                     '%s/%s' % (self.meta_path, key),
                                     role='member')
            self.assertRefused(status, body, 403, 'ledger_writer_roles')
        self.assertEqual(before, self.metadata())
        self.assertEqual('ACTIVE', self.get_server(self.server)['status'])

    def test_member_keeps_other_rights(self):
        # Other keys, a replace or rebuild that keeps the ledger as it is.
        status, body = self.wsgi('POST', self.meta_path,
                                 {'metadata': {'size': 'L'}}, role='member')
        self.assertEqual(200, status, body)
        keep = dict(sb.LEDGER, color='blue')
        status, body = self.wsgi('PUT', self.meta_path, {'metadata': keep},
                                 role='member')
        self.assertEqual(200, status, body)
        self.assertEqual(keep, self.metadata())
        status, body = self.wsgi('POST', self.action_path(), {'rebuild': {
            'imageRef': sb.IMAGE, 'metadata': dict(sb.LEDGER)}},
            role='member')
        self.assertEqual(202, status, body)
        self.wait_for_server(self.server)
        self.assertEqual(sb.LEDGER, self.metadata())

    def _writes(self, role):
        for label, method, path, raw in self.requests(SPELLINGS[1]):
            status, body = self.wsgi(method, path, raw.encode(), role=role)
            self.assertIn(status, (200, 202), (label, body))
            self.wait_for_server(self.server)
        self.assertEqual({sb.USED: '0'}, self.metadata())
        status, body = self.wsgi('DELETE', '%s/%s' % (self.meta_path,
                                                      sb.USED), role=role)
        self.assertEqual(204, status, body)
        self.assertEqual({}, self.metadata())

    def test_writer_role_writes(self):
        self._writes('writer')

    def test_admin_writes_while_admin_is_a_writer_role(self):
        self._writes('admin')

    def test_admin_refused_without_the_role(self):
        self.flags(ledger_writer_roles=[sb.WRITER_ROLE], group='qslm')
        status, body = self.wsgi('DELETE', '%s/%s' % (self.meta_path,
                                                      sb.USED))
        self.assertRefused(status, body, 403, 'ledger_writer_roles',
                           'qslm-ledger')
        status, body = self.wsgi('POST', self.action_path(), {'rebuild': {
            'imageRef': sb.IMAGE, 'metadata': {}}})
        self.assertRefused(status, body, 403, 'ledger_writer_roles')
        self.assertEqual(dict(sb.LEDGER, color='red'), self.metadata())


class LedgerOnCreateTest(sb.SecurityTestBase):

    SERVER_SPECS = None

    def create(self, role, key_json, version='2.1'):
        raw = ('{"server": {"name": "s", "imageRef": "%s", "flavorRef": '
               '"1", "metadata": %s}}' % (sb.IMAGE, _meta(key_json, '9')))
        if version != '2.1':  # 2.37+ needs networks
            raw = raw.replace('"metadata"', '"networks": "none", "metadata"')
        return self.wsgi('POST', '/v2.1/servers', raw.encode(), role=role,
                         microversion=version)

    def test_member_cannot_preset(self):
        for key_json in SPELLINGS + ('"%s"' % sb.START,):
            for version in ('2.1', '2.96'):
                status, body = self.create('member', key_json, version)
                self.assertRefused(status, body, 403, 'ledger_writer_roles',
                                   'preset')
        self.assertEqual([], self.admin_api.get_servers())

    def test_writer_presets(self):
        status, body = self.create('writer', '"%s"' % sb.USED, '2.96')
        self.assertEqual(202, status, body)
        server = self.wait_for_server(body['server'])
        self.assertEqual({sb.USED: '9'}, self.get_metadata(server))
