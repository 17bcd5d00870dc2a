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

"""Write data/testbed/libvirt-plan-33.json: idle hosts' fast migrations.

The shipped residuals hold 43 ``tcp/fast`` and 4 ``tls/fast`` runs (a
migration the model expects to end within 5.5 s, which may stop under
QEMU's own limit before Nova's first step lands), all made by chance in
campaigns meant for other things. Cut in halves, ``tcp/fast`` leaves
each about 21 runs, and which half holds its race pauses decides its
bound (the held-out frontier's seed 14). This campaign measures them on
purpose: QEMU 10 (the backports one), idle hosts, 1 GiB guests, one
connection at 1000 Mbit/s over TCP or TLS, half each; the fitting runs
take the fit's workloads and limits, the held-out runs the held-out
workloads and limit (400 ms) the fit never saw::

    python tools/libvirt_plan_33.py data/testbed/libvirt-plan-33.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-33.json --settle-s 120

The plan file is the record of what ran. Its runs wait in
``data/testbed/pending/`` until the shipped residuals learn them
(``data/testbed/README.md``).
"""

import random
import sys

from qslm_nova.testbed import libvirt_plan

NUMBER = 33
MEMORY_MIB = 1024
BANDWIDTH_MBPS = 1000
TRANSPORTS = (('tcp', 1), ('tls', 1))
DESCRIPTION = ('campaign 33: idle hosts, 1 GiB guests, one connection at '
               '1000 Mbit/s over TCP or TLS (fast migrations), QEMU '
               '10.0.2 (tools/libvirt_plan_33.py; libvirt-campaign '
               '--settle-s 120)')


def _choice(rng, group, transport):
    table = (libvirt_plan.HELD_OUT if group == 'held-out'
             else libvirt_plan.FIT)
    return {'memory_mib': MEMORY_MIB, 'bandwidth_mbps': BANDWIDTH_MBPS,
            'rtt_ms': 0, 'hogs': 0, 'transport': transport,
            'workload': rng.choice(table['workload']),
            'downtime_ms': rng.choice(table['downtime_ms'])}


def specs(fit=16, held=32, seed=NUMBER, first_repeat=NUMBER * 100):
    """*fit* and *held* runs of each transport of :data:`TRANSPORTS`."""
    rng = random.Random(seed)
    out = []
    repeat = first_repeat
    for transport in TRANSPORTS:
        for group, count in (('fit', fit), ('held-out', held)):
            for _ in range(count):
                out.append(libvirt_plan.spec(
                    _choice(rng, group, transport), group, 'steps',
                    repeat))
                repeat += 1
    rng.shuffle(out)
    return out


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(NUMBER, specs(), DESCRIPTION,
                                      sys.argv))
