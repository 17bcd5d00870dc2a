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

"""QSLMFilter with Nova's fakes: one pass and one fail per rule."""

import fixtures
from nova import exception as nova_exc
from oslo_utils.fixture import uuidsentinel as uuids

from qslm_nova.scheduler import filters
from tests.unit import scheduler as base

DENY_ALL = {'qslm:max_downtime_ms': '1',
            'qslm:require_trusted_host': 'true'}


class FilterTestCase(base.SchedulerTestCase):

    def setUp(self):
        super().setUp()
        self.filt = filters.QSLMFilter()

    def passing(self, spec_obj, *names):
        hosts = self.hosts(*names)
        return [h.host for h in self.filt.filter_all(hosts, spec_obj)]

    def check(self, extra_specs, dest, allowed, reason=None, **kw):
        """Filter one host; when it fails, the reason is in the DEBUG log.
        """
        spec_obj = self.spec(extra_specs, **kw)
        self.assertEqual([dest] if allowed else [],
                         self.passing(spec_obj, dest))
        if reason:
            self.assertIn(reason, self.log.output)
        return spec_obj


class TestRules(FilterTestCase):

    def test_trusted_destination_passes(self):
        self.check({'qslm:require_trusted_host': 'true'}, 'near', True)

    def test_untrusted_destination_fails(self):
        self.check({'qslm:require_trusted_host': 'true'}, 'rogue', False,
                   'host rogue is not trusted')

    def test_trusted_source_passes(self):
        self.check({'qslm:require_trusted_host': 'true'}, 'far', True,
                   source='near')

    def test_untrusted_source_fails(self):
        self.check({'qslm:require_trusted_host': 'true'}, 'near', False,
                   'source host rogue is not trusted', source='rogue')

    def test_fresh_attestation_passes(self):
        self.check({'qslm:require_trusted_host': 'true'}, 'far', True)

    def test_stale_attestation_fails(self):
        self.check({'qslm:require_trusted_host': 'true'}, 'stale', False,
                   's old, older than max_attestation_age 86400 s')

    def test_stale_attestation_passes_with_longer_max_age(self):
        self.flags(max_attestation_age=4 * 86400, group='qslm')
        self.check({'qslm:require_trusted_host': 'true'}, 'stale', True)

    def test_min_link_security_without_mechanism_fails(self):
        self.check({'qslm:min_link_security': 'private'}, 'farplain', False,
                   'every path from src to farplain crosses links weaker '
                   'than the required private')

    def test_min_link_security_with_tls_on_both_hosts_passes(self):
        spec_obj = self.check({'qslm:min_link_security': 'private'}, 'far',
                              True)
        self.assertEqual('tls', self.decisions(spec_obj)['far'].mechanism)

    def test_min_link_security_met_by_the_links_passes(self):
        spec_obj = self.check({'qslm:min_link_security': 'private'}, 'near',
                              True)
        self.assertEqual('none', self.decisions(spec_obj)['near'].mechanism)

    def test_require_encryption_passes_with_tls(self):
        spec_obj = self.check({'qslm:require_encryption': 'true'}, 'near',
                              True)
        self.assertEqual('tls', self.decisions(spec_obj)['near'].mechanism)

    def test_require_encryption_fails_without_mechanism(self):
        self.check({'qslm:require_encryption': 'true'}, 'farplain', False,
                   'the instance requires encryption')

    def test_allowed_mechanisms_wide_enough_passes(self):
        self.check({'qslm:min_link_security': 'private',
                    'qslm:allowed_mechanisms': 'none,tls'}, 'far', True)

    def test_allowed_mechanisms_narrowed_fails(self):
        self.check({'qslm:min_link_security': 'private',
                    'qslm:allowed_mechanisms': 'none'}, 'far', False,
                   'allowed by the policy (none)')

    def test_per_migration_maximum_met_passes(self):
        self.check({'qslm:max_downtime_ms': '5000'}, 'near', True)

    def test_per_migration_maximum_exceeded_fails(self):
        self.check({'qslm:max_downtime_ms': '1'}, 'near', False,
                   'exceeds the per-migration maximum of 1 ms')

    def test_remaining_budget_enough_passes(self):
        self.check({'qslm:downtime_budget_ms': '5000'}, 'near', True,
                   metadata={'qslm:downtime_used_ms': '100',
                             'qslm:budget_period_start': base.TODAY})

    def test_remaining_budget_spent_fails(self):
        self.check({'qslm:downtime_budget_ms': '5000'}, 'near', False,
                   'exceeds the remaining SLA budget of 10 ms',
                   metadata={'qslm:downtime_used_ms': '4990',
                             'qslm:budget_period_start': base.TODAY})

    def test_tenant_metadata_absent_passes(self):
        self.check({}, 'rogue', True)

    def test_tenant_metadata_tightens_fails(self):
        self.check({}, 'rogue', False, 'host rogue is not trusted',
                   metadata={'qslm:require_trusted_host': 'true'})

    def test_tenant_metadata_cannot_loosen(self):
        self.check({'qslm:require_trusted_host': 'true'}, 'rogue', False,
                   'host rogue is not trusted',
                   metadata={'qslm:require_trusted_host': 'false'})

    def test_image_property_absent_passes(self):
        self.check({}, 'farplain', True,
                   system_metadata={'image_min_ram': '0'})

    def test_image_property_tightens_fails(self):
        self.check({}, 'farplain', False, 'crosses links weaker than the '
                   'required private',
                   system_metadata={'image_qslm:min_link_security':
                                    'private'})

    def test_well_formed_extra_spec_passes(self):
        self.check({'qslm:max_downtime_ms': '5000'}, 'far', True)

    def test_malformed_extra_spec_denied_with_reason(self):
        self.check({'qslm:max_downtime_ms': 'abc'}, 'near', False,
                   "flavor extra spec qslm:max_downtime_ms: must be an "
                   "integer from 1 to 2147483647, got 'abc'")

    def test_unknown_destination_fails_others_pass(self):
        self.assertEqual(['near'],
                         self.passing(self.spec(), 'ghost', 'near'))
        self.assertIn('host ghost is not in the topology file',
                      self.log.output)

    def test_unknown_destination_fail_open_passes_unprotected(self):
        self.flags(fail_closed=False, group='qslm')
        self.assertEqual(['ghost', 'near'],
                         self.passing(self.spec(), 'ghost', 'near'))

    def test_unknown_source_fails(self):
        self.check({}, 'near', False,
                   'source host ghost is not in the topology file',
                   source='ghost')


class TestFailClosed(FilterTestCase):

    def break_topology(self):
        self.write_topology('version: 1\nhosts: [', name='broken.yaml')

    def test_topology_broken_fails_closed(self):
        self.break_topology()
        self.check({}, 'near', False, 'topology unavailable')

    def test_topology_broken_fail_open_passes_unprotected(self):
        self.break_topology()
        self.flags(fail_closed=False, group='qslm')
        self.check({}, 'near', True)

    def test_topology_broken_fail_open_still_fails_protected(self):
        self.break_topology()
        self.flags(fail_closed=False, group='qslm')
        self.check({'qslm:require_encryption': 'true'}, 'near', False,
                   'topology unavailable')

    def test_lookup_error_fails_closed_without_exception(self):
        self.lookup.side_effect = RuntimeError('cell database down')
        self.assertEqual([], self.passing(self.spec(), 'near', 'far'))
        self.assertIn('QSLM removed all 2 hosts', self.log.output)
        self.assertIn('instance look-up failed: cell database down',
                      self.log.output)

    def test_lookup_error_fail_open_passes(self):
        self.flags(fail_closed=False, group='qslm')
        self.lookup.side_effect = RuntimeError('cell database down')
        self.assertEqual(['near', 'far'],
                         self.passing(self.spec(), 'near', 'far'))

    def test_lookup_error_fail_open_still_refuses_demanding_flavor(self):
        # The flavor on the RequestSpec still tells what the instance
        # needs: security requirements close even with fail_closed False.
        self.flags(fail_closed=False, group='qslm')
        self.lookup.side_effect = RuntimeError('cell database down')
        spec_obj = self.spec({'qslm:require_trusted_host': 'true'})
        self.assertEqual([], self.passing(spec_obj, 'near', 'far'))

    def test_decision_error_denies_without_exception(self):
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.decision.Engine.decide',
            side_effect=ValueError('estimator exploded')))
        self.check({}, 'near', False,
                   'decision could not be computed: estimator exploded')


class TestOtherOperations(FilterTestCase):

    def test_live_migration_with_deny_all_fails(self):
        self.check(DENY_ALL, 'near', False)

    def test_boot_passes(self):
        self.lookup.side_effect = nova_exc.InstanceNotFound(
            instance_id=uuids.instance)
        self.check(DENY_ALL, 'near', True)

    def test_boot_before_cell_mapping_passes(self):
        self.lookup.side_effect = nova_exc.InstanceMappingNotFound(
            uuid=uuids.instance)
        self.check(DENY_ALL, 'near', True)

    def test_resize_prep_checked_when_configured(self):
        self.flags(apply_to_cold_migrations=True, group='qslm')
        self.check(DENY_ALL, 'near', False,
                   'cold migration/resize from src', task_state='resize_prep')

    def test_cold_move_judges_trust_only(self):
        # DENY_ALL's 1 ms downtime limit does not apply to cold moves.
        self.check(DENY_ALL, 'far', True, task_state='resize_prep')
        self.check(DENY_ALL, 'rogue', False, 'host rogue is not trusted',
                   task_state='resize_prep')
        self.check(DENY_ALL, 'near', False,
                   'cold migration/resize from rogue',
                   task_state='resize_prep', source='rogue')
        self.assertIn('source host rogue is not trusted', self.log.output)

    def test_evacuation_ignores_the_failed_source(self):
        self.check(DENY_ALL, 'near', True, task_state='rebuilding',
                   source='rogue')
        self.check(DENY_ALL, 'stale', False, 'evacuation from rogue',
                   task_state='rebuilding', source='rogue')

    def test_unshelve_has_no_source(self):
        self.check(DENY_ALL, 'far', True, task_state='unshelving',
                   source=None)
        self.check(DENY_ALL, 'rogue', False, 'unshelve from None',
                   task_state='unshelving', source=None)

    def test_non_live_move_without_trust_requirement_passes(self):
        self.check({'qslm:max_downtime_ms': '1'}, 'rogue', True,
                   task_state='resize_prep')
        self.assertNotIn('fails QSLM', self.log.output)

    def test_non_live_move_with_malformed_policy_fails(self):
        self.check({'qslm:require_trusted_host': 'maybe'}, 'near', False,
                   'must be true or false', task_state='unshelving',
                   source=None)

    def test_non_live_moves_untouched_when_off(self):
        self.flags(check_non_live_moves=False, group='qslm')
        for state in ('resize_prep', 'rebuilding', 'unshelving'):
            self.check(DENY_ALL, 'rogue', True, task_state=state)
        self.assertNotIn('fails QSLM', self.log.output)

    def test_rebuild_passes_untouched(self):
        spec_obj = self.spec(DENY_ALL, task_state='rebuilding',
                             hints={'_nova_check_type': ['rebuild']})
        self.assertEqual(['src'], self.passing(spec_obj, 'src'))
        self.lookup.assert_not_called()
        self.assertFalse(self.filt.RUN_ON_REBUILD)

    def test_no_hosts(self):
        self.assertEqual([], self.filt.filter_all([], self.spec(DENY_ALL)))
        self.lookup.assert_not_called()


class TestLogging(FilterTestCase):

    def test_debug_line_per_rejected_host(self):
        spec_obj = self.spec({'qslm:require_trusted_host': 'true'})
        self.assertEqual(['near', 'far', 'farplain'],
                         self.passing(spec_obj))
        lines = [line for line in self.log.output.splitlines()
                 if 'fails QSLM' in line]
        self.assertEqual(2, len(lines), self.log.output)
        for host, line in zip(('rogue', 'stale'), lines):
            self.assertTrue(line.startswith(host + ' fails QSLM'), line)
            self.assertIn(uuids.instance, line)
            self.assertIn('is not trusted', line)
        self.assertNotIn('QSLM removed all', self.log.output)

    def test_one_warning_when_all_removed(self):
        self.passing(self.spec(DENY_ALL), 'near', 'rogue', 'ghost')
        # Nova's own logging fixture captures WARNING and above.
        warnings = [line for line in self.stdlog.logger.output.splitlines()
                    if 'QSLM removed all' in line]
        self.assertEqual(1, len(warnings), self.stdlog.logger.output)
        warning = warnings[0]
        self.assertIn('WARNING [qslm_nova.scheduler.filters]', warning)
        self.assertIn('all 3 candidate hosts', warning)
        self.assertIn(uuids.instance, warning)
        self.assertIn('from src', warning)
        self.assertIn('per-migration maximum of 1 ms', warning)
        self.assertIn('host rogue is not trusted', warning)
        self.assertIn('host ghost is not in the topology file', warning)
        self.assertIn('qslm-nova plan %s' % uuids.instance, warning)
        # Distinct reasons: the maximum is listed once for two hosts.
        self.assertEqual(1, warning.count('per-migration maximum'))


class TestRequestState(FilterTestCase):

    def test_state_is_neither_serialised_nor_cloned(self):
        spec_obj = self.spec()
        self.passing(spec_obj, 'near')
        self.assertIn('near', self.decisions(spec_obj))
        self.assertNotIn('_qslm_request',
                         spec_obj.obj_to_primitive()['nova_object.data'])
        # RequestSpec.save() clones the object; the lock must not travel.
        self.assertFalse(hasattr(spec_obj.obj_clone(), '_qslm_request'))
