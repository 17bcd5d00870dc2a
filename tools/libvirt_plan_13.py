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

"""Write data/testbed/libvirt-plan-13.json: the first campaign on QEMU 10.

Run it with the backports QEMU (tools/testbed-qemu.sh), which keeps the
guest's writes that QEMU 7.2 loses under TCG. Three parts:

* new held-out configurations (``libvirt-plan --steps-held 12
  --per-outcome 0,4 --seed 13``): the fit (QEMU 7.2) against QEMU 10;
* campaign 6's eight configurations, twice each (group ``repeat``): they
  ran 4-5 times on QEMU 7.2, so each pairs the two QEMUs on one
  configuration;
* campaign 12's four auto-converge configurations once more: on QEMU 7.2
  each destination was behind the source's last line.

Usage::

    python tools/libvirt_plan_13.py data/testbed/libvirt-plan-13.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-13.json
"""

import dataclasses
import os
import sys

from qslm_nova.testbed import libvirt_plan

DATA = os.path.join(os.path.dirname(__file__), '..', 'data', 'testbed')
FIRST_REPEAT = 1300


def specs():
    held = libvirt_plan.make(steps_fit=0, steps_held=12, per_outcome=(0, 4),
                             seed=13, first_repeat=FIRST_REPEAT)
    # Campaign 6 ran each configuration four times: one of each.
    six = {dataclasses.replace(s, repeat=0).run_id: s for s in
           libvirt_plan.load(os.path.join(DATA, 'libvirt-plan-6.json'))[0]}
    paired = libvirt_plan.repeats(
        list(six.values()), configs=8, times=2, seed=13,
        first_repeat=FIRST_REPEAT + 50)
    converge = [dataclasses.replace(s, repeat=FIRST_REPEAT + 60)
                for s in libvirt_plan.load(
                    os.path.join(DATA, 'libvirt-plan-12.json'))[0]
                if s.label == 'auto-converge']
    return held + paired + converge


DESCRIPTION = ('campaign 13: QEMU 10.0.2 (tools/testbed-qemu.sh): '
               'new held-out configurations, campaign 6\'s '
               'configurations twice and campaign 12\'s '
               'auto-converge ones again (tools/libvirt_plan_13.py)')


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(13, specs(), DESCRIPTION, sys.argv))
