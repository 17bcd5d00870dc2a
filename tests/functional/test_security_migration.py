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

"""Security matrix: live migrations and evacuations, forced and not.

The instance requires trusted hosts and sits on compute-a1; compute-b2
is untrusted. Every microversion form of ``os-migrateLive`` and
``evacuate``, plain and escaped, admin and member; Nova's records (the
instance's host, migration records) show what happened.
"""

import json

from nova import context as nova_context
from nova import objects

from tests.functional import security_base as sb

#: (microversion, extra arguments) of os-migrateLive; before 2.30 a host
#: is always forced, 2.30-2.67 with force, from 2.68 never.
LIVE_FORMS = (
    ('2.1', {'block_migration': False, 'disk_over_commit': False}),
    ('2.25', {'block_migration': 'auto'}),
    ('2.30', {'block_migration': 'auto', 'force': True}),
    ('2.67', {'block_migration': 'auto', 'force': True}),
    ('2.67', {'block_migration': 'auto', 'force': False}),
    ('2.68', {'block_migration': 'auto'}),
    ('2.96', {'block_migration': 'auto'}),
    ('latest', {'block_migration': 'auto'}),
)
#: The same for evacuate: before 2.29 a host is forced, 2.29-2.67 with
#: force, from 2.68 through the scheduler; 2.95 stops the instance.
EVACUATE_FORMS = (
    ('2.1', {'onSharedStorage': False}),
    ('2.14', {}),
    ('2.29', {'force': True}),
    ('2.67', {'force': True}),
    ('2.68', {}),
    ('2.95', {}),
    ('latest', {}),
)


def _escaped(action, args):
    """The body with every character of the action name escaped."""
    name = ''.join('\\u%04x' % ord(c) for c in action)
    return ('{"%s": %s}' % (name, json.dumps(args))).encode()


class LiveMigrationMatrixTest(sb.SecurityTestBase):

    def test_untrusted_host_refused_in_every_form(self):
        for version, extra in LIVE_FORMS:
            args = dict(extra, host=sb.UNTRUSTED)
            for raw in (_escaped('os-migrateLive', args),
                        {'os-migrateLive': args}):
                status, body = self.wsgi('POST', self.action_path(), raw,
                                         microversion=version)
                self.assertRefused(status, body, 409, 'compute-b2',
                                   'not trusted')
                # A member (a ledger writer too) is refused by Nova's
                # policy before any decision is made or revealed.
                for role in ('member', 'writer'):
                    status, body = self.wsgi('POST', self.action_path(), raw,
                                             role=role, microversion=version)
                    self.assertEqual(403, status, body)
                    self.assertIn('migrate_live',
                                  body['forbidden']['message'])
        self.assertStays()

    def test_escaped_forced_to_trusted_host_goes_through(self):
        raw = _escaped('os-migrateLive', {'host': 'compute-b1',
                                          'block_migration': 'auto',
                                          'force': True})
        status, body = self.wsgi('POST', self.action_path(), raw,
                                 microversion='2.67')
        self.assertEqual(202, status, body)
        migration = self.wait_for_migration(self.server)
        self.assertEqual('completed', migration['status'])
        self.wait_for_server(self.server, host='compute-b1')
        self.assertIn('allowed', [line for line in
                                  self.stdlog.logger.output.splitlines()
                                  if 'QSLM pre-check: request' in line][-1])

    def test_no_host_lands_on_trusted_host(self):
        # Only the untrusted host is up besides the source: refused at the
        # API at once, at every microversion.
        self.disable('compute-a2', 'compute-b1')
        for version, extra in LIVE_FORMS:
            status, body = self.wsgi(
                'POST', self.action_path(),
                {'os-migrateLive': dict(extra, host=None)},
                microversion=version)
            self.assertRefused(status, body, 409, 'none of the 1 candidate',
                               'not trusted')
        self.assertStays()


class EvacuationMatrixTest(sb.SecurityTestBase):

    def setUp(self):
        super().setUp()
        self.take_down('compute-a1')

    def evacuate(self, version, extra, host, role='admin', escaped=False):
        args = dict(extra)
        if host is not None:
            args['host'] = host
        raw = (_escaped('evacuate', args) if escaped else
               {'evacuate': args})
        return self.wsgi('POST', self.action_path(), raw, role=role,
                         microversion=version)

    def test_named_untrusted_host_refused_in_every_form(self):
        for version, extra in EVACUATE_FORMS:
            for escaped in (False, True):
                status, body = self.evacuate(version, extra, sb.UNTRUSTED,
                                             escaped=escaped)
                self.assertRefused(status, body, 409, 'evacuation',
                                   'compute-b2', 'not trusted')
                for role in ('member', 'writer'):
                    status, body = self.evacuate(version, extra,
                                                 sb.UNTRUSTED, role=role,
                                                 escaped=escaped)
                    self.assertEqual(403, status, body)
        self.assertStays()

    def test_forced_to_trusted_host_goes_through(self):
        status, body = self.evacuate('2.67', {'force': True}, 'compute-b1',
                                     escaped=True)
        self.assertEqual(200, status, body)
        self.wait_for_server(self.server, host='compute-b1')
        (migration,) = self.migrations_of(migration_type='evacuation')
        self.assertEqual('compute-b1', migration['dest_compute'])

    def test_scheduled_evacuation_judged_by_the_filter(self):
        # No host: the scheduler picks, and QSLMFilter drops compute-b2.
        self.disable('compute-a2', 'compute-b1')
        status, body = self.evacuate('2.68', {}, None)
        self.assertEqual(200, status, body)
        migration = self.wait_until(
            lambda: [m for m in self.migrations_of(
                migration_type='evacuation') if m['status'] in
                ('error', 'failed', 'done', 'completed')],
            'evacuation record')[0]
        self.assertEqual('error', migration['status'])
        self.assertEqual('compute-a1', self.host_of())
        self.assertIn('QSLM removed all 1 candidate hosts for the '
                      'evacuation of instance %s' % self.server['id'],
                      self.stdlog.logger.output)

    def test_option_off_lets_evacuations_pass(self):
        self.flags(check_non_live_moves=False, group='qslm')
        status, body = self.evacuate('2.67', {'force': True}, sb.UNTRUSTED)
        self.assertEqual(200, status, body)
        self.wait_for_server(self.server, host=sb.UNTRUSTED)


class HostCollationTest(sb.SecurityTestBase):
    """Host names that differ only in case or trailing space.

    With MySQL's collation Nova finds ``COMPUTE-B2`` and ``compute-b2 ``
    as compute-b2; the pre-check asks the same look-ups and judges the
    host they find.
    """

    def setUp(self):
        self.useFixture(sb.MySQLHostCollation(self.COMPUTE_HOSTS))
        super().setUp()

    def test_nova_finds_the_variants(self):
        ctxt = nova_context.get_admin_context()
        for name in ('COMPUTE-B2', 'Compute-B2 ', 'compute-b2  '):
            nodes = objects.ComputeNodeList.get_all_by_host(ctxt, name)
            self.assertEqual(['compute-b2'], [n.host for n in nodes])
            self.assertEqual('compute-b2', objects.Service.get_by_compute_host(
                ctxt, name).host)
            self.assertEqual('compute-b2',
                             objects.HostMapping.get_by_host(ctxt, name).host)

    def test_variants_refused(self):
        for name in ('COMPUTE-B2', 'Compute-b2', 'compute-b2 '):
            for version, extra in (('2.30', {'force': True}),
                                   ('2.67', {'force': True}), ('2.1', {
                                       'block_migration': False,
                                       'disk_over_commit': False})):
                status, body = self.wsgi(
                    'POST', self.action_path(),
                    {'os-migrateLive': dict(extra, host=name,
                                            block_migration=extra.get(
                                                'block_migration', 'auto'))},
                    microversion=version)
                # 409: judged as compute-b2; 400: Nova's schema refuses a
                # space in a host name before anything happens.
                self.assertIn(status, (400, 409), (name, body))
                if name.strip() == name:
                    self.assertRefused(status, body, 409, 'compute-b2',
                                       'not trusted')
        self.take_down('compute-a1')
        for name in ('COMPUTE-B2', 'compute-B2'):
            status, body = self.wsgi(
                'POST', self.action_path(),
                {'evacuate': {'host': name, 'force': True}},
                microversion='2.67')
            self.assertRefused(status, body, 409, 'compute-b2',
                               'not trusted')
        self.assertStays()
