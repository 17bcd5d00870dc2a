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

"""Offline tests of the testbed: guest build, QMP, fit, report, calibrate.

None of these starts QEMU; test_real_migration does.
"""

import json
import math
import os
import socket
import threading

import fixtures
import testtools

from qslm_nova.testbed import calibrate
from qslm_nova.testbed import campaign
from qslm_nova.testbed import cli
from qslm_nova.testbed import fit
from qslm_nova.testbed import guest
from qslm_nova.testbed import model
from qslm_nova.testbed import qemu_record
from qslm_nova.testbed import qmp
from qslm_nova.testbed import report
from qslm_nova.testbed import runner
from qslm_nova.testbed import TestbedError
from qslm_nova.testbed import transports


class TestWorkload(testtools.TestCase):

    def test_cmdline_and_rates(self):
        w = guest.Workload(dirty_rate_mibps=4.0, wss_mib=8.0, hz=1000)
        self.assertEqual(1024, w.rate_pages)
        self.assertEqual(2048, w.wss_pages)
        self.assertEqual('fillpct=100 wss=2048 rate=1024 hz=1000 report=250',
                         w.cmdline())

    def test_bursty_cmdline_and_mean_rate(self):
        w = guest.Workload(dirty_rate_mibps=8.0, wss_mib=8.0,
                           burst_on_ms=200, burst_off_ms=600)
        self.assertTrue(w.bursty)
        self.assertEqual(2.0, w.mean_rate_mibps)
        self.assertTrue(w.cmdline().endswith(' on=200 off=600'))
        steady = guest.Workload(dirty_rate_mibps=8.0, burst_on_ms=200)
        self.assertFalse(steady.bursty)
        self.assertEqual(8.0, steady.mean_rate_mibps)
        self.assertNotIn('on=', steady.cmdline())

    def test_touched(self):
        self.assertEqual(64, guest.Workload().touched_mib(64))
        self.assertEqual(34, guest.Workload(fill_pct=50).touched_mib(64))
        self.assertEqual(4, guest.Workload(fill_pct=0).touched_mib(64))

    def test_parse_progress(self):
        ready, pts = guest.parse_progress(
            'READY mem_kb=1\nT 250 W 10\nT 500 W 20\nT 75')
        self.assertEqual('READY mem_kb=1', ready)
        self.assertEqual([(250, 10), (500, 20)], pts)
        self.assertRaises(TestbedError, guest.parse_progress,
                          'ERROR no memory information\n')

    def test_guest_rate(self):
        pts = [(0, 0), (1000, 256), (2000, 512)]
        self.assertAlmostEqual(1.0, qemu_record.guest_rate(pts, 1000))
        self.assertEqual(0.0, qemu_record.guest_rate(pts[:1], 1000))

    def test_build(self):
        d = self.useFixture(fixtures.TempDir()).path
        elf = guest.build(d)
        with open(elf, 'rb') as f:
            head = f.read(8192)
        self.assertEqual(b'\x7fELF\x01', head[:5])   # 32-bit ELF
        self.assertIn((0x1BADB002).to_bytes(4, 'little'), head)
        self.assertEqual(elf, guest.build(d))         # cached

    def test_build_without_compiler(self):
        d = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MockPatch('shutil.which',
                                           return_value=None))
        e = self.assertRaises(TestbedError, guest.build, d)
        self.assertIn('gcc', str(e))


class TestGrid(testtools.TestCase):

    def test_specs(self):
        grid = campaign.Grid(memory_mib=(64,), dirty_rate_mibps=(0.0, 4.0),
                             bandwidth_mbps=(300.0,),
                             downtime_limit_ms=(50,), repeats=2,
                             link='qemu-cap')
        specs = grid.specs()
        self.assertEqual(2 * 3 * 2, len(specs))
        self.assertEqual(len(specs), len({s.run_id for s in specs}))
        self.assertEqual([s.run_id for s in specs],
                         [s.run_id for s in grid.specs()])
        self.assertTrue(all(s.link == 'qemu-cap' and
                            s.run_id.endswith('-qcap') for s in specs))
        self.assertEqual(56, specs[0].workload.wss_mib)


class FakeQMP(threading.Thread):
    """A one-connection QMP server speaking from a script."""

    def __init__(self, path, answers):
        super().__init__(daemon=True)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.answers = answers
        self.received = []

    def run(self):
        conn, _ = self.srv.accept()
        f = conn.makefile('rwb')
        f.write(b'{"QMP": {"version": {}, "capabilities": []}}\n')
        f.flush()
        for answer in self.answers:
            line = f.readline()
            if not line:
                break
            self.received.append(json.loads(line))
            for a in answer:
                f.write(json.dumps(a).encode() + b'\n')
            f.flush()
        conn.close()


class TestQMP(testtools.TestCase):

    def test_execute_events_and_errors(self):
        d = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(d, 'q.sock')
        server = FakeQMP(path, [
            [{'return': {}}],
            [{'event': 'MIGRATION', 'data': {'status': 'setup'}},
             {'return': {'status': 'active'}}],
            [{'error': {'class': 'GenericError', 'desc': 'nope'}}],
        ])
        server.start()
        with qmp.QMPClient(path, timeout=5).connect() as c:
            self.assertEqual({'status': 'active'},
                             c.execute('query-migrate'))
            self.assertEqual('MIGRATION', c.events[0]['event'])
            e = self.assertRaises(qmp.QMPError, c.execute, 'migrate',
                                  uri='tcp:1')
            self.assertIn('nope', str(e))
        self.assertEqual({'execute': 'migrate',
                          'arguments': {'uri': 'tcp:1'}},
                         server.received[2])

    def test_missing_socket(self):
        c = qmp.QMPClient('/nonexistent/qmp.sock')
        e = self.assertRaises(TestbedError, c.connect, wait=0.1)
        self.assertIn('did not appear', str(e))


class TestTransports(testtools.TestCase):

    def test_tls_certs(self):
        d = self.useFixture(fixtures.TempDir()).path
        s, c = os.path.join(d, 's'), os.path.join(d, 'c')
        transports.make_tls_certs(s, c)
        self.assertEqual(['ca-cert.pem', 'server-cert.pem',
                          'server-key.pem'], sorted(os.listdir(s)))
        self.assertEqual(['ca-cert.pem', 'client-cert.pem',
                          'client-key.pem'], sorted(os.listdir(c)))
        self.assertEqual(0o600,
                         os.stat(os.path.join(s, 'server-key.pem')).st_mode
                         & 0o777)

    def test_unknown(self):
        self.assertRaises(TestbedError, transports.get, 'carrier-pigeon',
                          '/tmp')

    def test_ssh_missing_binary_is_clear(self):
        d = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MockPatch('shutil.which',
                                           return_value=None))
        self.useFixture(fixtures.MockPatch('os.access', return_value=False))
        e = self.assertRaises(TestbedError,
                              transports.SSHTransport(d).__enter__)
        self.assertIn('openssh-server', str(e))

    def test_missing_qemu_is_clear(self):
        self.useFixture(fixtures.EnvironmentVariable(runner.QEMU_ENV))
        self.useFixture(fixtures.MockPatch('shutil.which',
                                           return_value=None))
        e = self.assertRaises(TestbedError, runner.check_qemu)
        self.assertIn('qemu-system-x86', str(e))

    def test_qemu_from_the_environment(self):
        d = self.useFixture(fixtures.TempDir()).path
        fake = os.path.join(d, 'qemu')
        with open(fake, 'w') as f:
            f.write('#!/bin/sh\necho "QEMU emulator version 10.0.2"\n')
        self.useFixture(fixtures.EnvironmentVariable(runner.QEMU_ENV, fake))
        # Not executable yet: named, not silently replaced by PATH's.
        e = self.assertRaises(TestbedError, runner.check_qemu)
        self.assertIn(runner.QEMU_ENV, str(e))
        self.assertIn(fake, str(e))
        os.chmod(fake, 0o755)
        self.assertEqual((fake, 'QEMU emulator version 10.0.2'),
                         runner.check_qemu())


def _row(transport='tcp', repeat=0, downtime=300.0, total=600.0, **kw):
    row = {'run_id': '%s-%d-%s' % (transport, repeat, kw), 'repeat':
           str(repeat), 'transport': transport, 'link': 'tc',
           'memory_mib': '64', 'touched_mib': '64', 'dirty_rate_mibps': '4',
           'bandwidth_mbps': '1000', 'downtime_limit_ms': '300',
           'auto_converge': '0', 'postcopy': '0', 'status': 'completed',
           'setup_time_ms': '2', 'downtime_ms': str(downtime),
           'total_time_ms': str(total)}
    row.update({k: str(v) for k, v in kw.items()})
    return row


class TestModelFitReport(testtools.TestCase):

    def test_estimate_rows_cached(self):
        fitted = model.Fitted()
        rows = [_row(), _row(repeat=1)]
        cache = {}
        ests = model.estimate_rows(rows, fitted, cache)
        self.assertEqual(1, len(cache))
        self.assertIs(ests[0], ests[1])
        for key in ('downtime_ms', 'worst_downtime_ms', 'total_ms',
                    'paper_ms'):
            self.assertTrue(ests[0][key] >= 0, key)

    def test_libvirt_mapping(self):
        lv = model.libvirt_for(_row(downtime_limit_ms=50))
        self.assertEqual((0, 50), lv.steps(1.0)[0])
        self.assertEqual(0, lv.bandwidth_mibps)
        lv = model.libvirt_for(_row(link='qemu-cap'))
        self.assertAlmostEqual(1000e6 / 8 / 2 ** 20, lv.bandwidth_mibps)

    def test_link_speed_from_goodput(self):
        fitted = model.Fitted(link_goodput_mbps={'1000': 940.0})
        p = fitted.params
        gbps = model.link_gbps(_row(), fitted)
        payload = gbps * p.mss_bytes / (p.mss_bytes + p.frame_overhead_bytes)
        self.assertAlmostEqual(0.94, payload)
        self.assertEqual(1.0, model.nominal_link_gbps(_row(), fitted))

    def test_goodput_own_then_table_then_default(self):
        table = {'1000': 940.0}
        self.assertEqual(940.0, model.goodput_mbps(_row(), table))
        self.assertEqual(910.0, model.goodput_mbps(
            _row(link_goodput_mbps='910'), table))
        self.assertEqual(0.0, model.goodput_mbps(
            _row(bandwidth_mbps=700), table))
        self.assertEqual(700.0, model.goodput_mbps(
            _row(bandwidth_mbps=700), table, 700.0))

    def test_split_and_fit_roundtrip(self):
        rows = [_row(t, r, downtime=d, total=tt)
                for t in ('tcp', 'tls', 'ssh') for r in range(3)
                for d, tt in ((20.0, 600.0), (40.0, 700.0))]
        rows.append(_row(status='failed'))
        # QEMU completed, the guest did not run on: not completed.
        rows.append(_row(guest_alive_on_dest=0))
        fit_rows, check_rows = fit.split(rows)
        self.assertEqual(12, len(fit_rows))
        self.assertEqual(6, len(check_rows))
        fitted = fit.fit(rows)
        self.assertEqual(12, fitted.fit_runs)
        self.assertIn('fitted on 12 runs', fit.describe(fitted))
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'p.json')
        fit.save(fitted, path)
        again = fit.load(path)
        self.assertEqual(fitted.params, again.params)
        for k, v in fitted.crypto_gbps_per_core.items():
            if math.isinf(v):
                self.assertTrue(math.isinf(again.crypto_gbps_per_core[k]))
        summary = report.evaluate(rows, again)
        held = summary['sets']['held-out']['overall']
        self.assertEqual(6, held['runs'])
        self.assertIn('worst_case_coverage', held)
        text = report.format_summary(summary)
        self.assertIn('held-out', text)

    def test_report_cli(self):
        d = self.useFixture(fixtures.TempDir()).path
        csv_path = os.path.join(d, 'c.csv')
        import csv
        rows = [_row(t, r) for t in ('tcp', 'tls') for r in range(3)]
        with open(csv_path, 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=runner.FIELDS)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k, '') for k in runner.FIELDS})
        out = self.useFixture(fixtures.StringStream('stdout'))
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out.stream))
        params = os.path.join(d, 'p.json')
        self.assertEqual(0, cli.main(['report', '--csv', csv_path,
                                      '--params', params, '--fit']))
        self.assertTrue(os.path.exists(params))
        self.assertEqual(0, cli.main(['report', '--csv', csv_path,
                                      '--params', params, '--json']))

    def test_shipped_fit_loads(self):
        if not os.path.exists(fit.DEFAULT_PARAMS_PATH):
            self.fail('data/testbed/fitted-params.json is missing')
        fitted = fit.load(fit.DEFAULT_PARAMS_PATH)
        self.assertGreater(fitted.fit_runs, 0)


class TestCalibrate(testtools.TestCase):

    def test_python(self):
        r = calibrate.measure_cipher_throughput(seconds=0.05,
                                                method='python')
        self.assertEqual(set(calibrate.CIPHERS), set(r['ciphers']))
        self.assertTrue(all(v > 0 for v in r['ciphers'].values()))
        self.assertEqual(r['ciphers']['aes-256-gcm'],
                         r['mechanisms']['tls'])

    def test_openssl_parse(self):
        class P(object):
            returncode = 0
            stdout = ('The numbers are in 1000s of bytes per second.\n'
                      'type          16384 bytes\n'
                      'AES-128-GCM    1000000.00k\n')
        self.useFixture(fixtures.MockPatch('subprocess.run',
                                           return_value=P()))
        self.useFixture(fixtures.MockPatch('shutil.which',
                                           return_value='/bin/openssl'))
        self.assertAlmostEqual(8.0, calibrate.openssl_speed(
            'aes-128-gcm', 1))

    def test_cli(self):
        out = self.useFixture(fixtures.StringStream('stdout'))
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out.stream))
        self.assertEqual(0, cli.calibrate_main(['--seconds', '0.05',
                                                '--method', 'python',
                                                '--json']))
        out.stream.flush()
        self.assertEqual(2, cli.main([]))
