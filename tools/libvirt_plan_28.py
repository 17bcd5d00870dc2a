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

"""Write data/testbed/libvirt-plan-28.json: idle hosts' short pauses.

The shipped residuals hold 33 ``tcp/short`` and 16 ``tls/short`` runs
between idle hosts: too few for a conformal bound below the largest
ratio at the default confidence (0.95 needs 39 runs for the second
largest, 59 for the third), so the bound of the migrations the
simulated cloud makes most is the group's one outlier. The campaigns
drew their configurations over every bandwidth and connection count,
and only one connection at 1000 Mbit/s pauses under
``regimes.SHORT_PAUSE_MS`` here. This campaign measures those on
purpose: QEMU 10 (the backports one), one connection over TCP or TLS,
the fit's other values and, for the held-out runs, at least two of the
held-out values (memory, workload, limit, hogs) the fit never saw; in
blocks of one hog count, each after 120 s of its hogs::

    python tools/libvirt_plan_28.py data/testbed/libvirt-plan-28.json
    QSLM_TESTBED_QEMU=/opt/qslm-qemu/bin/qemu-system-x86_64 \\
        qslm-nova-testbed libvirt-campaign \\
        --plan data/testbed/libvirt-plan-28.json --settle-s 120

The plan file is the record of what ran. The script that wrote it drew
the held-out values in a set's order, which changes from one Python
process to the next; it now draws them in ``HELD_DIMS`` order, so two of
the file's held-out runs differ from what it writes today.
"""

import random
import sys

from qslm_nova.testbed import libvirt_plan

FIRST_REPEAT = 2800
BANDWIDTH_MBPS = 1000
TRANSPORTS = (('tcp', 1), ('tls', 1))
# Held-out dimensions that keep one connection at the fit's bandwidth.
HELD_DIMS = ('memory_mib', 'workload', 'downtime_ms', 'hogs')


def _choice(rng, group, transports):
    fit = libvirt_plan.FIT
    choice = {k: rng.choice(fit[k]) for k in fit}
    choice['bandwidth_mbps'] = BANDWIDTH_MBPS
    choice['transport'] = rng.choice(transports)
    if group == 'held-out':
        unseen = set(rng.sample(HELD_DIMS, 2))
        unseen |= {d for d in HELD_DIMS if rng.random() < 0.5}
        for dim in HELD_DIMS:    # in order: the plan is reproducible
            if dim in unseen:
                choice[dim] = rng.choice(libvirt_plan.HELD_OUT[dim])
    return choice


def specs(fit=18, held=14, seed=28, transports=TRANSPORTS,
          first_repeat=FIRST_REPEAT):
    """The short-pause runs: *fit* and *held* of each group, one
    connection of *transports* at ``BANDWIDTH_MBPS``.
    """
    rng = random.Random(seed)
    out = []
    for group, count in (('fit', fit), ('held-out', held)):
        for i in range(count):
            out.append(libvirt_plan.spec(
                _choice(rng, group, transports), group, 'steps',
                first_repeat + i))
    rng.shuffle(out)
    return libvirt_plan.by_load(out)


def write_tcp_short(number, fit, held, argv):
    """Write campaign *number*'s plan of plain-TCP short pauses (as
    campaigns 29 and 30): *fit* and *held* runs, seed *number*, repeats
    from ``number * 100``; what to print.
    """
    description = (
        'campaign %d: idle hosts, plain TCP, one connection at 1000 Mbit/s '
        '(short pauses), QEMU 10.0.2, blocks of one hog count after 120 s '
        'of its hogs (tools/libvirt_plan_%d.py; libvirt-campaign '
        '--settle-s 120)' % (number, number))
    return libvirt_plan.write_numbered(number, specs(
        fit=fit, held=held, seed=number, transports=(('tcp', 1),),
        first_repeat=number * 100), description, argv)


DESCRIPTION = ('campaign 28: idle hosts, one connection at 1000 Mbit/s '
               '(short pauses), QEMU 10.0.2, blocks of one hog count after '
               '120 s of its hogs (tools/libvirt_plan_28.py; '
               'libvirt-campaign --settle-s 120)')


if __name__ == '__main__':
    print(libvirt_plan.write_numbered(28, specs(), DESCRIPTION, sys.argv))
