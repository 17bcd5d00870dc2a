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

"""Nova extra-spec validators for the ``qslm:`` namespace.

Registered through the ``nova.api.extra_spec_validators`` entry point, so
Nova's flavor API refuses malformed values (HTTP 400) when extra-spec
validation is on (microversion 2.86 and later).

Each value must pass both Nova's own check of the declared type or
pattern and the policy's parser (:mod:`qslm_nova.policy_values`), the
one the decision uses: Nova's ``int()`` alone would accept ``'+5'``,
``'1_000'``, Arabic-Indic digits or 10^309, and its messages do not say
which key was wrong. The error names the key and shows the value
shortened.
"""

from nova.api.validation.extra_specs import base
from nova import exception as nova_exc

from qslm_nova import exception
from qslm_nova import policy
from qslm_nova import policy_values as limits
from qslm_nova.risk import keys as risk_keys

_NUMBER = r'[0-9]+(\.[0-9]+)?'
_NAME = r'[a-z0-9_-]+'
_NAMES = r'[a-z0-9_-]+(\s*,\s*[a-z0-9_-]+)*'


class QSLMValidator(base.ExtraSpecValidator):
    """Nova's validator, plus the policy's own parser of the key."""

    def validate(self, name, value):
        try:
            policy.SYNTAX[self.name](name, value)
        except exception.PolicyValueError as e:
            raise nova_exc.ValidationError(
                'Validation failed; extra spec %s' % e)
        try:
            super().validate(name, value)
        except nova_exc.ValidationError:
            raise nova_exc.ValidationError(
                'Validation failed; extra spec %s: %s, got %s' % (
                    name, self.value['description'],
                    exception.show_value(value)))


EXTRA_SPEC_VALIDATORS = [
    QSLMValidator(
        name=policy.MAX_DOWNTIME,
        description='Maximum downtime of one live migration, in ms.',
        value={'type': int, 'min': 1, 'max': limits.MAX_MS,
               'description': 'Milliseconds, 1 to %d.' % limits.MAX_MS}),
    QSLMValidator(
        name=policy.BUDGET,
        description='Downtime budget per period, in ms.',
        value={'type': int, 'min': 0, 'max': limits.MAX_MS,
               'description': 'Milliseconds, 0 to %d.' % limits.MAX_MS}),
    QSLMValidator(
        name=policy.PERIOD_DAYS,
        description='Length of the downtime budget period, in days.',
        value={'type': int, 'min': 1, 'max': limits.MAX_PERIOD_DAYS,
               'description': 'Days, 1 to %d.' % limits.MAX_PERIOD_DAYS}),
    QSLMValidator(
        name=policy.REQUIRE_TRUSTED,
        description='Live-migrate only between attested trusted hosts.',
        value={'type': bool, 'description': 'true or false.'}),
    QSLMValidator(
        name=policy.REQUIRE_ENCRYPTION,
        description='Live-migrate only over an encrypting mechanism.',
        value={'type': bool, 'description': 'true or false.'}),
    QSLMValidator(
        name=policy.MIN_LINK_SECURITY,
        description='Weakest link security level a live migration may '
                    'cross unencrypted (a level of the topology file).',
        value={'type': str, 'pattern': _NAME,
               'description': 'A security level name.'}),
    QSLMValidator(
        name=policy.ALLOWED_MECHANISMS,
        description='Mechanisms a live migration may use.',
        value={'type': str, 'pattern': _NAMES,
               'description': 'Comma-separated names, e.g. tls,tunnelled.'}),
    QSLMValidator(
        name=policy.DIRTY_RATE,
        description='Expected memory dirtying rate, in MiB/s.',
        value={'type': str, 'pattern': _NUMBER,
               'description': 'A number from 0 to %d.' % (
                   limits.MAX_DIRTY_RATE)}),
    QSLMValidator(
        name=policy.DIRTY_RATE_MBPS,
        description='Deprecated: %s, under its old name (MiB/s).'
                    % policy.DIRTY_RATE,
        deprecated=True,
        value={'type': str, 'pattern': _NUMBER,
               'description': 'A number from 0 to %d.' % (
                   limits.MAX_DIRTY_RATE)}),
    QSLMValidator(
        name=policy.WORKING_SET,
        description='Memory the guest keeps writing, in MiB (default: all '
                    'its memory).',
        value={'type': str, 'pattern': _NUMBER,
               'description': 'A number from 1 to %d.' % (
                   limits.MAX_MEMORY_MB)}),
] + [
    QSLMValidator(
        name=key.name, description=key.description,
        value={'type': str, 'pattern': _NUMBER, 'description': key.bounds})
    for key in risk_keys.KEYS]


def register():
    return EXTRA_SPEC_VALIDATORS
