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

"""The agent's host profile in Placement, kept by Nova, read by QSLM.

In-process Nova with its Placement: the agent's PlacementWriter puts the
profile traits on a compute node provider through Placement's API;
Nova's resource tracker runs its periodic update and keeps them; the
scheduler's QSLMFilter reads them with the [placement] credentials and
decides by what the source's Nova really does.
"""

import datetime
import time

from keystoneauth1 import adapter
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session
from keystoneauth1 import token_endpoint
from nova import conf as nova_conf

from qslm_nova.agent import placement as agent_placement
from qslm_nova import estimator
from qslm_nova import observed
from qslm_nova.profile import model
from qslm_nova.profile import service as profile_service
from qslm_nova.profile import traits
from tests.functional import test_scheduler

ENCRYPT = {'qslm:require_encryption': 'true'}


def profile(node, transport, accepts_tls=True):
    return model.HostProfile(
        node=node, transport=transport, accepts_tls=accepts_tls,
        libvirt=estimator.LibvirtSettings(), cipher_gbps_per_core=2.7,
        cpu_load=0.1, cores=8, libvirt_version=9000000,
        qemu_version=7002022, seen_at=int(time.time()))


class AgentProfileTest(test_scheduler.QSLMSchedulerTestBase):

    def setUp(self):
        super().setUp()
        fixture = self.placement.fixture
        self.adapter = adapter.Adapter(
            session.Session(auth=token_endpoint.Token(fixture.endpoint,
                                                      fixture.token)),
            service_type='placement')
        self.writer = agent_placement.PlacementWriter(self.adapter, 10.0)
        # The scheduler reads Placement with its [placement] credentials,
        # as a deployed one does (here: the fixture's token).
        nova_conf.CONF.register_opts(
            ks_loading.get_auth_plugin_conf_options('admin_token'),
            group='placement')
        self.flags(auth_type='admin_token', endpoint=fixture.endpoint,
                   token=fixture.token, group='placement')
        self.flags(host_profile_refresh=5, group='qslm')
        profile_service.reset()
        self.addCleanup(profile_service.reset)

    def traits_of(self, host):
        return set(self._get_provider_traits(
            self._get_provider_uuid_by_host(host)))

    def publish(self, host, transport, accepts_tls=True):
        wanted = traits.encode(profile(host, transport, accepts_tls))
        self.assertTrue(self.writer.publish(host, wanted))
        return wanted

    def test_nova_keeps_the_profile_traits(self):
        before = self.traits_of('compute-a1')
        wanted = self.publish('compute-a1', 'tls')
        self.assertEqual(before | wanted, self.traits_of('compute-a1'))
        # Nova's resource tracker writes the provider's traits on every
        # periodic update (its cached view predates the agent's write,
        # so its first write conflicts and it reads again).
        for refresh in (300, 0):
            self.flags(resource_provider_association_refresh=refresh,
                       group='compute')
            self._run_periodics(raise_on_error=True)
            self.assertEqual(before | wanted, self.traits_of('compute-a1'))
        # Publishing again changes nothing; a new load replaces only the
        # agent's own traits.
        self.assertFalse(self.writer.publish('compute-a1', wanted))
        busy = traits.encode(model.HostProfile(
            **dict(profile('compute-a1', 'tls').__dict__, cpu_load=0.9)))
        self.assertTrue(self.writer.publish('compute-a1', busy))
        self.assertEqual(before | busy, self.traits_of('compute-a1'))

    def test_a_write_between_nova_and_the_agent_is_retried(self):
        uuid = self._get_provider_uuid_by_host('compute-a1')
        self.placement.put('/traits/CUSTOM_X', None, version='1.6')
        real_call = self.writer._call
        puts = []

        def call(method, path, body=None):
            if method == 'PUT' and path.endswith('/traits'):
                if not puts:
                    # Someone (Nova) writes the provider's traits between
                    # the agent's read and write.
                    current = self._get_provider_traits(uuid)
                    self._set_provider_traits(uuid, current + ['CUSTOM_X'])
                puts.append(path)
            return real_call(method, path, body)

        self.writer._call = call
        wanted = self.publish('compute-a1', 'none')
        # The first write met a new generation (409), the second went in.
        self.assertEqual(2, len(puts))
        got = self.traits_of('compute-a1')
        self.assertTrue(wanted <= got)
        self.assertIn('CUSTOM_X', got)

    def test_unknown_node_is_a_clear_error(self):
        e = self.assertRaises(agent_placement.PlacementError,
                              self.writer.publish, 'no-such-node',
                              {traits.MARKER})
        self.assertIn("no resource provider named 'no-such-node'", str(e))

    def test_scheduler_follows_what_the_source_nova_does(self):
        # The topology file says compute-a1 migrates with TLS; without a
        # profile the encrypted instance moves.
        server = self.boot(ENCRYPT)
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assertEqual('completed', mig['status'])
        # compute-a2's Nova migrates in plain TCP (its agent says): the
        # instance cannot leave it encrypted, whatever the file says.
        source = mig['dest_compute']
        self.publish(source, 'none')
        for host in ('compute-a1', 'compute-b1', 'compute-b2', 'compute-a2'):
            if host != source:
                self.publish(host, 'tls')
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assert_stayed(server, mig, source)
        self.assertIn("no protecting mechanism is what %s's Nova migrates "
                      "with (none, published profile)" % source,
                      self.qslm_log.output)
        self.assertIn('its Nova migrates with none (published profile)',
                      self.qslm_log.output)

    def test_scheduler_needs_a_tls_capable_destination(self):
        # compute-a1 migrates with native TLS; only compute-b1 has QEMU's
        # certificates: every other destination would fail in Nova.
        server = self.boot({'qslm:require_trusted_host': 'false'})
        self.publish('compute-a1', 'tls')
        self.publish('compute-a2', 'tls', accepts_tls=False)
        self.publish('compute-b1', 'tls', accepts_tls=True)
        self.publish('compute-b2', 'none', accepts_tls=False)
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assert_moved(server, mig, 'compute-b1')
        self.assertIn('compute-a2 can receive (none, tunnelled)',
                      self.qslm_log.output)

    def test_observed_dirty_rate_is_used_before_the_hint(self):
        # The agent wrote what QEMU measured: 5 GiB/s cannot converge over
        # 10 Gbit/s; the flavor's hint (1 MiB/s) would have let it move.
        server = self.boot({'qslm:dirty_rate_mibps': '1'})
        now = datetime.datetime.now(datetime.timezone.utc)
        resp = self.set_metadata(server, {
            observed.KEY: observed.format_value(5000.0, now)}, admin=True)
        self.assertEqual(200, resp.status, resp.body)
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assert_stayed(server, mig)
        self.assertIn('migration would not converge', self.qslm_log.output)
        # An old observation is not used: the hint lets it move.
        old = now - datetime.timedelta(hours=2)
        self.set_metadata(server, {
            observed.KEY: observed.format_value(5000.0, old)}, admin=True)
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assertEqual('completed', mig['status'])
