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

"""Write data/testbed/libvirt-plan-24.json: the rest of a settled fit.

The QEMU 10 fit (campaigns 14, 16, 17 and 19) changed its hog count from
run to run, so a run often read the one-minute load of the runs before
it. Campaign 23 (40 runs, 0 or 1 hog per host, like campaign 14) was
made in blocks of one hog count, each after 120 s of its hogs. This
campaign makes the rest the same way, so that a fit can be made of
settled runs only, with the same composition as the shipped one:

* 40 runs like campaign 16 (0 or 1 hog per host);
* 28 runs like campaign 17 (3 hogs per host);
* 16 post-copy runs like campaign 19 (1 or 3 hogs per host).

Run it with the backports QEMU (tools/testbed-qemu.sh)::

    python tools/libvirt_plan_24.py data/testbed/libvirt-plan-24.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-24.json --settle-s 120
"""

import dataclasses
import random
import sys

from qslm_nova.testbed import libvirt_plan

FIRST_REPEAT = 2400
LOADED_HOGS = 3


def specs():
    light = libvirt_plan.make(steps_fit=24, steps_held=0,
                              per_outcome=(4, 0), seed=24,
                              first_repeat=FIRST_REPEAT)
    loaded = [dataclasses.replace(s, hogs=LOADED_HOGS)
              for s in libvirt_plan.make(steps_fit=20, steps_held=0,
                                         per_outcome=(2, 0), seed=25,
                                         first_repeat=FIRST_REPEAT + 50)]
    rng = random.Random(24)
    post_copy = libvirt_plan.post_copy_grid(
        FIRST_REPEAT + 80, (1, LOADED_HOGS),
        lambda i: rng.choice(libvirt_plan.FIT['downtime_ms']))
    return libvirt_plan.by_load(light + loaded + post_copy)


DESCRIPTION = ('campaign 24: fitting runs on QEMU 10.0.2 in blocks of '
               'one hog count, each block after 120 s of its hogs '
               '(tools/testbed-qemu.sh; tools/libvirt_plan_24.py; '
               'libvirt-campaign --settle-s 120)')


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(24, specs(), DESCRIPTION, sys.argv))
