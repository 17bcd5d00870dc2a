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

"""Chained trust providers: ``all`` / ``first``, errors, source trust.

The rule ([qslm] trust_combination):

* ``all``: a host is trusted only if every provider answers trusted with
  a fresh attestation; any unknown, untrusted, stale or failing provider
  makes it untrusted, and every such reason is reported.
* ``first``: providers are asked in [qslm] trust_providers order; the
  first one with an answer (trusted or untrusted) for the host decides,
  including its freshness (a stale "trusted" answer is untrusted; it does
  not fall through). Unknown answers and failing providers are skipped;
  no answer at all is untrusted.
"""

import datetime
import logging

import fixtures
import testtools

from qslm_nova import decision
from qslm_nova import exception
from qslm_nova import topology as topology_mod
from qslm_nova import trust
from qslm_nova.trust import aggregate
from qslm_nova.trust import base
from qslm_nova.trust import static
from qslm_nova.trust import traits
from tests.unit import fake_keylime
from tests.unit.trust import test_keylime as kl_helpers

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
FRESH = NOW - datetime.timedelta(hours=1)
OLD = NOW - datetime.timedelta(days=3)
DAY_S = 86400


class Fixed(base.TrustProvider):
    """A provider with canned answers; ``fail`` makes it raise."""

    def __init__(self, name, answers, fail=False):
        super().__init__(None)
        self.name = name
        self.answers = answers
        self.fail = fail
        self.calls = 0

    def get_trust(self, hosts, topology, host_info=None):
        self.calls += 1
        if self.fail:
            raise exception.TrustProviderError('%s is down' % self.name)
        return {h: self.answers[h] for h in hosts if h in self.answers}


def T(when=FRESH):
    return base.TrustState(True, when, 'ok')


def F():
    return base.TrustState(False, FRESH, 'bad quote')


def U():
    return base.TrustState(None, None, 'not known')


class TestCombination(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            level=logging.INFO, format='%(levelname)s %(message)s'))

    def ev(self, providers, combination):
        return trust.TrustEvaluator(providers, combination, DAY_S)

    def judge(self, providers, combination, host='h'):
        return self.ev(providers, combination).evaluate(
            [host], None, NOW)[host]

    def test_all_needs_every_provider(self):
        cases = [((T(), T()), True), ((T(), F()), False),
                 ((F(), T()), False), ((T(), U()), False),
                 ((U(), T()), False), ((T(), T(OLD)), False)]
        for (a, b), want in cases:
            ok, why = self.judge([Fixed('a', {'h': a}),
                                  Fixed('b', {'h': b})], 'all')
            self.assertIs(want, ok, (a, b, why))
        ok, why = self.judge([Fixed('a', {'h': U()}),
                              Fixed('b', {'h': F()})], 'all')
        self.assertIn('a: trust unknown', why)
        self.assertIn('b: host is not trusted', why)

    def test_first_answer_wins(self):
        cases = [((T(), F()), True), ((F(), T()), False),
                 ((U(), T()), True), ((U(), F()), False),
                 ((U(), U()), False), ((T(OLD), T()), False)]
        for (a, b), want in cases:
            ok, why = self.judge([Fixed('a', {'h': a}),
                                  Fixed('b', {'h': b})], 'first')
            self.assertIs(want, ok, (a, b, why))

    def test_first_reason_names_deciding_provider(self):
        ok, why = self.judge([Fixed('a', {}), Fixed('b', {'h': T()})],
                             'first')
        self.assertTrue(ok)
        self.assertEqual('b: trusted', why)

    def test_missing_host_is_unknown(self):
        ok, _why = self.judge([Fixed('a', {})], 'all')
        self.assertFalse(ok)

    def test_no_providers(self):
        ok, why = self.judge([], 'all')
        self.assertFalse(ok)
        self.assertIn('no trust provider', why)

    def test_failing_provider(self):
        down = Fixed('down', {}, fail=True)
        good = Fixed('good', {'h': T()})
        ok, why = self.judge([down, good], 'all')
        self.assertFalse(ok)
        self.assertIn('down: unavailable', why)
        ok, why = self.judge([down, good], 'first')
        self.assertTrue(ok)

    def test_provider_bug_fails_closed(self):
        class Buggy(Fixed):
            def get_trust(self, hosts, topology, host_info=None):
                raise RecursionError('maximum recursion depth exceeded')

        buggy = Buggy('buggy', {})
        ev = self.ev([buggy, Fixed('good', {'h': T()})], 'all')
        for _i in range(3):
            ok, why = ev.evaluate(['h'], None, NOW)['h']
            self.assertFalse(ok)
            self.assertIn('buggy: unavailable (unexpected RecursionError',
                          why)
        self.assertEqual(1, self.log.output.count('WARNING'))
        ok, why = self.ev([buggy, Fixed('good', {'h': T()})],
                          'first').evaluate(['h'], None, NOW)['h']
        self.assertTrue(ok, why)

    def test_one_warning_per_provider_outage(self):
        down = Fixed('down', {'h': T()}, fail=True)
        ev = self.ev([down, Fixed('good', {'h': T()})], 'all')
        for _i in range(5):
            self.assertFalse(ev.evaluate(['h', 'h2'], None, NOW)['h'][0])
        self.assertEqual(1, self.log.output.count('WARNING'))
        down.fail = False
        self.assertTrue(ev.evaluate(['h'], None, NOW)['h'][0])
        self.assertIn('answers again', self.log.output)

    def test_real_providers_chained(self):
        topo = topology_mod.parse({
            'version': 1,
            'hosts': {'h': {'trusted': True,
                            'attested_at': FRESH.isoformat(),
                            'mechanisms': ['none']}},
            'nodes': {}, 'links': []})
        conf = kl_helpers.make_conf()
        chain = [traits.TraitTrustProvider(conf),
                 aggregate.AggregateTrustProvider(conf),
                 static.StaticTrustProvider(conf)]
        info = {'h': {'aggregate_metadata': {'qslm:trusted': 'false'},
                      'traits': set()}}
        first = trust.TrustEvaluator(chain, 'first', DAY_S)
        ok, why = first.evaluate(['h'], topo, NOW, info)['h']
        self.assertFalse(ok)
        self.assertIn('aggregate: host is not trusted', why)
        every = trust.TrustEvaluator(chain, 'all', DAY_S)
        ok, why = every.evaluate(['h'], topo, NOW, info)['h']
        self.assertFalse(ok)
        self.assertIn('traits: trust unknown', why)
        info['h']['aggregate_metadata'] = {
            'qslm:trusted': 'true', 'qslm:attested_at': FRESH.isoformat()}
        info['h']['traits'] = {'CUSTOM_QSLM_TRUSTED',
                               'CUSTOM_QSLM_ATTESTED_AT_%d'
                               % FRESH.timestamp()}
        ok, why = every.evaluate(['h'], topo, NOW, info)['h']
        self.assertTrue(ok, why)


def small_cloud():
    """src, dst, other on one switch; all trusted in the topology file."""
    hosts, links = {}, []
    for name in ('src', 'dst', 'other'):
        hosts[name] = {'trusted': True, 'attested_at': FRESH.isoformat(),
                       'mechanisms': ['none', 'tls'],
                       'agent_id': 'agent-%s' % name}
        links.append({'between': [name, 'sw'], 'bandwidth_gbps': 10,
                      'latency_ms': 0.05, 'security': 'private'})
    return topology_mod.parse({'version': 1, 'hosts': hosts,
                               'nodes': {'sw': {'kind': 'switch'}},
                               'links': links})


def request(trusted=True, source='src'):
    specs = {'qslm:require_trusted_host': 'true'} if trusted else {}
    return decision.MigrationRequest(
        instance_uuid='11111111-2222-3333-4444-555555555555',
        source_host=source, memory_mb=1024, flavor_extra_specs=specs,
        now=NOW)


class TestEngineTrust(testtools.TestCase):
    """Source and destination trust through decision.Engine."""

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger(level=logging.INFO))
        self.topo = small_cloud()

    def engine(self, providers, combination='all'):
        ev = trust.TrustEvaluator(providers, combination, DAY_S)
        return decision.Engine(decision.Settings(), lambda: self.topo, ev)

    def test_untrusted_source_denies_every_destination(self):
        eng = self.engine([Fixed('p', {'src': F(), 'dst': T(),
                                       'other': T()})])
        for d in eng.decide(request(), ['dst', 'other']):
            self.assertFalse(d.allowed)
            self.assertIn('source host src is not trusted', d.summary)

    def test_untrusted_destination_denied_others_allowed(self):
        eng = self.engine([Fixed('p', {'src': T(), 'dst': T(),
                                       'other': U()})])
        dst, other = eng.decide(request(), ['dst', 'other'])
        self.assertTrue(dst.allowed, dst.summary)
        self.assertFalse(other.allowed)
        self.assertIn('host other is not trusted', other.summary)

    def test_trust_ignored_when_not_required(self):
        eng = self.engine([Fixed('p', {}, fail=True)])
        for d in eng.decide(request(trusted=False), ['dst', 'other']):
            self.assertTrue(d.allowed, d.summary)

    def test_aggregate_chain_through_engine(self):
        conf = kl_helpers.make_conf()
        providers = [aggregate.AggregateTrustProvider(conf),
                     static.StaticTrustProvider(conf)]
        src_meta = {'qslm:trusted': 'true',
                    'qslm:attested_at': FRESH.isoformat()}
        info = {'src': {'aggregate_metadata': src_meta},
                'dst': {'aggregate_metadata': {'qslm:trusted': 'false'}},
                'other': {'aggregate_metadata': {}}}
        eng = self.engine(providers, 'all')
        dst, other = eng.decide(request(), ['dst', 'other'], info)
        self.assertFalse(dst.allowed)
        self.assertFalse(other.allowed)
        eng = self.engine(providers, 'first')
        dst, other = eng.decide(request(), ['dst', 'other'], info)
        self.assertFalse(dst.allowed)
        self.assertIn('aggregate: host is not trusted', dst.summary)
        self.assertTrue(other.allowed, other.summary)   # static decided


class TestEngineKeylime(kl_helpers.KeylimeTestCase):
    """The keylime provider through decision.Engine and a verifier."""

    def setUp(self):
        super().setUp()
        self.topo = small_cloud()
        self.flags(cache_ttl=0)
        for name in ('src', 'dst', 'other'):
            self.verifier.set('agent-' + name, fake_keylime.agent_status(3))
        ev = trust.TrustEvaluator([self.provider], 'all', DAY_S)
        self.eng = decision.Engine(decision.Settings(), lambda: self.topo,
                                   ev)

    def test_flip_and_outage(self):
        dst, other = self.eng.decide(request(), ['dst', 'other'])
        self.assertTrue(dst.allowed and other.allowed)
        self.verifier.set('agent-other', fake_keylime.agent_status(9))
        dst, other = self.eng.decide(request(), ['dst', 'other'])
        self.assertTrue(dst.allowed)
        self.assertFalse(other.allowed)
        self.assertIn('Invalid Quote', other.summary)
        self.verifier.set('agent-src', fake_keylime.agent_status(7))
        for d in self.eng.decide(request(), ['dst', 'other']):
            self.assertIn('source host src is not trusted', d.summary)
        self.verifier.stop()
        for d in self.eng.decide(request(), ['dst', 'other']):
            self.assertFalse(d.allowed)
            self.assertIn('Keylime verifier unavailable', d.summary)
        for d in self.eng.decide(request(trusted=False), ['dst', 'other']):
            self.assertTrue(d.allowed, d.summary)
        self.assertEqual(1, self.log.output.count('Keylime verifier is '
                                                  'failing'))

    def test_one_request_per_agent_per_decision(self):
        self.flags(cache_ttl=30)
        self.eng.decide(request(), ['dst', 'other'])
        self.eng.decide(request(), ['dst', 'other'])
        self.assertEqual(3, self.verifier.count())
