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

"""The qslm: extra-spec validators, as Nova's flavor API runs them."""

from nova.api.validation.extra_specs import validators
from nova import exception as nova_exc
from oslotest import base

from qslm_nova import exception
from qslm_nova import policy
from qslm_nova import policy_values as limits
from qslm_nova.risk import keys as risk_keys
from qslm_nova.scheduler import extra_specs

# key: (valid values, invalid values)
CASES = {
    policy.MAX_DOWNTIME: (('1', '300', '60000'), ('0', '-5', 'abc', '1.5',
                                                  '')),
    policy.BUDGET: (('0', '5000'), ('-1', 'lots', '2.5')),
    policy.PERIOD_DAYS: (('1', '30'), ('0', 'monthly')),
    policy.REQUIRE_TRUSTED: (('true', 'false', 'True', 'yes', 'no', '1',
                              '0', 'on', 'off', 't', 'Y', 'f', 'n'),
                             ('maybe', '', '2')),
    policy.REQUIRE_ENCRYPTION: (('true', 'false', 'YES', 't', 'N'),
                                ('always', '')),
    policy.MIN_LINK_SECURITY: (('private', 'wan', 'my-level_2'),
                               ('Private', 'two words', '', 'a;b')),
    policy.ALLOWED_MECHANISMS: (('tls', 'tls,ssh', 'none, tls'),
                                ('tls;ssh', 'tls,', ',tls', '', 'TLS')),
    policy.DIRTY_RATE: (('0', '16', '12.5'), ('fast', '-1', '1.', '')),
    policy.DIRTY_RATE_MBPS: (('0', '16', '12.5'), ('fast', '-1', '1.', '')),
    policy.WORKING_SET: (('1', '512', '64.5', '1048576'),
                         ('0', '0.5', 'big', '1048577', '1e3', '')),
    risk_keys.DOWNTIME_COST.name: (('0', '50', '0.25', '1000000000'),
                                   ('-1', '1e3', '1000000001', 'cheap', '')),
    risk_keys.BREACH_PENALTY.name: (('0', '2000', '99.5'),
                                    ('-5', 'inf', 'NaN', '10000000000')),
    risk_keys.MIGRATION_COST.name: (('0', '0.5'), ('.5', '1,5', '')),
    risk_keys.SLA_CONFIDENCE.name: (('0.5', '0.9', '0.99', '0.9999'),
                                    ('0.4', '1', '0.99999', '99', '')),
}


class TestValidators(base.BaseTestCase):

    def accepted(self, key, value):
        try:
            validators.validate(key, value)
        except nova_exc.ValidationError:
            return False
        return True

    def test_every_flavor_key_has_a_validator(self):
        registered = {v.name: v for v in extra_specs.register()}
        self.assertEqual(set(policy.FLAVOR_KEYS), set(registered))
        self.assertEqual(set(policy.FLAVOR_KEYS), set(CASES))
        for name, validator in registered.items():
            self.assertIs(validator, validators.VALIDATORS[name])

    def test_old_dirty_rate_key_marked_deprecated(self):
        registered = {v.name: v for v in extra_specs.register()}
        self.assertTrue(registered[policy.DIRTY_RATE_MBPS].deprecated)
        self.assertFalse(registered[policy.DIRTY_RATE].deprecated)

    def test_registered_through_the_entry_point(self):
        self.assertIn('qslm', validators.NAMESPACES)

    def test_valid_values_accepted(self):
        for key, (good, _bad) in CASES.items():
            for value in good:
                self.assertTrue(self.accepted(key, value), (key, value))

    def test_invalid_values_refused(self):
        for key, (_good, bad) in CASES.items():
            for value in bad:
                self.assertFalse(self.accepted(key, value), (key, value))

    def test_unknown_qslm_key_refused(self):
        self.assertFalse(self.accepted('qslm:no_such_key', '1'))
        self.assertFalse(self.accepted('qslm:downtime_used_ms', '10'))

    def test_other_namespaces_untouched(self):
        self.assertTrue(self.accepted('hw:cpu_policy', 'dedicated'))
        self.assertTrue(self.accepted('qslmx:whatever', 'abc'))

    def test_api_accepts_nothing_the_policy_refuses(self):
        # A value Nova's API lets through must not make the filter deny
        # every live migration of the instance as malformed.
        for key, (good, bad) in CASES.items():
            for value in good + bad:
                if not self.accepted(key, value):
                    continue
                try:
                    policy.SYNTAX[key](key, value)
                except exception.PolicyValueError as e:
                    self.fail('Nova accepts %s=%r, the policy refuses it: '
                              '%s' % (key, value, e))

    def test_hostile_values_refused_naming_the_key(self):
        # Nova's own int() reads all of these; the policy does not.
        hostile = ('1' + '0' * 309, '1e309', 'nan', 'inf', '-0', '+5',
                   '1_000', '\u0661\u0662', '\uff11', '\u00a05', '5\u2003',
                   '2147483648', ' ', 'true\x00')
        names = (policy.MIN_LINK_SECURITY, policy.ALLOWED_MECHANISMS)
        for key in policy.FLAVOR_KEYS:
            for value in hostile if key not in names else (
                    '\u00a0tls', 'tls\u2003', ' ', 'tls\x00', 'x' * 256,
                    'a,,b', 'pr\u0131vate', '\u0661'):
                e = self.assertRaises(nova_exc.ValidationError,
                                      validators.validate, key, value)
                self.assertIn(key + ':', str(e), (key, value))
                self.assertLess(len(str(e)), 300)

    def test_bounds_accepted_at_the_limit(self):
        for key, value in ((policy.MAX_DOWNTIME, str(limits.MAX_MS)),
                           (policy.BUDGET, str(limits.MAX_MS)),
                           (policy.PERIOD_DAYS, str(limits.MAX_PERIOD_DAYS)),
                           (policy.DIRTY_RATE, '1048576')):
            self.assertTrue(self.accepted(key, value), (key, value))
        for key, value in ((policy.MAX_DOWNTIME, str(limits.MAX_MS + 1)),
                           (policy.PERIOD_DAYS,
                            str(limits.MAX_PERIOD_DAYS + 1)),
                           (policy.DIRTY_RATE, '1048576.5')):
            self.assertFalse(self.accepted(key, value), (key, value))

    def test_pattern_failure_names_the_key(self):
        # Accepted by the policy's parser (it lower-cases), refused by the
        # validator's stricter pattern: the message still names the key.
        e = self.assertRaises(nova_exc.ValidationError, validators.validate,
                              policy.MIN_LINK_SECURITY, 'Private')
        self.assertIn('qslm:min_link_security: A security level name., '
                      "got 'Private'", str(e))
