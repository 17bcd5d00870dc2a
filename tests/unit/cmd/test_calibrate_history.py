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

"""``qslm-nova calibrate --from-history``."""

import json
import os

import fixtures

from qslm_nova.history import join
from qslm_nova.risk import regimes
from qslm_nova.risk import residuals
from qslm_nova.risk import residuals_file
from tests.unit.cmd import base
from tests.unit.history import test_refit


class TestFromHistory(base.CLITestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'history.jsonl')
        test_refit.write_jsonl(self.path, *test_refit.history(30))

    def test_report_by_host_pair_and_transport(self):
        rc, out, err = self.run_cli('calibrate', '--from-history', self.path,
                                    '-f', 'json')
        self.assertEqual(0, rc, err)
        rows = json.loads(out)
        total = rows[-1]
        self.assertEqual(('all', 'all', 30),
                         (total['Host pair'], total['Transport'],
                          total['Migrations']))
        self.assertLess(total['Downtime error refit %'],
                        total['Downtime error then %'])
        pairs = {(r['Host pair'], r['Transport']) for r in rows[:-1]}
        self.assertIn(('cmp-1 -> cmp-4', 'tls'), pairs)
        self.assertEqual(30, sum(r['Migrations'] for r in rows[:-1]))
        self.assertIn('1 unreadable line(s) skipped', err)
        self.assertIn('[qslm]\nactivation_ms = ', err)

    def test_table_prints_the_options(self):
        rc, out, err = self.run_cli('calibrate', '--from-history', self.path)
        self.assertEqual(0, rc, err)
        self.assertIn('Refit on 20 migrations', out)
        self.assertIn('mechanisms:\n  none: {buffered_mb: ', out)

    def test_nothing_to_pair_is_an_error(self):
        empty = os.path.join(self.dir, 'empty.jsonl')
        open(empty, 'w').close()
        rc, _out, err = self.run_cli('calibrate', '--from-history', empty)
        self.assertEqual(2, rc)
        self.assertIn('no measured migration in %s has its estimate' % empty,
                      err)
        rc, _out, err = self.run_cli('calibrate', '--from-history',
                                     os.path.join(self.dir, 'nope'))
        self.assertEqual(2, rc)
        self.assertIn('No such file', err)

    def test_residuals_out_holds_every_pair(self):
        out_path = os.path.join(self.dir, 'residuals.json')
        rc, out, err = self.run_cli('calibrate', '--from-history', self.path,
                                    '--residuals-out', out_path)
        self.assertEqual(0, rc, err)
        self.assertIn('Residuals of 30 migrations (', out)
        self.assertIn('residuals_file = %s' % out_path, out)
        table = residuals_file.load(out_path)
        # Each ratio is the measured pause over the pause expected when
        # the migration was decided, in the group of its transport.
        pairs, _alone = join.join(join.read([self.path]))

        def group(p):
            regime = regimes.Regime.of(p.estimate['expected_downtime_ms'],
                                       total_s=p.estimate['total_time_s'])
            return '%s/%s' % ({'none': 'tcp'}.get(p.mechanism, p.mechanism),
                              regime.value)
        want = {}
        for p in pairs:
            want.setdefault(group(p), []).append(
                p.measured['downtime_ms'] / p.estimate['expected_downtime_ms'])
        self.assertEqual({'tcp', 'tls'},
                         {n.split('/')[0] for n in want})
        for name, ratios in want.items():
            self.assertEqual(sorted(round(r, 4) for r in ratios),
                             list(table.groups[name].ratios), name)
        self.assertEqual(30, table.groups['all'].runs)
        # Each group keeps the largest dirty share of its estimates'
        # inputs, and the command says it.
        for name in want:
            shares = [float(residuals.dirty_share(
                p.estimate['inputs']['dirty_rate_mibps'],
                p.estimate['inputs']['bandwidth_gbps'])) for p in pairs
                if group(p) == name]
            share = residuals.share_bound(shares)
            self.assertEqual(share, table.groups[name].share_max)
            self.assertIn('%s %d dirtying at most %.1f %%' % (
                name, len(want[name]), 100 * share), out)

    def test_residuals_out_errors_name_the_path(self):
        bad = os.path.join(self.dir, 'no-such-dir', 'residuals.json')
        rc, _out, err = self.run_cli('calibrate', '--from-history', self.path,
                                     '--residuals-out', bad)
        self.assertEqual(2, rc)
        self.assertIn('--residuals-out %s: cannot write it' % bad, err)

    def _residuals(self, *args):
        out_path = os.path.join(self.dir, 'residuals.json')
        rc, out, err = self.run_cli('calibrate', '--from-history', self.path,
                                    '--residuals-out', out_path, *args)
        self.assertEqual(0, rc, err)
        with open(out_path) as f:
            return json.load(f), out

    def test_loaded_hosts_form_groups_of_their_own(self):
        # The history's hosts run 0 to 0.5 threads per CPU: from 0.25 on
        # a migration is of the loaded hosts.
        doc, out = self._residuals('--loaded-cpu-load', '0.25')
        self.assertEqual(0.25, doc['loaded_cpu_load'])
        pairs, _alone = join.join(join.read([self.path]))
        loaded = sum(1 for p in pairs
                     if p.estimate['inputs']['cpu_load'] >= 0.25)
        self.assertTrue(0 < loaded < len(pairs))
        in_loaded = sum(len(v) for k, v in doc['groups'].items()
                        if residuals.LOADED in k)
        self.assertEqual(loaded, in_loaded)
        self.assertIn('tcp@loaded/', out)
        table = residuals_file.from_json(doc)
        self.assertEqual(0.25, table.loaded_cpu_load)

    def test_loaded_hosts_split_by_default_and_zero_pools(self):
        doc, _out = self._residuals()
        # As the shipped file: idle below 3 threads per CPU.
        self.assertEqual(3.0, doc['loaded_cpu_load'])
        self.assertFalse([k for k in doc['groups'] if residuals.LOADED in k])
        doc, _out = self._residuals('--loaded-cpu-load', '0')
        self.assertNotIn('loaded_cpu_load', doc)

    def test_history_options_need_what_they_apply_to(self):
        out_path = os.path.join(self.dir, 'residuals.json')
        for args, msg in (
                (['--residuals-out', out_path], '--residuals-out needs '
                 '--from-history'),
                (['--from-history', self.path, '--loaded-cpu-load', '2'],
                 '--loaded-cpu-load needs --residuals-out'),
                (['--from-history', self.path, '--residuals-out', out_path,
                  '--loaded-cpu-load', '-1'],
                 '--loaded-cpu-load -1.0: expected 0 to 16'),
                (['--from-history', self.path, '--residuals-out', out_path,
                  '--loaded-cpu-load', 'nan'],
                 '--loaded-cpu-load nan: expected 0 to 16')):
            rc, _out, err = self.run_cli('calibrate', *args)
            self.assertEqual(2, rc, args)
            self.assertIn(msg, err)
            self.assertFalse(os.path.exists(out_path))

    def test_hostile_records_are_skipped_and_named(self):
        # Records a bus or a file may hold: each skipped, never a crash.
        estimates, measured = test_refit.history(30)
        bad = dict(estimates[0], expected_downtime_ms=10 ** 400)
        worse = dict(estimates[1], inputs=dict(estimates[1]['inputs'],
                                               memory_mb='lots'))
        with open(self.path, 'w') as f:
            for kind, payloads in (
                    ('qslm.migration.estimate',
                     [bad, worse] + estimates[2:] + [
                         dict(estimates[2], decided_at=5), ['x'], None]),
                    ('qslm.migration.measured', measured + [
                        dict(measured[3], ended_at='garbage',
                             migration_id=None)])):
                for p in payloads:
                    f.write(json.dumps({'event_type': kind,
                                        'payload': p}) + '\n')
            f.write('[' * 100000 + '\n')
        rc, out, err = self.run_cli('calibrate', '--from-history', self.path,
                                    '-f', 'json')
        self.assertEqual(0, rc, err)
        self.assertEqual(28, json.loads(out)[-1]['Migrations'])
        self.assertIn('4 unreadable line(s) skipped', err)
        self.assertIn('2 estimate/measurement pair(s) skipped: ', err)
        self.assertIn('estimate.expected_downtime_ms is too large', err)
        self.assertIn('estimate inputs.memory_mb is not a number (str)', err)
