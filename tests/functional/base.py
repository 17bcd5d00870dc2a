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

"""In-process Nova functional test base for qslm-nova.

Real nova-api (paste pipeline through wsgi-intercept), conductor, scheduler,
placement and fake computes, all from Nova's own functional fixtures. See
``QSLMFunctionalTestBase`` for the knobs a subclass sets.
"""

import os
import sys
import time

import fixtures
from nova import exception
from nova.tests.functional.api import client as api_client
from nova.tests.functional import integrated_helpers
from oslo_serialization import jsonutils

from qslm_nova.api import precheck
from qslm_nova.scheduler import request as qslm_request

#: Final statuses of a live-migration record (nova.objects.migration).
MIGRATION_FINAL_STATUSES = ('completed', 'error', 'failed', 'cancelled')

#: Composite sections of api-paste.ini that carry the v2.1 pipelines.
V21_PIPELINE_SECTIONS = ('composite:openstack_compute_api_v21',
                         'composite:openstack_compute_api_v21_legacy_v2_'
                         'compatible')

#: Microversion that still accepts ``force`` on os-migrateLive (removed
#: in 2.68).
FORCE_MICROVERSION = '2.67'


def reset_engines():
    """Forget the Engines of the scheduler and of the API pre-check."""
    qslm_request.ENGINES.reset()
    precheck.ENGINES.reset()


def find_nova_api_paste():
    """Return the path of the api-paste.ini shipped with the nova wheel."""
    candidate = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
    if os.path.exists(candidate):
        return candidate
    try:
        from importlib import metadata
        for f in metadata.distribution('nova').files or ():
            if str(f).endswith(os.path.join('nova', 'api-paste.ini')):
                path = str(f.locate())
                if os.path.exists(path):
                    return path
    except Exception:  # noqa: fall through to the error below
        pass
    raise RuntimeError('cannot find nova api-paste.ini (looked in %s)'
                       % candidate)


def insert_paste_filters(text, paste_filters, after='keystonecontext'):
    """Return api-paste.ini ``text`` with paste filters added.

    :param paste_filters: sequence of (name, factory, local_conf) where
        factory is 'module:callable' for ``paste.filter_factory`` and
        local_conf a dict of extra options for the [filter:name] section.
    :param after: pipeline element after which the filters are inserted
        in the v2.1 pipelines (names in order).
    """
    if not paste_filters:
        return text
    names = ' '.join(name for name, _factory, _conf in paste_filters)
    out = []
    section = None
    inserted = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith('[') and stripped.endswith(']'):
            section = stripped[1:-1].strip()
        elif (section in V21_PIPELINE_SECTIONS and
                not stripped.startswith('#') and '=' in stripped):
            key, _sep, value = line.partition('=')
            if key.strip() in ('keystone', 'noauth2'):
                parts = value.split()
                if after in parts:
                    parts.insert(parts.index(after) + 1, names)
                    line = '%s= %s' % (key, ' '.join(parts))
                    inserted += 1
        out.append(line)
    if not inserted:
        raise RuntimeError('no v2.1 pipeline with %r found' % after)
    for name, factory, conf in paste_filters:
        out.append('')
        out.append('[filter:%s]' % name)
        out.append('paste.filter_factory = %s' % factory)
        for key, value in sorted((conf or {}).items()):
            out.append('%s = %s' % (key, value))
    return '\n'.join(out) + '\n'


class QSLMFunctionalTestBase(integrated_helpers.ProviderUsageBaseTestCase):
    """Nova in-process with N fake computes and qslm knobs.

    Subclasses set class attributes, all applied before the API, the
    scheduler and the computes start:

    * ``COMPUTE_HOSTS``: compute host names to start (fake driver with live
      migration support).
    * ``EXTRA_FILTERS``: dotted class paths added to
      ``[filter_scheduler] available_filters`` and, by class name, to
      ``enabled_filters`` (after Nova's defaults).
    * ``EXTRA_WEIGHERS``: dotted class paths appended to ``weight_classes``
      (after ``nova.scheduler.weights.all_weighers``).
    * ``PASTE_FILTERS``: (name, 'module:factory', {opts}) paste filters
      inserted in the v2.1 pipelines right after ``keystonecontext``.
    * ``configure()``: override for extra ``self.flags(...)``.
    """

    #: Plain fake driver: live_migration() calls post_method at once.
    compute_driver = 'fake.MediumFakeDriver'
    #: Default microversion of both clients (>= 2.74 for 'host' on boot).
    microversion = '2.96'
    COMPUTE_HOSTS = ('compute-a1', 'compute-a2', 'compute-b1', 'compute-b2')
    EXTRA_FILTERS = ()
    EXTRA_WEIGHERS = ()
    PASTE_FILTERS = ()
    #: Timeout for the wait_* helpers, seconds. A live migration takes
    #: about 7 s here, but one took 22 s on a loaded 2-core machine; a
    #: migration that never ends still fails the test.
    WAIT_TIMEOUT = 60.0
    WAIT_INTERVAL = 0.05

    def configure(self):
        """Hook: extra self.flags(...) before any service starts."""

    def setUp(self):
        # Everything here must happen before ProviderUsageBaseTestCase
        # starts the API (loads paste) and the scheduler (loads filters).
        self._configure_api_paste()
        self._configure_scheduler()
        self.configure()
        super().setUp()
        # ProviderUsageBaseTestCase makes self.api the admin client; keep
        # a real non-admin tenant client (same project) as self.api.
        self.api = self.api_fixture.api
        self.api.microversion = self.microversion
        self.admin_api.microversion = self.microversion
        for host in self.COMPUTE_HOSTS:
            self._start_compute(host)

    # -- configuration -----------------------------------------------------

    def _configure_scheduler(self):
        if self.EXTRA_FILTERS:
            from nova.conf import scheduler as sched_conf
            default = [o for o in sched_conf.filter_scheduler_opts
                       if o.name == 'enabled_filters'][0].default
            enabled = list(default) + [
                path.rsplit('.', 1)[1] for path in self.EXTRA_FILTERS]
            self.flags(available_filters=(
                ['nova.scheduler.filters.all_filters'] +
                list(self.EXTRA_FILTERS)),
                enabled_filters=enabled, group='filter_scheduler')
        if self.EXTRA_WEIGHERS:
            self.flags(weight_classes=(
                ['nova.scheduler.weights.all_weighers'] +
                list(self.EXTRA_WEIGHERS)), group='filter_scheduler')

    def _configure_api_paste(self):
        src = find_nova_api_paste()
        if not self.PASTE_FILTERS:
            self.flags(api_paste_config=src, group='wsgi')
            return
        with open(src) as f:
            text = insert_paste_filters(f.read(), self.PASTE_FILTERS)
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'api-paste.ini')
        with open(path, 'w') as f:
            f.write(text)
        self.paste_config_path = path
        self.flags(api_paste_config=path, group='wsgi')

    # -- generic helpers ---------------------------------------------------

    def _client(self, admin):
        return self.admin_api if admin else self.api

    def raw_request(self, method, path, body=None, admin=False,
                    microversion=None):
        """Send a request, never raise on status; return APIResponse."""
        api = self._client(admin)
        kwargs = {'method': method, 'check_response_status': None}
        if body is not None:
            kwargs['body'] = jsonutils.dumps(body)
        old = api.microversion
        if microversion:
            api.microversion = microversion
        try:
            return api_client.APIResponse(api.api_request(path, **kwargs))
        finally:
            api.microversion = old

    def wait_until(self, predicate, what, timeout=None):
        """Poll predicate() until it returns a truthy value; return it."""
        deadline = time.monotonic() + (timeout or self.WAIT_TIMEOUT)
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail('timed out waiting for %s' % what)
            time.sleep(self.WAIT_INTERVAL)

    # -- flavors and servers -----------------------------------------------

    def create_flavor(self, extra_specs=None, memory_mb=1024, vcpu=1,
                      disk=10, name=None):
        """Create a public flavor (admin API) with extra specs; return id."""
        return self._create_flavor(
            name=name, memory_mb=memory_mb, vcpu=vcpu, disk=disk,
            ephemeral=0, extra_spec=extra_specs)

    def boot_server(self, host, flavor_id=None, name=None,
                    expected_state='ACTIVE'):
        """Boot a server on ``host`` (admin, 'host' field, 2.74+).

        The server belongs to the shared test project, so the non-admin
        client (self.api) can see and change it too. The scheduler runs
        (with requested_destination=host), so filters must let boots pass.
        """
        image = integrated_helpers.nova_fixtures.GlanceFixture.image1
        body = self._build_server(
            name=name, image_uuid=image['id'],
            flavor_id=flavor_id, networks='none', host=host)
        server = self.admin_api.post_server({'server': body})
        server = self.wait_for_server(server, status=expected_state)
        if expected_state == 'ACTIVE':
            self.assertEqual(host, self.server_host(server))
        return server

    def get_server(self, server, admin=True):
        return self._client(admin).get_server(server['id'])

    @staticmethod
    def server_host(server):
        return server['OS-EXT-SRV-ATTR:host']

    def wait_for_server(self, server, status='ACTIVE', host=None):
        """Wait until status (and host if given) and no task_state."""
        def _check():
            s = self.admin_api.get_server(server['id'])
            if (s['status'] == status and
                    s.get('OS-EXT-STS:task_state') is None and
                    (host is None or self.server_host(s) == host)):
                return s
        return self.wait_until(
            _check, 'server %s status=%s host=%s'
            % (server['id'], status, host))

    # -- live migration ----------------------------------------------------

    @staticmethod
    def live_migrate_body(host=None, force=None, block_migration='auto'):
        body = {'host': host, 'block_migration': block_migration}
        if force is not None:
            body['force'] = force
        return {'os-migrateLive': body}

    def live_migrate(self, server, host=None, force=None,
                     block_migration='auto', admin=True, microversion=None):
        """POST os-migrateLive; return the raw APIResponse (no raise).

        ``force`` needs microversion <= 2.67; it is used automatically
        when force is given and no microversion is.
        """
        if force is not None and microversion is None:
            microversion = FORCE_MICROVERSION
        return self.raw_request(
            'POST', '/servers/%s/action' % server['id'],
            self.live_migrate_body(host, force, block_migration),
            admin=admin, microversion=microversion)

    def get_migrations(self, server=None, migration_type='live-migration'):
        """os-migrations (admin) for server, oldest first."""
        path = '/os-migrations'
        if server is not None:
            path += '?instance_uuid=%s' % server['id']
        migrations = self.admin_api.api_get(path).body['migrations']
        if migration_type:
            migrations = [m for m in migrations
                          if m.get('migration_type') == migration_type]
        return sorted(migrations, key=lambda m: m['id'])

    def wait_for_migration(self, server, after_id=0,
                           statuses=MIGRATION_FINAL_STATUSES):
        """Wait for the newest live migration with id > after_id.

        Waits until its status is one of ``statuses``; returns the record.
        """
        def _check():
            migs = [m for m in self.get_migrations(server)
                    if m['id'] > after_id]
            if migs and migs[-1]['status'] in statuses:
                return migs[-1]
        return self.wait_until(
            _check, 'migration of %s in %s' % (server['id'], statuses))

    def live_migrate_and_wait(self, server, host=None, force=None,
                              block_migration='auto', expected_status=202):
        """Live-migrate and wait for the final record and a settled server.

        Returns (server, migration, seconds); migration is None when the
        API refused the request (then expected_status is not 202).
        """
        before = self.get_migrations(server)
        after_id = before[-1]['id'] if before else 0
        start = time.monotonic()
        resp = self.live_migrate(server, host=host, force=force,
                                 block_migration=block_migration)
        self.assertEqual(expected_status, resp.status, resp.body)
        if resp.status != 202:
            return self.get_server(server), None, 0.0
        migration = self.wait_for_migration(server, after_id)
        if migration['status'] == 'completed':
            server = self.wait_for_server(server,
                                          host=migration['dest_compute'])
        else:
            server = self.wait_for_server(server)
        return server, migration, time.monotonic() - start

    def fail_live_migration_precheck(self, *hosts):
        """Make the destination pre-check fail on ``hosts``.

        The conductor then drops the host, adds it to
        RequestSpec.ignore_hosts and asks the scheduler again (up to
        [DEFAULT] migrate_max_retries), which exercises filter retries.
        """
        for host in hosts:
            driver = self.computes[host].manager.driver
            self.useFixture(fixtures.MockPatchObject(
                driver, 'check_can_live_migrate_destination',
                side_effect=exception.MigrationPreCheckError(
                    reason='test: pre-check fails on %s' % host)))

    # -- metadata ----------------------------------------------------------

    def set_metadata(self, server, metadata, admin=False):
        """POST (merge) server metadata; return the raw APIResponse."""
        return self.raw_request('POST', '/servers/%s/metadata' % server['id'],
                                {'metadata': metadata}, admin=admin)

    def put_metadata_item(self, server, key, value, admin=False):
        """PUT one metadata key; return the raw APIResponse."""
        return self.raw_request(
            'PUT', '/servers/%s/metadata/%s' % (server['id'], key),
            {'meta': {key: value}}, admin=admin)

    def delete_metadata_item(self, server, key, admin=False):
        """DELETE one metadata key; return the raw APIResponse."""
        return self.raw_request(
            'DELETE', '/servers/%s/metadata/%s' % (server['id'], key),
            admin=admin)

    def get_metadata(self, server):
        return self.admin_api.api_get(
            '/servers/%s/metadata' % server['id']).body['metadata']
