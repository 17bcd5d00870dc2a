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

"""The engine as a whole: policy sources, no topology, one search per
request, and building it from the options.
"""

from unittest import mock

from oslotest import base

from qslm_nova import decision
from qslm_nova import exception
from qslm_nova import topology
from tests.unit.decision.base import DecisionTestCase
from tests.unit.decision.base import PRIVATE
from tests.unit.decision.base import TRUSTED
from tests.unit import fixtures as fx


class TestPolicySources(DecisionTestCase):

    def test_wellformed_extra_spec(self):
        self.assertAllowed(self.decide(
            'dst', flavor={'qslm:max_downtime_ms': '2000'}))

    def test_malformed_extra_spec_denied_naming_key_and_source(self):
        d = self.decide('dst', flavor={'qslm:max_downtime_ms': 'fast'})
        self.assertEqual(
            ["flavor extra spec qslm:max_downtime_ms: must be an integer "
             "from 1 to 2147483647, got 'fast'"], list(d.reasons))
        self.assertFalse(d.allowed)

    def test_malformed_image_property_denied(self):
        d = self.decide('dst', image={'qslm:require_encryption': 'maybe'})
        self.assertEqual(
            ["image property qslm:require_encryption: must be true or "
             "false, got 'maybe'"], list(d.reasons))

    def test_malformed_metadata_denied(self):
        d = self.decide('dst', metadata={'qslm:min_link_security': 'ultra'})
        self.assertFalse(d.allowed)
        self.assertEqual(1, len(d.reasons))
        self.assertTrue(d.reasons[0].startswith(
            'instance metadata qslm:min_link_security: unknown security '
            'level'), d.reasons)

    def test_metadata_cannot_loosen_min_link_security(self):
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'none'})
        d = self.decide('far', flavor=flavor,
                        metadata={'qslm:min_link_security': 'untrusted'})
        self.assertFalse(d.allowed)
        self.assertIn('crosses links weaker than the required private',
                      d.reasons[0])

    def test_metadata_tightens_min_link_security(self):
        meta = {'qslm:min_link_security': 'private',
                'qslm:allowed_mechanisms': 'none'}
        self.assertAllowed(self.decide('far'))
        d = self.decide('far', metadata=meta)
        self.assertFalse(d.allowed)

    def test_metadata_narrows_allowed_mechanisms(self):
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'tls,tunnelled'})
        d = self.decide('far', flavor=flavor,
                        metadata={'qslm:allowed_mechanisms': 'tunnelled'})
        self.assertAllowed(d)
        self.assertEqual('tunnelled', d.mechanism)

    def test_metadata_cannot_widen_allowed_mechanisms(self):
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'none'})
        d = self.decide('far', flavor=flavor,
                        metadata={'qslm:allowed_mechanisms':
                                  'none,tls,tunnelled'})
        self.assertFalse(d.allowed)

    def test_metadata_cannot_drop_encryption(self):
        d = self.decide('plain', flavor={'qslm:require_encryption': 'true'},
                        metadata={'qslm:require_encryption': 'false'})
        self.assertFalse(d.allowed)

    def test_metadata_requires_encryption(self):
        d = self.decide('plain', metadata={'qslm:require_encryption': 'yes'})
        self.assertFalse(d.allowed)

    def test_metadata_sla_key_ignored_with_note(self):
        d = self.decide('dst', metadata={'qslm:max_downtime_ms': '1'})
        self.assertAllowed(d)
        self.assertIn('instance metadata qslm:max_downtime_ms ignored: SLA '
                      'keys come from the flavor only', d.notes)
        self.assertIsNone(d.limit_ms)

    def test_flavor_working_set_reaches_the_estimate(self):
        plain = self.decide('dst')
        small = self.decide('dst', flavor={'qslm:working_set_mb': '64'})
        self.assertAllowed(small)
        self.assertLessEqual(small.expected_downtime_ms,
                             plain.expected_downtime_ms)
        self.assertEqual(64.0, small.inputs.working_set_mb)
        self.assertIsNone(plain.inputs.working_set_mb)

    def test_image_sla_key_ignored_with_note(self):
        d = self.decide('dst', image={'qslm:downtime_budget_ms': '0'})
        self.assertAllowed(d)
        self.assertIn('image property qslm:downtime_budget_ms ignored: SLA '
                      'keys come from the flavor only', d.notes)


class TestTopologyUnavailable(base.BaseTestCase):

    def _broken(self):
        raise exception.TopologyError(
            ['topology.yaml: links[0].bandwidth_gbps: is required'])

    def test_fail_closed(self):
        engine = fx.make_engine(self._broken)
        ds = engine.decide(fx.request(), ['dst', 'far'])
        for d in ds:
            self.assertFalse(d.allowed)
            self.assertEqual(['topology unavailable: topology.yaml: '
                              'links[0].bandwidth_gbps: is required'],
                             list(d.reasons))

    def test_fail_open_when_configured(self):
        engine = fx.make_engine(self._broken, fail_closed=False)
        d = engine.decide(fx.request(), ['dst'])[0]
        self.assertTrue(d.allowed)
        self.assertEqual((), d.reasons)
        self.assertEqual(['not checked ([qslm] fail_closed is False): '
                          'topology unavailable: topology.yaml: '
                          'links[0].bandwidth_gbps: is required'],
                         list(d.notes))

    def test_fail_open_never_for_demanding_instances(self):
        engine = fx.make_engine(self._broken, fail_closed=False)
        for flavor in (TRUSTED, PRIVATE, {'qslm:require_encryption': '1'},
                       {'qslm:max_downtime_ms': '500'},
                       {'qslm:downtime_budget_ms': '500'},
                       {'qslm:max_downtime_ms': 'bad'}):
            d = engine.decide(fx.request(flavor=flavor), ['dst'])[0]
            self.assertFalse(d.allowed, flavor)
            self.assertEqual(['topology unavailable: topology.yaml: '
                              'links[0].bandwidth_gbps: is required'],
                             list(d.reasons))

    def test_available_topology(self):
        engine = fx.make_engine(fx.make_topology)
        self.assertTrue(engine.decide(fx.request(), ['dst'])[0].allowed)

    def test_store_without_file_fails_closed(self):
        store = topology.TopologyStore('/nonexistent/topology.yaml')
        engine = fx.make_engine(store.get)
        d = engine.decide(fx.request(), ['dst'])[0]
        self.assertFalse(d.allowed)
        self.assertTrue(d.reasons[0].startswith(
            'topology unavailable: /nonexistent/topology.yaml: cannot '
            'read: '), d.reasons)


class TestOneSearchPerRequest(base.BaseTestCase):

    def _count(self, flavor):
        topo = fx.make_topology(fx.star_doc(500))
        engine = fx.make_engine(topo)
        candidates = ['h%d' % i for i in range(500)]
        with mock.patch.object(topo, 'widest_paths',
                               wraps=topo.widest_paths) as spy:
            ds = engine.decide(fx.request(flavor=flavor), candidates)
        self.assertEqual(500, len(ds))
        self.assertEqual(candidates, [d.host for d in ds])
        self.assertTrue(all(d.allowed for d in ds),
                        [d.reasons for d in ds if not d.allowed][:3])
        for call in spy.call_args_list:
            self.assertEqual('src', call.args[0])
        return spy.call_count

    def test_500_candidates_one_search(self):
        self.assertLessEqual(self._count({}), 2)

    def test_500_candidates_with_min_security(self):
        self.assertLessEqual(self._count(dict(PRIVATE, **TRUSTED)), 2)

    def test_search_result_cached(self):
        topo = fx.make_topology()
        a = topo.widest_paths('src', 3)
        self.assertIs(a, topo.widest_paths('src', 3))
        self.assertIsNot(a, topo.widest_paths('src', 0))


class TestEngineFromConf(base.BaseTestCase):

    def test_settings_defaults(self):
        s = decision.Settings()
        self.assertTrue(s.fail_closed)
        self.assertEqual('worst', s.sla_estimate)
