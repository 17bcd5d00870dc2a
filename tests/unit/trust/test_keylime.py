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

"""The keylime trust provider against a local HTTPS verifier double."""

import datetime
import logging
import tempfile
import threading
import time

import fixtures
from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslo_log import log as oslo_logging
import testtools

from qslm_nova import conf as qslm_conf
from qslm_nova import exception
from qslm_nova import topology as topology_mod
from qslm_nova import trust
from qslm_nova.trust import aggregate
from qslm_nova.trust import keylime
from qslm_nova.trust import keylime_answer
from qslm_nova.trust import keylime_http
from qslm_nova.trust import traits
from tests.unit import fake_keylime

UTC = datetime.timezone.utc
_PKI = None
_PKI_LOCK = threading.Lock()


def pki():
    """One PKI per test process (certificate generation is the slow bit)."""
    global _PKI
    with _PKI_LOCK:
        if _PKI is None:
            _PKI = fake_keylime.PKI(tempfile.mkdtemp(prefix='qslm-kl-'))
    return _PKI


def make_conf():
    conf = cfg.ConfigOpts()
    qslm_conf.register_opts(conf)
    # What the provider loader does before it constructs a provider.
    for provider in (keylime.KeylimeTrustProvider,
                     aggregate.AggregateTrustProvider,
                     traits.TraitTrustProvider):
        trust.register_provider_opts(conf, provider)
    conf([], project='qslm-test', default_config_files=[])
    return conf


def topology(hosts):
    """A minimal topology: hosts (name -> agent id or None) on a switch."""
    doc = {'version': 1, 'hosts': {}, 'nodes': {'sw': {'kind': 'switch'}},
           'links': []}
    for name, agent in hosts.items():
        entry = {'mechanisms': ['none']}
        if agent:
            entry['agent_id'] = agent
        doc['hosts'][name] = entry
        doc['links'].append({'between': [name, 'sw'], 'bandwidth_gbps': 10,
                             'security': 'private'})
    return topology_mod.parse(doc)


class KeylimeTestCase(testtools.TestCase):
    """Starts a verifier double and a provider configured for it."""

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.pki = pki()
        self.verifier = fake_keylime.FakeVerifier(self.pki).start()
        self.addCleanup(self.verifier.stop)
        self.conf = make_conf()
        self.cfg = self.useFixture(config_fixture.Config(self.conf))
        self.flags(verifier_url=self.verifier.url, cafile=self.pki.cafile,
                   certfile=self.pki.client_cert,
                   keyfile=self.pki.client_key, connect_timeout=2.0,
                   read_timeout=2.0)
        self.provider = keylime.KeylimeTrustProvider(self.conf)
        self.addCleanup(self.provider.close)
        self.topo = topology({'c1': 'agent-1', 'c2': 'agent-2',
                              'c3': 'agent-3', 'nomap': None})

    def flags(self, **kw):
        self.cfg.config(group='qslm_keylime', **kw)

    def trust(self, hosts=('c1',), host_info=None):
        return self.provider.get_trust(list(hosts), self.topo, host_info)


class TestStateMapping(testtools.TestCase):
    """Keylime operational states -> trusted / untrusted / unknown."""

    TRUSTED = frozenset((3, 5))

    def test_every_state(self):
        expected = {0: None, 1: None, 2: None, 3: True, 4: None, 5: True,
                    6: None, 7: False, 8: False, 9: False, 10: False,
                    11: None, 99: None}
        for state, want in expected.items():
            got = keylime_answer.parse_agent_status(
                'a', fake_keylime.agent_status(state), self.TRUSTED)
            self.assertIs(want, got.trusted, 'state %d' % state)
            self.assertIn('(%d)' % state, got.reason)

    def test_names_in_reason(self):
        got = keylime_answer.parse_agent_status(
            'a', fake_keylime.agent_status(9), self.TRUSTED)
        self.assertIn('Invalid Quote', got.reason)
        got = keylime_answer.parse_agent_status(
            'a', fake_keylime.agent_status(10), self.TRUSTED)
        self.assertIn('Tenant Quote Failed', got.reason)

    def test_attested_at_is_last_successful_attestation(self):
        got = keylime_answer.parse_agent_status(
            'a', fake_keylime.agent_status(3, last_ok=1764057600),
            self.TRUSTED)
        self.assertEqual(datetime.datetime(2025, 11, 25, 8, 0, tzinfo=UTC),
                         got.attested_at)

    def test_never_attested_has_no_time(self):
        got = keylime_answer.parse_agent_status(
            'a', fake_keylime.agent_status(3, last_ok=0), self.TRUSTED)
        self.assertTrue(got.trusted)
        self.assertIsNone(got.attested_at)
        self.assertIn('never', got.reason)

    def test_retry_state_configurable(self):
        got = keylime_answer.parse_agent_status(
            'a', fake_keylime.agent_status(4), self.TRUSTED | {4})
        self.assertTrue(got.trusted)

    def test_push_mode(self):
        for status, want in (('PASS', True), ('FAIL', False),
                             ('PENDING', None), ('TIMEOUT', None)):
            res = fake_keylime.agent_status(None, push_status=status)
            got = keylime_answer.parse_agent_status('a', res, self.TRUSTED)
            self.assertIs(want, got.trusted, status)

    def test_malformed(self):
        for res in ([], 'x', {'operational_state': 'three'},
                    {'operational_state': True}, {}):
            self.assertRaises(keylime_http.VerifierError,
                              keylime_answer.parse_agent_status, 'a', res,
                              self.TRUSTED)


class TestKeylimeProvider(KeylimeTestCase):

    def test_trusted_via_topology_agent_id(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(
            3, last_ok=1764057600))
        got = self.trust(['c1'])['c1']
        self.assertTrue(got.trusted)
        self.assertEqual(1764057600, got.attested_at.timestamp())
        self.assertEqual(['/v2.1/agents/agent-1'], self.verifier.paths)

    def test_states_through_http(self):
        for agent, state in (('agent-1', 3), ('agent-2', 7),
                             ('agent-3', 1)):
            self.verifier.set(agent, fake_keylime.agent_status(state))
        got = self.trust(['c1', 'c2', 'c3'])
        self.assertIs(True, got['c1'].trusted)
        self.assertIs(False, got['c2'].trusted)
        self.assertIn('Failed', got['c2'].reason)
        self.assertIsNone(got['c3'].trusted)
        self.assertIn('Start', got['c3'].reason)

    def test_api_version_and_path_prefix(self):
        self.flags(api_version='2.3', verifier_url=self.verifier.url + '/kl/')
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.trust(['c1'])
        self.assertEqual(['/kl/v2.3/agents/agent-1'], self.verifier.paths)

    def test_agent_id_from_option_and_hostname(self):
        self.verifier.set('uuid-x', fake_keylime.agent_status(3))
        self.verifier.set('nomap2', fake_keylime.agent_status(3))
        self.flags(agent_ids={'nomap': 'uuid-x'})
        self.assertTrue(self.trust(['nomap'])['nomap'].trusted)
        got = self.trust(['nomap2'])['nomap2']
        self.assertIsNone(got.trusted)
        self.assertIn('no Keylime agent id', got.reason)
        self.flags(agent_id_fallback='hostname')
        self.assertTrue(self.trust(['nomap2'])['nomap2'].trusted)

    def test_topology_agent_id_wins_over_option(self):
        self.flags(agent_ids={'c1': 'agent-2'})
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.verifier.set('agent-2', fake_keylime.agent_status(7))
        self.assertTrue(self.trust(['c1'])['c1'].trusted)

    def test_unmapped_host_makes_no_request(self):
        got = self.trust(['nomap'])['nomap']
        self.assertIsNone(got.trusted)
        self.assertEqual([], self.verifier.paths)

    def test_invalid_agent_id_makes_no_request(self):
        self.flags(agent_ids={'nomap': '../../etc'})
        got = self.trust(['nomap'])['nomap']
        self.assertIsNone(got.trusted)
        self.assertIn('invalid Keylime agent id', got.reason)
        self.assertEqual([], self.verifier.paths)

    def test_unknown_agent_404_is_unknown_not_outage(self):
        log = self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        got = self.trust(['c1'])['c1']
        self.assertIsNone(got.trusted)
        self.assertIn('not enrolled', got.reason)
        self.assertNotIn('WARNING', log.output.upper())

    def test_malformed_json_is_unknown(self):
        self.verifier.set('agent-1', fake_keylime.MALFORMED)
        got = self.trust(['c1'])['c1']
        self.assertIsNone(got.trusted)
        self.assertIn('malformed', got.reason)

    def test_malformed_state_is_unknown(self):
        res = fake_keylime.agent_status(3)
        res['operational_state'] = 'all good'
        self.verifier.set('agent-1', res)
        got = self.trust(['c1'])['c1']
        self.assertIsNone(got.trusted)
        self.assertIn('not a number', got.reason)

    def test_http_error_is_unknown(self):
        self.verifier.set('agent-1', 500)
        got = self.trust(['c1'])['c1']
        self.assertIsNone(got.trusted)
        self.assertIn('HTTP 500', got.reason)

    def test_mutual_tls_required(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.flags(certfile=None, keyfile=None)
        got = self.trust(['c1'])['c1']
        self.assertIsNone(got.trusted)
        self.assertIn('unavailable', got.reason)
        self.assertEqual([], self.verifier.paths)

    def test_client_cert_from_other_ca_refused(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.flags(certfile=self.pki.rogue_cert, keyfile=self.pki.rogue_key)
        self.assertIsNone(self.trust(['c1'])['c1'].trusted)
        self.assertEqual([], self.verifier.paths)

    def test_server_certificate_verified_by_default(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.flags(cafile=self.pki.other_ca)
        got = self.trust(['c1'])['c1']
        self.assertIsNone(got.trusted)
        self.assertIn('certificate verification failed', got.reason)
        self.assertEqual([], self.verifier.paths)

    def test_insecure_skips_server_verification(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.flags(cafile=self.pki.other_ca, insecure=True)
        self.assertTrue(self.trust(['c1'])['c1'].trusted)

    def test_http_url_rejected(self):
        self.assertRaises(ValueError, self.flags,
                          verifier_url='http://127.0.0.1:1')

    def test_encrypted_client_key(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.flags(keyfile=self.pki.client_key_enc,
                   keyfile_password=fake_keylime.KEY_PASSWORD)
        self.assertTrue(self.trust(['c1'])['c1'].trusted)

    def test_read_timeout_bounded(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.verifier.delay = 3.0
        self.flags(read_timeout=0.3)
        start = time.monotonic()
        got = self.trust(['c1'])['c1']
        self.assertLess(time.monotonic() - start, 2.0)
        self.assertIsNone(got.trusted)
        self.assertIn('timed out', got.reason)

    def test_unreachable_is_unknown(self):
        self.verifier.stop()
        got = self.trust(['c1'])['c1']
        self.assertIsNone(got.trusted)
        self.assertIn('unavailable', got.reason)

    def test_verifier_url_unset_raises(self):
        self.flags(verifier_url=None)
        self.assertRaises(exception.TrustProviderError, self.trust, ['c1'])

    def test_ttl_cache_one_request_per_agent(self):
        for agent in ('agent-1', 'agent-2', 'agent-3'):
            self.verifier.set(agent, fake_keylime.agent_status(3))
        self.flags(cache_ttl=30)
        for _i in range(5):
            got = self.trust(['c1', 'c2', 'c3'])
            self.assertTrue(all(s.trusted for s in got.values()))
        self.assertEqual(3, self.verifier.count())
        self.assertEqual(1, self.verifier.count('agent-2'))

    def test_trust_flip_seen_after_ttl(self):
        clock = [1000.0]
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.trust.keylime._clock', side_effect=lambda: clock[0]))
        self.flags(cache_ttl=30)
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.assertTrue(self.trust(['c1'])['c1'].trusted)
        self.verifier.set('agent-1', fake_keylime.agent_status(9))
        clock[0] += 29
        self.assertTrue(self.trust(['c1'])['c1'].trusted)
        clock[0] += 2
        self.assertIs(False, self.trust(['c1'])['c1'].trusted)
        self.assertEqual(2, self.verifier.count())

    def test_failures_cached_too(self):
        self.verifier.set('agent-1', fake_keylime.MALFORMED)
        self.flags(cache_ttl=30)
        for _i in range(3):
            self.assertIsNone(self.trust(['c1'])['c1'].trusted)
        self.assertEqual(1, self.verifier.count())

    def test_ttl_zero_disables_cache(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.flags(cache_ttl=0)
        self.trust(['c1'])
        self.trust(['c1'])
        self.assertEqual(2, self.verifier.count())

    def test_hosts_fetched_concurrently(self):
        hosts = {'h%d' % i: 'agent-%d' % i for i in range(8)}
        self.topo = topology(hosts)
        for agent in hosts.values():
            self.verifier.set(agent, fake_keylime.agent_status(3))
        # Each answer stalls 0.4 s: asked one after the other, no two
        # would be in the verifier at once. The verifier counts them
        # (a wall-clock bound would fail on a busy machine, not on a
        # serial provider).
        self.verifier.delay = 0.4
        got = self.trust(list(hosts))
        self.assertTrue(all(s.trusted for s in got.values()))
        self.assertGreaterEqual(self.verifier.peak, 4)
        self.assertEqual(8, self.verifier.count())

    def test_concurrent_callers_share_requests(self):
        for agent in ('agent-1', 'agent-2', 'agent-3'):
            self.verifier.set(agent, fake_keylime.agent_status(3))
        self.verifier.delay = 0.3
        results = []

        def ask():
            results.append(self.trust(['c1', 'c2', 'c3']))

        threads = [threading.Thread(target=ask) for _i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual(6, len(results))
        for got in results:
            self.assertTrue(all(s.trusted for s in got.values()), got)
        self.assertEqual(3, self.verifier.count())

    def test_concurrent_callers_without_cache(self):
        # Waiting callers take the shared answer, not the (disabled) cache.
        self.flags(cache_ttl=0)
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.verifier.delay = 0.3
        results = []
        threads = [threading.Thread(
            target=lambda: results.append(self.trust(['c1'])['c1']))
            for _i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        self.assertEqual([True] * 4, [s.trusted for s in results])
        self.assertLess(self.verifier.count(), 4)

    def test_bulk_one_request(self):
        self.flags(bulk_requests=True, verifier_id='default')
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.verifier.set('agent-2', fake_keylime.agent_status(9))
        got = self.trust(['c1', 'c2', 'c3'])
        self.assertIs(True, got['c1'].trusted)
        self.assertIs(False, got['c2'].trusted)
        self.assertIsNone(got['c3'].trusted)
        self.assertIn('not enrolled', got['c3'].reason)
        self.assertEqual(['/v2.1/agents/?bulk=true&verifier=default'],
                         self.verifier.paths)
        self.trust(['c1', 'c2', 'c3'])
        self.assertEqual(1, self.verifier.count())

    def test_bulk_outage_is_unknown(self):
        self.flags(bulk_requests=True)
        self.verifier.force_status = 503
        got = self.trust(['c1', 'c2'])
        self.assertIsNone(got['c1'].trusted)
        self.assertIn('HTTP 503', got['c2'].reason)

    def test_one_warning_per_outage(self):
        log = self.useFixture(fixtures.FakeLogger(
            level=logging.INFO, format='%(levelname)s %(message)s'))
        self.flags(cache_ttl=0)
        for agent in ('agent-1', 'agent-2', 'agent-3'):
            self.verifier.set(agent, fake_keylime.agent_status(3))
        self.verifier.force_status = 503
        for _i in range(4):
            got = self.trust(['c1', 'c2', 'c3'])
            self.assertFalse(any(s.trusted for s in got.values()))
        self.assertEqual(1, log.output.count('WARNING'))
        self.verifier.force_status = None
        self.assertTrue(self.trust(['c1'])['c1'].trusted)
        self.assertEqual(1, log.output.count('answers again'))
        self.verifier.stop()
        for _i in range(3):
            self.trust(['c1', 'c2'])
        self.assertEqual(2, log.output.count('WARNING'))

    def test_loaded_by_stevedore(self):
        providers = trust.load_providers(self.conf, ['keylime'])
        self.assertIsInstance(providers[0], keylime.KeylimeTrustProvider)


class TestKeylimeFreshness(KeylimeTestCase):
    """[qslm] max_attestation_age applies to Keylime answers."""

    def evaluate(self, max_age):
        ev = trust.TrustEvaluator([self.provider], 'all', max_age)
        return ev.evaluate(['c1'], self.topo)['c1']

    def test_fresh_trusted(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(
            3, last_ok=time.time() - 60))
        ok, why = self.evaluate(3600)
        self.assertTrue(ok, why)

    def test_stale_untrusted(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(
            3, last_ok=time.time() - 7200))
        ok, why = self.evaluate(3600)
        self.assertFalse(ok)
        self.assertIn('older than max_attestation_age', why)

    def test_never_attested_untrusted(self):
        self.verifier.set('agent-1', fake_keylime.agent_status(3, last_ok=0))
        ok, why = self.evaluate(3600)
        self.assertFalse(ok)
        self.assertIn('no attestation time', why)

    def test_unreachable_untrusted_with_reason(self):
        self.verifier.stop()
        ok, why = self.evaluate(3600)
        self.assertFalse(ok)
        self.assertIn('keylime: trust unknown (Keylime verifier '
                      'unavailable', why)


class TestNoSecretsInLogs(KeylimeTestCase):
    """No key material or password reaches a log line or a reason."""

    def _secrets(self):
        key_lines = [
            line for line in self.pki.client_key_enc_pem.decode().splitlines()
            + self.pki.client_key_pem.decode().splitlines()
            if line and not line.startswith('-----')]
        return [fake_keylime.KEY_PASSWORD] + key_lines

    def test_no_secrets(self):
        log = self.useFixture(fixtures.FakeLogger(
            level=logging.DEBUG, format='%(levelname)s %(name)s %(message)s'))
        self.flags(keyfile=self.pki.client_key_enc,
                   keyfile_password=fake_keylime.KEY_PASSWORD, cache_ttl=0)
        reasons = []
        ev = trust.TrustEvaluator([self.provider], 'all', 3600)
        # The configuration dump operators enable at start.
        self.conf.log_opt_values(oslo_logging.getLogger('qslm-test'),
                                 logging.DEBUG)

        def run():
            for host, (ok, why) in ev.evaluate(['c1', 'c2'],
                                               self.topo).items():
                reasons.append(why)
            for state in self.trust(['c1', 'c2']).values():
                reasons.append(state.reason)

        # Success.
        self.verifier.set('agent-1', fake_keylime.agent_status(3))
        self.verifier.set('agent-2', fake_keylime.agent_status(7))
        run()
        self.assertIn('keylime: trusted', ' '.join(reasons))
        # Malformed answer, HTTP error, timeout.
        self.verifier.set('agent-1', fake_keylime.MALFORMED)
        self.verifier.set('agent-2', 500)
        run()
        self.verifier.delay = 1.0
        self.flags(read_timeout=0.2)
        run()
        self.verifier.delay = 0
        # Wrong key password, key file that is not a key, missing key.
        self.flags(keyfile_password='wrong-' + fake_keylime.KEY_PASSWORD)
        run()
        self.flags(keyfile=self.pki.client_cert,
                   keyfile_password=fake_keylime.KEY_PASSWORD)
        run()
        self.flags(keyfile='/nonexistent/key.pem')
        run()
        # Server not trusted, verifier down.
        self.flags(keyfile=self.pki.client_key_enc, cafile=self.pki.other_ca)
        run()
        self.verifier.stop()
        self.flags(cafile=self.pki.cafile)
        run()
        self.assertIn('WARNING', log.output)
        self.assertIn('keyfile_password', log.output)   # the option, masked
        text = log.output + '\n'.join(reasons)
        for secret in self._secrets():
            self.assertNotIn(secret, text)
        self.assertNotIn('wrong-' + fake_keylime.KEY_PASSWORD, text)
