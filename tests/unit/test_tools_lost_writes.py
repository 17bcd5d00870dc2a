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

"""tools/lost_writes.py: the lost writes against the shipped bounds."""

import contextlib
import importlib.util
import io
import json
import os

import testtools

from qslm_nova.risk import residuals_file

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'lost_writes', os.path.join(_ROOT, 'tools', 'lost_writes.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestLostWrites(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.tool = _tool()

    def test_only_late_guests_count_as_seen(self):
        rows = [{'status': 'guest-not-running', 'dest_progress_s': '12.5',
                 'guest_alive_on_dest': '0'},
                {'status': 'guest-not-running', 'dest_progress_s': '',
                 'guest_alive_on_dest': '0'},
                {'status': 'error'}]
        got = self.tool.late_guests_kept(rows)
        self.assertEqual(('ok', '1'),
                         (got[0]['status'], got[0]['guest_alive_on_dest']))
        self.assertEqual(rows[1:], got[1:])
        self.assertEqual('guest-not-running', rows[0]['status'])

    def test_bound_is_the_conformal_rank(self):
        ratios = [i / 10.0 for i in range(1, 21)]   # 20 runs
        self.assertIsNone(self.tool.bound(ratios[:18], 0.95))
        # ceil(21 * 0.95) = 20: the largest of 20.
        self.assertEqual(2.0, self.tool.bound(ratios, 0.95))
        self.assertEqual(1.9, self.tool.bound(ratios, 0.9))

    def test_shipped_column_is_the_shipped_file(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.tool.main()
        with open(residuals_file.DEFAULT_PATH, encoding='utf-8') as f:
            shipped = json.load(f)
        self.assertIn('shipped: %d runs' % shipped['runs'], out.getvalue())
        long_line = [line for line in out.getvalue().splitlines()
                     if line.strip().startswith('tcp/long ')][0]
        self.assertIn('%3d:' % len(shipped['groups']['tcp/long']),
                      long_line.split('|')[0])
