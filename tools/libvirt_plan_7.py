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

"""Write data/testbed/libvirt-plan-7.json: working sets the fit never saw.

24 held-out runs whose workloads are new to every campaign: forced pauses
and post-copy of guests that keep writing 128 or 320 MiB (at 80 or 88
MiB/s), and Nova's steps with 16 or 32 MiB/s over 320 or 128 MiB and a
bursty writer (56 MiB/s, 200 ms on, 800 ms off, 320 MiB). The other
dimensions mix fitted and held-out values. Usage::

    python tools/libvirt_plan_7.py data/testbed/libvirt-plan-7.json
    qslm-nova-testbed libvirt-campaign --plan data/testbed/libvirt-plan-7.json
"""

import random
import sys

from qslm_nova.testbed import libvirt_plan
from qslm_nova.testbed import libvirt_runner
from qslm_nova.testbed import nova_monitor

HOT = {'a': ('steady', 80, 128), 'b': ('steady', 88, 320)}
STEADY = {'a': ('steady', 16, 320), 'b': ('steady', 32, 128),
          'c': ('bursty', 56, 200, 800, 320)}
TRANSPORT = {'tcp1': ('tcp', 1), 'tcp2': ('tcp', 2), 'tcp3': ('tcp', 3),
             'tls1': ('tls', 1), 'tls3': ('tls', 3)}
# label, memory MiB, workload, Mbit/s, transport, Nova's downtime ms, hogs
RUNS = [
    ('force-complete', 1024, HOT['a'], 700, 'tcp1', 400, 0),
    ('force-complete', 1536, HOT['b'], 1000, 'tcp1', 300, 1),
    ('force-complete', 1280, HOT['a'], 500, 'tls1', 500, 2),
    ('force-complete', 1024, HOT['b'], 700, 'tls3', 400, 0),
    ('force-complete', 1536, HOT['a'], 1000, 'tcp3', 500, 1),
    ('force-complete', 1280, HOT['b'], 700, 'tcp2', 300, 0),
    ('force-complete', 1024, HOT['b'], 500, 'tcp1', 500, 1),
    ('force-complete', 1536, HOT['a'], 700, 'tls1', 300, 0),
    ('force-complete', 1280, HOT['a'], 1000, 'tls3', 400, 1),
    ('force-complete', 1024, HOT['b'], 1000, 'tcp2', 400, 2),
    ('post-copy', 1280, HOT['a'], 700, 'tcp1', 400, 0),
    ('post-copy', 1024, HOT['b'], 1000, 'tls1', 300, 1),
    ('post-copy', 1536, HOT['b'], 700, 'tcp1', 500, 2),
    ('post-copy', 1280, HOT['a'], 500, 'tls1', 400, 0),
    ('steps', 1024, STEADY['a'], 700, 'tcp1', 400, 0),
    ('steps', 1536, STEADY['b'], 1000, 'tls1', 300, 1),
    ('steps', 1280, STEADY['c'], 500, 'tcp3', 500, 0),
    ('steps', 1024, STEADY['b'], 700, 'tls3', 400, 2),
    ('steps', 1536, STEADY['a'], 500, 'tcp2', 400, 1),
    ('steps', 1280, STEADY['b'], 1000, 'tcp1', 500, 0),
    ('steps', 1024, STEADY['c'], 700, 'tls1', 300, 1),
    ('steps', 1536, STEADY['c'], 1000, 'tcp3', 400, 0),
    ('steps', 1280, STEADY['a'], 700, 'tls3', 500, 2),
    ('steps', 1024, STEADY['a'], 1000, 'tcp2', 300, 0),
]
FIRST_REPEAT = 700


def specs(seed=7):
    out = []
    for i, (label, mem, work, mbps, tr, downtime, hogs) in enumerate(RUNS):
        transport, parallel = TRANSPORT[tr]
        nova = nova_monitor.NovaSettings(
            downtime_ms=downtime, native_tls=transport == 'tls',
            parallel_connections=parallel,
            **libvirt_plan.OUTCOME_LABELS.get(label, {}))
        out.append(libvirt_runner.LibvirtSpec(
            memory_mib=mem, workload=libvirt_plan.workload(work),
            bandwidth_mbps=mbps, rtt_ms=0, transport=transport, nova=nova,
            hogs=hogs, repeat=FIRST_REPEAT + i, group='held-out',
            label=label))
    random.Random(seed).shuffle(out)
    return out


DESCRIPTION = ('working sets the fit never saw (tools/'
               'libvirt_plan_7.py)')


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(7, specs(), DESCRIPTION, sys.argv))
