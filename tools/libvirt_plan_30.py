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

"""Write data/testbed/libvirt-plan-30.json: 48 more idle ``tcp/short`` runs.

After campaign 29 the shipped residuals hold 63 idle ``tcp/short``
runs: at 0.95 the conformal bound is their third largest ratio (1.44),
and from 0.97 their largest (1.81) holds every confidence, because 63
runs cannot show a rarer pause. Three runs stand above 0.8 (1.44, 1.45,
1.81). Whether that tail is one run in twenty or rarer is what more runs
decide: with 111, the 0.95 bound is the fifth largest, the 0.97 bound
the third and the 0.98 bound the second. This campaign adds 24 fitting
and 24 held-out plain-TCP runs made as campaign 29's
(``tools/libvirt_plan_28.py``, seed 30), on QEMU 10::

    python tools/libvirt_plan_30.py data/testbed/libvirt-plan-30.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-30.json --settle-s 120

The plan file is the record of what ran.
"""

import sys

import libvirt_plan_28


if __name__ == '__main__':
    print(libvirt_plan_28.write_tcp_short(30, 24, 24, sys.argv))
