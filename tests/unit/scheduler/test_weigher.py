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

"""QSLMWeigher with Nova's fakes and Nova's weight handler."""

import fixtures
from nova import exception as nova_exc
from nova import objects
from nova.scheduler import weights as nova_weights
from oslo_utils.fixture import uuidsentinel as uuids

from qslm_nova import decision
from qslm_nova.scheduler import filters
from qslm_nova.scheduler import weights
from tests.unit import scheduler as base


class WeigherTestCase(base.SchedulerTestCase):

    def setUp(self):
        super().setUp()
        self.weigher = weights.QSLMWeigher()

    def raw(self, spec_obj, *names):
        """Raw weights by host name, as the weigher returns them."""
        hosts = self.hosts(*names)
        objs = [nova_weights.WeighedHost(h, 0.0) for h in hosts]
        return dict(zip([h.host for h in hosts],
                        self.weigher.weigh_objects(objs, spec_obj)))

    def ranked(self, spec_obj, hosts):
        """Host names, best first, through Nova's weight handler."""
        handler = nova_weights.HostWeightHandler()
        return [w.obj.host for w in handler.get_weighed_objects(
            [self.weigher], hosts, spec_obj)]


class TestWeights(WeigherTestCase):

    def test_larger_margin_weighs_more(self):
        # The same destination under a looser limit leaves more of it.
        # (Not the LAN neighbour against the WAN one: its migration ends
        # in 1.4 s and may stop under QEMU's own 300 ms limit before
        # Nova's late first step, so the pause held for it is the
        # larger.)
        loose = self.raw(self.spec({'qslm:max_downtime_ms': '1000'}),
                         'far')['far']
        tight = self.raw(self.spec({'qslm:max_downtime_ms': '500'}),
                         'far')['far']
        self.assertGreater(loose, tight)
        self.assertGreater(tight, 0.0)
        self.assertLessEqual(loose, 1.0)

    def test_security_headroom_weighs_more(self):
        # Same path and mechanism: the private links of near sit three
        # levels above a required 'untrusted', none above 'private'.
        above = self.raw(self.spec(), 'near')['near']
        at = self.raw(self.spec({'qslm:min_link_security': 'private'}),
                      'near')['near']
        self.assertGreater(above, at)
        self.assertGreater(at, 0.0)

    def test_weight_is_the_decision_score(self):
        spec_obj = self.spec()
        raw = self.raw(spec_obj, 'near', 'far')
        dec = self.decisions(spec_obj)
        self.assertEqual({'near': dec['near'].score,
                          'far': dec['far'].score}, raw)

    def test_denied_weighs_minus_one(self):
        raw = self.raw(self.spec({'qslm:require_trusted_host': 'true'}),
                       'near', 'rogue', 'ghost')
        self.assertEqual(-1.0, raw['rogue'])
        self.assertEqual(-1.0, raw['ghost'])
        self.assertGreater(raw['near'], 0.0)

    def test_not_a_migration_weighs_zero(self):
        raw = self.raw(self.spec(task_state=None), 'near', 'far')
        self.assertEqual({'near': 0.0, 'far': 0.0}, raw)

    def test_boot_weighs_zero(self):
        self.lookup.side_effect = nova_exc.InstanceNotFound(
            instance_id=uuids.instance)
        self.assertEqual({'near': 0.0}, self.raw(self.spec(), 'near'))

    def test_lookup_error_weighs_zero(self):
        self.lookup.side_effect = RuntimeError('cell database down')
        self.assertEqual({'near': 0.0}, self.raw(self.spec(), 'near'))

    def test_weigh_one_object(self):
        spec_obj = self.spec()
        host = self.hosts('near')[0]
        weight = self.weigher._weigh_object(host, spec_obj)
        self.assertGreater(weight, 0.0)
        self.assertEqual(self.decisions(spec_obj)['near'].score, weight)

    def test_no_hosts(self):
        self.assertEqual([], self.weigher.weigh_objects([], self.spec()))
        self.lookup.assert_not_called()

    def test_handler_ranks_best_first(self):
        spec_obj = self.spec({'qslm:require_trusted_host': 'true'})
        ranked = self.ranked(spec_obj, self.hosts('rogue', 'far', 'near'))
        self.assertEqual(['near', 'far', 'rogue'], ranked)


class TestMultiplier(WeigherTestCase):

    def aggregate(self, value):
        return objects.Aggregate(id=1, name='agg',
                                 metadata={'qslm_weight_multiplier': value})

    def test_default_multiplier(self):
        self.assertEqual(1.0,
                         self.weigher.weight_multiplier(self.hosts('near')[0]))

    def test_option_sets_multiplier(self):
        self.flags(weight_multiplier=2.5, group='qslm')
        self.assertEqual(2.5,
                         self.weigher.weight_multiplier(self.hosts('near')[0]))

    def test_aggregate_metadata_overrides_option(self):
        self.flags(weight_multiplier=2.5, group='qslm')
        host = self.hosts('near', aggregates=[self.aggregate('-3.0')])[0]
        self.assertEqual(-3.0, self.weigher.weight_multiplier(host))

    def test_malformed_aggregate_metadata_keeps_option(self):
        self.flags(weight_multiplier=2.5, group='qslm')
        host = self.hosts('near', aggregates=[self.aggregate('lots')])[0]
        self.assertEqual(2.5, self.weigher.weight_multiplier(host))

    def test_negative_multiplier_reverses_ranking(self):
        spec_obj = self.spec()
        hosts = self.hosts('far', 'near',
                           aggregates=[self.aggregate('-1.0')])
        self.assertEqual(['far', 'near'], self.ranked(spec_obj, hosts))


class TestOneDecisionPerHost(WeigherTestCase):

    def spy_decide(self):
        """Record the candidates of every Engine.decide call."""
        real = decision.Engine.decide
        calls = []

        def spy(engine, req, candidates, host_info=None):
            calls.append(list(candidates))
            return real(engine, req, candidates, host_info)

        # A plain function, so that it binds to the engine like the real.
        self.useFixture(fixtures.MonkeyPatch(
            'qslm_nova.decision.Engine.decide', spy))
        return calls

    def test_filter_and_weigher_share_one_decide_call(self):
        calls = self.spy_decide()
        spec_obj = self.spec({'qslm:require_trusted_host': 'true'})
        passed = filters.QSLMFilter().filter_all(self.hosts(), spec_obj)
        self.assertEqual(['near', 'far', 'farplain'],
                         [h.host for h in passed])
        self.assertEqual('near', self.ranked(spec_obj, passed)[0])
        # One batch for every host of the request; the weigher reuses it.
        self.assertEqual([list(base.ALL_HOSTS)], calls)
        self.lookup.assert_called_once_with(spec_obj)

    def test_weigher_decides_only_hosts_not_yet_decided(self):
        calls = self.spy_decide()
        spec_obj = self.spec()
        filters.QSLMFilter().filter_all(self.hosts('near'), spec_obj)
        self.raw(spec_obj, 'near', 'far')
        self.raw(spec_obj, 'near', 'far')
        self.assertEqual([['near'], ['far']], calls)

    def test_new_request_spec_is_a_new_request(self):
        calls = self.spy_decide()
        self.raw(self.spec(), 'near', 'far')
        self.raw(self.spec(), 'near', 'far')
        self.assertEqual([['near', 'far'], ['near', 'far']], calls)
        self.assertEqual(2, self.lookup.call_count)


class TestWeigherAfterFilter(WeigherTestCase):
    """The weigher reads the filter's weights without a name look-up when
    it gets exactly the hosts that passed; anything else is looked up by
    name. Both give each host its decision's score.
    """

    def setUp(self):
        super().setUp()
        # As in production: no DEBUG lines, which look the removed hosts
        # up by name.
        self.useFixture(fixtures.FakeLogger(name='qslm_nova', level='INFO'))
        self.spec_obj = self.spec({'qslm:require_trusted_host': 'true'})
        self.all = self.hosts()
        self.passed = filters.QSLMFilter().filter_all(self.all,
                                                      self.spec_obj)
        self.decided = self.decisions(self.spec_obj)

    def weigh(self, hosts):
        """Raw weights and the decisions' scores, by host name."""
        objs = [nova_weights.WeighedHost(h, 0.0) for h in hosts]
        got = dict(zip([h.host for h in hosts],
                       self.weigher.weigh_objects(objs, self.spec_obj)))
        return got, {h.host: (self.decided[h.host].score
                              if self.decided[h.host].allowed else -1.0)
                     for h in hosts}

    def by_name_map_built(self):
        return self.decided._position is not None

    def test_passed_hosts_need_no_name_map(self):
        self.assertGreater(len(self.passed), 1)
        objs = [nova_weights.WeighedHost(h, 0.0) for h in self.passed]
        self.weigher.weigh_objects(objs, self.spec_obj)
        self.assertFalse(self.by_name_map_built())
        got, want = self.weigh(self.passed)
        self.assertEqual(want, got)

    def test_another_filter_removed_one(self):
        got, want = self.weigh(self.passed[1:])
        self.assertEqual(want, got)
        self.assertEqual(len(self.passed) - 1, len(got))

    def test_reordered_hosts(self):
        backwards = self.passed[::-1]
        got = self.weigher.weigh_objects(
            [nova_weights.WeighedHost(h, 0.0) for h in backwards],
            self.spec_obj)
        self.assertEqual([self.decided[h.host].score for h in backwards],
                         got)

    def test_equal_names_other_objects(self):
        # New HostState objects for the same hosts (not the filter's).
        got, want = self.weigh(self.hosts(*[h.host for h in self.passed]))
        self.assertEqual(want, got)

    def test_denied_host_weighs_minus_one(self):
        denied = [h for h in self.all if h not in self.passed]
        self.assertTrue(denied)
        got, want = self.weigh(self.passed + denied)
        self.assertEqual(want, got)
        for h in denied:
            self.assertEqual(-1.0, got[h.host])
