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

"""Transport options: which mechanism, and the per-topology memo."""

from tests.unit.decision.base import DecisionTestCase
from tests.unit.decision.base import PRIVATE
from tests.unit import fixtures as fx


class TestMechanism(DecisionTestCase):

    def test_mechanism_needed_and_available(self):
        d = self.decide('far', flavor=PRIVATE)
        self.assertAllowed(d)
        self.assertIn(d.mechanism, ('tls', 'tunnelled',
                                    'none (+ipsec on weak links)',
                                    'tls (+ipsec on weak links)',
                                    'tunnelled (+ipsec on weak links)'))
        self.assertEqual('wan', d.weakest_link)

    def test_lowest_downtime_mechanism_wins(self):
        # tls (2.5 Gbit/s per core) beats tunnelled (1.2) on a 10 Gbit/s path.
        doc = fx.cloud_doc()
        doc['links'][fx.WAN_LINK]['bandwidth_gbps'] = 10
        del doc['links'][fx.WAN_LINK]['mechanisms']
        engine = fx.make_engine(fx.make_topology(doc))
        d = self.decide('far', engine=engine, flavor=PRIVATE)
        self.assertAllowed(d)
        self.assertEqual('tls', d.mechanism)
        only_ssh = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'tunnelled'})
        d2 = self.decide('far', engine=engine, flavor=only_ssh)
        self.assertEqual('tunnelled', d2.mechanism)
        self.assertGreaterEqual(d2.worst_downtime_ms, d.worst_downtime_ms)

    def test_mechanism_unavailable(self):
        doc = fx.cloud_doc()
        del doc['links'][fx.WAN_LINK]['mechanisms']
        doc['hosts']['far']['mechanisms'] = ['none', 'tunnelled']
        doc['hosts']['src']['mechanisms'] = ['none', 'tls']
        engine = fx.make_engine(fx.make_topology(doc))
        d = self.decide('far', engine=engine, flavor=PRIVATE)
        self.assertDenied(
            d, 'every path from src to far crosses links weaker than the '
               'required private and no protecting mechanism is both '
               'supported by the two hosts (none) and allowed by the policy '
               '(ipsec, none, tls, tunnelled)')

    def test_mechanism_not_allowed_by_policy(self):
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'none'})
        d = self.decide('far', flavor=flavor)
        self.assertDenied(
            d, 'every path from src to far crosses links weaker than the '
               'required private and no protecting mechanism is both '
               'supported by the two hosts (none, tls, tunnelled) and '
               'allowed by the policy (none)')

    def test_mechanism_allowed_by_policy(self):
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'tunnelled'})
        d = self.decide('far', flavor=flavor)
        self.assertAllowed(d)
        self.assertEqual('tunnelled', d.mechanism)

    def test_require_encryption_picks_protecting_mechanism(self):
        d = self.decide('dst', flavor={'qslm:require_encryption': 'true'})
        self.assertAllowed(d)
        self.assertIn(d.mechanism, ('tls', 'tunnelled'))

    def test_require_encryption_denies_plain_host(self):
        d = self.decide('plain', flavor={'qslm:require_encryption': 'true'})
        self.assertDenied(
            d, 'the instance requires encryption and no protecting '
               'mechanism is both supported by the two hosts (none) and '
               'allowed by the policy (ipsec, none, tls, tunnelled)')

    def test_without_encryption_plain_host_uses_none(self):
        d = self.decide('plain')
        self.assertAllowed(d)
        self.assertEqual('none', d.mechanism)

    def test_link_ipsec_covers_weak_link(self):
        d = self.decide('farplain', flavor=PRIVATE)
        self.assertAllowed(d)
        self.assertEqual('none (+ipsec on weak links)', d.mechanism)

    def test_link_ipsec_not_allowed_by_policy(self):
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'none,tls'})
        d = self.decide('farplain', flavor=flavor)
        self.assertFalse(d.allowed)
        self.assertIn('crosses links weaker than the required private',
                      d.reasons[0])

    def test_link_ipsec_does_not_satisfy_end_to_end_encryption(self):
        flavor = dict(PRIVATE, **{'qslm:require_encryption': 'true'})
        d = self.decide('farplain', flavor=flavor)
        self.assertFalse(d.allowed)


class TestOptionsMemo(DecisionTestCase):
    """Transport options are remembered per topology and policy rules."""

    def test_policies_on_one_engine(self):
        # The same destination and path, asked with rules that change the
        # options, in turn on one engine.
        no_ipsec = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'none,tls'})
        encrypt = dict(PRIVATE, **{'qslm:require_encryption': 'true'})
        for _ in range(2):
            self.assertEqual('none (+ipsec on weak links)',
                             self.decide('farplain', flavor=PRIVATE).mechanism)
            self.assertFalse(self.decide('farplain', flavor=no_ipsec).allowed)
            self.assertFalse(self.decide('farplain', flavor=encrypt).allowed)
            self.assertEqual('none', self.decide('farplain').mechanism)
            d = self.decide('far', flavor=encrypt)
            self.assertIn(d.mechanism, ('tls', 'tunnelled'))

    def test_new_topology_starts_afresh(self):
        first = fx.make_topology()
        doc = fx.cloud_doc()
        doc['links'][fx.WAN_LINK]['mechanisms'] = []
        second = fx.make_topology(doc)
        current = [first]
        engine = fx.make_engine(lambda: current[0])
        self.assertEqual('none (+ipsec on weak links)', self.decide(
            'farplain', engine=engine, flavor=PRIVATE).mechanism)
        # The weak link no longer carries IPsec: the same key must not
        # reuse the first topology's options.
        current[0] = second
        d = self.decide('farplain', engine=engine, flavor=PRIVATE)
        self.assertFalse(d.allowed)
        self.assertIn('crosses links weaker than the required private',
                      d.reasons[0])

    def test_full_memo_is_emptied(self):
        self.engine.options_memo.max_entries = 1
        for _ in range(3):
            self.assertEqual('none (+ipsec on weak links)', self.decide(
                'farplain', flavor=PRIVATE).mechanism)
            self.assertEqual('none', self.decide('farplain').mechanism)
        self.assertLessEqual(len(self.engine.options_memo), 1)
