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

"""The libvirt campaign: Nova-driven migrations, fit and held-out values.

Every value of every dimension belongs either to the fitting set or to
the held-out set (:data:`FIT` and :data:`HELD_OUT`); a held-out
configuration takes at least two of its dimensions from the held-out
values, so no held-out run repeats a configuration, or even a value on
those dimensions, that the fit saw. Besides Nova's default stepping
(label ``steps``), four labels provoke Nova's other outcomes with a guest
that dirties faster than the link: ``abort`` and ``force-complete``
(completion timeout, pause), ``post-copy`` (force-complete with post-copy
permitted) and ``auto-converge``.
"""

import csv
import dataclasses
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile

from oslo_log import log as logging

from qslm_nova.testbed import campaign as raw_campaign
from qslm_nova.testbed import guest as guest_mod
from qslm_nova.testbed import libvirt_guest
from qslm_nova.testbed import libvirt_host
from qslm_nova.testbed import libvirt_runner
from qslm_nova.testbed import netns
from qslm_nova.testbed import nova_monitor
from qslm_nova.testbed import TestbedError

LOG = logging.getLogger(__name__)
CSV_NAME = 'libvirt-campaign.csv'

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


def workload(desc):
    if desc[0] == 'steady':
        return guest_mod.Workload(dirty_rate_mibps=desc[1], wss_mib=desc[2],
                                  fill_pct=FILL_PCT)
    return guest_mod.Workload(dirty_rate_mibps=desc[1], burst_on_ms=desc[2],
                              burst_off_ms=desc[3], wss_mib=desc[4],
                              fill_pct=FILL_PCT)


def _pick(rng, group):
    if group == 'fit':
        return {k: rng.choice(v) for k, v in FIT.items()}
    dims = list(HELD_OUT)
    unseen = set(rng.sample(dims, 2))
    unseen |= {d for d in dims if rng.random() < 0.5}
    return {k: rng.choice((HELD_OUT if k in unseen else FIT)[k])
            for k in FIT}


def _spec(choice, group, label, repeat):
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


def plan(steps_fit=22, steps_held=14, per_outcome=(6, 5), seed=17):
    """The campaign's specs, interleaved so a partial run covers all."""
    rng = random.Random(seed)
    specs = []
    for group, count in (('fit', steps_fit), ('held-out', steps_held)):
        for i in range(count):
            specs.append(_spec(_pick(rng, group), group, 'steps', i))
    for label in OUTCOME_LABELS:
        for group, count in zip(('fit', 'held-out'), per_outcome):
            for i in range(count):
                choice = _pick(rng, group)
                specs.append(_spec(choice, group, label, i))
    rng.shuffle(specs)
    return specs


def measure_goodput(src, dst, link, rate_mbps, seconds=2.0, port=5999):
    """TCP Mbit/s one stream gets from *src* to *dst* at *rate_mbps*."""
    link.shape(rate_mbps)
    script = netns.GOODPUT_SCRIPT
    sink = dst.popen([sys.executable, '-c', script, 'sink', '0.0.0.0',
                      str(port), '0'], stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            out = src.run([sys.executable, '-c', script, 'send',
                           dst.config.address, str(port), str(seconds)],
                          check=False, timeout=seconds + 30)
            if out.returncode == 0:
                return round(float(out.stdout.strip()), 1)
        raise TestbedError('goodput probe failed: %s' % out.stderr[-300:])
    finally:
        sink.kill()
        sink.wait()


def environment(src, dst, link, bandwidths):
    _, qemu = raw_campaign.runner.check_qemu()
    import libvirt
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).strftime(
            '%Y-%m-%dT%H:%M:%SZ'),
        'qemu': qemu, 'libvirt': libvirt.getVersion(),
        'accel': 'tcg', 'cpus': os.cpu_count(),
        'cpu_model': raw_campaign.calibrate.cpu_model(),
        'link_goodput_mbps': {'%g' % bw: measure_goodput(src, dst, link, bw)
                              for bw in bandwidths},
        'fit_values': {k: list(v) for k, v in FIT.items()},
        'held_out_values': {k: list(v) for k, v in HELD_OUT.items()},
        'outcome_labels': OUTCOME_LABELS,
    }


def run_campaign(out_dir=raw_campaign.DATA_DIR, csv_name=CSV_NAME,
                 specs=None, limit=None, progress=None, base_dir=None):
    """Run *specs* (default :func:`plan`), appending rows; resumes."""
    specs = plan() if specs is None else specs
    path = os.path.join(out_dir, csv_name)
    done = {r['run_id'] for r in raw_campaign.read_rows(path)
            if r.get('status') == 'ok'}
    todo = [s for s in specs if s.run_id not in done]
    if limit:
        todo = todo[:limit]
    base = base_dir or tempfile.mkdtemp(prefix='qslm-lvcampaign-')
    elf = libvirt_guest.build_elf(os.path.join(base, 'build'))
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    fields = libvirt_runner.FIELDS
    if not new:
        # Append in the file's own columns (older runs may lack new ones).
        with open(path, newline='') as f:
            fields = next(csv.reader(f))
    with libvirt_host.host_pair(base, tls=True, names=('cmpsrc', 'cmpdst'),
                                subnet='198.18.9') as (src, dst, link):
        env_path = os.path.join(out_dir, os.path.splitext(csv_name)[0] +
                                '-environment.json')
        bws = sorted({s.bandwidth_mbps for s in specs})
        with open(env_path, 'w') as f:
            json.dump(environment(src, dst, link, bws), f, indent=2,
                      sort_keys=True)
            f.write('\n')
        with open(path, 'a', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=fields,
                                    extrasaction='ignore')
            if new:
                writer.writeheader()
            for i, spec in enumerate(todo):
                link.shape(spec.bandwidth_mbps, spec.rtt_ms)
                try:
                    row = libvirt_runner.run(spec, src, dst, elf)
                except TestbedError as e:
                    LOG.warning('%s failed: %s', spec.run_id, e)
                    row = dataclasses.asdict(spec) and dict.fromkeys(
                        libvirt_runner.FIELDS, '')
                    row.update(run_id=spec.run_id, group=spec.group,
                               label=spec.label, status='error',
                               error=str(e)[:500])
                writer.writerow(row)
                f.flush()
                if progress:
                    progress(i + 1, len(todo), row)
    return path
