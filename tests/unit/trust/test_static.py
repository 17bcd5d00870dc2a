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

"""The static trust provider, provider loading and the evaluator."""

import datetime

import fixtures
from oslotest import base

from qslm_nova import exception
from qslm_nova import trust
from qslm_nova.trust import base as trust_base
from qslm_nova.trust import static
from tests.unit import fixtures as fx

HOUR = datetime.timedelta(hours=1)


class Fixed(trust_base.TrustProvider):
    """A provider answering from a dict; raises if told to."""

    def __init__(self, name, answers=None, error=None):
        super().__init__(None)
        self.name = name
        self.answers = answers or {}
        self.error = error
        self.calls = 0

    def get_trust(self, hosts, topology, host_info=None):
        self.calls += 1
        if self.error:
            raise exception.TrustProviderError(self.error)
        return {h: self.answers[h] for h in hosts if h in self.answers}


class TestStaticProvider(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.topo = fx.make_topology()
        self.provider = static.StaticTrustProvider(None)

    def test_trusted_host(self):
        state = self.provider.get_trust(['src'], self.topo)['src']
        self.assertTrue(state.trusted)
        self.assertEqual(fx.NOW - HOUR, state.attested_at)
        self.assertEqual('topology file says trusted', state.reason)

    def test_untrusted_host(self):
        state = self.provider.get_trust(['rogue'], self.topo)['rogue']
        self.assertIs(False, state.trusted)
        self.assertIsNone(state.attested_at)
        self.assertEqual('topology file says untrusted', state.reason)

    def test_unknown_host(self):
        state = self.provider.get_trust(['ghost'], self.topo)['ghost']
        self.assertIsNone(state.trusted)
        self.assertEqual('host ghost is not in the topology file',
                         state.reason)

    def test_name(self):
        self.assertEqual('static', self.provider.name)


class TestEvaluator(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.topo = fx.make_topology()

    def evaluate(self, hosts, providers=None, combination='all',
                 max_age=fx.DAY_S):
        ev = trust.TrustEvaluator(
            providers or [static.StaticTrustProvider(None)], combination,
            max_age)
        return ev.evaluate(hosts, self.topo, fx.NOW)

    def test_fresh_trusted(self):
        self.assertEqual({'src': (True, 'static: trusted')},
                         self.evaluate(['src']))

    def test_untrusted(self):
        self.assertEqual(
            (False, 'static: host is not trusted (topology file says '
                    'untrusted)'), self.evaluate(['rogue'])['rogue'])

    def test_stale(self):
        self.assertEqual(
            (False, 'static: attestation is 259200 s old, older than '
                    'max_attestation_age 86400 s'),
            self.evaluate(['stale'])['stale'])

    def test_just_fresh_enough(self):
        self.assertTrue(self.evaluate(['src'], max_age=3600)['src'][0])
        self.assertFalse(self.evaluate(['src'], max_age=3599)['src'][0])

    def test_max_age_zero_disables_freshness(self):
        self.assertTrue(self.evaluate(['stale'], max_age=0)['stale'][0])

    def test_trusted_without_attestation_time(self):
        doc = fx.cloud_doc()
        del doc['hosts']['src']['attested_at']
        self.topo = fx.make_topology(doc)
        self.assertEqual(
            (False, 'static: no attestation time, cannot check it is '
                    'younger than max_attestation_age 86400 s'),
            self.evaluate(['src'])['src'])
        self.assertTrue(self.evaluate(['src'], max_age=0)['src'][0])

    def test_unknown_host_untrusted(self):
        self.assertEqual(
            (False, 'static: trust unknown (host ghost is not in the '
                    'topology file)'), self.evaluate(['ghost'])['ghost'])

    def test_no_provider(self):
        ev = trust.TrustEvaluator([], 'all', 60)
        self.assertEqual({'src': (False, 'no trust provider configured')},
                         ev.evaluate(['src'], self.topo, fx.NOW))

    def test_all_needs_every_provider(self):
        good = trust_base.TrustState(True, fx.NOW, '')
        bad = trust_base.TrustState(False, fx.NOW, 'PCR mismatch')
        a = Fixed('a', {'src': good, 'dst': good})
        b = Fixed('b', {'src': good, 'dst': bad})
        got = self.evaluate(['src', 'dst'], [a, b])
        self.assertEqual((True, 'a: trusted; b: trusted'), got['src'])
        self.assertEqual(
            (False, 'b: host is not trusted (PCR mismatch)'), got['dst'])
        self.assertEqual((1, 1), (a.calls, b.calls))

    def test_all_unknown_is_untrusted(self):
        a = Fixed('a', {'src': trust_base.TrustState(True, fx.NOW)})
        b = Fixed('b', {})
        self.assertEqual((False, 'b: trust unknown (no answer)'),
                         self.evaluate(['src'], [a, b])['src'])

    def test_first_answer_decides(self):
        a = Fixed('a', {})
        b = Fixed('b', {'src': trust_base.TrustState(True, fx.NOW)})
        c = Fixed('c', {'src': trust_base.TrustState(False, fx.NOW)})
        self.assertEqual((True, 'b: trusted'),
                         self.evaluate(['src'], [a, b, c], 'first')['src'])

    def test_first_without_answer(self):
        got = self.evaluate(['src'], [Fixed('a'), Fixed('b')], 'first')
        self.assertEqual((False, 'a: trust unknown (no answer); b: trust '
                                 'unknown (no answer)'), got['src'])

    def test_failing_provider_fails_closed(self):
        log = self.useFixture(fixtures.FakeLogger(name='qslm_nova.trust'))
        broken = Fixed('keylime', error='verifier unreachable')
        ev = trust.TrustEvaluator(
            [broken, static.StaticTrustProvider(None)], 'all', fx.DAY_S)
        for _ in range(3):
            got = ev.evaluate(['src'], self.topo, fx.NOW)
        self.assertEqual(
            (False, 'keylime: unavailable (verifier unreachable)'),
            got['src'])
        self.assertEqual(1, log.output.count('Trust provider keylime is '
                                             'failing'))
        broken.error = None
        broken.answers = {'src': trust_base.TrustState(True, fx.NOW)}
        got = ev.evaluate(['src'], self.topo, fx.NOW)
        self.assertEqual((True, 'keylime: trusted; static: trusted'),
                         got['src'])
        self.assertIn('Trust provider keylime answers again', log.output)

    def test_failing_provider_skipped_by_first(self):
        broken = Fixed('keylime', error='timeout')
        got = self.evaluate(['src'], [broken,
                                      static.StaticTrustProvider(None)],
                            'first')
        self.assertEqual((True, 'static: trusted'), got['src'])

    def test_now_defaults_to_current_time(self):
        doc = fx.cloud_doc()
        now = datetime.datetime.now(datetime.timezone.utc)
        doc['hosts']['src']['attested_at'] = now - HOUR
        doc['hosts']['dst']['attested_at'] = now - 2 * HOUR
        self.topo = fx.make_topology(doc)
        ev = trust.TrustEvaluator([static.StaticTrustProvider(None)], 'all',
                                  int(1.5 * 3600))
        got = ev.evaluate(['src', 'dst'], self.topo)
        self.assertTrue(got['src'][0])
        self.assertFalse(got['dst'][0])


class TestLoadProviders(base.BaseTestCase):

    def test_load_static(self):
        providers = trust.load_providers(None, ['static'])
        self.assertEqual(1, len(providers))
        self.assertIsInstance(providers[0], static.StaticTrustProvider)

    def test_unknown_provider(self):
        e = self.assertRaises(exception.TrustProviderError,
                              trust.load_providers, None,
                              ['static', 'tpm-magic'])
        self.assertEqual('[qslm] trust_providers: cannot load tpm-magic '
                         '(namespace qslm_nova.trust)', str(e))
