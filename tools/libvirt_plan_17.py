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

"""Write data/testbed/libvirt-plan-17.json: fitting runs on loaded hosts.

The QEMU 10 fit (campaigns 14 and 16) saw loads of 0.4-1.4 runnable
threads per CPU (0 or 1 hog per host); the held-out runs (campaigns 13
and 15, 2 hogs per host) ran at 1.1-3.1, so the fit extrapolated the
load, and its TLS rate missed by 30 %. This campaign runs fitting
configurations (``libvirt-plan --steps-fit 20 --per-outcome 2,0 --seed
17``) with 3 hogs per host: loads above the held-out ones, so the held-out
load lies inside what the fit saw while the held-out value (2 hogs) stays
unseen. Run it with the backports QEMU (tools/testbed-qemu.sh)::

    python tools/libvirt_plan_17.py data/testbed/libvirt-plan-17.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-17.json
"""

import dataclasses
import sys

from qslm_nova.testbed import libvirt_plan

FIRST_REPEAT = 1700
HOGS = 3


def specs():
    return [dataclasses.replace(s, hogs=HOGS) for s in libvirt_plan.make(
        steps_fit=20, steps_held=0, per_outcome=(2, 0), seed=17,
        first_repeat=FIRST_REPEAT)]


DESCRIPTION = ('campaign 17: fitting runs with %d hogs per host on '
               'QEMU 10.0.2 (tools/testbed-qemu.sh; '
               'tools/libvirt_plan_17.py)' % HOGS)


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(17, specs(), DESCRIPTION, sys.argv))
