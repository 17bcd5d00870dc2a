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

"""Offline tests of the libvirt campaign's plan, model and report."""

import json
import os

import testtools

from qslm_nova.testbed import campaign as raw_campaign
from qslm_nova.testbed import hostload
from qslm_nova.testbed import libvirt_campaign
from qslm_nova.testbed import libvirt_model
from qslm_nova.testbed import libvirt_report
from qslm_nova.testbed import namespace
from qslm_nova.testbed import nova_monitor
from qslm_nova.testbed import TestbedError

DIMS = ('memory_mib', 'bandwidth_mbps', 'downtime_ms', 'hogs')


def _values(spec):
    return {'memory_mib': spec.memory_mib,
            'bandwidth_mbps': spec.bandwidth_mbps,
            'downtime_ms': spec.nova.downtime_ms, 'hogs': spec.hogs,
            'transport': (spec.transport, spec.nova.parallel_connections)}


class TestPlan(testtools.TestCase):

    def test_held_out_values_never_fitted(self):
        specs = libvirt_campaign.plan()
        self.assertEqual(len(specs), len({s.run_id for s in specs}))
        fit_configs = {s.run_id.rsplit('-', 2)[0] for s in specs
                       if s.group == 'fit'}
        for s in specs:
            if s.group != 'held-out':
                continue
            self.assertNotIn(s.run_id.rsplit('-', 2)[0], fit_configs)
            values = _values(s)
            unseen = [d for d in values
                      if values[d] in libvirt_campaign.HELD_OUT[d]]
            for d in unseen:
                self.assertNotIn(values[d], libvirt_campaign.FIT[d])
            if s.label == 'steps':
                self.assertGreaterEqual(len(unseen) + int(
                    s.workload.dirty_rate_mibps in (12, 64)), 1)

    def test_outcome_labels_get_nova_settings(self):
        specs = libvirt_campaign.plan()
        labels = {s.label for s in specs}
        self.assertEqual({'steps', 'abort', 'force-complete', 'post-copy',
                          'auto-converge'}, labels)
        for s in specs:
            if s.label == 'post-copy':
                self.assertTrue(s.nova.permit_post_copy)
                self.assertEqual('force_complete', s.nova.timeout_action)
            if s.label == 'abort':
                self.assertEqual('abort', s.nova.timeout_action)
                self.assertGreater(s.workload.dirty_rate_mibps, 60)
            self.assertEqual(s.transport == 'tls', s.nova.native_tls)

    def test_nova_settings_are_nova_options(self):
        import nova.conf
        group = nova.conf.CONF.libvirt
        for name in nova_monitor.NovaSettings().conf():
            self.assertTrue(hasattr(group, name), name)


def _row(**kw):
    row = {'transport': 'tcp', 'parallel': '1', 'memory_mib': '1024',
           'touched_mib': '516', 'dirty_rate_mibps': '4',
           'bandwidth_mbps': '1000', 'rtt_ms': '0',
           'nova_downtime_ms': '500', 'nova_downtime_steps': '10',
           'nova_downtime_delay_s': '75', 'nova_completion_timeout_s': '800',
           'nova_timeout_action': 'abort', 'post_copy': '0',
           'auto_converge': '0', 'load1_start': '4', 'load1_end': '4',
           'cpus': '2', 'outcome': 'completed', 'status': 'ok',
           'label': 'steps', 'workload': 'steady', 'hogs': '0',
           'downtime_e2e_ms': '120', 'resume_at_ms': '9000',
           'abort_at_s': '', 'api_total_ms': '11000', 'handoff_ms': '1800',
           'group': 'fit'}
    row.update({k: str(v) for k, v in kw.items()})
    return row


class TestModel(testtools.TestCase):

    def test_first_interval_worst_case_uses_qemu_default(self):
        proto = libvirt_model.Prototype(first_interval=True)
        row = _row()
        plain = libvirt_model.settings(row, proto).steps(2.0)
        worst = libvirt_model.settings(row, proto, worst=True).steps(2.0)
        self.assertEqual((0, 50), plain[0])
        self.assertEqual((0, 300), worst[0])
        self.assertEqual(plain[1:], worst[1:])

    def test_measured_total_per_outcome(self):
        self.assertEqual(9000, libvirt_model.measured_total(_row()))
        self.assertEqual(6500, libvirt_model.measured_total(
            _row(outcome='aborted', abort_at_s=6.5)))
        self.assertEqual(9200, libvirt_model.measured_total(
            _row(outcome='post-copy')))

    def test_load_per_cpu(self):
        self.assertEqual(2.0, libvirt_model.load_per_cpu(_row()))
        self.assertEqual(0.5, libvirt_model.free_share(_row()))
        self.assertEqual(1.0, libvirt_model.free_share(
            _row(load1_start=0.5, load1_end=0.5)))

    def test_prototypes_change_the_estimate(self):
        fitted = libvirt_model.LibvirtFitted(
            crypto_gbps_per_core={'tcp': 2.0, 'tls': 1.0},
            handoff_ms=1800.0, setup_per_load_ms=500.0)
        row = _row(parallel=2)
        plain = libvirt_model.estimate_rows([row], fitted)[0]
        proto = libvirt_model.estimate_rows(
            [row], fitted, libvirt_model.Prototype.all())[0]
        # Hand-off and load-dependent prepare make it longer, even with
        # two connections sharing the work.
        self.assertGreater(proto['total_ms'], plain['total_ms'])
        self.assertGreaterEqual(proto['worst_downtime_ms'],
                                plain['worst_downtime_ms'])
        self.assertEqual('completed', plain['outcome'])

    def test_nearest_cell_baseline(self):
        train = [_row(downtime_e2e_ms=100, memory_mib=1024),
                 _row(downtime_e2e_ms=300, memory_mib=1024),
                 _row(downtime_e2e_ms=900, memory_mib=1536)]
        base = libvirt_report.nearest_cell_means(
            train, [_row(memory_mib=1100, group='held-out'),
                    _row(memory_mib=1500, group='held-out')])
        self.assertEqual(200.0, base[0][0])
        self.assertEqual(900.0, base[1][0])


class TestSmall(testtools.TestCase):

    def test_load_sample(self):
        s = hostload.LoadSample.start().stop()
        self.assertTrue(0.0 <= s.busy <= 1.0)
        self.assertEqual(os.cpu_count(), s.as_row()['cpus'])

    def test_host_name_checked(self):
        self.assertRaises(TestbedError, namespace.HostNamespace,
                          'a name with spaces', '/tmp/x')
        self.assertRaises(TestbedError, namespace.HostNamespace,
                          'much-too-long-name', '/tmp/x')

    def test_shipped_campaign_report(self):
        path = os.path.join(raw_campaign.DATA_DIR,
                            libvirt_campaign.CSV_NAME)
        if not os.path.exists(path):
            self.skipTest('no libvirt campaign shipped')
        rows = raw_campaign.read_rows(path)
        out = []
        libvirt_report.facts(rows, out)
        self.assertIn('migrateSetMaxDowntime', out[1])
        with open(os.path.splitext(path)[0] + '-environment.json') as f:
            self.assertIn('700', json.load(f)['link_goodput_mbps'])
