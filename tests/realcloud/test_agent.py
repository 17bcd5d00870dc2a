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

"""qslm-nova-agent beside each libvirt nova-compute of the real cloud.

The agents run as Nova's service user (project ``service``, roles admin
and service; admin is in ``[qslm] ledger_writer_roles``), configured by
the devstack plugin (tools/cloud/agents.py). Every assertion reads
Nova's or Placement's own records: the server's metadata, the Nova
migration record, the compute node provider's traits, the scheduler's
decision.
"""

import json
import os
import signal
import subprocess
import time

from keystoneauth1 import adapter
from novaclient import exceptions as nova_exc

from qslm_nova.agent import ledger as agent_ledger
from qslm_nova.agent import spool as spool_mod
from qslm_nova import estimator
from qslm_nova import policy
from qslm_nova.profile import traits
from tests.realcloud import base

#: Deadline for an agent to charge or publish (it publishes at start-up
#: after its once-per-boot cipher measurement).
AGENT_TIMEOUT = 180
#: The cloud's [qslm] host_profile_refresh (tools/cloud/bootstrap.py),
#: plus a margin.
PROFILE_REFRESH_S = 20


class AgentTestCase(base.RealCloudTestCase):

    def setUp(self):
        super().setUp()
        if self.cloud.virt_driver != 'libvirt':
            self.skipTest('the agents run beside libvirt computes only')
        self.agents = self.cloud.info['agents']

    def placement(self):
        return adapter.Adapter(self.cloud.session('qslm-admin'),
                               service_type='placement',
                               region_name=self.cloud.info['region'],
                               default_microversion='1.6')

    def traits_of(self, host):
        api = self.placement()
        rps = api.get('/resource_providers', params={'name': host},
                      raise_exc=True).json()['resource_providers']
        self.assertEqual(1, len(rps), rps)
        return set(api.get('/resource_providers/%s/traits' % rps[0]['uuid'],
                           raise_exc=True).json()['traits'])

    def published_profile(self, host):
        deadline = time.monotonic() + AGENT_TIMEOUT
        while True:
            found = traits.decode(host, self.traits_of(host))
            if found is not None:
                return found
            if time.monotonic() > deadline:
                self.fail('%s\'s agent published no profile in %d s (log: '
                          '%s)' % (host, AGENT_TIMEOUT, os.path.join(
                              self.cloud.log_dir, 'qslm-agent-%s.log'
                              % host)))
            time.sleep(2)

    def settled(self, host, server_id):
        """[(MeasuredMigration, Nova migration id, result, done_at)] of
        the server in *host*'s agent history, once there is one (each
        agent settles on its own: the source's may record the migration
        after the destination's has charged it).
        """
        deadline = time.monotonic() + AGENT_TIMEOUT
        while True:
            spool = spool_mod.Spool(self.agents[host]['state_path'])
            try:
                found = [h for h in spool.history()
                         if h[0].instance_uuid == server_id]
            finally:
                spool.close()
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


class TestMeasuredDowntimeCharged(AgentTestCase):

    def test_destination_agent_charges_libvirts_downtime(self):
        # The tenant's server; its ledger is another project's metadata
        # for the agent.
        server = self.boot(self.flavor(), None, account='qslm-member')
        migration = self.live_migrate(server)
        self.assertEqual('completed', migration.status)
        dest = migration.dest_compute
        seen = time.monotonic()
        deadline = seen + AGENT_TIMEOUT
        while True:
            metadata = self.admin.servers.get(server.id).metadata
            if policy.LEDGER_USED in metadata:
                break
            if time.monotonic() > deadline:
                self.fail('no ledger charge for migration %s in %d s (log: '
                          '%s)' % (migration.id, AGENT_TIMEOUT,
                                   self.cloud.log('qslm-agent-%s' % dest)
                                   [-3000:]))
            time.sleep(0.5)
        # What libvirt measured on the destination is what was charged,
        # keyed by Nova's migration id.
        job = self.cloud.completed_job(dest, server.id)
        self.assertEqual(str(int(round(job['downtime']))),
                         metadata[policy.LEDGER_USED])
        self.assertEqual([str(migration.id)], agent_ledger.parse_charged(
            metadata[policy.LEDGER_CHARGED]))
        (measured, mid, _result, done_at), = self.settled(dest, server.id)
        self.assertEqual(str(migration.id), mid)
        self.assertEqual(job['downtime'], measured.downtime_ms)
        self.record('agent-charge', server=server.id, dest=dest,
                    downtime_ms=job['downtime'],
                    end_to_charge_ms=round((done_at - measured.ended_at)
                                           * 1000.0))
        # The source's agent recorded the same migration and charged
        # nothing: the ledger holds one charge.
        source = migration.source_compute
        (out, out_mid, _r, _at), = self.settled(source, server.id)
        self.assertEqual((str(migration.id), None), (out_mid, out.charge_ms))
        time.sleep(5)
        self.assertEqual(metadata, self.admin.servers.get(server.id).metadata)


class TestPublishedProfile(AgentTestCase):

    def test_traits_are_what_each_hosts_nova_does(self):
        import libvirt
        for host in self.cloud.hosts:
            found = self.published_profile(host)
            self.assertEqual((), found.errors)
            # compute-*.conf: live_migration_scheme tcp, neither native
            # TLS nor tunnelling; no QEMU certificates in the host's
            # /etc/pki: plain TCP out, no TLS in.
            self.assertEqual(('none', False),
                             (found.transport, found.accepts_tls))
            self.assertEqual(os.cpu_count(), found.cores)
            conn = libvirt.open(self.cloud.libvirt_uri(host))
            try:
                self.assertEqual(conn.getLibVersion(), found.libvirt_version)
            finally:
                conn.close()

    def test_scheduler_and_api_read_the_published_transport(self):
        # The topology file says cmp-1 and cmp-2 migrate with tls; their
        # agents say Nova migrates in plain TCP and has no QEMU
        # certificates.
        source, dest = self.cloud.hosts[:2]
        self.published_profile(source)
        time.sleep(PROFILE_REFRESH_S)
        # Nova's scheduler moves a server by the profile and says so.
        server = self.boot(self.flavor({'qslm:require_trusted_host':
                                        'true'}), source)
        migration = self.live_migrate(server)
        self.assertEqual(('completed', dest),
                         (migration.status, migration.dest_compute))
        log = self.cloud.log('nova-scheduler')
        self.assertIn('for %s but its Nova migrates with none (published '
                      'profile); the decision uses the published profile'
                      % source, log)
        # A server that requires encryption may not leave a host whose
        # Nova migrates in plain TCP: nova-api's pre-check refuses, by
        # the same profile, before Nova records a migration.
        server = self.boot(self.flavor({'qslm:require_encryption': 'true'}),
                           source)
        e = self.assertRaises(nova_exc.Conflict,
                              self.admin.servers.live_migrate, server.id,
                              None, 'auto')
        self.assertIn("no protecting mechanism is what %s's Nova migrates "
                      "with (none, published profile)" % source, str(e))
        self.assertEqual([], self.migrations(server.id))
        self.assertEqual(source,
                         self.host_of(self.admin.servers.get(server.id)))


class TestPublishedLoad(AgentTestCase):
    """A saturated host publishes runnable threads per CPU, above 1, and
    the decision gives the migration thread 1 / (1 + load) of a core.
    """

    def hogs(self, count):
        """*count* busy loops at the lowest priority: each counts in the
        load average and the busy share, and the cloud's services still
        get the CPU they ask for.
        """
        procs = [subprocess.Popen(['nice', '-n', '19', 'sh', '-c',
                                   'while :; do :; done'],
                                  start_new_session=True)
                 for _ in range(count)]

        def stop():
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                proc.wait()
        self.addCleanup(stop)

    def loads(self, *hosts):
        return tuple(self.published_profile(h).cpu_load for h in hosts)

    def test_saturated_hosts_load_is_the_decisions(self):
        source, dest = self.cloud.hosts[:2]
        server = self.boot(self.flavor(), source)
        # Both hosts are this machine: four busy loops per CPU put each
        # above one runnable thread per CPU within a minute (the load
        # average's time constant), published at the agents' next
        # reading.
        self.hogs(4 * os.cpu_count())
        per_core = estimator.ModelParams().migration_gbps_per_core
        deadline = time.monotonic() + AGENT_TIMEOUT
        while True:
            before = self.loads(source, dest)
            proc = self.qslm_nova('check', server.id, '--host', dest,
                                  '--long', '-f', 'json')
            self.assertEqual(0, proc.returncode, proc.stderr)
            row, = json.loads(proc.stdout)
            if max(before) > 1.0 and before == self.loads(source, dest):
                break
            if time.monotonic() > deadline:
                self.fail('published loads %s, none above 1 in %d s' % (
                    before, AGENT_TIMEOUT))
            time.sleep(2)
        # Plain TCP over 10 Gbit/s links: the thread is the limit, at
        # its core's share on the busier host.
        used = per_core * 1e9 / 8 / 2 ** 20 / row['Rate MiB/s'] - 1.0
        self.assertAlmostEqual(max(before), used, delta=0.01)
        self.record('agent-load', source_load=before[0],
                    dest_load=before[1], rate_mibps=row['Rate MiB/s'],
                    load_in_decision=round(used, 3),
                    loadavg=os.getloadavg()[0], cpus=os.cpu_count())
