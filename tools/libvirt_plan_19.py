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

import itertools
import random
import sys

from qslm_nova.testbed import libvirt_plan

FIRST_REPEAT = 1900
LABEL = 'post-copy'


def specs():
    grid = itertools.product(libvirt_plan.FIT['bandwidth_mbps'],
                             (('tcp', 1), ('tls', 1)),
                             libvirt_plan.FIT['memory_mib'], (1, 3))
    out = []
    for i, (bw, transport, mem, hogs) in enumerate(grid):
        choice = {'memory_mib': mem, 'workload': None,
                  'bandwidth_mbps': bw, 'rtt_ms': 0,
                  'downtime_ms': random.Random(i).choice(
                      libvirt_plan.FIT['downtime_ms']),
                  'transport': transport, 'hogs': hogs}
        out.append(libvirt_plan.spec(choice, 'fit', LABEL,
                                     FIRST_REPEAT + i))
    random.Random(19).shuffle(out)
    return out


DESCRIPTION = ('campaign 19: post-copy fitting runs with 1 or 3 hogs '
               'per host on QEMU 10.0.2 (tools/testbed-qemu.sh; '
               'tools/libvirt_plan_19.py)')


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(19, specs(), DESCRIPTION, sys.argv))
