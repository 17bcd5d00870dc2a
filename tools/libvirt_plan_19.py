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

"""Write data/testbed/libvirt-plan-19.json: post-copy on loaded hosts.

Held-out post-copy runs paused up to 3.3 times what the QEMU 10 fit
expected, all over 700 or 1000 Mbit/s with hogs; the fit's 10 post-copy
runs had at most one hog per host over 1000 Mbit/s, and 3 hogs only over
500 Mbit/s, where the probes saw no long pause. This campaign runs the
post-copy label on fitting values only, every combination of bandwidth
(500, 1000), transport (tcp, tls, one connection as Nova runs post-copy),
memory (1024, 1536) and hogs per host (1, 3): 16 configurations, none
held out. Run it with the backports QEMU (tools/testbed-qemu.sh)::

    python tools/libvirt_plan_19.py data/testbed/libvirt-plan-19.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-19.json
"""

import random
import sys

from qslm_nova.testbed import libvirt_plan

FIRST_REPEAT = 1900


def specs():
    out = libvirt_plan.post_copy_grid(
        FIRST_REPEAT, (1, 3), lambda i: random.Random(i).choice(
            libvirt_plan.FIT['downtime_ms']))
    random.Random(19).shuffle(out)
    return out


DESCRIPTION = ('campaign 19: post-copy fitting runs with 1 or 3 hogs '
               'per host on QEMU 10.0.2 (tools/testbed-qemu.sh; '
               'tools/libvirt_plan_19.py)')


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(19, specs(), DESCRIPTION, sys.argv))
