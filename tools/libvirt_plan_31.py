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

"""Write data/testbed/libvirt-plan-31.json: 96 more idle ``tcp/short`` runs.

After campaign 30 the shipped residuals hold 111 idle ``tcp/short``
runs: from 0.99 the conformal bound is still their largest ratio
(1.81), because a bound under the largest of n runs at confidence c
needs ceil((n + 1) c) <= n - 1, that is 199 runs at 0.99. This
campaign adds 48 fitting and 48 held-out plain-TCP runs made as
campaigns 29 and 30 (``tools/libvirt_plan_28.py``, seed 31), on QEMU
10, so that the group holds 207::

    python tools/libvirt_plan_31.py data/testbed/libvirt-plan-31.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-31.json --settle-s 120

The plan file is the record of what ran.
"""

import sys

import libvirt_plan_28


if __name__ == '__main__':
    print(libvirt_plan_28.write_tcp_short(31, 48, 48, sys.argv))
