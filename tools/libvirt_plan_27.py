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

"""Write data/testbed/libvirt-plan-27.json: the loaded hosts' tail.

The shipped residuals' ``tcp`` pool ends in two QEMU 7.2 runs far above
the rest (4.85 and 2.45 times the expected pause), both on hosts at 6 to
8 runnable threads per CPU, which no planned hog count reached: the
machine's other users made that load. Between them the pool has no run,
so a bound at a confidence between theirs cannot exist. This campaign
measures the loaded hosts on purpose: QEMU 7.2 (Debian's), 3 and then 5
CPU hogs in each host's namespace, each block after 120 s of its hogs,
with the labels whose runs pause (``libvirt_plan.PAUSING_LABELS``:
Nova's steps, force-complete, post-copy), configurations drawn as every
campaign's are (``libvirt_plan.make``, seeds 27 and 28, one per block:
fitting and held-out values)::

    python tools/libvirt_plan_27.py data/testbed/libvirt-plan-27.json
    qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-27.json --settle-s 120
"""

import sys

from qslm_nova.testbed import libvirt_plan

FIRST_REPEAT = 2700
HOGS = (3, 5)


def specs():
    return libvirt_plan.hog_blocks(
        HOGS, 27, FIRST_REPEAT,
        lambda made: [s for s in made
                      if s.label in libvirt_plan.PAUSING_LABELS],
        steps_fit=8, steps_held=4, per_outcome=(4, 2))


DESCRIPTION = ('campaign 27: loaded hosts on QEMU 7.2.22, 3 then 5 hogs '
               'per host, each block after 120 s of its hogs '
               '(tools/libvirt_plan_27.py; libvirt-campaign --settle-s '
               '120)')


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(27, specs(), DESCRIPTION, sys.argv))
