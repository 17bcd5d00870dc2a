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

"""The keylime trust provider inside in-process Nova (issue 7, item 6).

Four fake computes on one switch, each with a Keylime agent id in the
topology file; ``[qslm] trust_providers = keylime`` points at a local
HTTPS verifier double with mutual TLS. The topology file's own
``trusted`` flags are deliberately false: only Keylime decides.

The cache clock of the provider is moved by the tests instead of
sleeping through ``[qslm_keylime] cache_ttl``.
"""

import time

import fixtures
from nova import conf as nova_conf

# Imported before Nova's fixtures forbid what numpy does on import.
from qslm_nova import trust
from qslm_nova.trust import keylime
from tests.functional import base
from tests.functional import test_scheduler
from tests.unit import fake_keylime
from tests.unit.trust import test_keylime as kl_helpers

CONF = nova_conf.CONF
HOSTS = ('compute-a1', 'compute-a2', 'compute-b1', 'compute-b2')
TTL = 60

TOPOLOGY = 'version: 1\nhosts:\n%s\nnodes:\n  tor: {kind: switch}\n' \
    'links:\n%s' % (
        ''.join('  %s: {trusted: false, agent_id: agent-%s, mechanisms: '
                '[none, tls]}\n' % (h, h) for h in HOSTS),
        ''.join('  - {between: [%s, tor], bandwidth_gbps: 25, security: '
                'private}\n' % h for h in HOSTS))

TRUSTED = {'qslm:require_trusted_host': 'true'}


class TestKeylimeTrustInNova(test_scheduler.QSLMSchedulerTestBase):
    COMPUTE_HOSTS = HOSTS
    TOPOLOGY = TOPOLOGY

    def configure(self):
        super().configure()
        # A fresh engine, hence a fresh provider cache, for each test.
        base.reset_engines()
        self.addCleanup(base.reset_engines)
        self.pki = kl_helpers.pki()
        self.verifier = fake_keylime.FakeVerifier(self.pki).start()
        self.addCleanup(self.verifier.stop)
        for host in HOSTS:
            self.set_state(host, 3)
        trust.register_provider_opts(CONF, keylime.KeylimeTrustProvider)
        self.flags(trust_providers=['keylime'], group='qslm')
        self.flags(verifier_url=self.verifier.url, cafile=self.pki.cafile,
                   certfile=self.pki.client_cert,
                   keyfile=self.pki.client_key, cache_ttl=TTL,
                   connect_timeout=5.0, read_timeout=5.0,
                   group='qslm_keylime')
        self.offset = [0.0]
        real = keylime._clock
        self.useFixture(fixtures.MonkeyPatch(
            'qslm_nova.trust.keylime._clock',
            lambda: real() + self.offset[0]))

    def set_state(self, host, state):
        self.verifier.set('agent-' + host, fake_keylime.agent_status(state))

    def after_ttl(self):
        self.offset[0] += TTL + 1

    def test_trusted_flavor_only_to_hosts_keylime_trusts(self):
        self.set_state('compute-a2', 7)      # Failed
        self.set_state('compute-b1', 1)      # Start: not attested yet
        self.verifier.set('agent-compute-b2', 404)
        server = self.boot(TRUSTED)
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assertEqual('error', mig['status'])
        self.assertIn('compute-a2 fails QSLM', self.qslm_log.output)
        self.assertIn('Keylime agent agent-compute-a2 is in state Failed',
                      self.qslm_log.output)
        self.assertIn('state Start', self.qslm_log.output)
        self.set_state('compute-b2', 3)
        self.after_ttl()
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assert_moved(server, mig, 'compute-b2')
        # A VM that does not require trust goes anywhere.
        plain = self.boot()
        plain, mig, _t = self.live_migrate_and_wait(plain,
                                                    host='compute-a2')
        self.assert_moved(plain, mig, 'compute-a2')

    def test_flip_seen_after_ttl(self):
        s1 = self.boot(TRUSTED)
        s2 = self.boot(TRUSTED)
        s1, mig, _t = self.live_migrate_and_wait(s1, host='compute-a2')
        self.assert_moved(s1, mig, 'compute-a2')
        asked = self.verifier.count()
        self.assertGreater(asked, 0)
        # Within the TTL the scheduler reuses the cached answers.
        s2, mig, _t = self.live_migrate_and_wait(s2, host='compute-a2')
        self.assert_moved(s2, mig, 'compute-a2')
        self.assertEqual(asked, self.verifier.count())
        # compute-a2 fails attestation; after the TTL the next decision
        # sees it, as destination and as source.
        self.set_state('compute-a2', 9)      # Invalid Quote
        self.after_ttl()
        s3 = self.boot(TRUSTED)
        s3, mig, _t = self.live_migrate_and_wait(s3, host='compute-a2')
        self.assert_stayed(s3, mig, 'compute-a1')
        self.assertIn('Invalid Quote', self.qslm_log.output)
        s1, mig, _t = self.live_migrate_and_wait(s1, host='compute-a1')
        self.assert_stayed(s1, mig, 'compute-a2')
        self.assertIn('source host compute-a2 is not trusted',
                      self.qslm_log.output)
        self.assertGreater(self.verifier.count(), asked)

    def test_verifier_down(self):
        trusted = self.boot(TRUSTED)
        plain = self.boot()
        self.verifier.stop()
        self.after_ttl()
        trusted, mig, _t = self.live_migrate_and_wait(trusted)
        self.assert_stayed(trusted, mig, 'compute-a1')
        self.assertIn('Keylime verifier unavailable', self.qslm_log.output)
        self.assertIn('requires trusted hosts', self.qslm_log.output)
        plain, mig, _t = self.live_migrate_and_wait(plain)
        self.assertEqual('completed', mig['status'])
        self.assertNotEqual('compute-a1', self.server_host(plain))
        # One warning for the outage, however many hosts and requests.
        trusted, mig, _t = self.live_migrate_and_wait(trusted,
                                                      host='compute-b1')
        self.assert_stayed(trusted, mig, 'compute-a1')
        self.assertEqual(1, self.qslm_log.output.count(
            'Keylime verifier is failing'))

    def test_trickling_verifier_fails_closed_by_the_deadline(self):
        # Issue 15, item 3: a verifier sending a byte every 0.3 s held a
        # decision for minutes; now the decision gives up after
        # [qslm_keylime] decision_timeout and the VM stays.
        self.flags(decision_timeout=1.0, group='qslm_keylime')
        trusted = self.boot(TRUSTED)
        plain = self.boot()
        self.verifier.trickle = 0.3
        self.after_ttl()
        start = time.monotonic()
        trusted, mig, _t = self.live_migrate_and_wait(trusted)
        took = time.monotonic() - start
        self.assert_stayed(trusted, mig, 'compute-a1')
        self.assertIn('attestation deadline', self.qslm_log.output)
        # The whole failed migration, not only the decision: generous.
        self.assertLess(took, 30.0)
        # Instances that do not require trust never wait for Keylime.
        asked = self.verifier.count()
        plain, mig, _t = self.live_migrate_and_wait(plain)
        self.assertEqual('completed', mig['status'])
        self.assertEqual(asked, self.verifier.count())
