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

"""The decision rules: one passing and one failing case per rule."""

import datetime
from unittest import mock

from oslotest import base

from qslm_nova import decision
from qslm_nova import estimator
from qslm_nova import exception
from qslm_nova import topology
from tests.unit import fixtures as fx

PRIVATE = {'qslm:min_link_security': 'private'}
TRUSTED = {'qslm:require_trusted_host': 'true'}


class DecisionTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.engine = fx.make_engine()

    def decide(self, host, engine=None, **kw):
        return fx.decide_one(engine or self.engine, host, **kw)

    def assertAllowed(self, d):
        self.assertTrue(d.allowed, d.reasons)
        self.assertEqual((), d.reasons)
        self.assertGreaterEqual(d.score, 0.0)

    def assertDenied(self, d, reason):
        self.assertFalse(d.allowed)
        self.assertIn(reason, d.reasons)


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
               '(ipsec, none, ssh, tls)')
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


class TestMechanism(DecisionTestCase):

    def test_mechanism_needed_and_available(self):
        d = self.decide('far', flavor=PRIVATE)
        self.assertAllowed(d)
        self.assertIn(d.mechanism, ('tls', 'ssh',
                                    'none (+ipsec on weak links)',
                                    'tls (+ipsec on weak links)',
                                    'ssh (+ipsec on weak links)'))
        self.assertEqual('wan', d.weakest_link)

    def test_lowest_downtime_mechanism_wins(self):
        # tls (2.5 Gbit/s per core) beats ssh (1.2) on a 10 Gbit/s path.
        doc = fx.cloud_doc()
        doc['links'][fx.WAN_LINK]['bandwidth_gbps'] = 10
        del doc['links'][fx.WAN_LINK]['mechanisms']
        engine = fx.make_engine(fx.make_topology(doc))
        d = self.decide('far', engine=engine, flavor=PRIVATE)
        self.assertAllowed(d)
        self.assertEqual('tls', d.mechanism)
        only_ssh = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'ssh'})
        d2 = self.decide('far', engine=engine, flavor=only_ssh)
        self.assertEqual('ssh', d2.mechanism)
        self.assertGreaterEqual(d2.worst_downtime_ms, d.worst_downtime_ms)

    def test_mechanism_unavailable(self):
        doc = fx.cloud_doc()
        del doc['links'][fx.WAN_LINK]['mechanisms']
        doc['hosts']['far']['mechanisms'] = ['none', 'ssh']
        doc['hosts']['src']['mechanisms'] = ['none', 'tls']
        engine = fx.make_engine(fx.make_topology(doc))
        d = self.decide('far', engine=engine, flavor=PRIVATE)
        self.assertDenied(
            d, 'every path from src to far crosses links weaker than the '
               'required private and no protecting mechanism is both '
               'supported by the two hosts (none) and allowed by the policy '
               '(ipsec, none, ssh, tls)')

    def test_mechanism_not_allowed_by_policy(self):
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'none'})
        d = self.decide('far', flavor=flavor)
        self.assertDenied(
            d, 'every path from src to far crosses links weaker than the '
               'required private and no protecting mechanism is both '
               'supported by the two hosts (none, ssh, tls) and allowed by '
               'the policy (none)')

    def test_mechanism_allowed_by_policy(self):
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'ssh'})
        d = self.decide('far', flavor=flavor)
        self.assertAllowed(d)
        self.assertEqual('ssh', d.mechanism)

    def test_require_encryption_picks_protecting_mechanism(self):
        d = self.decide('dst', flavor={'qslm:require_encryption': 'true'})
        self.assertAllowed(d)
        self.assertIn(d.mechanism, ('tls', 'ssh'))

    def test_require_encryption_denies_plain_host(self):
        d = self.decide('plain', flavor={'qslm:require_encryption': 'true'})
        self.assertDenied(
            d, 'the instance requires encryption and no protecting '
               'mechanism is both supported by the two hosts (none) and '
               'allowed by the policy (ipsec, none, ssh, tls)')

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
            self.assertIn(d.mechanism, ('tls', 'ssh'))

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
        patcher = mock.patch.object(decision, '_OPTIONS_MEMO_MAX', 1)
        patcher.start()
        self.addCleanup(patcher.stop)
        for _ in range(3):
            self.assertEqual('none (+ipsec on weak links)', self.decide(
                'farplain', flavor=PRIVATE).mechanism)
            self.assertEqual('none', self.decide('farplain').mechanism)
        self.assertLessEqual(len(self.engine._options_seen[1]), 1)


class TestDowntime(DecisionTestCase):

    def test_within_per_migration_maximum(self):
        d = self.decide('dst', flavor={'qslm:max_downtime_ms': '5000'})
        self.assertAllowed(d)
        self.assertEqual(5000, d.limit_ms)
        self.assertLessEqual(d.worst_downtime_ms, 5000)
        self.assertEqual('completed', d.outcome)

    def test_exceeds_per_migration_maximum(self):
        d = self.decide('dst', flavor={'qslm:max_downtime_ms': '1'})
        self.assertDenied(
            d, 'worst-case downtime %.0f ms exceeds the per-migration '
               'maximum of 1 ms (qslm:max_downtime_ms)'
               % d.worst_downtime_ms)

    def test_expected_estimate_setting(self):
        engine = fx.make_engine(sla_estimate='expected')
        d = self.decide('dst', engine=engine,
                        flavor={'qslm:max_downtime_ms': '1'})
        self.assertIn(
            'expected downtime %.0f ms exceeds the per-migration maximum '
            'of 1 ms (qslm:max_downtime_ms)' % d.expected_downtime_ms,
            d.reasons)

    def _budget(self, used, start):
        return fx.request(
            flavor={'qslm:downtime_budget_ms': '1000',
                    'qslm:budget_period_days': '30'},
            metadata={'qslm:downtime_used_ms': str(used),
                      'qslm:budget_period_start': start})

    def test_remaining_budget_suffices(self):
        d = self.engine.decide(self._budget(100, '2026-11-10'), ['dst'])[0]
        self.assertAllowed(d)
        self.assertEqual(900, d.remaining_budget_ms)
        self.assertEqual(900, d.limit_ms)

    def test_remaining_budget_exhausted(self):
        d = self.engine.decide(self._budget(990, '2026-11-10'), ['dst'])[0]
        self.assertDenied(
            d, 'worst-case downtime %.0f ms exceeds the remaining SLA budget '
               'of 10 ms' % d.worst_downtime_ms)
        self.assertEqual(10, d.remaining_budget_ms)

    def test_ledger_period_rolls_over(self):
        # 2026-10-20 + 30 days = 2026-11-19 <= 2026-11-25: a new period.
        d = self.engine.decide(self._budget(990, '2026-10-20'), ['dst'])[0]
        self.assertAllowed(d)
        self.assertEqual(1000, d.remaining_budget_ms)

    def test_ledger_period_last_day_still_counts(self):
        # 2026-10-27 + 30 days = 2026-11-26 > 2026-11-25: same period.
        d = self.engine.decide(self._budget(990, '2026-10-27'), ['dst'])[0]
        self.assertFalse(d.allowed)
        self.assertEqual(10, d.remaining_budget_ms)

    def test_malformed_ledger_denies_when_budget_set(self):
        req = fx.request(flavor={'qslm:downtime_budget_ms': '1000'},
                         metadata={'qslm:downtime_used_ms': 'lots'})
        d = self.engine.decide(req, ['dst'])[0]
        self.assertDenied(
            d, "instance metadata qslm:downtime_used_ms: must be an integer "
               "from 0 to 9007199254740992, got 'lots'")

    def test_malformed_ledger_ignored_without_budget(self):
        req = fx.request(metadata={'qslm:downtime_used_ms': 'lots'})
        self.assertAllowed(self.engine.decide(req, ['dst'])[0])

    def test_score_ranks_faster_host_higher(self):
        flavor = {'qslm:max_downtime_ms': '5000'}
        ds = self.engine.decide(fx.request(flavor=flavor), ['dst', 'far'])
        self.assertTrue(all(d.allowed for d in ds))
        for d in ds:
            self.assertGreater(d.score, 0.0)
            self.assertLessEqual(d.score, 1.0)

    def test_decision_carries_estimates(self):
        d = self.decide('dst')
        self.assertAllowed(d)
        for field in ('expected_downtime_ms', 'worst_downtime_ms',
                      'total_time_s', 'bytes_sent', 'rate_mibps',
                      'paper_worst_ms'):
            self.assertGreater(getattr(d, field), 0.0, field)
        self.assertGreaterEqual(d.worst_downtime_ms, d.expected_downtime_ms)
        self.assertGreaterEqual(d.bytes_sent, 2048 * estimator.MIB)
        self.assertIn('allowed via none', d.summary)
        self.assertEqual('dst', d.to_dict()['host'])


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
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'tls,ssh'})
        d = self.decide('far', flavor=flavor,
                        metadata={'qslm:allowed_mechanisms': 'ssh'})
        self.assertAllowed(d)
        self.assertEqual('ssh', d.mechanism)

    def test_metadata_cannot_widen_allowed_mechanisms(self):
        flavor = dict(PRIVATE, **{'qslm:allowed_mechanisms': 'none'})
        d = self.decide('far', flavor=flavor,
                        metadata={'qslm:allowed_mechanisms': 'none,tls,ssh'})
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

    def test_image_sla_key_ignored_with_note(self):
        d = self.decide('dst', image={'qslm:downtime_budget_ms': '0'})
        self.assertAllowed(d)
        self.assertIn('image property qslm:downtime_budget_ms ignored: SLA '
                      'keys come from the flavor only', d.notes)


class TestConvergence(DecisionTestCase):

    # 4 GiB guest dirtying 1 GiB/s over a 1 Gbit/s path never converges.
    HOT = {'qslm:dirty_rate_mbps': '1024'}

    def _engine(self, **libvirt):
        return fx.make_engine(libvirt=estimator.LibvirtSettings(**libvirt))

    def test_converging_migration_completes(self):
        d = self.decide('far', flavor={'qslm:dirty_rate_mbps': '1'})
        self.assertAllowed(d)
        self.assertEqual('completed', d.outcome)

    def test_non_converging_migration_aborted(self):
        d = self.decide('farplain', memory_mb=4096, flavor=self.HOT)
        self.assertEqual('aborted', d.outcome)
        self.assertFalse(d.allowed)
        self.assertEqual(1, len(d.reasons))
        self.assertEqual(
            'migration would not converge: the instance dirties memory '
            'faster than %.0f MiB/s can carry it and Nova would abort it '
            'after the completion timeout (live_migration_completion_timeout '
            '800 s/GiB)' % d.rate_mibps, d.reasons[0])

    def test_never_converging_without_timeout(self):
        engine = self._engine(completion_timeout_s=0)
        d = self.decide('farplain', engine=engine, memory_mb=4096,
                        flavor=self.HOT)
        self.assertEqual('no-convergence', d.outcome)
        self.assertEqual(['migration would never converge and no completion '
                          'timeout is set'], list(d.reasons))

    def test_force_complete_with_post_copy(self):
        engine = self._engine(timeout_action='force_complete',
                              permit_post_copy=True)
        d = self.decide('farplain', engine=engine, memory_mb=4096,
                        flavor=self.HOT)
        self.assertEqual('post-copy', d.outcome)
        self.assertAllowed(d)
        self.assertIn('completes only after Nova forces post-copy at the '
                      'completion timeout', d.notes)

    def test_force_complete_without_post_copy(self):
        engine = self._engine(timeout_action='force_complete',
                              permit_post_copy=False)
        d = self.decide('farplain', engine=engine, memory_mb=4096,
                        flavor=self.HOT)
        self.assertEqual('forced-pause', d.outcome)
        self.assertIn('completes only after Nova pauses the instance at the '
                      'completion timeout', d.notes)
        # The pause sends the whole dirty set: seconds, not milliseconds.
        self.assertGreater(d.expected_downtime_ms, 1000)

    def test_forced_pause_denied_by_maximum(self):
        engine = self._engine(timeout_action='force_complete')
        d = self.decide('farplain', engine=engine, memory_mb=4096,
                        flavor=dict(self.HOT,
                                    **{'qslm:max_downtime_ms': '1000'}))
        self.assertEqual('forced-pause', d.outcome)
        self.assertFalse(d.allowed)


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


class TestRequest(base.BaseTestCase):

    def test_bad_memory_denied(self):
        engine = fx.make_engine()
        d = engine.decide(fx.request(memory_mb=0), ['dst'])[0]
        self.assertEqual(['instance memory 0 MiB is not a positive number'],
                         list(d.reasons))

    def test_now_defaults_to_current_time(self):
        engine = fx.make_engine(max_age_s=0)
        req = fx.request(flavor=TRUSTED, now=None)
        self.assertTrue(engine.decide(req, ['dst'])[0].allowed)

    def test_decisions_in_candidate_order(self):
        engine = fx.make_engine()
        hosts = ['far', 'nowhere', 'dst', 'src']
        ds = engine.decide(fx.request(), hosts)
        self.assertEqual(hosts, [d.host for d in ds])
        self.assertEqual([True, False, True, False],
                         [d.allowed for d in ds])

    def test_no_candidates(self):
        self.assertEqual([], fx.make_engine().decide(fx.request(), []))

    def test_now_in_past_still_judges_ledger(self):
        req = fx.request(
            flavor={'qslm:downtime_budget_ms': '100'},
            metadata={'qslm:downtime_used_ms': '100',
                      'qslm:budget_period_start': '2026-11-01'},
            now=datetime.datetime(2026, 11, 2, tzinfo=fx.UTC))
        d = fx.make_engine().decide(req, ['dst'])[0]
        self.assertFalse(d.allowed)
        self.assertEqual(0, d.remaining_budget_ms)


class TestEngineFromConf(base.BaseTestCase):

    def test_settings_defaults(self):
        s = decision.Settings()
        self.assertTrue(s.fail_closed)
        self.assertEqual('worst', s.sla_estimate)
