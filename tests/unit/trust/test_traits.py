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

"""The placement-trait trust provider."""

import time

from qslm_nova import trust
from qslm_nova.trust import traits as traits_mod
from tests.unit.trust import test_aggregate


class TestTraitProvider(test_aggregate.ProviderTestCase):

    def setUp(self):
        super().setUp()
        self.provider = traits_mod.TraitTrustProvider(self.conf)

    def one(self, traits, host='c1'):
        info = None if traits is None else {host: {'traits': set(traits)}}
        return self.provider.get_trust([host], self.topo, info)[host]

    def test_trusted_with_time_trait(self):
        got = self.one(['HW_CPU_X86_AVX2', 'CUSTOM_QSLM_TRUSTED',
                        'CUSTOM_QSLM_ATTESTED_AT_1764050000',
                        'CUSTOM_QSLM_ATTESTED_AT_1764057600'])
        self.assertIs(True, got.trusted)
        self.assertEqual(1764057600, got.attested_at.timestamp())

    def test_untrusted_trait_wins(self):
        got = self.one(['CUSTOM_QSLM_TRUSTED', 'CUSTOM_QSLM_UNTRUSTED'])
        self.assertIs(False, got.trusted)

    def test_no_trait_or_no_info_is_unknown(self):
        self.assertIsNone(self.one(['HW_CPU_X86_AVX2']).trusted)
        self.assertIsNone(self.one(None).trusted)

    def test_bad_time_trait_ignored(self):
        got = self.one(['CUSTOM_QSLM_TRUSTED',
                        'CUSTOM_QSLM_ATTESTED_AT_SOON',
                        'CUSTOM_QSLM_ATTESTED_AT_99999999999999999999'])
        self.assertTrue(got.trusted)
        self.assertIsNone(got.attested_at)

    def test_custom_trait(self):
        self.cfg.config(group='qslm_traits', trusted_trait='CUSTOM_ATTESTED')
        self.assertTrue(self.one(['CUSTOM_ATTESTED']).trusted)
        self.assertIsNone(self.one(['CUSTOM_QSLM_TRUSTED']).trusted)

    def test_freshness(self):
        ev = trust.TrustEvaluator([self.provider], 'all', 3600)
        fresh = int(time.time()) - 60
        stale = int(time.time()) - 7200
        info = {'c1': {'traits': {'CUSTOM_QSLM_TRUSTED',
                                  'CUSTOM_QSLM_ATTESTED_AT_%d' % fresh}},
                'c2': {'traits': {'CUSTOM_QSLM_TRUSTED',
                                  'CUSTOM_QSLM_ATTESTED_AT_%d' % stale}}}
        got = ev.evaluate(['c1', 'c2'], self.topo, None, info)
        self.assertTrue(got['c1'][0], got['c1'][1])
        self.assertFalse(got['c2'][0])
        self.assertIn('older than max_attestation_age', got['c2'][1])

    def test_without_time_trait(self):
        ev = trust.TrustEvaluator([self.provider], 'all', 3600)
        info = {'c1': {'traits': {'CUSTOM_QSLM_TRUSTED'}}}
        ok, why = ev.evaluate(['c1'], self.topo, None, info)['c1']
        self.assertFalse(ok)
        self.assertIn('no attestation time', why)
        self.cfg.config(group='qslm_traits', trait_without_time_is_fresh=True)
        ok, why = ev.evaluate(['c1'], self.topo, None, info)['c1']
        self.assertTrue(ok, why)
