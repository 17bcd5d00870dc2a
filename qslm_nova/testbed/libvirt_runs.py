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

"""The libvirt campaigns' runs, as the report and the benchmark read them.

Each CSV ``data/testbed/libvirt-campaign*.csv`` has an environment file
beside it (``...-environment.json``): the QEMU release, the links'
measured goodput and, for campaigns made in blocks of one hog count,
the seconds each block's hogs ran before its first run (``settle_s``).
"""

import dataclasses
import functools
import json
import os
import re

from qslm_nova import estimator
from qslm_nova.testbed import campaign as raw_campaign
from qslm_nova.testbed import libvirt_model as lm
from qslm_nova.testbed import libvirt_parts

#: The group a fitting run is moved to when the fit takes settled runs
#: only (:func:`settled_fit`): no table reads it.
UNSETTLED_FIT = 'fit-unsettled'
#: (QEMU release of the campaigns, the constants fitted to its runs),
#: newest first.
RELEASE_FITS = (
    ('10.0.2', os.path.join(raw_campaign.DATA_DIR,
                            'libvirt-fitted-params-qemu10.json')),
    ('7.2.22', os.path.join(raw_campaign.DATA_DIR,
                            'libvirt-fitted-params.json')))


#: The fewest timed runs of a transport :func:`host_rates` takes a rate
#: from.
MIN_HOST_RUNS = libvirt_parts.MIN_TIMED


@dataclasses.dataclass(frozen=True)
class HostRates:
    """The testbed hosts' measured rates per core under one QEMU release,
    Gbit/s (None: too few runs time it, the shipped constant stays).

    ``gbps_per_core``: the migration's over plain TCP (what an
    operator's ``migration_gbps_per_core`` states); ``tls_gbps_per_core``:
    TLS's own cipher on top of it (what a topology's
    ``crypto_gbps_per_core`` of ``tls`` states; inf when TLS costs no
    more than TCP).
    """

    gbps_per_core: float = None
    tls_gbps_per_core: float = None


def host_rates(qemu, rows=None):
    """The :class:`HostRates` of QEMU release *qemu*.

    They are facts of the machine, as its links' goodput is, so they
    are read from every campaign (*rows*: other runs instead), whichever
    runs are judged or learnt from, out of the CPU time the
    destination's receiving thread (the side that binds here) took in
    the release's usable runs over one connection: the median Gbit per
    CPU second over plain TCP (:func:`libvirt_parts.receive_gbps`) and
    the cipher's cost on top of it (:func:`libvirt_parts.cipher_gbps`),
    each from :data:`MIN_HOST_RUNS` timed runs of its transports.
    """
    if rows is None:
        rows = _every_row()
    rows = [r for r in rows
            if r.get('qemu') == qemu and lm.unusable(r) is None]
    return HostRates(libvirt_parts.tcp_gbps(rows),
                     libvirt_parts.cipher_gbps(rows))


@functools.lru_cache(maxsize=1)
def _every_row():
    """The rows of every libvirt campaign (read once)."""
    return tuple(read_campaigns(default_csvs())[0])


def shipped_constants(fitted, rates=None):
    """*fitted*'s testbed facts (its links' goodput, the guests' zero
    pages and, when given, its hosts' measured :class:`HostRates`
    *rates*) with the constants qslm-nova ships for the rest: the
    ``ModelParams`` defaults and the built-in mechanisms' costs.
    """
    rates = rates or HostRates()
    params = estimator.ModelParams()
    if rates.gbps_per_core is not None:
        params = dataclasses.replace(
            params, migration_gbps_per_core=rates.gbps_per_core)
    crypto = ({} if rates.tls_gbps_per_core is None else
              {'tls': rates.tls_gbps_per_core})
    return dataclasses.replace(fitted, params=params,
                               crypto_gbps_per_core=crypto, buffered_mb={})


def paused_runs(rows, qemu, fitted):
    """The usable runs of QEMU release *qemu* that paused and have a
    ratio to learn, estimated with *fitted*: (runs, their estimates,
    their estimates on idle hosts, how many paused runs were left out).

    A run is left out when the model expects no pause, on its hosts or
    on idle ones, or when its guest-side probe saw none (one 7.2 run:
    0 ms end to end while libvirt reported 70).
    """
    paused = [r for r in rows
              if r.get('qemu') == qemu and lm.unusable(r) is None and
              r.get('outcome') in lm.PAUSED_OUTCOMES]
    ests = lm.estimate_rows(paused, fitted)
    # The regime is that of the pause on idle hosts, as the engine
    # chooses it.
    idle = lm.estimate_rows(paused, fitted, load_of=lambda _row: 0.0)
    keep = [i for i, (r, e, z) in enumerate(zip(paused, ests, idle))
            if e['downtime_ms'] > 0 and z['downtime_ms'] > 0 and
            lm.measured_pause(r) > 0]
    return ([paused[i] for i in keep], [ests[i] for i in keep],
            [idle[i] for i in keep], len(paused) - len(keep))


def qemu_release(version):
    """'7.2.22' from QEMU's --version line ('?' when it names none)."""
    m = re.search(r'version (\d+(?:\.\d+)*)', version or '')
    return m.group(1) if m else '?'


def read_campaigns(paths):
    """Rows of every CSV, each with its campaign name, QEMU release, the
    seconds its load settled before its block (0: not held still) and
    its link's goodput; and {bandwidth: goodput} of all the links.
    """
    rows, goodput = [], {}
    for path in paths:
        env_path = os.path.splitext(path)[0] + '-environment.json'
        with open(env_path) as f:
            env = json.load(f)
        measured = env['link_goodput_mbps']
        goodput.update(measured)
        name = os.path.splitext(os.path.basename(path))[0]
        qemu = qemu_release(env.get('qemu', ''))
        settle_s = float(env.get('settle_s') or 0.0)
        for row in raw_campaign.read_rows(path):
            row['campaign'] = name
            row['qemu'] = qemu
            row['settle_s'] = settle_s
            row.setdefault('link_goodput_mbps', measured.get(
                '%g' % lm.num(row, 'bandwidth_mbps'), ''))
            rows.append(row)
    return rows, goodput


def default_csvs(data_dir=raw_campaign.DATA_DIR):
    """Every libvirt campaign CSV of *data_dir*, sorted."""
    return sorted(os.path.join(data_dir, n) for n in os.listdir(data_dir)
                  if n.startswith('libvirt-campaign') and n.endswith('.csv'))


def settled_fit(rows):
    """Move the fitting runs of campaigns not held still (no
    ``settle_s``) out of the fit (group :data:`UNSETTLED_FIT`); return
    how many moved.

    A run of such a campaign often read the one-minute load average of
    the runs before it, which had another hog count, so its load input
    is not the load it ran under.
    """
    moved = 0
    for row in rows:
        if row['group'] == 'fit' and not row['settle_s'] > 0:
            row['group'] = UNSETTLED_FIT
            moved += 1
    return moved
