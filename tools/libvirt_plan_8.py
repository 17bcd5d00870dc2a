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

"""Write data/testbed/libvirt-plan-8.json: fitting runs that time the pause.

Only 9 of the fit's runs carried the pause's measured parts (switch-over,
stop-and-copy transfer, resume: recorded since campaign 3), 4 of them over
TLS, so the stop-and-copy's share and the buffers per connection rested
on those 9. This plan adds 24 fitting runs, every value from
:data:`qslm_nova.testbed.libvirt_plan.FIT`: 20 of Nova's default
stepping (they complete in pre-copy and carry the parts) and one of each
other outcome. Seed 32, of the first 40, balances the transports best
(8 TLS, 7 TCP with two connections, 5 with one). No held-out value
appears, so every held-out configuration stays as unseen as before.
Usage::

    python tools/libvirt_plan_8.py data/testbed/libvirt-plan-8.json
    qslm-nova-testbed libvirt-campaign --plan data/testbed/libvirt-plan-8.json
"""

import sys

from qslm_nova.testbed import libvirt_plan

FIRST_REPEAT = 800


def specs(seed=32):
    return libvirt_plan.make(steps_fit=20, steps_held=0, per_outcome=(1, 0),
                             seed=seed, first_repeat=FIRST_REPEAT)


def main(argv):
    return libvirt_plan.write_main(argv, specs(), 'libvirt-campaign-8.csv',
                                   'fitting runs that time the pause (tools/'
                                   'libvirt_plan_8.py)')


if __name__ == '__main__':
    sys.exit(main(sys.argv))
