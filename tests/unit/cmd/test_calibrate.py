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


"""``calibrate``: streams measured as QEMU runs them, and its errors."""

import json
import shutil

import fixtures
import testtools

from qslm_nova.osc import calibrate
from qslm_nova.osc import throughput
from tests.unit.cmd import base


class TestCalibrate(base.CLITestCase):

    def test_tls_and_tcp_streams(self):
        rc, out, err = self.run_cli('calibrate', '--mechanism', 'tls',
                                    '--mechanism', 'none', '--seconds',
                                    '0.5', '-f', 'json')
        self.assertEqual(0, rc, err)
        rows = {r['Mechanism']: r for r in json.loads(out)}
        tls = rows['tls']
        self.assertEqual(throughput.TLS_SUITE, tls['Cipher'])
        self.assertGreater(tls['Stream Gbit/s'], 0)
        # CPU time never exceeds wall time per side: per core >= stream.
        self.assertGreaterEqual(tls['Gbit/s per core'] * 1.05,
                                tls['Stream Gbit/s'])
        # The figure floors the measured rate; the column shows it rounded
        # to hundredths, so the figure is that of a rate within 0.005.
        shown = tls['Gbit/s per core']
        self.assertIn(tls['crypto_gbps_per_core'],
                      {calibrate.figure(shown - 0.005),
                       calibrate.figure(shown + 0.005)})
        self.assertLessEqual(tls['crypto_gbps_per_core'], shown + 0.005)
        self.assertIsNone(rows['none']['crypto_gbps_per_core'])
        # The figure and where it goes, on stderr for machine formats.
        self.assertIn('  tls: {crypto_gbps_per_core: %g}'
                      % tls['crypto_gbps_per_core'], err)
        self.assertIn('field of the mechanisms in the topology file (not a '
                      '[qslm] option), in Gbit/s', err)

    def test_figure_floors_to_two_digits(self):
        # A rate that already is a two-digit figure keeps it (8.7 / 0.1 is
        # 86.99999999999999 in binary floating point).
        for gbps in (8.7, 0.87, 2.3, 0.29, 57.0, 120.0):
            self.assertEqual(gbps, calibrate.figure(gbps))
        self.assertEqual(8.6, calibrate.figure(8.6999))
        self.assertEqual(120.0, calibrate.figure(129.9))
        self.assertIsNone(calibrate.figure(0.0))
        self.assertIsNone(calibrate.figure(float('nan')))

    def test_table_prints_the_hint(self):
        rc, out, err = self.run_cli('calibrate', '--mechanism', 'tls',
                                    '--seconds', '0.5')
        self.assertEqual(0, rc, err)
        self.assertIn('mechanisms:\n  tls: {crypto_gbps_per_core: ', out)

    @testtools.skipUnless(shutil.which('sshd') or shutil.which(
        '/usr/sbin/sshd'), 'sshd is not installed')
    def test_ssh_stream(self):
        rc, out, err = self.run_cli('calibrate', '--mechanism', 'ssh',
                                    '--seconds', '0.5', '-f', 'json')
        self.assertEqual(0, rc, err)
        row = json.loads(out)[0]
        self.assertEqual(calibrate.SSH_CIPHER, row['Cipher'])
        self.assertGreater(row['Gbit/s per core'], 0)

    def test_bad_options_are_usage_errors(self):
        for args, text in ((('--seconds', '0'),
                            'argument --seconds: must be >= 0.5, got 0'),
                           (('--seconds', 'x'),
                            "argument --seconds: 'x' is not a number"),
                           (('--method', 'python'),
                            "argument --method: invalid choice: 'python'"),
                           (('--mechanism', 'rot13'),
                            "argument --mechanism: invalid choice")):
            rc, out, err = self.run_cli('calibrate', *args)
            self.assertEqual(2, rc, args)
            self.assertIn(text, err)
            self.assertNotIn('Traceback', err)

    def test_ipsec_needs_the_cipher_method(self):
        rc, out, err = self.run_cli('calibrate', '--mechanism', 'ipsec')
        self.assertEqual(2, rc)
        self.assertIn('use --method cipher', err)

    def test_cipher_method_is_an_upper_bound(self):
        rc, out, err = self.run_cli('calibrate', '--method', 'cipher',
                                    '--mechanism', 'ipsec', '--seconds',
                                    '0.5', '-f', 'json')
        self.assertEqual(0, rc, err)
        row = json.loads(out)[0]
        self.assertEqual('aes-128-gcm', row['Cipher'])
        self.assertIsNone(row['crypto_gbps_per_core'])
        self.assertIn('upper bounds, not figures for the topology file', err)

    def test_help_of_every_option(self):
        rc, out, err = self.run_cli('calibrate', '--help')
        self.assertEqual(0, rc)
        text = ' '.join(out.split())
        for option, help_text in (
                ('--mechanism MECHANISM', 'Measure this mechanism'),
                ('--seconds SECONDS', 'Seconds to stream per mechanism'),
                ('--method {stream,cipher}', 'stream (default): the '
                 'transport as QEMU uses it'),
                ('--ssh-cipher CIPHER', 'OpenSSH cipher of the ssh stream')):
            self.assertIn('%s %s' % (option, help_text), text)

    def test_missing_ssh_skipped_unless_asked(self):
        self.useFixture(fixtures.MockPatch('shutil.which',
                                           return_value=None))
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.osc.calibrate.os.access', return_value=False))
        rc, out, err = self.run_cli('calibrate', '--mechanism', 'ssh')
        self.assertEqual(2, rc)
        self.assertIn('ssh needs ssh and sshd', err)


class TestFigure(testtools.TestCase):

    def test_two_digits_rounded_down(self):
        self.assertEqual(9.9, calibrate.figure(9.96))
        self.assertEqual(12, calibrate.figure(12.9))
        self.assertEqual(0.87, calibrate.figure(0.8799))
        self.assertIsNone(calibrate.figure(0))
        self.assertIsNone(calibrate.figure(float('inf')))
