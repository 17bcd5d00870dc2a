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

"""The effective policy of an instance and its downtime ledger."""

import datetime

from oslotest import base

from qslm_nova import policy

LEVELS = ['untrusted', 'wan', 'shared', 'private', 'isolated']
MECHS = ['none', 'tls', 'tunnelled', 'ipsec']


def effective(flavor=None, image=None, metadata=None, defaults=None):
    return policy.effective_policy(defaults or policy.Defaults(), LEVELS,
                                   MECHS, flavor, image, metadata)


class TestSyntaxTable(base.BaseTestCase):

    def test_syntax_covers_flavor_keys(self):
        self.assertEqual(set(policy.FLAVOR_KEYS), set(policy.SYNTAX))


class TestEffectivePolicy(base.BaseTestCase):

    def test_defaults(self):
        pol = effective()
        self.assertFalse(pol.require_trusted_host)
        self.assertEqual(0, pol.min_link_security)
        self.assertFalse(pol.require_encryption)
        self.assertEqual(frozenset(MECHS), pol.allowed_mechanisms)
        self.assertEqual(16.0, pol.dirty_rate_mibps)
        self.assertIsNone(pol.max_downtime_ms)
        self.assertIsNone(pol.downtime_budget_ms)
        self.assertEqual(30, pol.budget_period_days)
        self.assertFalse(pol.needs_protection)
        self.assertEqual([], pol.errors)
        self.assertEqual([], pol.notes)

    def test_flavor_values(self):
        pol = effective(flavor={
            'qslm:max_downtime_ms': '300',
            'qslm:downtime_budget_ms': '0',
            'qslm:budget_period_days': '7',
            'qslm:require_trusted_host': 'true',
            'qslm:min_link_security': 'private',
            'qslm:require_encryption': 'yes',
            'qslm:allowed_mechanisms': 'tls,tunnelled',
            'qslm:dirty_rate_mibps': '64.5',
        })
        self.assertEqual([], pol.errors)
        self.assertEqual(300, pol.max_downtime_ms)
        self.assertEqual(0, pol.downtime_budget_ms)
        self.assertEqual(7, pol.budget_period_days)
        self.assertTrue(pol.require_trusted_host)
        self.assertEqual(3, pol.min_link_security)
        self.assertTrue(pol.require_encryption)
        self.assertEqual(frozenset(['tls', 'tunnelled']),
                         pol.allowed_mechanisms)
        self.assertEqual(64.5, pol.dirty_rate_mibps)
        self.assertTrue(pol.needs_protection)

    def test_other_keys_ignored(self):
        pol = effective(flavor={'hw:cpu_policy': 'dedicated', 5: 'x'},
                        metadata={'owner': 'alice'})
        self.assertEqual([], pol.errors)

    def test_unknown_qslm_key(self):
        pol = effective(flavor={'qslm:max_downtime': '300'})
        self.assertEqual(
            ['flavor extra spec qslm:max_downtime: unknown qslm key (known: '
             + ', '.join(policy.FLAVOR_KEYS[:-1]) + ')'], pol.errors)
        # The deprecated alias is read but not advertised.
        self.assertEqual(policy.DIRTY_RATE_MBPS, policy.FLAVOR_KEYS[-1])

    def test_malformed_values_name_key_and_source(self):
        pol = effective(
            flavor={'qslm:max_downtime_ms': '0',
                    'qslm:dirty_rate_mibps': 'hot'},
            image={'qslm:require_trusted_host': 'perhaps'},
            metadata={'qslm:allowed_mechanisms': 'tls,quantum'})
        self.assertEqual([
            "flavor extra spec qslm:max_downtime_ms: must be an integer "
            "from 1 to 2147483647, got '0'",
            "flavor extra spec qslm:dirty_rate_mibps: must be a number from "
            "0.0 to 1048576.0, got 'hot'",
            "image property qslm:require_trusted_host: must be true or "
            "false, got 'perhaps'",
            "instance metadata qslm:allowed_mechanisms: unknown "
            "mechanism(s) quantum (known: ipsec, none, tls, tunnelled), got "
            "'tls,quantum'"], pol.errors)

    def test_unknown_level(self):
        pol = effective(flavor={'qslm:min_link_security': 'secret'})
        self.assertEqual(
            ["flavor extra spec qslm:min_link_security: unknown security "
             "level (levels: untrusted, wan, shared, private, isolated), "
             "got 'secret'"], pol.errors)

    def test_bad_default_level(self):
        pol = effective(defaults=policy.Defaults(min_link_security='top'))
        self.assertEqual(
            ["[qslm] default_min_link_security: unknown security level "
             "'top' (levels: untrusted, wan, shared, private, isolated)"],
            pol.errors)
        # Fails safe: the strictest level.
        self.assertEqual(4, pol.min_link_security)

    def test_metadata_tightens_min_link_security(self):
        pol = effective(flavor={'qslm:min_link_security': 'shared'},
                        metadata={'qslm:min_link_security': 'isolated'})
        self.assertEqual(4, pol.min_link_security)

    def test_metadata_cannot_loosen_min_link_security(self):
        pol = effective(flavor={'qslm:min_link_security': 'private'},
                        metadata={'qslm:min_link_security': 'wan'})
        self.assertEqual(3, pol.min_link_security)
        self.assertEqual([], pol.errors)

    def test_image_cannot_loosen_min_link_security(self):
        pol = effective(image={'qslm:min_link_security': 'untrusted'},
                        defaults=policy.Defaults(min_link_security='shared'))
        self.assertEqual(2, pol.min_link_security)

    def test_metadata_narrows_allowed_mechanisms(self):
        pol = effective(flavor={'qslm:allowed_mechanisms': 'tls,tunnelled'},
                        metadata={'qslm:allowed_mechanisms': 'tunnelled'})
        self.assertEqual(frozenset(['tunnelled']), pol.allowed_mechanisms)

    def test_metadata_cannot_widen_allowed_mechanisms(self):
        pol = effective(flavor={'qslm:allowed_mechanisms': 'tls'},
                        metadata={'qslm:allowed_mechanisms':
                                  'tls,tunnelled,none'})
        self.assertEqual(frozenset(['tls']), pol.allowed_mechanisms)

    def test_defaults_bound_allowed_mechanisms(self):
        pol = effective(flavor={'qslm:allowed_mechanisms': 'tls,tunnelled'},
                        defaults=policy.Defaults(allowed_mechanisms=('tls',)))
        self.assertEqual(frozenset(['tls']), pol.allowed_mechanisms)

    def test_metadata_cannot_drop_requirements(self):
        pol = effective(flavor={'qslm:require_trusted_host': 'true',
                                'qslm:require_encryption': 'true'},
                        metadata={'qslm:require_trusted_host': 'false',
                                  'qslm:require_encryption': 'false'})
        self.assertTrue(pol.require_trusted_host)
        self.assertTrue(pol.require_encryption)

    def test_metadata_adds_requirements(self):
        pol = effective(metadata={'qslm:require_trusted_host': 'true',
                                  'qslm:require_encryption': 'on'})
        self.assertTrue(pol.require_trusted_host)
        self.assertTrue(pol.require_encryption)

    def test_highest_dirty_rate_assumed(self):
        pol = effective(flavor={'qslm:dirty_rate_mibps': '100'},
                        metadata={'qslm:dirty_rate_mibps': '5'})
        self.assertEqual(100.0, pol.dirty_rate_mibps)
        pol = effective(flavor={'qslm:dirty_rate_mibps': '100'},
                        metadata={'qslm:dirty_rate_mibps': '500'})
        self.assertEqual(500.0, pol.dirty_rate_mibps)

    def test_old_dirty_rate_key_still_read_with_a_note(self):
        pol = effective(flavor={'qslm:dirty_rate_mbps': '64'})
        self.assertEqual(64.0, pol.dirty_rate_mibps)
        self.assertEqual([], pol.errors)
        self.assertIn('qslm:dirty_rate_mbps is deprecated: it is read as '
                      'qslm:dirty_rate_mibps (MiB/s)', pol.notes)
        # Both: the higher rate, as for any two sources.
        pol = effective(flavor={'qslm:dirty_rate_mbps': '64',
                                'qslm:dirty_rate_mibps': '8'})
        self.assertEqual(64.0, pol.dirty_rate_mibps)
        pol = effective(flavor={'qslm:dirty_rate_mbps': 'hot'})
        self.assertIn('flavor extra spec qslm:dirty_rate_mbps: must be a '
                      'number', pol.errors[0])

    def test_sla_keys_from_metadata_ignored_with_note(self):
        pol = effective(flavor={'qslm:max_downtime_ms': '300'},
                        metadata={'qslm:max_downtime_ms': '100000',
                                  'qslm:downtime_budget_ms': '5',
                                  'qslm:budget_period_days': '1'})
        self.assertEqual(300, pol.max_downtime_ms)
        self.assertIsNone(pol.downtime_budget_ms)
        self.assertEqual(30, pol.budget_period_days)
        self.assertEqual([
            'instance metadata qslm:max_downtime_ms ignored: SLA keys come '
            'from the flavor only',
            'instance metadata qslm:downtime_budget_ms ignored: SLA keys '
            'come from the flavor only',
            'instance metadata qslm:budget_period_days ignored: SLA keys '
            'come from the flavor only'], pol.notes)
        self.assertEqual([], pol.errors)

    def test_working_set_from_the_flavor_only(self):
        pol = effective(flavor={'qslm:working_set_mb': '512'})
        self.assertEqual(512.0, pol.working_set_mb)
        self.assertEqual([], pol.errors)
        # A smaller working set lowers the estimates: no tenant or image
        # owner may declare one.
        for source in ('image', 'metadata'):
            pol = effective(**{source: {'qslm:working_set_mb': '1'}})
            self.assertIsNone(pol.working_set_mb)
            self.assertEqual([], pol.errors)
            self.assertIn('qslm:working_set_mb ignored: SLA keys come '
                          'from the flavor only', pol.notes[0])

    def test_bad_working_set_is_an_error(self):
        for raw in ('0', '0.5', 'lots', '1e3', '-4', '2000000', 'nan'):
            pol = effective(flavor={'qslm:working_set_mb': raw})
            self.assertIsNone(pol.working_set_mb, raw)
            self.assertEqual(
                ['flavor extra spec qslm:working_set_mb: must be a number '
                 'from 1.0 to 1048576.0, got %r' % raw], pol.errors)

    def test_sla_keys_from_image_ignored_with_note(self):
        pol = effective(image={'qslm:max_downtime_ms': 'garbage'})
        self.assertIsNone(pol.max_downtime_ms)
        self.assertEqual([], pol.errors)
        self.assertEqual(['image property qslm:max_downtime_ms ignored: SLA '
                          'keys come from the flavor only'], pol.notes)

    def test_ledger_keys_not_policy(self):
        pol = effective(metadata={'qslm:downtime_used_ms': '5',
                                  'qslm:budget_period_start': '2026-11-01'})
        self.assertEqual([], pol.errors)
        self.assertEqual([], pol.notes)

    def test_defaults_from_conf(self):
        class Group:
            default_require_trusted_host = True
            default_min_link_security = 'shared'
            default_require_encryption = True
            default_allowed_mechanisms = ['tls']
            default_dirty_rate_mibps = 8.0
            default_budget_period_days = 7
        d = policy.Defaults.from_conf(Group)
        self.assertEqual(policy.Defaults(True, 'shared', True, ('tls',), 8.0,
                                         7), d)


class TestLedger(base.BaseTestCase):

    TODAY = datetime.date(2026, 11, 25)

    def test_parse(self):
        ledger = policy.parse_ledger({
            'qslm:downtime_used_ms': '1200',
            'qslm:budget_period_start': '2026-11-10T00:00:00Z'})
        self.assertEqual(1200, ledger.used_ms)
        self.assertEqual(datetime.date(2026, 11, 10), ledger.period_start)
        self.assertEqual([], ledger.errors)

    def test_parse_empty(self):
        ledger = policy.parse_ledger(None)
        self.assertEqual(0, ledger.used_ms)
        self.assertIsNone(ledger.period_start)

    def test_parse_malformed(self):
        ledger = policy.parse_ledger({
            'qslm:downtime_used_ms': '-5',
            'qslm:budget_period_start': 'last week'})
        self.assertEqual([
            "instance metadata qslm:downtime_used_ms: must be an integer "
            "from 0 to 9007199254740992, got '-5'",
            "instance metadata qslm:budget_period_start: must be an ISO "
            "8601 date (YYYY-MM-DD), got 'last week'"], ledger.errors)

    def test_remaining_within_period(self):
        ledger = policy.Ledger(400, datetime.date(2026, 11, 10))
        self.assertEqual(600, ledger.remaining_ms(1000, 30, self.TODAY))

    def test_remaining_never_negative(self):
        ledger = policy.Ledger(4000, datetime.date(2026, 11, 10))
        self.assertEqual(0, ledger.remaining_ms(1000, 30, self.TODAY))

    def test_remaining_rolls_over(self):
        ledger = policy.Ledger(4000, datetime.date(2026, 10, 26))
        self.assertEqual(1000, ledger.remaining_ms(1000, 30, self.TODAY))
        ledger = policy.Ledger(4000, datetime.date(2026, 10, 27))
        self.assertEqual(0, ledger.remaining_ms(1000, 30, self.TODAY))

    def test_remaining_without_budget(self):
        self.assertIsNone(policy.Ledger(5).remaining_ms(None, 30,
                                                        self.TODAY))

    def test_used_without_start_counts(self):
        # A ledger that lost its start key frees no budget: the period
        # is taken to start today, and recording keeps what was used.
        ledger = policy.Ledger(400)
        self.assertEqual(600, ledger.remaining_ms(1000, 30, self.TODAY))
        self.assertEqual({'qslm:downtime_used_ms': '500',
                          'qslm:budget_period_start': '2026-11-25'},
                         ledger.record(100, 30, self.TODAY))
        self.assertEqual(1000, policy.Ledger().remaining_ms(1000, 30,
                                                            self.TODAY))

    def test_record_adds_within_period(self):
        ledger = policy.Ledger(400, datetime.date(2026, 11, 10))
        self.assertEqual({'qslm:downtime_used_ms': '523',
                          'qslm:budget_period_start': '2026-11-10'},
                         ledger.record(122.6, 30, self.TODAY))

    def test_record_starts_new_period(self):
        ledger = policy.Ledger(4000, datetime.date(2026, 10, 1))
        self.assertEqual({'qslm:downtime_used_ms': '80',
                          'qslm:budget_period_start': '2026-11-25'},
                         ledger.record(80, 30, self.TODAY))

    def test_record_first_migration(self):
        self.assertEqual({'qslm:downtime_used_ms': '80',
                          'qslm:budget_period_start': '2026-11-25'},
                         policy.Ledger().record(80, 30, self.TODAY))

    def test_record_round_trips(self):
        meta = policy.Ledger().record(80, 30, self.TODAY)
        ledger = policy.parse_ledger(meta)
        self.assertEqual(920, ledger.remaining_ms(1000, 30, self.TODAY))
