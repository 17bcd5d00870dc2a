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

"""Compare the estimator of a git revision with the working tree's.

    tools/compare_estimator.py [--ref main] [--calls 2000] [--seed 1]

Both sides run the same random calls of ``estimate()`` (every libvirt
setting, model constant, mechanism mix and column count varied); every
result array must be equal bit for bit (NaN equal to NaN). Each side
runs in its own interpreter with its own ``qslm_nova`` on the path, so a
restructured package is compared with the file it came from.
"""

import argparse
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile

FIELDS = ('expected_downtime_ms', 'worst_downtime_ms', 'total_time_s',
          'worst_total_time_s', 'bytes_sent', 'rate_mibps', 'outcome',
          'worst_outcome', 'rounds')


def _calls(seed, count):
    """The random calls: plain tuples, so both sides can unpickle them."""
    import numpy as np
    rng = np.random.default_rng(seed)
    mech_fields = []
    for _ in range(4):
        mech_fields.append(dict(
            crypto_gbps_per_core=float(rng.choice(
                [np.inf, rng.uniform(0.5, 30.0)])),
            overhead_bytes_per_packet=int(rng.integers(0, 80)),
            handshake_rtts=int(rng.integers(0, 4)),
            buffered_mb=float(rng.uniform(0.0, 6.0))))
    calls = []
    for _ in range(count):
        n = int(rng.choice([1, 3, 17, 63, 64, 65, 200, 1500]))
        memory = float(rng.choice([64, 512, 2048, 8192, 65536]))
        libvirt = dict(
            downtime_ms=float(rng.choice([100, 300, 500, 2000])),
            downtime_steps=int(rng.choice([1, 3, 10])),
            downtime_delay_s=float(rng.choice([0, 5, 75])),
            completion_timeout_s=float(rng.choice([0, 10, 150, 800])),
            timeout_action=str(rng.choice(['abort', 'force_complete'])),
            permit_post_copy=bool(rng.integers(2)),
            permit_auto_converge=bool(rng.integers(2)),
            bandwidth_mibps=float(rng.choice([0, 0, 50, 1000])))
        params = dict(
            setup_ms=float(rng.uniform(0, 100)),
            confirmation_ms=float(rng.uniform(0, 30)),
            activation_ms=float(rng.uniform(0, 60)),
            device_state_mb=float(rng.uniform(0, 4)),
            worst_dirty_factor=float(rng.uniform(1, 3)),
            worst_bandwidth_factor=float(rng.uniform(0.3, 1)),
            stop_share=float(rng.uniform(0.5, 2)),
            worst_stop_share=float(rng.uniform(1, 3)),
            worst_extra_ms=float(rng.uniform(0, 100)),
            iteration_ms=float(rng.choice([0, 50])),
            first_sample_ms=float(rng.choice([0, 100])))
        if rng.integers(2):
            mechs = [int(k) for k in rng.integers(0, 4, n)]
        else:
            mechs = int(rng.integers(0, 4))
        calls.append(dict(
            memory_mb=memory,
            dirty_rate_mibps=float(rng.choice(
                [0, rng.uniform(0, 50), rng.uniform(0, 2000)])),
            bandwidth_gbps=rng.choice(
                [0.05, 0.3, 1, 10, 40], n) * rng.uniform(0.5, 1, n),
            rtt_ms=rng.choice([0, 0.1, 1, 30, 150], n),
            mechanisms=mechs,
            cpu_load=rng.choice([np.nan, 0, 0.5, 0.95], n),
            libvirt=libvirt, params=params,
            touched_mb=(None if rng.integers(2)
                        else float(memory * rng.uniform(0.05, 1))),
            disk_gb=float(rng.choice([0, 0, 20]))))
    return mech_fields, calls


def _run_side(calls_file, out_file):
    """In the child: estimate every call with the qslm_nova on the path."""
    import numpy as np

    from qslm_nova import estimator
    from qslm_nova import mechanisms

    with open(calls_file, 'rb') as f:
        mech_fields, calls = pickle.load(f)
    mechs = [mechanisms.Mechanism('m%d' % i, **fields)
             for i, fields in enumerate(mech_fields)]
    results = []
    for call in calls:
        chosen = call['mechanisms']
        if isinstance(chosen, int):
            mechanism = mechs[chosen]
        else:
            mechanism = estimator.MechanismColumns([mechs[k]
                                                    for k in chosen])
        est = estimator.estimate(
            call['memory_mb'], call['dirty_rate_mibps'],
            call['bandwidth_gbps'], call['rtt_ms'], mechanism,
            call['cpu_load'],
            estimator.LibvirtSettings(**call['libvirt']),
            estimator.ModelParams(**call['params']),
            touched_mb=call['touched_mb'], disk_gb=call['disk_gb'])
        results.append([np.asarray(getattr(est, k)) for k in FIELDS])
    with open(out_file, 'wb') as f:
        pickle.dump(results, f)


def _side(root, calls_file, out_file):
    env = dict(os.environ, PYTHONPATH=root)
    subprocess.run([sys.executable, os.path.abspath(__file__), '--side',
                    calls_file, out_file], env=env, check=True, cwd=root)
    with open(out_file, 'rb') as f:
        return pickle.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ref', default='main',
                        help='git revision to compare with (default main)')
    parser.add_argument('--calls', type=int, default=2000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--side', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        return _run_side(*args.side)
    import numpy as np
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        old_root = os.path.join(tmp, 'old')
        os.mkdir(old_root)
        archive = os.path.join(tmp, 'old.tar')
        subprocess.run(['git', 'archive', '-o', archive, args.ref,
                        'qslm_nova'], cwd=here, check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(old_root, filter='data')
        calls_file = os.path.join(tmp, 'calls.pickle')
        with open(calls_file, 'wb') as f:
            pickle.dump(_calls(args.seed, args.calls), f)
        old = _side(old_root, calls_file, os.path.join(tmp, 'old.out'))
        new = _side(here, calls_file, os.path.join(tmp, 'new.out'))
    columns = differ = 0
    for i, (a, b) in enumerate(zip(old, new)):
        columns += a[0].shape[0]
        for name, x, y in zip(FIELDS, a, b):
            if x.dtype != y.dtype or not np.array_equal(x, y,
                                                        equal_nan=True):
                differ += 1
                print('call %d: %s differs' % (i, name))
                break
    print('%d calls, %d columns: %d calls differ from %s' % (
        len(old), columns, differ, args.ref))
    return 1 if differ else 0


if __name__ == '__main__':
    sys.exit(main())
