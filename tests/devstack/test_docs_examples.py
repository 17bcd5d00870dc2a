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

"""The numbers quoted in the operator documentation are the engine's.

doc/source/decision.rst works an example through on the embedded sample
cloud. When the model or the sample changes, this test names the numbers
to update there (run ``qslm-nova plan -f json db-1 web-1``).
"""

import json
import os
import subprocess
import sys

from oslotest import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOC = os.path.join(ROOT, 'doc', 'source', 'decision.rst')


def plan(*servers):
    exe = os.path.join(os.path.dirname(sys.executable), 'qslm-nova')
    out = subprocess.run([exe, 'plan', '-f', 'json'] + list(servers),
                         capture_output=True, text=True, timeout=120,
                         check=True).stdout
    return {(d['server'], d['host']): d for d in json.loads(out)}


class TestWorkedExample(base.BaseTestCase):

    def test_numbers_in_decision_rst(self):
        with open(DOC, encoding='utf-8') as f:
            raw = f.read()
        # Line breaks in the prose do not matter.
        text = ' '.join(raw.split())
        rows = plan('db-1', 'web-1')
        a2 = rows['db-1', 'compute-a2']
        b1 = rows['db-1', 'compute-b1']
        b2 = rows['web-1', 'compute-b2']
        quoted = {
            'db-1 to compute-a2 mechanism': '``none`` is chosen',
            'db-1 to compute-a2 rate': '%.2f MiB/s' % a2['rate_mibps'],
            'db-1 to compute-a2 expected': '**%.1f ms**' % a2[
                'expected_downtime_ms'],
            'db-1 to compute-a2 worst': '**%.1f ms**' % a2[
                'worst_downtime_ms'],
            'db-1 to compute-a2 total': '**%.1f s**' % a2['total_time_s'],
            'db-1 to compute-a2 score': '**%.3f**' % a2['score'],
            'db-1 to compute-a2 paper bound': '%.1f ms' % a2[
                'paper_worst_ms'],
            'db-1 to compute-b1 mechanism': 'With ``%s``' % b1['mechanism'],
            'db-1 to compute-b1 expected': '**%.1f ms**' % b1[
                'expected_downtime_ms'],
            'db-1 to compute-b1 total': '**%.1f s**' % b1['total_time_s'],
            'db-1 to compute-b1 worst': '**%.1f ms**' % b1[
                'worst_downtime_ms'],
            'web-1 to compute-b2 mechanism': '``%s``' % b2['mechanism'],
            'web-1 to compute-b2 estimate': '%.1f ms expected and %.1f ms' % (
                b2['expected_downtime_ms'], b2['worst_downtime_ms']),
        }
        self.assertTrue(a2['allowed'] and b2['allowed'])
        self.assertFalse(b1['allowed'])
        self.assertEqual(2, len(b1['reasons']))
        self.assertEqual('aborted', b1['worst_outcome'])
        stale = {what: value for what, value in quoted.items()
                 if value not in text}
        self.assertEqual({}, stale, 'doc/source/decision.rst quotes numbers '
                         'the engine no longer gives; update them')
        # The JSON excerpt in the document is the engine's, to the digit.
        for key in ('expected_downtime_ms', 'worst_downtime_ms',
                    'total_time_s', 'score', 'bytes_sent', 'rate_mibps'):
            self.assertIn('"%s": %s' % (key, json.dumps(a2[key])), raw)
