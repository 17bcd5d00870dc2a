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

"""Shared set-up of the security test matrix (test_security_*.py).

In-process Nova with the pre-check in both v2.1 pipelines and QSLMFilter
in the scheduler; three callers (admin, a plain member, a member holding
the ledger-writer role); raw WSGI requests through the whole loaded
``osapi_compute`` application (URL map, every middleware, Nova's router)
for the spellings an HTTP client library would normalise away (method
overrides, chunked bodies, raw bytes, odd headers).
"""

import io
import json
import os

import fixtures
from nova.api import wsgi as nova_api_wsgi
from nova import objects
from nova.tests.functional.api import client as api_client
from nova.tests.functional import integrated_helpers
import webob

from tests.functional import base

#: compute-b2 is not attested trusted; the rest are.
TOPOLOGY = """
version: 1
hosts:
  compute-a1: {site: dc-a, trusted: true, mechanisms: [none, tls]}
  compute-a2: {site: dc-a, trusted: true, mechanisms: [none, tls]}
  compute-b1: {site: dc-b, trusted: true, mechanisms: [none, tls]}
  compute-b2: {site: dc-b, trusted: false, mechanisms: [none, tls]}
nodes:
  tor-a: {kind: switch, site: dc-a}
  tor-b: {kind: switch, site: dc-b}
links:
  - {between: [compute-a1, tor-a], bandwidth_gbps: 25, security: private}
  - {between: [compute-a2, tor-a], bandwidth_gbps: 25, security: private}
  - {between: [compute-b1, tor-b], bandwidth_gbps: 25, security: private}
  - {between: [compute-b2, tor-b], bandwidth_gbps: 25, security: private}
  - {between: [tor-a, tor-b], bandwidth_gbps: 10, latency_ms: 2,
     security: private}
"""

TRUSTED = {'qslm:require_trusted_host': 'true'}
USED = 'qslm:downtime_used_ms'
START = 'qslm:budget_period_start'
LEDGER = {USED: '100', START: '2026-11-01'}
UNTRUSTED = 'compute-b2'
#: The role the writer client holds ([qslm] ledger_writer_roles adds it).
WRITER_ROLE = 'qslm-ledger'
ROLES = {'admin': ['reader', 'member', 'admin'],
         'member': ['reader', 'member'],
         'writer': ['reader', 'member', WRITER_ROLE]}
IMAGE = integrated_helpers.nova_fixtures.GlanceFixture.image1['id']


def _fold(host):
    """How MySQL's default collation compares host names."""
    return host.casefold().rstrip(' ')


class MySQLHostCollation(fixtures.Fixture):
    """Nova's host look-ups compare names as MySQL does.

    SQLite compares ``host = :host`` byte for byte; MySQL's default
    collation ignores case and trailing spaces, so there ``COMPUTE-B2``
    and ``compute-b2 `` find the record of ``compute-b2``. The look-ups
    the API and the conductor run for a requested host (compute nodes by
    host, the compute service by host, the host mapping) get that
    behaviour here, for Nova and the pre-check alike: a name is replaced
    by the known host it equals under the collation before the real
    query runs.
    """

    def __init__(self, hosts):
        super().__init__()
        self.hosts = tuple(hosts)

    def _canonical(self, host):
        for name in self.hosts:
            if _fold(name) == _fold(host):
                return name
        return host

    def _setUp(self):
        from nova.db.main import api as db
        nodes_by_host = db.compute_node_get_all_by_host
        service_by_host = db.service_get_by_compute_host
        mapping_by_host = objects.HostMapping.get_by_host
        canonical = self._canonical
        self.useFixture(fixtures.MonkeyPatch(
            'nova.db.main.api.compute_node_get_all_by_host',
            lambda context, host: nodes_by_host(context, canonical(host))))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.db.main.api.service_get_by_compute_host',
            lambda context, host: service_by_host(context,
                                                  canonical(host))))
        self.useFixture(fixtures.MonkeyPatch(
            'nova.objects.HostMapping.get_by_host',
            staticmethod(lambda context, host: mapping_by_host(
                context, canonical(host)))))


class SecurityTestBase(base.QSLMFunctionalTestBase):

    PASTE_FILTERS = (('qslm_precheck', 'qslm_nova.api.precheck:'
                      'filter_factory', {}),)
    EXTRA_FILTERS = ('qslm_nova.scheduler.filters.QSLMFilter',)
    #: Extra specs of self.server's flavor; None: no server.
    SERVER_SPECS = TRUSTED
    SERVER_HOST = 'compute-a1'

    def configure(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        self.topology_path = os.path.join(tmp, 'topology.yaml')
        with open(self.topology_path, 'w') as f:
            f.write(TOPOLOGY)
        self.flags(topology_file=self.topology_path,
                   trust_providers=['static'], max_attestation_age=0,
                   ledger_writer_roles=['admin', WRITER_ROLE.upper()],
                   group='qslm')
        base.reset_engines()
        self.addCleanup(base.reset_engines)

    def setUp(self):
        super().setUp()
        self.writer_api = api_client.TestOpenStackClient(
            'writer', self.api.base_url, project_id=self.api.project_id,
            roles=ROLES['writer'])
        self.writer_api.microversion = self.microversion
        # A second copy of the same osapi_compute application for raw
        # WSGI requests (the fixture's copy sits behind wsgi-intercept).
        self.app = nova_api_wsgi.Loader().load_app('osapi_compute')
        if self.SERVER_SPECS is not None:
            self.flavor = self.create_flavor(extra_specs=self.SERVER_SPECS)
            self.server = self.boot_server(self.SERVER_HOST,
                                           flavor_id=self.flavor)

    def client(self, role):
        return {'admin': self.admin_api, 'member': self.api,
                'writer': self.writer_api}[role]

    def wsgi(self, method, path, body=b'', role='admin', microversion=None,
             query='', content_type='application/json', headers=None,
             chunked=False, terminated=True):
        """One raw request through the loaded application.

        :param path: the full path, with ``/v2.1`` or ``/v2``.
        :param body: bytes, or a value to send as JSON.
        :param chunked: no Content-Length, as a server passes on a chunked
            request (``terminated``: the server marks the input as ending
            at the last chunk, ``wsgi.input_terminated``).
        :returns: (status, decoded JSON body or text).
        """
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        version = microversion or self.microversion
        env = webob.Request.blank(path).environ
        env.update({'REQUEST_METHOD': method, 'PATH_INFO': path,
                    'SCRIPT_NAME': '', 'QUERY_STRING': query,
                    'wsgi.input': io.BytesIO(body)})
        env.pop('CONTENT_LENGTH', None)
        if chunked:
            env['HTTP_TRANSFER_ENCODING'] = 'chunked'
            if terminated:
                env['wsgi.input_terminated'] = True
        else:
            env['CONTENT_LENGTH'] = str(len(body))
        if content_type is not None:
            env['CONTENT_TYPE'] = content_type
        fields = {'X-Auth-User': role, 'X-User-Id': role,
                  'X-Auth-Project-Id': self.api.project_id,
                  'X-Roles': ','.join(ROLES[role]),
                  'X-OpenStack-Nova-API-Version': version,
                  'OpenStack-API-Version': 'compute ' + version}
        fields.update(headers or {})
        for name, value in fields.items():
            env['HTTP_' + name.upper().replace('-', '_')] = value
        resp = webob.Request(env).get_response(self.app)
        try:
            return resp.status_int, json.loads(resp.body)
        except ValueError:
            return resp.status_int, resp.text

    def action_path(self, server=None, prefix='/v2.1'):
        return '%s/servers/%s/action' % (prefix, (server or self.server)['id'])

    # -- Nova's records ----------------------------------------------------
    def host_of(self, server=None):
        return self.server_host(self.get_server(server or self.server))

    def migrations_of(self, server=None, migration_type=None):
        return self.get_migrations(server or self.server, migration_type)

    def assertStays(self, server=None, host=None, migration_type=None):
        """Nova records no move: same host, no migration record, settled.
        """
        server = server or self.server
        now = self.get_server(server)
        self.assertEqual(host or self.SERVER_HOST, self.server_host(now))
        self.assertIsNone(now.get('OS-EXT-STS:task_state'))
        self.assertEqual([], self.migrations_of(server, migration_type))

    def assertRefused(self, status, body, code, *fragments):
        self.assertEqual(code, status, body)
        fault = list(body.values())[0]
        for fragment in fragments:
            self.assertIn(fragment, fault['message'])

    def take_down(self, host):
        """Stop a compute and mark its service forced down (evacuation)."""
        self.computes[host].stop()
        service = self.admin_api.get_services(host=host,
                                              binary='nova-compute')[0]
        self.admin_api.put_service(service['id'], {'forced_down': True})

    def disable(self, *hosts):
        for host in hosts:
            service = self.admin_api.get_services(
                host=host, binary='nova-compute')[0]
            self.admin_api.put_service(service['id'], {'status': 'disabled'})
