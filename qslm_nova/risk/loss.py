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

"""The monetary loss of a live migration (the paper, section III).

The paper sums the loss of a downtime as "loss due to reduced business
and productivity + loss due to losing customers + loss due to missing
prospective customers + loss due to non-compliance of governmental and
contractual requirements". A flavor prices these terms, and the
operator's own cost of moving, with three extra specs
(:mod:`qslm_nova.risk.keys`), and each allowed destination gets::

    E[loss] = downtime_cost_per_s  * E[pause] / 1000
            + sla_breach_penalty   * P(pause > qslm:max_downtime_ms)
            + migration_cost_per_s * total migration time (s)

``E[pause]`` is the model's expected pause times the mean measured /
expected ratio of its transport and regime (the model's bias on real
migrations), ``P(...)`` the conformal exceedance of the same residuals
(:mod:`qslm_nova.risk.residuals`). Business lost while paused, and
customers who leave over a pause they notice, grow with the pause: the
first term. Penalties and customers lost over a broken promise come with
the breach: the second. The third is what the move costs the operator
whether or not anybody notices.
"""

import dataclasses

import numpy as np

from qslm_nova.risk import keys


@dataclasses.dataclass(frozen=True)
class LossTerms:
    """What one flavor says a migration costs (0 where unset)."""

    downtime_cost_per_s: float = 0.0
    sla_breach_penalty: float = 0.0
    migration_cost_per_s: float = 0.0

    @classmethod
    def of_flavor(cls, flavor_specs):
        def value(key):
            v = keys.read(flavor_specs, key)
            return 0.0 if v is None else v
        return cls(value(keys.DOWNTIME_COST), value(keys.BREACH_PENALTY),
                   value(keys.MIGRATION_COST))

    @property
    def priced(self):
        """True if the flavor prices anything."""
        return bool(self.downtime_cost_per_s or self.sla_breach_penalty or
                    self.migration_cost_per_s)

    def expected_loss(self, mean_pause_ms, breach_probability, total_s):
        """The formula above, element by element (arrays or numbers).

        An unknown breach probability (NaN) counts as a breach when the
        flavor prices one: the loss is never understated.
        """
        p = np.nan_to_num(np.asarray(breach_probability, dtype=float),
                          nan=1.0)
        breach = (self.sla_breach_penalty * p if self.sla_breach_penalty
                  else 0.0)
        return (self.downtime_cost_per_s * np.asarray(mean_pause_ms) /
                1000.0 + breach +
                self.migration_cost_per_s * np.asarray(total_s))


def rank_score(loss):
    """Scores for ranking by expected loss: 1 at no loss, falling
    towards 0, in the order of the loss (the weigher's 0..1 range).
    """
    return 1.0 / (1.0 + np.asarray(loss, dtype=float))
