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

"""Benchmarks of qslm-nova (issue 9); results go to bench/results/."""

import json
import os
import subprocess

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'results')


def write_results(directory, name, text, data):
    """Write name.txt (the printed report) and name.json; '-' skips."""
    if directory == '-':
        return
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name + '.txt'), 'w') as f:
        f.write(text + '\n')
    with open(os.path.join(directory, name + '.json'), 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)


def in_order(found, order):
    """The keys of *found* in *order* (as the run computed them: a saved
    run's JSON has them sorted), any others after, sorted.
    """
    rank = {name: i for i, name in enumerate(order)}
    return sorted(found, key=lambda k: (rank.get(k, len(rank)), k))


def source_commit():
    """The git commit benchmarked, with '+dirty' for local changes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                              cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(['git', 'diff', '--quiet', 'HEAD', '--',
                                'qslm_nova'], cwd=root).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'
    return head + ('+dirty' if dirty else '')
