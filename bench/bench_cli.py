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


"""``plan`` over a large cloud file: time, silence and lines (issue 19).

A generated cloud (``bench.topogen``, default 2,000 hosts) with the sample
cloud's flavors and N servers (default 24) is planned by the command at
this commit and, as the baseline in the same run, by the command at
``--baseline`` (default ``f85c307``, before the cliff/osc-lib commands;
its checkout is extracted with ``git archive`` and put first on the
path). For each variant: wall time, when the first byte appeared on the
terminal (stderr is a pseudo-terminal, so progress shows as it does for
an operator), and lines written.

    python -m bench.bench_cli [--hosts 2000] [--servers 24] [--repeat 3]

Each figure is the median of ``--repeat`` runs; the report goes to
bench/results/cli.txt (and .json) unless ``--results -``.
"""

import argparse
import json
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

import bench
from bench import topogen

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, 'etc', 'qslm-nova', 'sample-cloud.yaml')
ENTRY = ('import sys; from qslm_nova.cmd import main; '
         'sys.exit(main.main(sys.argv[1:]))')


def make_cloud(path, hosts, servers):
    doc = topogen.generate(hosts)
    with open(SAMPLE) as f:
        sample = yaml.safe_load(f)
    doc.update(mechanisms=sample['mechanisms'], clock=sample['clock'],
               flavors=sample['flavors'])
    names = sorted(doc['hosts'])
    flavors = sorted(sample['flavors'])
    doc['servers'] = {
        'vm-%02d' % i: {'flavor': flavors[i % len(flavors)],
                        'host': names[(i * 83) % len(names)]}
        for i in range(servers)}
    with open(path, 'w') as f:
        json.dump(doc, f)
    return names


def extract(ref, folder):
    """The package at git ref ``ref``, unpacked under folder."""
    os.makedirs(folder, exist_ok=True)
    archive = subprocess.run(['git', 'archive', ref, 'qslm_nova', 'etc'],
                             cwd=ROOT, capture_output=True, check=True)
    subprocess.run(['tar', '-x', '-C', folder], input=archive.stdout,
                   check=True)
    return folder


def run(argv, pythonpath=None):
    """(seconds, first output after s, stdout lines) of one command."""
    env = dict(os.environ, COLUMNS='160')
    for name in [n for n in env if n.startswith('OS_')]:
        del env[name]
    if pythonpath:
        env['PYTHONPATH'] = pythonpath
    master, slave = pty.openpty()
    start = time.monotonic()
    # Not from the source tree: '' (the working directory) comes first
    # on the path of ``python -c`` and would hide the baseline.
    proc = subprocess.Popen([sys.executable, '-c', ENTRY] + argv, env=env,
                            stdout=subprocess.PIPE, stderr=slave,
                            cwd=tempfile.gettempdir())
    os.close(slave)
    first, lines = None, 0
    streams = [proc.stdout.fileno(), master]
    while streams:
        ready, _w, _x = select.select(streams, [], [], 1.0)
        for fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b''
            if not data:
                streams.remove(fd)
                continue
            if first is None:
                first = time.monotonic() - start
            if fd != master:
                lines += data.count(b'\n')
    proc.wait()
    os.close(master)
    if proc.returncode:
        raise RuntimeError('%s ended %d' % (argv, proc.returncode))
    return time.monotonic() - start, first, lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--hosts', type=int, default=2000)
    parser.add_argument('--servers', type=int, default=24)
    parser.add_argument('--baseline', default='f85c307')
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--results', default=bench.RESULTS,
                        help="folder for cli.txt/cli.json; '-' skips")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cloud = os.path.join(tmp, 'cloud.json')
        names = make_cloud(cloud, args.hosts, args.servers)
        old = extract(args.baseline, os.path.join(tmp, 'old'))
        variants = [
            ('baseline plan (table)', ['plan', '--cloud', cloud], old),
            ('baseline plan -f json', ['plan', '--cloud', cloud, '-f',
                                       'json'], old),
            ('plan (table)', ['plan', '--cloud-file', cloud], None),
            ('plan -f json', ['plan', '--cloud-file', cloud, '-f', 'json'],
             None),
            ('plan --allowed-only', ['plan', '--cloud-file', cloud,
                                     '--allowed-only'], None),
            ('plan --best 3', ['plan', '--cloud-file', cloud, '--best',
                               '3'], None),
            ('plan --host H', ['plan', '--cloud-file', cloud, '--host',
                               names[10]], None),
        ]
        report = ['plan, %d hosts x %d servers, COLUMNS=160, stderr a '
                  'terminal, median of %d, commit %s, baseline %s' % (
                      args.hosts, args.servers, args.repeat,
                      bench.source_commit(), args.baseline),
                  '%-24s %9s %14s %9s' % ('variant', 'seconds',
                                          'first output s', 'lines')]
        print('\n'.join(report))
        results = {}
        for label, cmd, path in variants:
            runs = [run(cmd, path) for _ in range(args.repeat)]
            secs = statistics.median(r[0] for r in runs)
            first = statistics.median(r[1] for r in runs)
            results[label] = {'seconds': secs, 'first_output_s': first,
                              'lines': runs[0][2]}
            report.append('%-24s %9.1f %14.1f %9d' % (label, secs, first,
                                                      runs[0][2]))
            print(report[-1])
        base = results['baseline plan (table)']['seconds']
        report.append('ratio to the baseline table: %s' % ', '.join(
            '%s %.2f' % (k, v['seconds'] / base)
            for k, v in results.items() if not k.startswith('baseline')))
        print(report[-1])
        bench.write_results(args.results, 'cli', '\n'.join(report),
                            results)
    return results


if __name__ == '__main__':
    main()
