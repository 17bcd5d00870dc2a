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

"""The flavor extra specs of risk and money (``qslm:`` keys).

SLA keys: read from the flavor only (image properties and instance
metadata cannot change what a migration costs or how sure it must be).
Each is a plain decimal number within bounds, read by the same parser as
every other ``qslm:`` number (:mod:`qslm_nova.policy_values`), so Nova's
flavor API refuses what the decision would refuse.
"""

import dataclasses

from qslm_nova import policy_values

#: No cost or penalty above this (in the operator's currency): larger
#: values are typing errors, and keep every sum exact enough.
MAX_MONEY = 1e9
MIN_CONFIDENCE = 0.5
MAX_CONFIDENCE = 0.9999


@dataclasses.dataclass(frozen=True)
class NumberKey:
    """One numeric extra spec and its bounds."""

    name: str
    description: str
    minimum: float
    maximum: float

    def parse(self, key, value):
        return policy_values.parse_float(key, value, self.minimum,
                                         self.maximum)

    @property
    def bounds(self):
        return 'A number from %s to %s.' % (self.minimum, self.maximum)


DOWNTIME_COST = NumberKey(
    'qslm:downtime_cost_per_s',
    'Money lost per second the instance is paused by a live migration '
    '(reduced business and productivity).', 0.0, MAX_MONEY)
BREACH_PENALTY = NumberKey(
    'qslm:sla_breach_penalty',
    'Money lost when a live migration pauses the instance longer than '
    'qslm:max_downtime_ms (contractual and regulatory penalties, '
    'customers lost or not won).', 0.0, MAX_MONEY)
MIGRATION_COST = NumberKey(
    'qslm:migration_cost_per_s',
    "The operator's cost per second a live migration of the instance "
    'runs (network, both hosts, attention).', 0.0, MAX_MONEY)
SLA_CONFIDENCE = NumberKey(
    'qslm:sla_confidence',
    'Probability with which a live migration must keep '
    'qslm:max_downtime_ms; may only raise [qslm] sla_confidence.',
    MIN_CONFIDENCE, MAX_CONFIDENCE)

KEYS = (DOWNTIME_COST, BREACH_PENALTY, MIGRATION_COST, SLA_CONFIDENCE)
NAMES = tuple(k.name for k in KEYS)
SYNTAX = {k.name: k.parse for k in KEYS}


def read(flavor_specs, key):
    """The value of key in the flavor, or None when unset or malformed
    (a malformed value already denies through the policy's errors).
    """
    raw = (flavor_specs or {}).get(key.name)
    if raw is None:
        return None
    try:
        return key.parse(key.name, raw)
    except ValueError:
        return None
