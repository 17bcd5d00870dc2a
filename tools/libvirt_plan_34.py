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

"""Write data/testbed/libvirt-plan-34.json: crowded post-copy and
auto-converge runs in unseen configurations.

Judged by the QEMU 7.2 fit's unseen configurations (``bench_quality
--real-only``), QSLM still has no point at 0 or 1 violations after
campaign 32: its two violations at every confidence from 0.97 are a
post-copy switch over TLS that paused 10.5 times its expected pause
(campaign 32, 5 hogs) and an auto-converge stop over TCP at 4.28
(campaign 4's era, a host at 5.5 runnable threads per CPU). The bound
of each is learnt from the *other* held-out configurations' runs, and
the held-out set holds few crowded post-copy or auto-converge runs:
campaign 32 ran 6 post-copy runs per block and no auto-converge. This
campaign measures them: QEMU 7.2.22 (Debian's), 4 and then 6 CPU hogs
in each host's namespace (about the 5.5 and 7.5 runnable threads per
CPU of the tail runs and campaign 32), each block after 120 s of its
hogs; per block 10 post-copy and 10 auto-converge runs, all of
held-out configurations (at least two values the fit never saw, drawn
as every campaign's are: ``libvirt_plan.make``, seeds 34 and 35)::

    python tools/libvirt_plan_34.py data/testbed/libvirt-plan-34.json
    qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-34.json --settle-s 120

The plan file is the record of what ran.
"""

import sys

from qslm_nova.testbed import libvirt_plan

NUMBER = 34
FIRST_REPEAT = NUMBER * 100
HOGS = (4, 6)
LABELS = ('post-copy', 'auto-converge')
PER_LABEL = 10


def specs():
    return libvirt_plan.hog_blocks(
        HOGS, NUMBER, FIRST_REPEAT,
        lambda made: [s for s in made if s.label in LABELS],
        steps_fit=0, steps_held=0, per_outcome=(0, PER_LABEL))


DESCRIPTION = ('campaign 34: crowded hosts on QEMU 7.2.22, 4 then 6 hogs '
               'per host, post-copy and auto-converge runs of held-out '
               'configurations, each block after 120 s of its hogs '
               '(tools/libvirt_plan_34.py; libvirt-campaign --settle-s '
               '120)')


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(NUMBER, specs(), DESCRIPTION,
                                      sys.argv))
