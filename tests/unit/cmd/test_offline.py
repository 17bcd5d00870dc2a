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


"""qslm-nova on the embedded sample cloud: outputs, filters, statuses."""

import csv
import io
import json

import fixtures
from pbr import version as pbr_version
import yaml

from qslm_nova.osc import decisions
from tests.unit.cmd import base

#: Every command, for the --help test.
COMMANDS = (['plan'], ['check'], ['migrate'], ['ledger', 'show'],
            ['ledger', 'record'], ['topology', 'validate'],
            ['topology', 'seal'], ['topology', 'show'],
            ['topology', 'plot'], ['calibrate'])


class TestPlan(base.CLITestCase):

    def test_default_sample_table(self):
        rc, out, err = self.run_cli('plan')
        self.assertEqual(0, rc, err)
        self.assertEqual('', err)
        header = out.splitlines()[1]
        for col in decisions.DEFAULT_COLUMNS:
            self.assertIn(col, header)
        for server in ('db-1', 'web-1', 'batch-1', 'vault-1'):
            self.assertIn('| %s ' % server, out)

    def test_json_keys_are_the_headers_and_numbers_rounded(self):
        rc, records = self.json_cli('plan', 'db-1', '--long')
        self.assertEqual(0, rc)
        cols = decisions.column_names(long=True)
        for rec in records:
            self.assertEqual(list(cols), list(rec))
        by_host = {r['Host']: r for r in records}
        self.assertNotIn('compute-a1', by_host)     # the source
        a2 = by_host['compute-a2']
        self.assertIs(True, a2['Allowed'])
        self.assertEqual(['compute-a1', 'tor-a1', 'compute-a2'], a2['Path'])
        for key, digits in (('Downtime ms', 1), ('Worst ms', 1),
                            ('Total s', 1), ('Score', 3),
                            ('Bottleneck Gbit/s', 2)):
            self.assertEqual(round(a2[key], digits), a2[key], key)
        # Over the WAN the gold VM dirties 77 % of the 0.7 Gbit/s link:
        # the measured tls/long runs dirtied up to 161 % of theirs, so
        # they speak for it and the pause held is the expected one times
        # their bound, under the 300 ms SLA, though the worst case might
        # never converge.
        b1 = by_host['compute-b1']
        self.assertIs(True, b1['Allowed'])
        self.assertEqual('wan', b1['Weakest link'])
        self.assertEqual('tls', b1['Mechanism'])
        self.assertGreater(b1['Worst ms'], 300)
        reasons = ' '.join(b1['Reasons'])
        self.assertIn('may not converge', reasons)
        self.assertIn('measured tls/long runs', reasons)
        self.assertNotIn('outside the data', reasons)
        # Inside the runs' shares, the pause held is the expected one
        # times its group's bound.
        self.assertIn('pause held at 0.95 confidence',
                      ' '.join(a2['Reasons']))
        self.assertIn('not trusted', by_host['compute-a3']['Reasons'][0])
        # Denied before any estimate: nulls, not strings.
        self.assertIsNone(by_host['compute-a3']['Downtime ms'])

    def test_yaml_csv_value_and_columns(self):
        rc, records = self.json_cli('plan', 'db-1')
        rc, out, _e = self.run_cli('plan', 'db-1', '-f', 'yaml')
        self.assertEqual(records, yaml.safe_load(out))
        rc, out, _e = self.run_cli('plan', 'db-1', '-f', 'csv', '-c', 'Host',
                                   '-c', 'Allowed')
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(['Host', 'Allowed'], rows[0])
        self.assertEqual([[r['Host'], str(r['Allowed'])] for r in records],
                         rows[1:])
        rc, out, _e = self.run_cli('plan', 'db-1', '-f', 'value', '-c',
                                   'Host', '--sort-column', 'Host',
                                   '--sort-descending')
        self.assertEqual(sorted((r['Host'] for r in records), reverse=True),
                         out.split())

    def test_sort_by_a_number_column_with_nulls(self):
        rc, out, err = self.run_cli('plan', 'db-1', '-f', 'value', '-c',
                                    'Host', '-c', 'Worst ms',
                                    '--sort-column', 'Worst ms')
        self.assertEqual(0, rc, err)
        lines = [line.split() for line in out.splitlines()]
        self.assertEqual(['compute-a2', '203.8'], lines[0])
        self.assertEqual('None', lines[-1][1])

    def test_allowed_only_and_best(self):
        rc, everything = self.json_cli('plan')
        allowed = [r for r in everything if r['Allowed']]
        rc, only = self.json_cli('plan', '--allowed-only')
        self.assertEqual(allowed, only)
        rc, best = self.json_cli('plan', '--best', '2', '--long')
        rc, full = self.json_cli('plan', '--long')
        for server in ('db-1', 'web-1', 'batch-1', 'vault-1'):
            mine = [r for r in full if r['Server'] == server and
                    r['Allowed']]
            mine.sort(key=lambda r: (-r['Score'], r['Worst ms'], r['Host']))
            got = [r for r in best if r['Server'] == server]
            self.assertEqual(mine[:2], got, server)

    def test_best_must_be_positive(self):
        rc, out, err = self.run_cli('plan', '--best', '0')
        self.assertEqual(2, rc)
        self.assertIn('argument --best: must be >= 1, got 0', err)

    def test_host_filter(self):
        rc, records = self.json_cli('plan', '--host', 'compute-b1', '--host',
                                    'compute-a2')
        self.assertEqual(
            {('db-1', 'compute-a2'), ('db-1', 'compute-b1'),
             ('web-1', 'compute-b1'), ('batch-1', 'compute-a2'),
             ('batch-1', 'compute-b1'), ('vault-1', 'compute-a2')},
            {(r['Server'], r['Host']) for r in records})
        rc, out, err = self.run_cli('plan', '--host', 'nosuch')
        self.assertEqual(2, rc)
        self.assertIn("unknown host 'nosuch'", err)

    def test_unknown_server_is_an_error(self):
        rc, out, err = self.run_cli('plan', 'db-1', 'nope')
        self.assertEqual(2, rc)
        self.assertEqual('', out)
        self.assertEqual("error: unknown server 'nope' (known: batch-1, "
                         "db-1, vault-1, web-1)\n", err)

    def test_cloud_file_errors_name_the_file(self):
        path = self.tmp + '/dup.yaml'
        with open(path, 'w') as f:
            f.write('version: 1\nversion: 1\n')
        rc, _out, err = self.run_cli('plan', '--cloud-file', path)
        self.assertEqual(2, rc)
        self.assertIn("error: %s: line 2: duplicate key 'version'" % path,
                      err)
        rc, _out, err = self.run_cli('plan', '--cloud-file',
                                     self.tmp + '/missing.yaml')
        self.assertEqual(2, rc)
        self.assertIn('cannot read', err)

    def test_every_bad_flavor_and_server_field_is_named(self):
        with open(base.SAMPLE) as f:
            sample = f.read()
        db1 = '  db-1:\n    flavor: gold.large\n    host: compute-a1\n'
        cases = [
            (('vcpus: 8', 'vcpus: [1]'),
             'flavors.gold.large.vcpus: must be an integer from 1 to '
             '2147483647, got [1]'),
            (('vcpus: 8', 'vcpus: 0'),
             'flavors.gold.large.vcpus: must be an integer from 1 to '
             '2147483647, got 0'),
            (('ram_mb: 16384', 'ram_mb: %d' % 10 ** 40),
             'flavors.gold.large.ram_mb: must be an integer from 1 to '
             '2147483647, got %d' % 10 ** 40),
            (('ram_mb: 16384', 'ram_mb: 2147483648'),
             'flavors.gold.large.ram_mb: must be an integer from 1 to '
             '2147483647, got 2147483648'),
            (('vcpus: 8', 'vcpus: 8\n    disk_gb: -1'),
             'flavors.gold.large.disk_gb: must be an integer from 0 to '
             '2147483647, got -1'),
            (('\nflavors:\n', '\nflavors: [1]\nold:\n'),
             'flavors: must be a mapping of names, got list'),
            ((db1, '  123:\n    flavor: gold.large\n    host: compute-a1\n'),
             'servers: a name must be a text, got 123'),
            ((db1, db1.replace('gold.large', '[gold.large]')),
             "servers.db-1.flavor: undefined flavor ['gold.large']"),
            ((db1, db1.replace('compute-a1', '[compute-a1]')),
             "servers.db-1.host: undefined host ['compute-a1']"),
            ((db1, db1 + '    touched_mb: lots\n'),
             "servers.db-1.touched_mb: must be a number of MiB above 0 and "
             "at most its flavor's ram_mb, got 'lots'"),
            ((db1, db1 + '    touched_mb: 16385\n'),
             "servers.db-1.touched_mb: must be a number of MiB above 0 and "
             "at most its flavor's ram_mb, got 16385"),
            ((db1, db1 + '    uuid: {a: 1}\n'),
             "servers.db-1.uuid: must be a text, got {'a': 1}"),
        ]
        path = self.tmp + '/bad.yaml'
        for (old, new), want in cases:
            self.assertIn(old, sample)
            with open(path, 'w') as f:
                f.write(sample.replace(old, new, 1))
            rc, _out, err = self.run_cli('plan', '--cloud-file', path)
            self.assertEqual(2, rc, err)
            self.assertIn('error: %s: %s' % (path, want), err)
            self.assertNotIn('unexpected', err)

    def test_topology_option_is_for_live_clouds(self):
        rc, _out, err = self.run_cli('plan', '--topology', base.SAMPLE)
        self.assertEqual(2, rc)
        self.assertIn('--topology is for a live cloud', err)

    def test_global_options_after_the_command(self):
        rc, out, err = self.run_cli('plan', 'db-1', '--debug', '-f', 'json')
        self.assertEqual(0, rc, err)
        self.assertEqual(5, len(json.loads(out)))
        rc, out, err = self.run_cli('--version')
        self.assertEqual(0, rc)
        self.assertEqual(pbr_version.VersionInfo('qslm-nova')
                         .version_string(), (out or err).split()[-1])

    def test_progress_only_on_a_terminal(self):
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.osc.base.Progress.INTERVAL', 0))
        rc, out, err = self.run_cli('plan', '-f', 'json', tty=True)
        self.assertEqual(0, rc)
        self.assertIn('\rplan: server 4 of 4 (web-1), 15 decisions', err)
        self.assertTrue(err.endswith('\r'), repr(err[-40:]))
        json.loads(out)
        rc, out, err = self.run_cli('plan', '-f', 'json')
        self.assertEqual('', err)

    def test_unexpected_error_is_one_line_and_status_2(self):
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.osc.source.OfflineCloud.server_names',
            side_effect=ZeroDivisionError('boom')))
        rc, out, err = self.run_cli('plan')
        self.assertEqual(2, rc)
        self.assertEqual('error: unexpected ZeroDivisionError: boom (run '
                         'with --debug for a traceback)\n', err)
        rc, out, err = self.run_cli('plan', '--debug')
        self.assertEqual(2, rc)
        self.assertIn('Traceback', err)

    def test_help_of_every_command(self):
        for path in COMMANDS:
            rc, out, err = self.run_cli(*(path + ['--help']))
            self.assertEqual(0, rc, (path, err))
            self.assertIn('usage: qslm-nova %s' % ' '.join(path), out)
        rc, out, _err = self.run_cli('--help')
        self.assertIn(rc, (0, None))       # sys.exit(): status 0
        for cmd in ('plan', 'check', 'migrate', 'ledger show',
                    'ledger record', 'topology validate', 'topology seal',
                    'topology show',
                    'topology plot', 'calibrate'):
            self.assertIn('  %s ' % cmd, out)


class TestCheckAndMigrate(base.CLITestCase):

    def test_check_exit_codes(self):
        self.assertEqual(0, self.run_cli('check', 'db-1', '--host',
                                         'compute-a2')[0])
        self.assertEqual(1, self.run_cli('check', 'db-1', '--host',
                                         'compute-a3')[0])
        rc, out, err = self.run_cli('check', 'zz', '--host', 'compute-a3')
        self.assertEqual(2, rc)
        rc, out, err = self.run_cli('check', 'db-1', '--host', 'nosuch')
        self.assertEqual(2, rc)
        self.assertEqual('', out)
        self.assertIn("error: unknown host 'nosuch': not a host of the cloud "
                      "file (known: compute-a1,", err)

    def test_check_and_dry_run_have_one_shape(self):
        rc, check = self.json_cli('check', 'web-1', '--host', 'compute-b1',
                                  '--long')
        self.assertEqual(0, rc)
        rc, out, err = self.run_cli('migrate', 'web-1', '--dry-run',
                                    '--host', 'compute-b1', '-f', 'json',
                                    '--long')
        self.assertEqual(0, rc)
        self.assertEqual(check, json.loads(out))
        self.assertEqual('dry run: would live-migrate web-1 from compute-a2 '
                         'to compute-b1 via tls (downtime 140.1 / 276.2 ms '
                         'expected / worst)\n', err)
        rc, plan = self.json_cli('plan', 'web-1', '--long')
        self.assertEqual(check, [r for r in plan
                                 if r['Host'] == 'compute-b1'])

    def test_dry_run_chooses_the_best(self):
        rc, out, err = self.run_cli('migrate', 'db-1', '--dry-run')
        self.assertEqual(0, rc, err)
        # The LAN neighbour compute-a2 (private links, no encryption) beats
        # the WAN move to compute-b1, which may not converge.
        self.assertIn('dry run: would live-migrate db-1 from compute-a1 '
                      'to compute-a2 via none', out.splitlines()[-1])
        rc, best = self.json_cli('plan', 'db-1', '--best', '1')
        self.assertEqual('compute-a2', best[0]['Host'])
        rc, out, _err = self.run_cli('migrate', 'db-1', '--dry-run',
                                     '--host', 'compute-b3')
        self.assertEqual(1, rc)
        self.assertIn('refused: db-1 may not live-migrate to compute-b3',
                      out)

    def test_migrate_refuses_bad_numbers(self):
        for args, text in ((('--timeout', '-5'),
                            'argument --timeout: must be > 0, got -5'),
                           (('--timeout', '0'),
                            'argument --timeout: must be > 0, got 0'),
                           (('--timeout', 'nan'),
                            "argument --timeout: 'nan' is not finite"),
                           (('--poll-interval', '0'),
                            'argument --poll-interval: must be >= 0.05, '
                            'got 0')):
            rc, out, err = self.run_cli('migrate', 'db-1', *args)
            self.assertEqual(2, rc, args)
            self.assertIn(text, err)

    def test_migrate_needs_live_cloud(self):
        rc, out, err = self.run_cli('migrate', 'db-1')
        self.assertEqual(2, rc)
        self.assertEqual('', out)
        self.assertIn('migrate needs a live cloud', err)


class TestLedger(base.CLITestCase):

    def test_show(self):
        rc, rec = self.json_cli('ledger', 'show', 'db-1')
        self.assertEqual(0, rc)
        self.assertEqual(1200, rec['Used ms'])
        self.assertEqual(300, rec['Remaining ms'])
        self.assertEqual('2026-11-10', rec['Period start'])
        self.assertEqual('2026-12-10', rec['Period end'])
        self.assertEqual([], rec['Problems'])
        rc, out, _err = self.run_cli('ledger', 'show', 'web-1')
        self.assertEqual(0, rc)
        self.assertIn('| Budget ms    | 5000 ', out)

    def test_record_offline_refused(self):
        rc, _out, err = self.run_cli('ledger', 'record', 'db-1',
                                     '--downtime-ms', '10')
        self.assertEqual(2, rc)
        self.assertIn('needs a live cloud', err)
        rc, _out, err = self.run_cli('ledger', 'record', 'db-1',
                                     '--downtime-ms', '-1')
        self.assertEqual(2, rc)
        self.assertIn('must be >= 0, got -1', err)
