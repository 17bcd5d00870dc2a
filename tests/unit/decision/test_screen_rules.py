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

"""The screening rules: trust and paths, one passing and one failing case
per rule.
"""

from tests.unit.decision.base import DecisionTestCase
from tests.unit.decision.base import PRIVATE
from tests.unit.decision.base import TRUSTED
from tests.unit import fixtures as fx


class TestTrust(DecisionTestCase):

    def test_trusted_destination_allowed(self):
        d = self.decide('dst', flavor=TRUSTED)
        self.assertAllowed(d)
        self.assertEqual(('src', 'tor', 'dst'), d.path)

    def test_untrusted_destination_denied(self):
        d = self.decide('rogue', flavor=TRUSTED)
        self.assertDenied(
            d, 'host rogue is not trusted (static: host is not trusted '
               '(topology file says untrusted)); the instance requires '
               'trusted hosts')
        self.assertIsNone(d.mechanism)

    def test_untrusted_destination_allowed_without_requirement(self):
        self.assertAllowed(self.decide('rogue'))

    def test_trusted_source_passes(self):
        d = self.engine.decide(fx.request(flavor=TRUSTED), ['dst', 'far'])
        self.assertEqual([True, True], [x.allowed for x in d])

    def test_untrusted_source_denies_every_candidate(self):
        ds = self.engine.decide(fx.request(source='rogue', flavor=TRUSTED),
                                ['dst', 'far', 'plain'])
        for d in ds:
            self.assertDenied(
                d, 'source host rogue is not trusted (static: host is not '
                   'trusted (topology file says untrusted)); the instance '
                   'requires trusted hosts')
            self.assertEqual(1, len(d.reasons))

    def test_untrusted_source_without_requirement(self):
        self.assertAllowed(self.decide('dst', source='rogue'))

    def test_fresh_attestation_allowed(self):
        engine = fx.make_engine(max_age_s=3600)
        self.assertAllowed(self.decide('dst', engine=engine, flavor=TRUSTED))

    def test_stale_attestation_denied(self):
        d = self.decide('stale', flavor=TRUSTED)
        self.assertDenied(
            d, 'host stale is not trusted (static: attestation is 259200 s '
               'old, older than max_attestation_age 86400 s); the instance '
               'requires trusted hosts')

    def test_stale_attestation_allowed_with_longer_max_age(self):
        engine = fx.make_engine(max_age_s=4 * fx.DAY_S)
        self.assertAllowed(self.decide('stale', engine=engine,
                                       flavor=TRUSTED))

    def test_stale_source_denied(self):
        ds = self.engine.decide(fx.request(source='stale', flavor=TRUSTED),
                                ['dst'])
        self.assertFalse(ds[0].allowed)
        self.assertIn('source host stale is not trusted', ds[0].reasons[0])

    def test_trust_required_by_image_property(self):
        d = self.decide('rogue', image=TRUSTED)
        self.assertFalse(d.allowed)


class TestPath(DecisionTestCase):

    def _two_paths(self):
        # src-a: wide (40G) but shared; src-b: narrow (5G) and private.
        doc = {
            'version': 1,
            'hosts': {'src': {'mechanisms': ['none']},
                      'dst': {'mechanisms': ['none']}},
            'nodes': {'a': {}, 'b': {}},
            'links': [fx.link('src', 'a', 40, 'shared'),
                      fx.link('a', 'dst', 40, 'shared'),
                      fx.link('src', 'b', 5, 'private'),
                      fx.link('b', 'dst', 5, 'private')]}
        return fx.make_engine(fx.make_topology(doc))

    def test_widest_path_without_requirement(self):
        d = self.decide('dst', engine=self._two_paths())
        self.assertAllowed(d)
        self.assertEqual(('src', 'a', 'dst'), d.path)
        self.assertEqual(40.0, d.bottleneck_gbps)
        self.assertEqual('shared', d.weakest_link)

    def test_secure_path_preferred_over_wider_weak_one(self):
        d = self.decide('dst', engine=self._two_paths(), flavor=PRIVATE)
        self.assertAllowed(d)
        self.assertEqual(('src', 'b', 'dst'), d.path)
        self.assertEqual(5.0, d.bottleneck_gbps)
        self.assertEqual('private', d.weakest_link)
        self.assertEqual('none', d.mechanism)

    def test_path_meeting_min_security_needs_no_mechanism(self):
        d = self.decide('plain', flavor=PRIVATE)
        self.assertAllowed(d)
        self.assertEqual('none', d.mechanism)
        self.assertEqual('private', d.weakest_link)
        self.assertAlmostEqual(0.2, d.rtt_ms)

    def test_weak_link_without_protection_denied(self):
        doc = fx.cloud_doc()
        del doc['links'][fx.WAN_LINK]['mechanisms']
        engine = fx.make_engine(fx.make_topology(doc))
        d = self.decide('farplain', engine=engine, flavor=PRIVATE)
        self.assertDenied(
            d, 'every path from src to farplain crosses links weaker than '
               'the required private and no protecting mechanism is both '
               'supported by the two hosts (none) and allowed by the policy '
               '(ipsec, none, tls, tunnelled)')
        self.assertEqual(('src', 'tor', 'ra', 'rb', 'farplain'), d.path)
        self.assertEqual('wan', d.weakest_link)
        self.assertEqual(1.0, d.bottleneck_gbps)

    def test_no_path(self):
        doc = fx.cloud_doc()
        doc['hosts']['island'] = {'trusted': True, 'attested_at': fx.FRESH}
        engine = fx.make_engine(fx.make_topology(doc))
        d = self.decide('island', engine=engine)
        self.assertDenied(d, 'no path from src to island in the topology')

    def test_source_is_not_a_destination(self):
        self.assertDenied(self.decide('src'), 'host src is the source host')

    def test_unknown_host_denied(self):
        self.assertDenied(self.decide('nowhere'),
                          'host nowhere is not in the topology file')

    def test_known_host_allowed(self):
        self.assertAllowed(self.decide('far'))

    def test_source_not_in_topology(self):
        ds = self.engine.decide(fx.request(source='ghost'), ['dst', 'far'])
        for d in ds:
            self.assertEqual(
                ['source host ghost is not in the topology file'],
                list(d.reasons))
            self.assertFalse(d.allowed)

    def test_unknown_hosts_unchecked_when_fail_open(self):
        engine = fx.make_engine(fail_closed=False)
        d = self.decide('nowhere', engine=engine)
        self.assertTrue(d.allowed)
        self.assertEqual(['not checked ([qslm] fail_closed is False): host '
                          'nowhere is not in the topology file'],
                         list(d.notes))
        d = self.decide('dst', engine=engine, source='ghost')
        self.assertTrue(d.allowed)
        self.assertEqual(['not checked ([qslm] fail_closed is False): '
                          'source host ghost is not in the topology file'],
                         list(d.notes))

    def test_unknown_hosts_denied_for_demanding_instance(self):
        engine = fx.make_engine(fail_closed=False)
        d = self.decide('nowhere', engine=engine, flavor=TRUSTED)
        self.assertDenied(d, 'host nowhere is not in the topology file')
        d = self.decide('dst', engine=engine, source='ghost', flavor=PRIVATE)
        self.assertDenied(d,
                          'source host ghost is not in the topology file')

    def test_hosts_do_not_transit(self):
        # dst reaches tor only through src's neighbour: no transit via src.
        doc = {'version': 1,
               'hosts': {'a': {}, 'b': {}, 'c': {}},
               'links': [fx.link('a', 'b'), fx.link('b', 'c')]}
        engine = fx.make_engine(fx.make_topology(doc))
        ds = engine.decide(fx.request(source='a'), ['b', 'c'])
        self.assertAllowed(ds[0])
        self.assertDenied(ds[1], 'no path from a to c in the topology')
