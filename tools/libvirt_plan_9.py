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

"""Write data/testbed/libvirt-plan-9.json: more held-out runs, idle machine.

Campaigns 1-4 ran on a machine shared with other work (2.6-18 runnable
threads per CPU), where runs of one configuration stray 55.7 % from each
other; most held-out runs of the post-copy and auto-converge labels come
from them. This plan adds 22 held-out runs drawn as
:func:`qslm_nova.testbed.libvirt_plan.make` draws them (each takes at
least two of its values from the held-out set): 14 of Nova's stepping
and 2 of each other label, to run on an otherwise idle machine. Usage::

    python tools/libvirt_plan_9.py data/testbed/libvirt-plan-9.json
    qslm-nova-testbed libvirt-campaign --plan data/testbed/libvirt-plan-9.json
"""

import sys

from qslm_nova.testbed import libvirt_plan

FIRST_REPEAT = 900


def specs(seed=9):
    return libvirt_plan.make(steps_fit=0, steps_held=14, per_outcome=(0, 2),
                             seed=seed, first_repeat=FIRST_REPEAT)


def main(argv):
    return libvirt_plan.write_main(argv, specs(), 'libvirt-campaign-9.csv',
                                   'more held-out runs, idle machine (tools/'
                                   'libvirt_plan_9.py)')


if __name__ == '__main__':
    sys.exit(main(sys.argv))
