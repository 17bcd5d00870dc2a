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

"""The aggregate-metadata trust provider."""

import datetime

from oslo_config import fixture as config_fixture
import testtools

from qslm_nova import trust
from qslm_nova.trust import aggregate
from qslm_nova.trust import traits
from tests.unit.trust import test_keylime as helpers

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def meta(**kw):
    return {'aggregate_metadata': {k.replace('_', ':', 1): v
                                   for k, v in kw.items()}}


class ProviderTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.conf = helpers.make_conf()
        self.cfg = self.useFixture(config_fixture.Config(self.conf))
        self.topo = helpers.topology({'c1': None, 'c2': None})


class TestAggregateProvider(ProviderTestCase):

    def setUp(self):
        super().setUp()
        self.provider = aggregate.AggregateTrustProvider(self.conf)

    def one(self, info, host='c1'):
        return self.provider.get_trust([host], self.topo,
                                       {host: info} if info else None)[host]

    def test_trusted_with_time(self):
        got = self.one(meta(qslm_trusted='true',
                            qslm_attested_at='2026-11-25T06:00:00Z'))
        self.assertIs(True, got.trusted)
        self.assertEqual(datetime.datetime(2026, 11, 25, 6, tzinfo=UTC),
                         got.attested_at)

    def test_epoch_time(self):
        got = self.one(meta(qslm_trusted='True',
                            qslm_attested_at='1764057600'))
        self.assertEqual(1764057600, got.attested_at.timestamp())

    def test_untrusted(self):
        got = self.one(meta(qslm_trusted='false'))
        self.assertIs(False, got.trusted)

    def test_no_key_or_no_info_is_unknown(self):
        self.assertIsNone(self.one(meta(other='x')).trusted)
        self.assertIsNone(self.one(None).trusted)
        self.assertIsNone(self.one({'traits': set()}).trusted)

    def test_malformed_values_are_unknown(self):
        got = self.one(meta(qslm_trusted='yes please'))
        self.assertIsNone(got.trusted)
        self.assertIn('not true or false', got.reason)
        got = self.one(meta(qslm_trusted='true', qslm_attested_at='soon'))
        self.assertIsNone(got.trusted)
        self.assertIn('not an ISO 8601 time', got.reason)

    def test_disagreeing_aggregates_untrusted(self):
        # Nova's aggregate_metadata_get_by_host gives sets of values.
        got = self.one(meta(qslm_trusted={'true', 'false'}))
        self.assertIs(False, got.trusted)
        self.assertIn('disagree', got.reason)

    def test_oldest_time_counts(self):
        got = self.one(meta(qslm_trusted={'true'}, qslm_attested_at={
            '2026-11-25T06:00:00Z', '2026-11-20T06:00:00Z'}))
        self.assertEqual(20, got.attested_at.day)

    def test_custom_keys(self):
        self.cfg.config(group='qslm_aggregate', trusted_key='attested',
                        attested_at_key='attested_time')
        got = self.one({'aggregate_metadata': {
            'attested': 'true', 'attested_time': '2026-11-25T06:00:00Z'}})
        self.assertTrue(got.trusted)

    def test_freshness(self):
        ev = trust.TrustEvaluator([self.provider], 'all', 86400)
        info = {
            'c1': meta(qslm_trusted='true',
                       qslm_attested_at='2026-11-25T06:00:00Z'),
            'c2': meta(qslm_trusted='true',
                       qslm_attested_at='2026-11-22T06:00:00Z')}
        got = ev.evaluate(['c1', 'c2'], self.topo, NOW, info)
        self.assertTrue(got['c1'][0])
        self.assertFalse(got['c2'][0])
        self.assertIn('older than max_attestation_age', got['c2'][1])

    def test_without_time_fails_age_check(self):
        ev = trust.TrustEvaluator([self.provider], 'all', 86400)
        got = ev.evaluate(['c1'], self.topo, NOW,
                          {'c1': meta(qslm_trusted='true')})
        self.assertFalse(got['c1'][0])
        self.assertIn('no attestation time', got['c1'][1])
        ev = trust.TrustEvaluator([self.provider], 'all', 0)
        got = ev.evaluate(['c1'], self.topo, NOW,
                          {'c1': meta(qslm_trusted='true')})
        self.assertTrue(got['c1'][0])

    def test_loaded_by_stevedore(self):
        loaded = trust.load_providers(self.conf, ['aggregate', 'traits'])
        self.assertIsInstance(loaded[0], aggregate.AggregateTrustProvider)
        self.assertIsInstance(loaded[1], traits.TraitTrustProvider)
