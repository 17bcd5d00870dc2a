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

"""The engine's settings, from the [qslm] options."""

import dataclasses

from qslm_nova import estimator
from qslm_nova import policy as policy_mod
from qslm_nova.risk import assess as risk_assess


@dataclasses.dataclass(frozen=True)
class Settings:
    defaults: policy_mod.Defaults = dataclasses.field(
        default_factory=policy_mod.Defaults)
    libvirt: estimator.LibvirtSettings = dataclasses.field(
        default_factory=estimator.LibvirtSettings)
    params: estimator.ModelParams = dataclasses.field(
        default_factory=estimator.ModelParams)
    fail_closed: bool = True
    sla_estimate: str = 'worst'
    default_host_cpu_load: float = 0.3
    host_profile_max_age: int = 1800
    observed_dirty_rate_max_age: int = 900
    risk: risk_assess.RiskSettings = dataclasses.field(
        default_factory=risk_assess.RiskSettings)

    @classmethod
    def from_conf(cls, group):
        return cls(defaults=policy_mod.Defaults.from_conf(group),
                   libvirt=estimator.LibvirtSettings.from_conf(group),
                   params=estimator.ModelParams.from_conf(group),
                   fail_closed=group.fail_closed,
                   sla_estimate=group.sla_estimate,
                   default_host_cpu_load=group.default_host_cpu_load,
                   host_profile_max_age=group.host_profile_max_age,
                   observed_dirty_rate_max_age=(
                       group.observed_dirty_rate_max_age),
                   risk=risk_assess.RiskSettings.from_conf(group))
