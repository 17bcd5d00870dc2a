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

"""The libvirt campaign: run a plan of Nova-driven migrations, resumably.

:mod:`libvirt_plan` says which migrations (fitting and held-out values,
Nova's outcome labels) and writes the plan file; this module starts two
libvirt hosts, measures their link, and runs every spec of the plan that
the CSV does not hold yet, one row per run, flushed as it ends: stop it
at any time and run the same command again to go on. A run the testbed
had to abort (``status=error``) is tried once more on the next start.
"""

import csv
import datetime
import json
import os
import subprocess
import sys
import tempfile

from oslo_log import log as logging

from qslm_nova.testbed import campaign as raw_campaign
from qslm_nova.testbed import hostload
from qslm_nova.testbed import libvirt_guest
from qslm_nova.testbed import libvirt_host
from qslm_nova.testbed import libvirt_plan
from qslm_nova.testbed import libvirt_runner
from qslm_nova.testbed import netns
from qslm_nova.testbed import TestbedError
from qslm_nova.testbed import threadshare

LOG = logging.getLogger(__name__)
CSV_NAME = 'libvirt-campaign.csv'
# Runs whose row says status=error are tried this often in all.
ATTEMPTS = 2

# The plan's names, kept where the first campaign had them.
FIT = libvirt_plan.FIT
HELD_OUT = libvirt_plan.HELD_OUT
OUTCOME_LABELS = libvirt_plan.OUTCOME_LABELS
plan = libvirt_plan.make


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
        'sched_autogroup_enabled': threadshare.autogroup_enabled(),
        'hogs': 'one session each',
        'cpu_model': raw_campaign.calibrate.cpu_model(),
        'link_goodput_mbps': {'%g' % bw: measure_goodput(src, dst, link, bw)
                              for bw in bandwidths},
        'fit_values': {k: list(v) for k, v in FIT.items()},
        'held_out_values': {k: list(v) for k, v in HELD_OUT.items()},
        'outcome_labels': OUTCOME_LABELS,
    }


def pending(specs, rows):
    """The specs still to run: not in *rows* (the CSV's), or only as
    errors fewer than :data:`ATTEMPTS` times.
    """
    ok, errors = set(), {}
    for r in rows:
        if r.get('status') == 'ok':
            ok.add(r['run_id'])
        else:
            errors[r['run_id']] = errors.get(r['run_id'], 0) + 1
    return [s for s in specs if s.run_id not in ok and
            errors.get(s.run_id, 0) < ATTEMPTS]


def same_qemu(env_path):
    """Refuse to resume a campaign with another QEMU than its runs so far.

    A campaign's CSV has one environment file, which names one QEMU; the
    report reads each run's QEMU from there.
    """
    try:
        with open(env_path) as f:
            before = json.load(f).get('qemu')
    except (OSError, ValueError):
        return
    _, now = raw_campaign.runner.check_qemu()
    if before and before != now:
        raise TestbedError(
            '%s: its runs so far used "%s", this one would use "%s" '
            '(set or unset %s, or start another CSV)'
            % (os.path.basename(env_path), before, now,
               raw_campaign.runner.QEMU_ENV))


def settle_s(spec, previous, seconds):
    """Seconds of hogs to run before *spec*: *seconds* when its hog
    count differs from the run before (*previous*, None at the start),
    else 0: consecutive runs of one count keep the load where it is.
    """
    if previous is not None and previous.hogs == spec.hogs:
        return 0.0
    return max(float(seconds or 0.0), 0.0)


def run_campaign(out_dir=raw_campaign.DATA_DIR, csv_name=CSV_NAME,
                 specs=None, limit=None, progress=None, base_dir=None,
                 stop=None, settle=0.0):
    """Run *specs* (default :func:`plan`), appending rows; resumes.

    :param stop: a threading.Event; once set, the campaign ends after the
        run in progress (hosts stopped, namespaces removed).
    :param settle: seconds of the next run's hogs before each run whose
        hog count differs from the one before
        (:func:`hostload.settle`; with :func:`libvirt_plan.by_load`).
    """
    specs = plan() if specs is None else specs
    path = os.path.join(out_dir, csv_name)
    todo = pending(specs, raw_campaign.read_rows(path))
    if limit:
        todo = todo[:limit]
    if not todo:
        return path
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    env_path = os.path.join(out_dir, os.path.splitext(csv_name)[0] +
                            '-environment.json')
    if not new:
        same_qemu(env_path)
    import libvirt
    base = base_dir or tempfile.mkdtemp(prefix='qslm-lvcampaign-')
    elf = libvirt_guest.build_elf(os.path.join(base, 'build'))
    fields = libvirt_runner.FIELDS
    if not new:
        # Append in the file's own columns (older runs may lack new ones).
        with open(path, newline='') as f:
            fields = next(csv.reader(f))
    with libvirt_host.host_pair(base, tls=True, names=('cmpsrc', 'cmpdst'),
                                subnet='198.18.9') as (src, dst, link):
        bws = sorted({s.bandwidth_mbps for s in specs})
        env = environment(src, dst, link, bws)
        env['settle_s'] = settle
        with open(env_path, 'w') as f:
            json.dump(env, f, indent=2, sort_keys=True)
            f.write('\n')
        with open(path, 'a', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=fields,
                                    extrasaction='ignore')
            if new:
                writer.writeheader()
            previous = None
            for i, spec in enumerate(todo):
                if stop is not None and stop.is_set():
                    break
                wait = settle_s(spec, previous, settle)
                if wait:
                    LOG.info('%d hogs per host for %.0f s before %s',
                             spec.hogs, wait, spec.run_id)
                    hostload.settle((src, dst), spec.hogs, wait, stop)
                previous = spec
                link.shape(spec.bandwidth_mbps, spec.rtt_ms)
                try:
                    row = libvirt_runner.run(spec, src, dst, elf)
                except (TestbedError, libvirt.libvirtError) as e:
                    # One run's failure is its row, never the campaign's.
                    LOG.warning('%s failed: %s', spec.run_id, e)
                    row = dict.fromkeys(libvirt_runner.FIELDS, '')
                    row.update(run_id=spec.run_id, group=spec.group,
                               label=spec.label, status='error',
                               error=str(e)[:500])
                writer.writerow(row)
                f.flush()
                if progress:
                    progress(i + 1, len(todo), row)
    return path
