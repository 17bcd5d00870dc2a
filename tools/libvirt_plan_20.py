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

"""Write data/testbed/libvirt-plan-20.json: fresh held-out post-copy runs.

The post-copy worst case (``worst_postcopy_buffer_factor``) was fitted on
campaign 19 and judged by the held-out post-copy runs of campaigns 13, 15
and 18, the runs that showed the miss in the first place. This campaign
runs 12 new held-out post-copy configurations, drawn as every held-out
run is (``libvirt_plan.make``, seed 20: two or more of the dimensions
from values the fit never saw), after the fit. Run it with the backports
QEMU (tools/testbed-qemu.sh)::

    python tools/libvirt_plan_20.py data/testbed/libvirt-plan-20.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-20.json
"""

import sys

from qslm_nova.testbed import libvirt_plan

FIRST_REPEAT = 2000
LABEL = 'post-copy'
RUNS = 12


def specs():
    return [s for s in libvirt_plan.make(
        steps_fit=0, steps_held=0, per_outcome=(0, RUNS), seed=20,
        first_repeat=FIRST_REPEAT) if s.label == LABEL]


DESCRIPTION = ('campaign 20: held-out post-copy runs on QEMU 10.0.2 '
               '(tools/testbed-qemu.sh; tools/libvirt_plan_20.py)')


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(20, specs(), DESCRIPTION, sys.argv))
