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

"""What the agent reads about its host: nova.conf, qemu.conf, load, cipher.
"""

import json
import os
import time

import fixtures
from oslotest import base

from qslm_nova.agent import cipher
from qslm_nova.agent import cpuload
from qslm_nova.agent import hostinfo
from qslm_nova.agent import novaconf
from qslm_nova.profile import model


class TestNovaConf(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'nova.conf')

    def write(self, text):
        with open(self.path, 'w') as f:
            f.write(text)

    def test_defaults_are_novas(self):
        self.write('[DEFAULT]\nhost = cmp-7\n')
        c = novaconf.read(self.path)
        self.assertEqual(('cmp-7', model.Transport.PLAIN, 'tcp'),
                         (c.host, c.transport, c.scheme))
        lv = c.libvirt
        self.assertEqual((500.0, 10, 75.0, 800.0, 'abort', 1, 0.0),
                         (lv.downtime_ms, lv.downtime_steps,
                          lv.downtime_delay_s, lv.completion_timeout_s,
                          lv.timeout_action, lv.parallel_connections,
                          lv.bandwidth_mibps))

    def test_more_steps_than_modelled_are_published_as_the_most(self):
        self.write('[libvirt]\nlive_migration_downtime_steps = 100000\n')
        c = novaconf.read(self.path)
        self.assertEqual(10000, c.libvirt.downtime_steps)
        self.assertIn('live_migration_downtime_steps 100000 is more than '
                      'the 10000 qslm-nova models; published as 10000',
                      c.notes)

    def test_native_tls_parallel_and_the_rest(self):
        self.write('[libvirt]\n'
                   'live_migration_with_native_tls = True\n'
                   'live_migration_parallel_connections = 4\n'
                   'live_migration_downtime = 800\n'
                   'live_migration_permit_post_copy = true\n'
                   'live_migration_timeout_action = force_complete\n'
                   'connection_uri = qemu+unix:///system?socket=/s\n'
                   'unknown_option_nova_may_have = 1\n')
        c = novaconf.read(self.path)
        self.assertEqual(model.Transport.NATIVE_TLS, c.transport)
        self.assertEqual((4, 800.0, True, 'force_complete'), (
            c.libvirt.parallel_connections, c.libvirt.downtime_ms,
            c.libvirt.permit_post_copy, c.libvirt.timeout_action))
        self.assertEqual('qemu+unix:///system?socket=/s', c.connection_uri)

    def test_tunnelled_by_scheme_and_uri(self):
        self.write('[libvirt]\nlive_migration_tunnelled = true\n'
                   'live_migration_scheme = tls\n')
        self.assertEqual(model.Transport.TUNNELLED,
                         novaconf.read(self.path).transport)
        self.write('[libvirt]\nlive_migration_tunnelled = true\n'
                   'live_migration_uri = qemu+ssh://%s/system\n')
        self.assertEqual(model.Transport.TUNNELLED,
                         novaconf.read(self.path).transport)
        self.write('[libvirt]\nlive_migration_tunnelled = true\n')
        c = novaconf.read(self.path)
        self.assertEqual(model.Transport.PLAIN, c.transport)
        self.assertIn('plain text', c.notes[0])

    def test_both_is_nothing_and_bad_files_are_errors(self):
        self.write('[libvirt]\nlive_migration_tunnelled = true\n'
                   'live_migration_with_native_tls = true\n')
        self.assertIsNone(novaconf.read(self.path).transport)
        self.write('[libvirt]\nlive_migration_downtime = lots\n')
        e = self.assertRaises(novaconf.NovaConfigError, novaconf.read,
                              self.path)
        self.assertIn(self.path, str(e))
        self.assertRaises(novaconf.NovaConfigError, novaconf.read,
                          os.path.join(self.dir, 'none.conf'))

    def test_reread_on_change(self):
        self.write('[libvirt]\n')
        f = novaconf.NovaConfigFile(self.path)
        first, changed = f.get()
        self.assertTrue(changed)
        self.assertEqual((first, False), f.get())
        time.sleep(0.01)
        self.write('[libvirt]\nlive_migration_with_native_tls = true\n')
        os.utime(self.path, ns=(time.time_ns(), time.time_ns() + 10 ** 9))
        second, changed = f.get()
        self.assertTrue(changed)
        self.assertEqual(model.Transport.NATIVE_TLS, second.transport)


class TestHostInfo(base.BaseTestCase):

    def test_tls_directory_and_readiness(self):
        d = self.useFixture(fixtures.TempDir()).path
        qemu_conf = os.path.join(d, 'qemu.conf')
        certs = os.path.join(d, 'pki')
        with open(qemu_conf, 'w') as f:
            f.write('# default_tls_x509_cert_dir = "/nope"\n'
                    'default_tls_x509_cert_dir = "%s"\n' % certs)
        self.assertEqual(certs, hostinfo.qemu_tls_dir(qemu_conf))
        self.assertFalse(hostinfo.tls_ready(certs))
        os.makedirs(certs)
        for name in hostinfo.SERVER_FILES:
            open(os.path.join(certs, name), 'w').close()
        self.assertTrue(hostinfo.tls_ready(certs))
        with open(qemu_conf, 'a') as f:
            f.write('migrate_tls_x509_cert_dir = "/m"\n')
        self.assertEqual('/m', hostinfo.qemu_tls_dir(qemu_conf))
        self.assertEqual(hostinfo.DEFAULT_CERT_DIR,
                         hostinfo.qemu_tls_dir(os.path.join(d, 'missing')))


class TestLoad(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        d = self.useFixture(fixtures.TempDir()).path
        self.stat = os.path.join(d, 'stat')
        self.loadavg = os.path.join(d, 'loadavg')
        self.write_loadavg('0.00')

    def write_stat(self, user, idle, iowait, cpus=2):
        with open(self.stat, 'w') as f:
            f.write('cpu  %d 0 0 %d %d 0 0 0 0 0\n' % (user, idle, iowait))
            for n in range(cpus):
                f.write('cpu%d 1 2 3 4 5 6 7 8 0 0\n' % n)
            f.write('intr 1 2\nctxt 9\nprocs_running 3\n')

    def write_loadavg(self, load1):
        with open(self.loadavg, 'w') as f:
            f.write('%s 0.50 0.40 3/700 12345\n' % load1)

    def meter(self):
        return cpuload.LoadMeter(self.stat, self.loadavg)

    def test_busy_share_between_readings(self):
        self.write_stat(100, 900, 0)
        meter = self.meter()
        self.write_stat(400, 1400, 100)
        self.assertAlmostEqual(300 / 900.0, meter.sample())
        self.assertIsNone(self.meter().load)

    def test_saturated_host_reads_its_run_queue(self):
        # Both CPUs busy, 7 threads runnable on 2 CPUs: the busy share
        # stops at 1, the load average per CPU does not.
        self.write_stat(100, 900, 0, cpus=2)
        meter = self.meter()
        self.write_stat(1100, 900, 0, cpus=2)
        self.write_loadavg('7.00')
        self.assertAlmostEqual(3.5, meter.sample())
        self.assertEqual((1.0, 3.5), meter.parts)
        # A load that just rose: the busy share leads the average.
        self.write_stat(1500, 1500, 0, cpus=2)
        self.write_loadavg('0.20')
        self.assertAlmostEqual(0.4, meter.sample())

    def test_no_time_passed_keeps_the_last_load(self):
        self.write_stat(100, 900, 0)
        meter = self.meter()
        self.assertIsNone(meter.sample())

    def test_unreadable_load_average_falls_back_to_busy_share(self):
        self.write_stat(100, 900, 0)
        meter = cpuload.LoadMeter(self.stat, self.loadavg + '.missing')
        self.write_stat(400, 1400, 100)
        with self.assertLogs('qslm_nova.agent.cpuload', 'WARNING') as logs:
            self.assertAlmostEqual(300 / 900.0, meter.sample())
        self.assertIn('busy share alone', logs.output[0])

    def test_bad_files_are_named(self):
        self.write_loadavg('nan')
        self.assertRaisesRegex(ValueError, 'loadavg has no load average',
                               cpuload.read_load_average, self.loadavg)
        with open(self.stat, 'w') as f:
            f.write('intr 1\n')
        self.assertRaisesRegex(ValueError, 'does not start with the cpu',
                               cpuload.read_times, self.stat)

    def test_this_host(self):
        meter = cpuload.LoadMeter()
        time.sleep(0.05)
        load = meter.sample()
        self.assertTrue(load is None or 0.0 <= load <= os.cpu_count() * 64)
        self.assertEqual(os.cpu_count(), cpuload.read_times()[2])


class TestCipher(base.BaseTestCase):

    def test_openssl_stream_measures_a_core(self):
        got = cipher.measure_openssl(0.3)
        self.assertEqual('openssl-stream', got.method)
        self.assertTrue(got.cipher.startswith('TLS_AES_'))
        # Per core (CPU time) is never below the stream's wall rate.
        self.assertGreater(got.gbps_per_core, 0.1)
        self.assertGreaterEqual(got.gbps_per_core, got.stream_gbps * 0.99)

    def test_once_per_boot(self):
        d = self.useFixture(fixtures.TempDir()).path
        calls = []

        def measure(binary, seconds):
            calls.append(binary)
            return cipher.CipherMeasurement(3.0, 1.0, 'x', 1.0, 10, 'qemu')

        first = cipher.once_per_boot(d, '/usr/bin/qemu', measure_fn=measure)
        again = cipher.once_per_boot(d, '/usr/bin/qemu', measure_fn=measure)
        self.assertEqual(first, again)
        self.assertEqual(1, len(calls))
        with open(os.path.join(d, 'cipher.json')) as f:
            saved = json.load(f)
        saved['boot_id'] = 'another boot'
        with open(os.path.join(d, 'cipher.json'), 'w') as f:
            json.dump(saved, f)
        cipher.once_per_boot(d, '/usr/bin/qemu', measure_fn=measure)
        self.assertEqual(2, len(calls))

    def test_qemu_unusable_falls_back_with_a_warning(self):
        with self.assertLogs('qslm_nova.agent.cipher', 'WARNING') as logs:
            got = cipher.measure('/nonexistent/qemu-system-x86_64', 0.2)
        self.assertEqual('openssl-stream', got.method)
        self.assertIn("Cannot measure QEMU's TLS stream", logs.output[0])
