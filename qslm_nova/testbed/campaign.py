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

"""Run a grid of real migrations and write the measurements as CSV."""

import csv
import dataclasses
import datetime
import itertools
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile

from oslo_log import log as logging

from qslm_nova.testbed import calibrate
from qslm_nova.testbed import guest
from qslm_nova.testbed import netns
from qslm_nova.testbed import runner
from qslm_nova.testbed import TestbedError
from qslm_nova.testbed import transports

LOG = logging.getLogger(__name__)

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'data', 'testbed')


@dataclasses.dataclass
class Grid(object):
    """The campaign grid; every combination runs ``repeats`` times."""

    memory_mib: tuple = (64, 128)
    dirty_rate_mibps: tuple = (0.0, 4.0, 16.0)
    bandwidth_mbps: tuple = (300.0, 1000.0)
    downtime_limit_ms: tuple = (50, 300)
    transport: tuple = transports.NAMES
    repeats: int = 3
    link: str = 'tc'

    def specs(self, seed=0):
        specs = []
        for mem, dirty, bw, dl, tr, rep in itertools.product(
                self.memory_mib, self.dirty_rate_mibps, self.bandwidth_mbps,
                self.downtime_limit_ms, self.transport,
                range(self.repeats)):
            work = guest.Workload(dirty_rate_mibps=dirty,
                                  wss_mib=max(1, mem - 8))
            specs.append(runner.MigrationSpec(
                memory_mib=mem, workload=work, bandwidth_mbps=bw,
                downtime_limit_ms=dl, transport=tr, repeat=rep,
                link=self.link))
        # Interleave the grid so slow drifts of the host do not line up
        # with one grid dimension; the order is reproducible.
        random.Random(seed).shuffle(specs)
        return specs


SMALL_GRID = Grid(memory_mib=(64,), dirty_rate_mibps=(0.0, 8.0),
                  bandwidth_mbps=(1000.0,), downtime_limit_ms=(300,),
                  repeats=1)


def environment(cipher_seconds=1, bandwidths=()):
    """What the measurements depend on besides the grid."""
    _, qemu_version = runner.check_qemu()
    env = {
        'date': datetime.datetime.now(
            datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'qemu': qemu_version,
        'accel': 'tcg',
        'cpu_model': calibrate.cpu_model(),
        'cpus': os.cpu_count(),
        'kernel': platform.release(),
        'python': sys.version.split()[0],
        'ssh_cipher': transports.DEFAULT_SSH_CIPHER,
    }
    for cmd, key in ((['openssl', 'version'], 'openssl'),
                     (['ssh', '-V'], 'openssh')):
        if shutil.which(cmd[0]):
            out = subprocess.run(cmd, capture_output=True, text=True)
            env[key] = (out.stdout or out.stderr).strip()
    try:
        with open('/proc/meminfo') as f:
            env['mem_total_kb'] = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    env['cipher_gbps_per_core'] = calibrate.measure_cipher_throughput(
        seconds=cipher_seconds)
    # TCP payload rate one stream gets through each emulated link.
    env['link_goodput_mbps'] = {
        '%g' % bw: round(netns.measure_goodput(bw), 1)
        for bw in bandwidths if bw > 0}
    return env


def read_rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def run_campaign(grid, out_dir=DATA_DIR, csv_name='campaign.csv',
                 workdir=None, resume=True, limit=None, seed=0,
                 progress=None):
    """Run every spec of *grid*, appending rows to ``out_dir/csv_name``.

    Runs already in the CSV (same run id) are skipped when *resume*.
    A run that fails is recorded with its status and error; a testbed
    that cannot work at all (no QEMU, no sshd) raises TestbedError.
    """
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, csv_name)
    env = environment(bandwidths=grid.bandwidth_mbps)
    env_path = os.path.join(out_dir, os.path.splitext(csv_name)[0] +
                            '-environment.json')
    grids = [dataclasses.asdict(grid)]
    if resume and os.path.exists(env_path):
        # Keep what earlier invocations on the same CSV measured.
        with open(env_path) as f:
            old = json.load(f)
        merged = dict(old.get('link_goodput_mbps', {}))
        merged.update(env['link_goodput_mbps'])
        env['link_goodput_mbps'] = merged
        grids = old.get('grids', []) + grids
    env['grids'] = grids
    with open(env_path, 'w') as f:
        json.dump(env, f, indent=2, sort_keys=True)
        f.write('\n')
    done = set()
    if resume:
        done = {r['run_id'] for r in read_rows(path)
                if r.get('status') == 'completed'}
    elif os.path.exists(path):
        os.unlink(path)
    specs = [s for s in grid.specs(seed) if s.run_id not in done]
    if limit:
        specs = specs[:limit]
    base = workdir or tempfile.mkdtemp(prefix='qslm-campaign-')
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    results = []
    try:
        with open(path, 'a', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=runner.FIELDS)
            if new:
                writer.writeheader()
            for i, spec in enumerate(specs):
                try:
                    row = runner.run_migration(spec, workdir=base)
                except TestbedError as e:
                    if _fatal(e):
                        raise
                    LOG.warning('%s failed: %s', spec.run_id, e)
                    row = dict.fromkeys(runner.FIELDS, '')
                    row.update(run_id=spec.run_id, repeat=spec.repeat,
                               transport=spec.transport, status='error',
                               error=str(e)[:500])
                writer.writerow(row)
                f.flush()
                results.append(row)
                if progress:
                    progress(i + 1, len(specs), row)
    finally:
        if workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    return path, results


def _fatal(exc):
    text = str(exc)
    return 'needs' in text and ('Debian package' in text or
                                'Debian:' in text)
