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
"""

from nova.api.validation.extra_specs import base

from qslm_nova import policy

_NUMBER = r'[0-9]+(\.[0-9]+)?'
_NAME = r'[a-z0-9_-]+'
_NAMES = r'[a-z0-9_-]+(\s*,\s*[a-z0-9_-]+)*'

EXTRA_SPEC_VALIDATORS = [
    base.ExtraSpecValidator(
        name=policy.MAX_DOWNTIME,
        description='Maximum downtime of one live migration, in ms.',
        value={'type': int, 'min': 1,
               'description': 'Milliseconds, at least 1.'}),
    base.ExtraSpecValidator(
        name=policy.BUDGET,
        description='Downtime budget per period, in ms.',
        value={'type': int, 'min': 0,
               'description': 'Milliseconds, 0 or more.'}),
    base.ExtraSpecValidator(
        name=policy.PERIOD_DAYS,
        description='Length of the downtime budget period, in days.',
        value={'type': int, 'min': 1, 'description': 'Days, at least 1.'}),
    base.ExtraSpecValidator(
        name=policy.REQUIRE_TRUSTED,
        description='Live-migrate only between attested trusted hosts.',
        value={'type': bool, 'description': 'true or false.'}),
    base.ExtraSpecValidator(
        name=policy.REQUIRE_ENCRYPTION,
        description='Live-migrate only over an encrypting mechanism.',
        value={'type': bool, 'description': 'true or false.'}),
    base.ExtraSpecValidator(
        name=policy.MIN_LINK_SECURITY,
        description='Weakest link security level a live migration may '
                    'cross unencrypted (a level of the topology file).',
        value={'type': str, 'pattern': _NAME,
               'description': 'A security level name.'}),
    base.ExtraSpecValidator(
        name=policy.ALLOWED_MECHANISMS,
        description='Mechanisms a live migration may use.',
        value={'type': str, 'pattern': _NAMES,
               'description': 'Comma-separated names, e.g. tls,ssh.'}),
    base.ExtraSpecValidator(
        name=policy.DIRTY_RATE,
        description='Expected memory dirtying rate, in MiB/s.',
        value={'type': str, 'pattern': _NUMBER,
               'description': 'A number, 0 or more.'}),
]


def register():
    return EXTRA_SPEC_VALIDATORS
