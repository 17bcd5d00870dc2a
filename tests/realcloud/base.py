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

"""A running real cloud for end-to-end scenarios.

``tools/cloud/run-tests`` (or ``tox -e realcloud``) starts the cloud and
exports ``QSLM_CLOUD_JSON``, the ``cloud.json`` that ``tools/cloud/start``
wrote. Without it these tests skip, saying how to run them; with it, a
cloud that does not answer fails them.

:class:`RealCloudTestCase` gives a scenario:

* ``self.cloud``: the :class:`RealCloud` (hosts, files, accounts);
* ``self.nova(account, microversion)``: a novaclient as ``qslm-admin``,
  ``qslm-member`` (the tenant) or ``qslm-ledger`` (the ledger writer);
* ``self.boot(...)``, ``self.live_migrate(...)``, ``self.wait_server``;
* ``self.record(kind, **figures)``: a measurement, printed by the runner.
"""

import json
import os
import subprocess
import sys
import time
import uuid

from keystoneauth1 import loading
from keystoneauth1 import session as ks_session
from novaclient import client as nova_client
from novaclient import exceptions as nova_exc
import testtools
import yaml

ENV = 'QSLM_CLOUD_JSON'
#: Deadlines, generous: the machine is small and shared.
BOOT_TIMEOUT = 600
MIGRATION_TIMEOUT = 900
#: The newest compute API microversion the installed novaclient speaks.
MICROVERSION = '2.96'


class RealCloud(object):
    """What ``tools/cloud/start`` reported about the cloud it started."""

    def __init__(self, path):
        with open(path) as f:
            self.info = json.load(f)
        self.path = path
        self.hosts = list(self.info['hosts'])
        self.clouds_yaml = self.info['clouds_yaml']
        self.nova_conf = self.info['nova_conf']
        self.log_dir = self.info['log_dir']
        self.virt_driver = self.info['virt_driver']
        self.image_id = self.info['image']['qslm-guest']
        self.measurements = os.path.join(os.path.dirname(path),
                                         'measurements.jsonl')
        with open(self.clouds_yaml) as f:
            self._clouds = yaml.safe_load(f)['clouds']
        self._sessions = {}

    def session(self, account='qslm-admin'):
        if account not in self._sessions:
            entry = self._clouds[account]
            auth = loading.get_plugin_loader('password').load_from_options(
                **entry['auth'])
            self._sessions[account] = ks_session.Session(auth=auth,
                                                         timeout=120)
        return self._sessions[account]

    def nova(self, account='qslm-admin', microversion=MICROVERSION):
        return nova_client.Client(
            microversion, session=self.session(account),
            region_name=self._clouds[account]['region_name'], timeout=120)

    def libvirt_uri(self, host):
        """URI of *host*'s own libvirtd (libvirt computes only)."""
        sock = self.info['compute_hosts'][host]['libvirt_socket']
        return 'qemu+unix:///system?socket=%s' % sock

    def completed_job(self, host, server_id):
        """libvirt's statistics of the migration that brought the guest.

        Read on the destination: libvirt keeps the completed job of an
        incoming migration (downtime, total time, data) with the domain.
        """
        import libvirt
        conn = libvirt.open(self.libvirt_uri(host))
        try:
            dom = conn.lookupByUUIDString(server_id)
            # Kept for the host's agent, which reads them too.
            return dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED |
                                libvirt.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED)
        finally:
            conn.close()

    def log(self, service):
        with open(os.path.join(self.log_dir, service + '.log'),
                  errors='replace') as f:
            return f.read()


_CLOUD = None


def cloud():
    """The cloud of this run, loaded once per test process."""
    global _CLOUD
    if _CLOUD is None:
        path = os.environ.get(ENV)
        if not path:
            raise testtools.TestCase.skipException(
                'no real cloud: run tools/cloud/run-tests (or tox -e '
                'realcloud), which starts one and sets %s' % ENV)
        _CLOUD = RealCloud(path)
    return _CLOUD


class RealCloudTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.cloud = cloud()
        self.admin = self.cloud.nova('qslm-admin')
        self.started = time.monotonic()
        self.addCleanup(self._record_time)

    def _record_time(self):
        self.record('scenario', seconds=round(
            time.monotonic() - self.started, 1))

    def nova(self, account='qslm-admin', microversion=MICROVERSION):
        return self.cloud.nova(account, microversion)

    def run_command(self, name, argv):
        """Run a console script of this Python against the cloud.

        With the cloud's clouds.yaml and none of the caller's OS_*
        credentials.
        """
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=self.cloud.clouds_yaml)
        for key in [k for k in env if k.startswith('OS_') and k not in (
                'OS_CLIENT_CONFIG_FILE', 'OS_NOVA_DISABLE_EVENTLET_PATCHING',
                'OS_TEST_TIMEOUT')]:
            del env[key]
        exe = os.path.join(os.path.dirname(sys.executable), name)
        return subprocess.run([exe] + argv, env=env, capture_output=True,
                              text=True, timeout=300)

    def qslm_nova(self, *args, account='qslm-admin'):
        """``qslm-nova`` in live mode with the scheduler's nova.conf."""
        return self.run_command(
            'qslm-nova', ['--config-file', self.cloud.nova_conf] +
            list(args) + ['--os-cloud', account])

    def openstack_qslm(self, *args, account='qslm-admin'):
        """``openstack qslm``, the OSC plugin, as :meth:`qslm_nova`."""
        return self.run_command(
            'openstack', ['--os-cloud', account, 'qslm'] + list(args) +
            ['--config-file', self.cloud.nova_conf])

    def record(self, kind, **figures):
        """Append a measurement for tools/cloud/run-tests to print."""
        entry = dict(figures, kind=kind, test=self.id().rsplit('.', 2)[-2:])
        entry['test'] = '.'.join(entry['test'])
        with open(self.cloud.measurements, 'a') as f:
            f.write(json.dumps(entry, sort_keys=True) + '\n')

    def unique(self, prefix):
        return '%s-%s' % (prefix, uuid.uuid4().hex[:8])

    # -- flavors and servers ------------------------------------------
    def flavor(self, extra_specs=None, ram=64, disk=1):
        flavor = self.admin.flavors.create(self.unique('qslm-rc'), ram, 1,
                                           disk, is_public=True)
        self.addCleanup(self._quietly, self.admin.flavors.delete, flavor)
        if extra_specs:
            flavor.set_keys(extra_specs)
        return flavor

    def boot(self, flavor, host, account='qslm-admin', metadata=None):
        """A server on *host*, ACTIVE; deleted at clean-up."""
        nova = self.nova(account)
        kwargs = {}
        if account == 'qslm-admin':
            kwargs['host'] = host
        else:
            kwargs['availability_zone'] = None
        server = nova.servers.create(
            self.unique('rc'), self.cloud.image_id, flavor, nics='none',
            meta=metadata, **kwargs)
        self.addCleanup(self._delete_server, server.id)
        server = self.wait_server(server.id, 'ACTIVE', BOOT_TIMEOUT)
        return server

    def _delete_server(self, server_id):
        try:
            self.admin.servers.delete(server_id)
        except nova_exc.NotFound:
            return
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            try:
                self.admin.servers.get(server_id)
            except nova_exc.NotFound:
                return
            time.sleep(1)

    @staticmethod
    def _quietly(func, *args):
        try:
            func(*args)
        except nova_exc.NotFound:
            pass

    def host_of(self, server):
        return getattr(server, 'OS-EXT-SRV-ATTR:host')

    def wait_server(self, server_id, status, timeout, task_state=None):
        deadline = time.monotonic() + timeout
        while True:
            server = self.admin.servers.get(server_id)
            task = getattr(server, 'OS-EXT-STS:task_state', None)
            if server.status == status and task == task_state:
                return server
            if server.status == 'ERROR':
                self.fail('server %s went to ERROR: %s' % (
                    server_id, getattr(server, 'fault', None)))
            if time.monotonic() > deadline:
                self.fail('server %s is %s/%s after %d s, expected %s' % (
                    server_id, server.status, task, timeout, status))
            time.sleep(1)

    # -- live migration -----------------------------------------------
    def migrations(self, server_id):
        return self.admin.migrations.list(instance_uuid=server_id,
                                          migration_type='live-migration')

    def live_migrate(self, server, host=None, force=None):
        """Ask Nova; return the finished Nova migration record."""
        nova = self.admin
        if force is not None:
            nova = self.nova(microversion='2.30')
        before = {m.id for m in self.migrations(server.id)}
        started = time.monotonic()
        if force is None:
            nova.servers.live_migrate(server.id, host, 'auto')
        else:
            nova.servers.live_migrate(server.id, host, 'auto', force=force)
        deadline = started + MIGRATION_TIMEOUT
        while True:
            new = [m for m in self.migrations(server.id)
                   if m.id not in before]
            if new and new[0].status in ('completed', 'error', 'failed',
                                         'cancelled'):
                break
            if time.monotonic() > deadline:
                self.fail('live migration of %s not finished in %d s: %s'
                          % (server.id, MIGRATION_TIMEOUT,
                             [m.status for m in new]))
            time.sleep(1)
        self.wait_server(server.id, 'ACTIVE', BOOT_TIMEOUT)
        migration = new[0]
        migration.wall_seconds = round(time.monotonic() - started, 1)
        return migration
