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

"""Write data/testbed/libvirt-plan-29.json: more idle ``tcp/short`` runs.

Campaign 28 brought ``tcp/short`` to 47 idle runs: at 0.95 the
conformal bound is still the second largest ratio (1.44), one of the two
runs at 1.44 and 1.45 that stand alone above 0.8 (both a 1 GiB guest
dirtying 4 MiB/s between idle hosts, one per QEMU release). From 59
runs it is the third largest, which is a number the runs themselves
decide. This campaign adds 16 plain-TCP runs made as campaign 28's
(``tools/libvirt_plan_28.py``, seed 29), on QEMU 10::

    python tools/libvirt_plan_29.py data/testbed/libvirt-plan-29.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-29.json --settle-s 120

The plan file is the record of what ran. The script that wrote it drew
the held-out values in a set's order, which changes from one Python
process to the next; it now draws them in
``libvirt_plan_28.HELD_DIMS`` order, so three of
the file's held-out runs differ from what it writes today.
"""

import sys

import libvirt_plan_28


if __name__ == '__main__':
    print(libvirt_plan_28.write_tcp_short(29, 8, 8, sys.argv))
