#!/usr/bin/env python3
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

"""What the runs that lost a guest's write do to the learnt bounds.

    PYTHONPATH=. tools/lost_writes.py

Under TCG, QEMU 7.2's migrations sometimes lose a write of the guest's
(:func:`qslm_nova.testbed.libvirt_facts.lost_write`). The shipped
residuals keep the usable ones and leave out the runs whose guest did
not show on the destination within the runner's 10 s (status
``guest-not-running``: the largest losses). This prints, per QEMU
release, how many runs lost a write, how the guest's first line on the
destination tells them apart, and every residual group's conformal
bounds three ways: as shipped, without any run that lost a write, and
with the late guests' runs kept (those that showed within the runner's
further 50 s).
"""

import collections
import sys

import numpy as np

from qslm_nova.risk import conformal
from qslm_nova.risk import learn
from qslm_nova.testbed import libvirt_facts
from qslm_nova.testbed import libvirt_model as lm
from qslm_nova.testbed import libvirt_runs

CONFIDENCES = (0.9, 0.95, 0.99)


def late_guests_kept(rows):
    """*rows*, a run whose guest showed late counted as seen."""
    return [dict(r, status='ok', guest_alive_on_dest='1')
            if r.get('status') == 'guest-not-running' and
            r.get('dest_progress_s') else r for r in rows]


def bound(ratios, confidence):
    """The group's conformal bound, or None when it has too few runs."""
    if len(ratios) < conformal.runs_needed(confidence):
        return None
    return conformal.ResidualGroup('', np.sort(ratios)).quantile(confidence)


def counts(rows):
    """Lines: per release and status, how many runs lost a write."""
    tally = collections.defaultdict(collections.Counter)
    for r in rows:
        if lm.unusable(r) is not None and r.get('status') != \
                'guest-not-running':
            continue
        how = ('first line' if libvirt_facts.ticks_behind(r) is None
               else 'read')
        tally[(r.get('qemu'), r.get('status'), how)][
            str(libvirt_facts.lost_write(r))] += 1
    return ['  QEMU %s, %s, %s: lost a write %s' % (key + (
        dict(sorted(tally[key].items())),)) for key in sorted(tally)]


def main():
    rows = libvirt_runs.read_campaigns(libvirt_runs.default_csvs())[0]
    kept = [r for r in rows if not libvirt_facts.lost_write(r)]
    late = late_guests_kept(rows)
    docs = (('shipped', learn.libvirt_document(rows, [], machine=rows)),
            ('no lost write', learn.libvirt_document(kept, [],
                                                     machine=kept)),
            ('late guests kept', learn.libvirt_document(late, [],
                                                        machine=late)))
    out = ['Runs (usable or guest-not-running) by what tells a lost write:']
    out += counts(rows)
    for name, doc in docs:
        out.append('%s: %d runs %s; hosts\' Gbit per CPU s tcp %s, '
                   'TLS cost %s' % (name, doc['runs'], doc['runs_per_qemu'],
                                    doc['host_gbps_per_core'],
                                    doc['host_tls_gbps_per_core']))
    out.append('group: runs and bounds at %s, per document (%s)' % (
        ' / '.join(map(str, CONFIDENCES)),
        ' | '.join(name for name, _ in docs)))
    groups = sorted(set().union(*(doc['groups'] for _, doc in docs)))
    for g in groups:
        cells = []
        for _, doc in docs:
            ratios = doc['groups'].get(g, [])
            cells.append('%3d: %s' % (len(ratios), ' / '.join(
                '-' if b is None else '%.3f' % b
                for b in (bound(ratios, c) for c in CONFIDENCES))))
        out.append('  %-24s %s' % (g, ' | '.join(cells)))
    print('\n'.join(out))


if __name__ == '__main__':
    sys.exit(main())
