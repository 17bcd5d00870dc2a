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

"""The libvirt campaign's plan: which migrations, in which order.

Every value of every dimension belongs either to the fitting set or to
the held-out set (:data:`FIT` and :data:`HELD_OUT`); a held-out
configuration takes at least two of its dimensions from the held-out
values, so no held-out run repeats a configuration, or even a value on
those dimensions, that the fit saw. Besides Nova's default stepping
(label ``steps``), four labels provoke Nova's other outcomes with a guest
that dirties faster than the link: ``abort`` and ``force-complete``
(completion timeout, pause), ``post-copy`` (force-complete with post-copy
permitted; one connection, as Nova refuses parallel connections with
post-copy on QEMU before 10.1) and ``auto-converge``.

A third group, ``repeat`` (:func:`repeats`), runs configurations of an
earlier plan again, unchanged: the spread between runs of one
configuration is the floor under any model's error, and neither the fit
nor the held-out tables count these runs.

A plan is a JSON file (:func:`save`, :func:`load`): the campaign runs its
specs in order, skips those the CSV already holds and prints how long the
rest should take (:func:`estimate_s`) before it starts.
"""

import dataclasses
import itertools
import json
import os
import random
import statistics

from qslm_nova.testbed import campaign
from qslm_nova.testbed import guest as guest_mod
from qslm_nova.testbed import libvirt_runner
from qslm_nova.testbed import nova_monitor
from qslm_nova.testbed import TestbedError

#: Labels whose runs end in a pause (the others abort or crawl).
PAUSING_LABELS = ('steps', 'force-complete', 'post-copy')

# Dimension -> values. Workloads: ('steady', MiB/s, wss MiB) or
# ('bursty', MiB/s while writing, on ms, off ms, wss MiB).
FIT = {
    'memory_mib': (1024, 1536),
    'workload': (('steady', 4, 256), ('steady', 24, 512),
                 ('bursty', 48, 250, 750, 512)),
    'bandwidth_mbps': (500, 1000),
    # No latency dimension: this machine's kernel has no netem qdisc
    # (CONFIG_NET_SCH_NETEM is not set), so tc cannot add delay here.
    'rtt_ms': (0,),
    'downtime_ms': (300, 500),
    'transport': (('tcp', 1), ('tls', 1), ('tcp', 2)),
    'hogs': (0, 1),
}
HELD_OUT = {
    'memory_mib': (1280,),
    'workload': (('steady', 12, 384), ('bursty', 64, 150, 850, 384)),
    'bandwidth_mbps': (700,),
    'downtime_ms': (400,),
    'transport': (('tls', 3), ('tcp', 3)),
    'hogs': (2,),
}
# Nova's other outcomes: a guest dirtying faster than the link.
OUTCOME_LABELS = {
    'abort': dict(completion_timeout_s=3, downtime_steps=3,
                  downtime_delay_s=3),
    'force-complete': dict(completion_timeout_s=3,
                           timeout_action='force_complete'),
    'post-copy': dict(completion_timeout_s=3, timeout_action='force_complete',
                      permit_post_copy=True),
    # Bounded: aborted after 45 s per GiB if throttling does not do it.
    'auto-converge': dict(permit_auto_converge=True,
                          completion_timeout_s=45),
}
HOT_WORKLOAD = {'fit': ('steady', 96, 256), 'held-out': ('steady', 80, 192)}
# Percent of the guest's memory above 4 MiB holding data (the rest stays
# zero, as in a guest that has not touched all its RAM).
FILL_PCT = 50
# Seconds per run when no earlier run of the label says better (the
# first campaign's medians on 2 loaded cores), and per campaign start
# (two libvirt hosts, TLS certificates, one goodput probe per link).
DEFAULT_RUN_S = {'steps': 70.0, 'abort': 45.0, 'force-complete': 45.0,
                 'post-copy': 45.0, 'auto-converge': 65.0}
START_S = 60.0


def workload(desc):
    if desc[0] == 'steady':
        return guest_mod.Workload(dirty_rate_mibps=desc[1], wss_mib=desc[2],
                                  fill_pct=FILL_PCT)
    return guest_mod.Workload(dirty_rate_mibps=desc[1], burst_on_ms=desc[2],
                              burst_off_ms=desc[3], wss_mib=desc[4],
                              fill_pct=FILL_PCT)


def _values(table, dim, label):
    values = table[dim]
    if dim == 'transport' and label == 'post-copy':
        # What Nova would run: one connection (see the module's doc).
        values = tuple(v for v in values if v[1] == 1)
    return values


def _pick(rng, group, label):
    if group == 'fit':
        return {k: rng.choice(_values(FIT, k, label)) for k in FIT}
    dims = [d for d in HELD_OUT if _values(HELD_OUT, d, label)]
    unseen = set(rng.sample(dims, 2))
    unseen |= {d for d in dims if rng.random() < 0.5}
    return {k: rng.choice(_values(HELD_OUT if k in unseen else FIT, k,
                                  label)) for k in FIT}


def spec(choice, group, label, repeat):
    """The run of one *choice* (a value per dimension of :data:`FIT`)
    with the Nova settings and workload of its *label*.
    """
    transport, parallel = choice['transport']
    extra = dict(OUTCOME_LABELS.get(label, {}))
    work = choice['workload']
    if label != 'steps':
        work = HOT_WORKLOAD[group]
    nova = nova_monitor.NovaSettings(
        downtime_ms=choice['downtime_ms'], native_tls=transport == 'tls',
        parallel_connections=parallel, **extra)
    return libvirt_runner.LibvirtSpec(
        memory_mib=choice['memory_mib'], workload=workload(work),
        bandwidth_mbps=choice['bandwidth_mbps'], rtt_ms=choice['rtt_ms'],
        transport=transport, nova=nova, hogs=choice['hogs'],
        repeat=repeat, group=group, label=label)


def make(steps_fit=22, steps_held=14, per_outcome=(6, 5), seed=17,
         first_repeat=0):
    """Specs of a campaign, interleaved so a partial run covers all.

    :param per_outcome: (fit, held-out) runs of each outcome label.
    :param first_repeat: repeat number of the first run of each kind, so
        that a second campaign's run ids differ from the first's.
    """
    rng = random.Random(seed)
    specs = []
    for group, count in (('fit', steps_fit), ('held-out', steps_held)):
        for i in range(count):
            specs.append(spec(_pick(rng, group, 'steps'), group, 'steps',
                              first_repeat + i))
    for label in OUTCOME_LABELS:
        for group, count in zip(('fit', 'held-out'), per_outcome):
            for i in range(count):
                specs.append(spec(_pick(rng, group, label), group, label,
                                  first_repeat + i))
    rng.shuffle(specs)
    return specs


def repeats(specs, configs, times, seed=17, first_repeat=0):
    """Specs that run *configs* configurations of *specs* *times* each.

    The configurations are drawn among the pausing labels (``steps``,
    ``force-complete``, ``post-copy``), one transport after another so
    each gets its share; every round runs each configuration once, in a
    new order, so a drift of the machine spreads over all of them.

    :param specs: the plan the configurations come from.
    """
    if configs < 1 or times < 2:
        raise TestbedError('a repeat plan wants at least one '
                           'configuration, run at least twice (got %d '
                           'configurations x %d)' % (configs, times))
    rng = random.Random(seed)
    by_transport = {}
    for spec in specs:
        if spec.label in PAUSING_LABELS:
            key = (spec.transport, spec.nova.parallel_connections)
            by_transport.setdefault(key, []).append(spec)
    for pool in by_transport.values():
        rng.shuffle(pool)
    chosen = []
    while len(chosen) < configs and any(by_transport.values()):
        for key in sorted(by_transport):
            if by_transport[key] and len(chosen) < configs:
                chosen.append(by_transport[key].pop())
    if len(chosen) < configs:
        raise TestbedError('the plan has %d configurations of the labels '
                           '%s, %d asked' % (len(chosen),
                                             ', '.join(PAUSING_LABELS),
                                             configs))
    out = []
    for i in range(times):
        round_ = [dataclasses.replace(s, group='repeat',
                                      repeat=first_repeat + i)
                  for s in chosen]
        rng.shuffle(round_)
        out.extend(round_)
    return out


def hog_blocks(hogs, seed, first_repeat, choose, **make_args):
    """A plan in blocks of one hog count (:func:`by_load`): block *i*
    is :func:`make`'s specs of seed ``seed + i`` and first repeat
    ``first_repeat + 50 * i`` (with *make_args*), of which *choose*
    keeps some, each run with ``hogs[i]`` hogs per host.
    """
    out = []
    for i, count in enumerate(hogs):
        made = make(seed=seed + i, first_repeat=first_repeat + 50 * i,
                    **make_args)
        out += [dataclasses.replace(s, hogs=count) for s in choose(made)]
    return by_load(out)


def by_load(specs):
    """*specs* in blocks of one hog count (fewest first), each block in
    its own order.

    The model reads the host's one-minute load average, which lags a
    change of load by about a minute: a run right after runs with other
    hogs reads mostly their load. In blocks (and with the campaign's
    ``--settle-s``), each run reads the load it really has, as on a
    compute host whose guests hold their load.
    """
    return sorted(specs, key=lambda s: s.hogs)


def spec_to_json(spec):
    d = dataclasses.asdict(spec)
    d['run_id'] = spec.run_id
    return d


def spec_from_json(d):
    d = dict(d)
    d.pop('run_id', None)
    try:
        d['workload'] = guest_mod.Workload(**d['workload'])
        d['nova'] = nova_monitor.NovaSettings(**d['nova'])
        return libvirt_runner.LibvirtSpec(**d)
    except (KeyError, TypeError) as e:
        raise TestbedError('a plan entry is not a run spec (%s): %r'
                           % (e, d))


def save(specs, path, csv_name, description=''):
    """Write the plan: its specs and the CSV its campaign appends to."""
    with open(path, 'w') as f:
        json.dump({'description': description, 'csv': csv_name,
                   'runs': [spec_to_json(s) for s in specs]}, f, indent=1)
        f.write('\n')


def write(specs, path, csv_name, description=''):
    """:func:`save` the plan; the line that says what was written."""
    save(specs, path, csv_name, description)
    return '%d runs in %s, about %.0f min' % (
        len(specs), path, estimate_s(specs) / 60.0)


def post_copy_grid(first_repeat, hogs, pick_downtime):
    """Post-copy fitting runs over every combination of the fit's
    bandwidths, one-connection transports (as Nova runs post-copy),
    memory sizes and the given *hogs* counts; run *i* of the grid gets
    repeat ``first_repeat + i`` and the limit ``pick_downtime(i)``.
    """
    grid = itertools.product(FIT['bandwidth_mbps'],
                             _values(FIT, 'transport', 'post-copy'),
                             FIT['memory_mib'], hogs)
    return [spec({'memory_mib': mem, 'workload': None,
                  'bandwidth_mbps': bw, 'rtt_ms': 0,
                  'downtime_ms': pick_downtime(i),
                  'transport': transport, 'hogs': hog},
                 'fit', 'post-copy', first_repeat + i)
            for i, (bw, transport, mem, hog) in enumerate(grid)]


def write_numbered(number, specs, description, argv=()):
    """:func:`write` campaign *number*'s plan, as the plan tools of
    ``tools/`` do: to ``argv[1]`` when given, else
    ``data/testbed/libvirt-plan-<number>.json``; its campaign appends to
    ``libvirt-campaign-<number>.csv``.
    """
    path = argv[1] if len(argv) > 1 else os.path.join(
        campaign.DATA_DIR, 'libvirt-plan-%d.json' % number)
    return write(specs, path, 'libvirt-campaign-%d.csv' % number,
                 description)


def load(path):
    """(specs, CSV name) of the plan file *path*."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise TestbedError('cannot read the plan %s: %s' % (path, e))
    if not isinstance(doc, dict) or not isinstance(doc.get('runs'), list) \
            or not isinstance(doc.get('csv'), str):
        raise TestbedError('plan %s: wants a "csv" name and a "runs" list'
                           % path)
    return [spec_from_json(d) for d in doc['runs']], doc['csv']


def estimate_s(specs, rows=()):
    """Seconds the *specs* should take, from the wall time of *rows*.

    Per label: the median ``wall_s`` of the earlier runs, else
    :data:`DEFAULT_RUN_S`; plus the campaign's start.
    """
    seen = {}
    for row in rows:
        try:
            seen.setdefault(row['label'], []).append(float(row['wall_s']))
        except (KeyError, TypeError, ValueError):
            continue
    per = {label: statistics.median(v) for label, v in seen.items() if v}
    total = sum(per.get(s.label, DEFAULT_RUN_S.get(s.label, 60.0))
                for s in specs)
    return START_S + total if specs else 0.0
