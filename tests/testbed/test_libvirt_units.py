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

import collections
import dataclasses
import json
import math
import os
import threading
import time

import fixtures
import numpy as np
import testtools

from qslm_nova import estimator
from qslm_nova.testbed import campaign as raw_campaign
from qslm_nova.testbed import cli
from qslm_nova.testbed import fit
from qslm_nova.testbed import hostload
from qslm_nova.testbed import libvirt_bounds
from qslm_nova.testbed import libvirt_campaign
from qslm_nova.testbed import libvirt_facts
from qslm_nova.testbed import libvirt_guest
from qslm_nova.testbed import libvirt_loadinput
from qslm_nova.testbed import libvirt_model
from qslm_nova.testbed import libvirt_parts
from qslm_nova.testbed import libvirt_plan
from qslm_nova.testbed import libvirt_record
from qslm_nova.testbed import libvirt_repeats
from qslm_nova.testbed import libvirt_report
from qslm_nova.testbed import libvirt_runner
from qslm_nova.testbed import libvirt_runs
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

    def test_settings_from_row(self):
        lv = libvirt_model.settings(_row(parallel=3, post_copy=1,
                                         nova_timeout_action='force_complete'))
        self.assertEqual(3, lv.parallel_connections)
        self.assertTrue(lv.permit_post_copy)
        self.assertEqual('force_complete', lv.timeout_action)
        self.assertEqual((0, 50), lv.steps(2.0)[0])

    def test_forced_syncs_only_from_qemu_9_2(self):
        params = estimator.ModelParams()
        self.assertEqual(5.0, params.auto_converge_sync_s)
        for release, sync in (('7.2.22', 0.0), ('9.1.3', 0.0),
                              ('9.2.0', 5.0), ('10.0.2', 5.0), ('?', 5.0),
                              ('', 5.0)):
            self.assertEqual(sync, libvirt_model.params_for(
                {'qemu': release}, params).auto_converge_sync_s, release)
        self.assertIs(params, libvirt_model.params_for({}, params))

    def test_measured_total_per_outcome(self):
        self.assertEqual(9000, libvirt_model.measured_total(_row()))
        self.assertEqual(6500, libvirt_model.measured_total(
            _row(outcome='aborted', abort_at_s=6.5)))
        self.assertEqual(9200, libvirt_model.measured_total(
            _row(outcome='post-copy')))

    def test_load_per_cpu(self):
        self.assertEqual(2.0, libvirt_model.load_per_cpu(_row()))
        self.assertEqual(0.5, libvirt_model.load_per_cpu(
            _row(load1_start=0.5, load1_end=1.5)))

    def test_unusable_rows(self):
        self.assertIsNone(libvirt_model.unusable(_row()))
        self.assertIn('status', libvirt_model.unusable(_row(status='error')))
        blocked = _row(downtime_set_failures='[[3.2, 50]]')
        self.assertIn('monitor blocked', libvirt_model.unusable(blocked))
        # With libvirt's event loop (as in nova-compute) a late call is
        # Nova's real behaviour, not the testbed's.
        self.assertIsNone(libvirt_model.unusable(dict(blocked,
                                                      event_loop='1')))
        self.assertIn('Nova refuses', libvirt_model.unusable(
            _row(post_copy=1, parallel=2)))
        self.assertIn('not seen running', libvirt_model.unusable(
            _row(guest_alive_on_dest=0)))

    def test_lost_write(self):
        lost = libvirt_facts.lost_write
        # Read: the destination's counter behind the source's last line.
        self.assertTrue(lost(_row(src_last_ticks=21250,
                                  dest_ticks_in_memory=11257)))
        self.assertFalse(lost(_row(src_last_ticks=21250,
                                   dest_ticks_in_memory=21302,
                                   dest_progress_s=9.5)))
        # Not read: the guest's first line on the destination tells.
        self.assertTrue(lost(_row(dest_progress_s=3.13)))
        self.assertFalse(lost(_row(dest_progress_s=0.3)))
        self.assertFalse(lost(_row(
            dest_progress_s=libvirt_facts.LATE_FIRST_LINE_S)))
        # After a post-copy switch the first line says nothing; a row
        # with neither column is unknown.
        self.assertIsNone(lost(_row(outcome='post-copy',
                                    dest_progress_s=3.0)))
        self.assertIsNone(lost(_row()))
        self.assertIsNone(lost(_row(src_last_ticks='',
                                    dest_progress_s='')))

    def test_variants_change_the_estimate(self):
        fitted = libvirt_model.LibvirtFitted(
            params=estimator.ModelParams(setup_ms=500.0,
                                         migration_gbps_per_core=2.0),
            crypto_gbps_per_core={'tcp': math.inf, 'tls': 1.0})
        row = _row(load1_start=6, load1_end=6)
        before = libvirt_model.estimate_rows(
            [row], fitted, libvirt_model.BEFORE)[0]
        after = libvirt_model.estimate_rows(
            [row], fitted, libvirt_model.AFTER)[0]
        # The measured load (3 per CPU) stretches the prepare and slows
        # the stream: a longer migration.
        self.assertGreater(after['total_ms'], before['total_ms'] + 1500)
        self.assertGreaterEqual(after['worst_downtime_ms'],
                                after['downtime_ms'])
        self.assertEqual('completed', after['outcome'])

    def test_postcopy_share_fitted_from_switched_runs(self):
        fitted = libvirt_model.LibvirtFitted(
            params=estimator.ModelParams(setup_ms=300.0,
                                         migration_gbps_per_core=5.0),
            crypto_gbps_per_core={'tcp': math.inf})
        row = _row(nova_timeout_action='force_complete', post_copy=1,
                   nova_completion_timeout_s=3, dirty_rate_mibps=200,
                   bandwidth_mbps=500, memory_mib=1536, outcome='post-copy',
                   handoff_ms=0, load1_start=1, load1_end=1)
        switch_ms = 3000 * 1.5 + 600

        def at(share):
            trial = dataclasses.replace(fitted, params=dataclasses.replace(
                fitted.params, postcopy_rate_share=share))
            return libvirt_model.estimate_rows([row], trial)[0]['total_ms']

        # Runs whose rest took as long as a share of 0.5 says: the fit
        # finds 0.5 again, and the rest is what stretches.
        self.assertGreater(at(1.0), switch_ms)
        runs = [dict(row, api_total_ms=str(at(0.5) * f))
                for f in (1.0, 1.0, 1.1)]
        got = libvirt_model.postcopy_share(runs + [_row()], fitted)
        self.assertEqual(0.5, got.params.postcopy_rate_share)
        # Without runs that switched, nothing to fit; BEFORE keeps 1.
        self.assertIs(fitted, libvirt_model.postcopy_share([_row()], fitted))
        self.assertEqual(1.0, libvirt_model.BEFORE.base_params()
                         .postcopy_rate_share)

    def test_memory_check_reads_the_tick_counter(self):
        asked = []

        class Watcher(object):
            def execute(self, command, timeout, **args):
                asked.append((command, args['command-line']))
                return '000000000010701c: 16000\r\n'

        class Guest(object):
            def progress(self, host):
                return [(52251, 1), (52501, 2)]

        dwatch = type('W', (), {'watcher': Watcher()})()
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.testbed.guest.symbol_address',
            return_value=0x10701c))
        row = {}
        libvirt_runner._check_memory(row, Guest(), 'src', dwatch, 'elf',
                                     'completed')
        self.assertEqual({'src_last_ticks': 52501,
                          'dest_ticks_in_memory': 16000}, row)
        self.assertEqual([('human-monitor-command', 'xp /1wu 0x10701c')],
                         asked)
        # After a post-copy switch the page may still be on the source.
        row = {}
        libvirt_runner._check_memory(row, Guest(), 'src', dwatch, 'elf',
                                     'post-copy')
        self.assertEqual({'src_last_ticks': 52501}, row)
        self.assertEqual(1, len(asked))

    def test_stale_memory_by_label(self):
        rows = [_row(label='auto-converge', src_last_ticks=52501,
                     dest_ticks_in_memory=16000, qemu='7.2.22'),
                _row(label='auto-converge', src_last_ticks=1000,
                     dest_ticks_in_memory=1200, qemu='7.2.22'),
                _row(label='auto-converge', src_last_ticks=40251,
                     dest_ticks_in_memory=40434, qemu='10.0.2'),
                _row(label='steps', src_last_ticks=5000,
                     dest_ticks_in_memory=5100, qemu='7.2.22'),
                _row(label='steps')]
        out = []
        libvirt_facts.stale_memory(rows, out)
        self.assertEqual(2, len(out))
        self.assertIn('QEMU 10.0.2, by label: auto-converge 0 of 1 (by - '
                      'ticks)', out[0])
        self.assertIn('QEMU 7.2.22, by label: auto-converge 1 of 2 (by '
                      '3.65e+04 / 3.65e+04 (n=1) ticks)', out[1])
        self.assertIn('steps 0 of 1 (by - ticks)', out[1])
        out = []
        libvirt_facts.stale_memory([_row()], out)
        self.assertEqual([], out)

    def test_nearest_cell_baseline(self):
        train = [_row(downtime_e2e_ms=100, memory_mib=1024),
                 _row(downtime_e2e_ms=300, memory_mib=1024),
                 _row(downtime_e2e_ms=900, memory_mib=1536)]
        base = libvirt_report.nearest_cell_means(
            train, [_row(memory_mib=1100, group='held-out'),
                    _row(memory_mib=1500, group='held-out')])
        self.assertEqual(200.0, base[0][0])
        self.assertEqual(900.0, base[1][0])

    def test_repeat_noise(self):
        # Two configurations run 3 and 2 times, one run once, one run
        # unusable: each run against the mean of its configuration's
        # other runs.
        rows = [_row(run_id='a-1', downtime_e2e_ms=100),
                _row(run_id='a-2', downtime_e2e_ms=100),
                _row(run_id='a-3', downtime_e2e_ms=400),
                _row(run_id='b-1', downtime_e2e_ms=200),
                _row(run_id='b-2', downtime_e2e_ms=200),
                _row(run_id='b-3', downtime_e2e_ms=900, status='error'),
                _row(run_id='c-1', downtime_e2e_ms=50)]
        noise = libvirt_repeats.repeat_noise(rows)
        self.assertEqual(2, noise['configurations'])
        self.assertEqual(5, noise['paused_runs'])
        # a: 250 vs 100 (150 %) twice, 100 vs 400 (75 %); b: 0 % twice.
        self.assertEqual(75.0, noise['dt'])
        # Largest / median pause: a 4.0, b 1.0.
        self.assertEqual(2.5, noise['spread'])
        self.assertEqual(0.0, noise['tt'])
        # The true mean known: a's errors shrink by sqrt(2 / 3), b's stay
        # 0; the median is a's third run, 75 % x 0.816.
        self.assertAlmostEqual(75.0 * math.sqrt(2.0 / 3.0),
                               noise['dt_known'])
        self.assertEqual(0.0, noise['tt_known'])
        # Log residuals x sqrt(n / (n - 1)): a -u, -u, 2u with u = ln 4 /
        # 3 x sqrt(3 / 2), b 0, 0. One label: its 0.99 quantile (linear)
        # is 0.96 x 2u; the median run's bound / measured is that over
        # b's residual 0.
        u = math.log(4.0) / 3.0 * math.sqrt(1.5)
        self.assertAlmostEqual(math.exp(0.96 * 2 * u), noise['ratio99'])
        # b under its own label: its bound sits on its runs (1.0), and
        # that is the median of the five runs' bound / measured.
        for row in rows[3:5]:
            row['label'] = 'post-copy'
        self.assertAlmostEqual(
            1.0, libvirt_repeats.repeat_noise(rows)['ratio99'])
        self.assertIn('2 configurations', libvirt_repeats.format_noise(noise))
        self.assertIn('mean known exactly',
                      libvirt_repeats.format_noise(noise))
        self.assertIsNone(libvirt_repeats.repeat_noise(rows[-1:]))
        # One run id on two QEMUs: two configurations, neither repeated.
        self.assertIsNone(libvirt_repeats.repeat_noise(
            [_row(run_id='d-1', qemu='7.2.22'),
             _row(run_id='d-2', qemu='10.0.2')]))
        self.assertIn('no configuration ran twice',
                      libvirt_repeats.format_noise(None))

    def test_mixed_floor_weighs_labels_as_the_mix(self):
        # steps: 100, 300 ms (errors 200 and 66.7 % x sqrt(1 / 2)):
        # 141.4 and 47.1 %; post-copy: 100, 100 (0 % twice).
        rows = [_row(run_id='s-1', downtime_e2e_ms=100),
                _row(run_id='s-2', downtime_e2e_ms=300),
                _row(run_id='p-1', label='post-copy', outcome='post-copy'),
                _row(run_id='p-2', label='post-copy', outcome='post-copy')]
        low = 200.0 / 3.0 * math.sqrt(0.5)
        # Only steps in the mix: the lower of its two errors.
        self.assertAlmostEqual(low, libvirt_repeats.mixed_floor(
            rows, {'steps': 5}))
        # Post-copy weighs 3 of 4: its 0 % is the median.
        self.assertEqual(0.0, libvirt_repeats.mixed_floor(
            rows, {'steps': 1, 'post-copy': 3}))
        # Steps weighs 3 of 4: the lower steps error is the median.
        self.assertAlmostEqual(low, libvirt_repeats.mixed_floor(
            rows, {'steps': 3, 'post-copy': 1}))
        self.assertIsNone(libvirt_repeats.mixed_floor(rows, {'abort': 4}))
        self.assertIsNone(libvirt_repeats.mixed_floor(rows[:1], {'steps': 1}))

    def test_targets_show_each_labels_own_floor(self):
        # steps: one configuration run twice (100, 300 ms: each misses
        # the other by 66.7 and 200 %); post-copy: no repeat.
        rows = [_row(run_id='s-1', downtime_e2e_ms=100),
                _row(run_id='s-2', downtime_e2e_ms=300),
                _row(run_id='p-1', label='post-copy', outcome='post-copy')]
        out = []
        libvirt_report.targets(({}, {}), rows, None, out)
        steps = [line for line in out if 'label steps' in line]
        post = [line for line in out if 'label post-copy' in line]
        # The true mean known: 200 and 66.7 % shrink by sqrt(1 / 2).
        # Bound: log residuals +-a, a = ln 3 / 2 x sqrt(2); the 0.99
        # quantile is 0.98 a, so the runs' bound / measured are
        # exp(1.98 a) and exp(-0.02 a), median 2.82.
        self.assertIn('; repeats pause 133.33 %, total 0.00 % '
                      '(1 configurations, 2 paused runs; mean known: '
                      'pause 94.28 %, total 0.00 %, 99 % bound at 2.82)',
                      steps[0])
        self.assertNotIn('repeats', post[0])

    def test_one_configuration_on_two_qemus(self):
        old = dict(qemu='7.2.22', label='steps', resume_at_ms=5000,
                   api_total_ms=6000)
        new = dict(old, qemu='10.0.2')
        rows = [_row(run_id='a-1', downtime_e2e_ms=100, **old),
                _row(run_id='a-2', downtime_e2e_ms=300, **old),
                _row(run_id='a-3', downtime_e2e_ms=400, **new),
                _row(run_id='b-1', downtime_e2e_ms=100, **old),
                # Only one QEMU, or not usable on the other: no pair.
                _row(run_id='c-1', downtime_e2e_ms=100, **old),
                _row(run_id='b-2', downtime_e2e_ms=900, status='error',
                     **new)]
        out = []
        libvirt_facts.qemu_pairs(rows, out)
        self.assertEqual(1, len(out))
        self.assertIn('(7.2.22 -> 10.0.2)', out[0])
        # a: 400 over the median of 100 and 300.
        self.assertIn('steps pause 2 / 2 (n=1), total 1 / 1 (n=1)', out[0])
        out = []
        libvirt_facts.qemu_pairs(rows[:2], out)
        self.assertEqual([], out)

    def test_qemu_release(self):
        self.assertEqual('10.0.2', libvirt_runs.qemu_release(
            'QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2)'))
        self.assertEqual('7.2.22', libvirt_runs.qemu_release(
            'QEMU emulator version 7.2.22'))
        self.assertEqual('?', libvirt_runs.qemu_release('unknown'))
        self.assertEqual('?', libvirt_runs.qemu_release(None))

    def test_unseen_values(self):
        self.assertEqual([], libvirt_report.unseen_values(_row()))
        row = _row(memory_mib=1280, bandwidth_mbps=700, workload='bursty',
                   dirty_rate_mibps=9.6, burst_rate_mibps=64, hogs=2,
                   transport='tls', parallel=3, nova_downtime_ms=400)
        self.assertEqual(['bandwidth', 'hogs', 'limit', 'memory',
                          'transport', 'workload'],
                         libvirt_report.unseen_values(row))

    def test_pause_parts(self):
        events = [('src', 'setup', 2.0), ('src', 'STOP', 10.0),
                  ('src', 'pre-switchover', 10.0), ('src', 'device', 10.05),
                  ('src', 'completed', 10.15), ('dst', 'completed', 10.148),
                  ('dst', 'RESUME', 10.2)]
        parts = libvirt_record.pause_parts(events)
        self.assertEqual({'switchover_ms': 50.0, 'transfer_ms': 100.0,
                          'dest_load_ms': -2.0, 'resume_ms': 50.0}, parts)
        self.assertEqual({}, libvirt_record.pause_parts(events[:-1]))


class TestPlanFile(testtools.TestCase):

    def test_resume_with_the_same_qemu_only(self):
        d = self.useFixture(fixtures.TempDir()).path
        env = os.path.join(d, 'libvirt-campaign-9-environment.json')
        self.useFixture(fixtures.MockPatch(
            'qslm_nova.testbed.runner.check_qemu', return_value=(
                '/opt/q/qemu', 'QEMU emulator version 10.0.2')))
        libvirt_campaign.same_qemu(env)  # no file yet: a new campaign
        with open(env, 'w') as f:
            json.dump({'qemu': 'QEMU emulator version 10.0.2'}, f)
        libvirt_campaign.same_qemu(env)
        with open(env, 'w') as f:
            json.dump({'qemu': 'QEMU emulator version 7.2.22'}, f)
        e = self.assertRaises(TestbedError, libvirt_campaign.same_qemu, env)
        for part in ('libvirt-campaign-9-environment.json', '7.2.22',
                     '10.0.2', 'QSLM_TESTBED_QEMU'):
            self.assertIn(part, str(e))

    def test_write_numbered(self):
        specs = libvirt_plan.make(2, 1, (0, 0), seed=5, first_repeat=300)
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'p.json')
        line = libvirt_plan.write_numbered(31, specs, 'campaign 31',
                                           ['tool', path])
        self.assertTrue(line.startswith('3 runs in %s' % path), line)
        loaded, csv_name = libvirt_plan.load(path)
        self.assertEqual('libvirt-campaign-31.csv', csv_name)
        self.assertEqual([s.run_id for s in specs],
                         [s.run_id for s in loaded])
        with open(path) as f:
            self.assertEqual('campaign 31', json.load(f)['description'])

    def test_post_copy_grid(self):
        specs = libvirt_plan.post_copy_grid(500, (1, 3), lambda i: 300 + i)
        self.assertEqual(16, len(specs))
        self.assertEqual(list(range(500, 516)), [s.repeat for s in specs])
        self.assertEqual({'post-copy'}, {s.label for s in specs})
        self.assertEqual({'fit'}, {s.group for s in specs})
        self.assertEqual({1, 3}, {s.hogs for s in specs})
        # One connection, as Nova runs post-copy.
        self.assertEqual({1}, {s.nova.parallel_connections for s in specs})
        self.assertEqual(list(range(300, 316)),
                         [s.nova.downtime_ms for s in specs])

    def test_round_trip_and_pending(self):
        specs = libvirt_plan.make(3, 2, (1, 1), seed=5, first_repeat=200)
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'plan.json')
        libvirt_plan.save(specs, path, 'x.csv', 'test')
        loaded, csv_name = libvirt_plan.load(path)
        self.assertEqual('x.csv', csv_name)
        self.assertEqual([s.run_id for s in specs],
                         [s.run_id for s in loaded])
        self.assertEqual(specs, loaded)
        first, second = specs[0].run_id, specs[1].run_id
        rows = [{'run_id': first, 'status': 'ok'},
                {'run_id': second, 'status': 'error'}]
        todo = [s.run_id for s in libvirt_campaign.pending(specs, rows)]
        self.assertNotIn(first, todo)
        self.assertIn(second, todo)
        rows.append({'run_id': second, 'status': 'error'})
        self.assertNotIn(second, [
            s.run_id for s in libvirt_campaign.pending(specs, rows)])
        self.assertGreater(libvirt_plan.estimate_s(specs), 0)

    def test_bad_plan_is_named(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'plan.json')
        with open(path, 'w') as f:
            json.dump({'csv': 'x.csv', 'runs': [{'memory_mib': 1}]}, f)
        e = self.assertRaises(TestbedError, libvirt_plan.load, path)
        self.assertIn('not a run spec', str(e))

    def test_repeats(self):
        specs = libvirt_plan.make(6, 4, (2, 2), seed=5)
        again = libvirt_plan.repeats(specs, 4, 3, seed=2, first_repeat=700)
        self.assertEqual(12, len(again))

        def configuration(spec):
            # As the report groups the runs of one configuration.
            return libvirt_repeats.configuration({'run_id': spec.run_id})
        configs = {configuration(s) for s in again}
        self.assertEqual(4, len(configs))

        def config(spec):
            # Nothing but the group and the repeat number may change.
            return dataclasses.replace(spec, group='-', repeat=0)
        originals = [config(s) for s in specs]
        for s in again:
            self.assertEqual('repeat', s.group)
            self.assertIn(s.label, libvirt_plan.PAUSING_LABELS)
            self.assertIn(config(s), originals)
        # Every round runs each configuration once, ids never repeat.
        for i in range(3):
            self.assertEqual(configs, {configuration(s)
                                       for s in again[4 * i:4 * i + 4]})
        self.assertEqual(12, len({s.run_id for s in again}))
        # Transports take turns.
        self.assertGreater(len({(s.transport, s.nova.parallel_connections)
                                for s in again}), 1)

    def test_repeats_refused(self):
        specs = libvirt_plan.make(1, 0, (0, 0), seed=5)
        e = self.assertRaises(TestbedError, libvirt_plan.repeats, specs,
                              3, 2)
        self.assertIn('1 configurations', str(e))
        e = self.assertRaises(TestbedError, libvirt_plan.repeats, specs,
                              1, 1)
        self.assertIn('at least twice', str(e))

    def test_cli_errors_name_the_plan(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        err = self.useFixture(fixtures.StringStream('stderr')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        missing = os.path.join(tmp, 'missing.json')
        self.assertEqual(2, cli.main([
            'libvirt-plan', '--csv', 'x.csv', '--repeat-of', missing,
            os.path.join(tmp, 'out.json')]))
        self.assertEqual(2, cli.main([
            'libvirt-plan', '--csv', 'x.csv',
            os.path.join(tmp, 'no', 'such', 'dir.json')]))
        err.seek(0)
        lines = err.read().splitlines()
        self.assertEqual(2, len(lines), lines)
        self.assertTrue(lines[0].startswith(
            'testbed error: cannot read the plan %s: ' % missing), lines)
        self.assertTrue(lines[1].startswith(
            'testbed error: %s: ' % os.path.join(tmp, 'no', 'such',
                                                 'dir.json')), lines)

    def test_by_load_blocks(self):
        specs = libvirt_plan.make(0, 12, (0, 2), seed=21)
        ordered = libvirt_plan.by_load(specs)
        self.assertEqual(sorted(s.run_id for s in specs),
                         sorted(s.run_id for s in ordered))
        hogs = [s.hogs for s in ordered]
        self.assertEqual(sorted(hogs), hogs)
        self.assertGreater(len(set(hogs)), 1)
        # Within a block, the plan's own (shuffled) order.
        for count in set(hogs):
            self.assertEqual([s for s in specs if s.hogs == count],
                             [s for s in ordered if s.hogs == count])
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'plan.json')
        self.assertEqual(0, cli.main([
            'libvirt-plan', '--csv', 'x.csv', '--steps-fit', '0',
            '--steps-held', '12', '--per-outcome', '0,2', '--seed', '21',
            '--by-load', path]))
        self.assertEqual(ordered, libvirt_plan.load(path)[0])

    def test_hog_blocks(self):
        # One block per hog count, each of its own seed and repeats, as
        # chosen; fewest hogs first.
        blocks = libvirt_plan.hog_blocks(
            (5, 3), 40, 100, lambda made: made[:4], steps_fit=2,
            steps_held=2, per_outcome=(0, 0))
        self.assertEqual([3] * 4 + [5] * 4, [s.hogs for s in blocks])
        first = libvirt_plan.make(2, 2, (0, 0), seed=40, first_repeat=100)
        second = libvirt_plan.make(2, 2, (0, 0), seed=41, first_repeat=150)
        self.assertEqual(
            [dataclasses.replace(s, hogs=3) for s in second[:4]],
            blocks[:4])
        self.assertEqual(
            [dataclasses.replace(s, hogs=5) for s in first[:4]],
            blocks[4:])

    def test_settle_only_when_the_hogs_change(self):
        specs = libvirt_plan.by_load(libvirt_plan.make(0, 12, (0, 0),
                                                       seed=21))
        waits, previous = [], None
        for spec in specs:
            waits.append(libvirt_campaign.settle_s(spec, previous, 120))
            previous = spec
        blocks = len({s.hogs for s in specs})
        self.assertEqual(blocks, sum(1 for w in waits if w == 120.0))
        self.assertEqual(len(specs) - blocks, waits.count(0.0))
        self.assertEqual(0.0, libvirt_campaign.settle_s(specs[0], None, 0))
        self.assertEqual(0.0, libvirt_campaign.settle_s(specs[0], None,
                                                        -5))

    def test_settle_runs_the_hogs_and_stops_early(self):
        started = []

        class Proc(object):
            def __init__(self):
                self.killed = False

            def poll(self):
                return 0 if self.killed else None

            def send_signal(self, sig):
                self.killed = True

            def wait(self):
                return 0

        class Host(object):
            def popen(self, argv, **kw):
                started.append(Proc())
                return started[-1]

        self.assertEqual(0.0, hostload.settle([Host()], 2, 0))
        self.assertEqual([], started)
        waited = hostload.settle([Host(), Host()], 2, 0.05)
        self.assertGreaterEqual(waited, 0.05)
        self.assertEqual(4, len(started))
        self.assertTrue(all(p.killed for p in started))
        stop = threading.Event()
        stop.set()
        waited = hostload.settle([Host()], 1, 3600, stop)
        self.assertLess(waited, 60)
        self.assertTrue(all(p.killed for p in started))

    def test_settle_option_checked(self):
        err = self.useFixture(fixtures.StringStream('stderr')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        self.assertEqual(2, cli.main(['libvirt-campaign', '--settle-s',
                                      '-1', '--estimate']))
        err.seek(0)
        self.assertIn('--settle-s: 0 to 3600 seconds, got -1', err.read())

    def test_post_copy_over_one_connection(self):
        for s in libvirt_plan.make():
            if s.label == 'post-copy':
                self.assertEqual(1, s.nova.parallel_connections)


class TestSmall(testtools.TestCase):

    def test_guest_on_neither_host_is_the_runs_error(self):
        import libvirt

        raised = []

        class Conn(object):
            def lookupByUUIDString(self, uuid):
                # str() of a libvirtError is libvirt's last error of this
                # process, whatever the message given: compare with it.
                raised.append(libvirt.libvirtError('Domain not found'))
                raise raised[-1]

        class Host(object):
            name = 'cmpdst'

        g = libvirt_guest.Guest(1024, None, uuid='0e7a')
        dst = Host()
        e = self.assertRaises(TestbedError, libvirt_runner._moved, Conn(),
                              g, dst, 'completed')
        self.assertEqual('the migration ended completed but cmpdst has no '
                         'such domain: %s' % raised[0], str(e))

    def test_load_sample(self):
        s = hostload.LoadSample.start().stop()
        self.assertTrue(0.0 <= s.busy <= 1.0)
        self.assertEqual(os.cpu_count(), s.as_row()['cpus'])

    def test_procs_running(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'stat')
        with open(path, 'w') as f:
            f.write('cpu  1 2 3 4 5 6 7 8\nprocs_running 7\n'
                    'procs_blocked 1\n')
        self.assertEqual(7, hostload.procs_running(path))
        with open(path, 'w') as f:
            f.write('cpu  1 2 3 4 5 6 7 8\n')
        self.assertIsNone(hostload.procs_running(path))
        self.assertIsNone(hostload.procs_running(os.path.join(tmp, 'no')))

    def test_run_queue(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'stat')
        with open(path, 'w') as f:
            f.write('procs_running 5\n')
        with hostload.RunQueue(interval=0.01, path=path) as queue:
            time.sleep(0.05)
        # The sampler's own thread is not counted: 4 per os.cpu_count().
        self.assertEqual(round(4.0 / os.cpu_count(), 3),
                         queue.as_row()['runnable_per_cpu'])
        with hostload.RunQueue(path=os.path.join(tmp, 'no')) as queue:
            pass
        self.assertEqual({'runnable_per_cpu': ''}, queue.as_row())
        # The real file: this process's own test thread at least.
        with hostload.RunQueue(interval=0.01) as queue:
            time.sleep(0.03)
        self.assertGreaterEqual(queue.as_row()['runnable_per_cpu'], 0.0)

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
        libvirt_facts.report(rows, out)
        self.assertIn("Nova's first downtime call", out[1])
        with open(os.path.splitext(path)[0] + '-environment.json') as f:
            self.assertIn('700', json.load(f)['link_goodput_mbps'])

    def _report_error(self, *argv):
        """(exit code, stderr) of the report on campaign 12 and *argv*."""
        path = os.path.join(raw_campaign.DATA_DIR, 'libvirt-campaign-12.csv')
        err = self.useFixture(fixtures.StringStream('stderr')).stream
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        code = libvirt_report.main(['--csv', path] + list(argv))
        err.seek(0)
        return code, err.read()

    def test_report_of_a_qemu_without_runs(self):
        self.assertEqual(
            (2, 'error: no runs of QEMU 9.9.9; the campaigns hold QEMU '
                '7.2.22\n'), self._report_error('--qemu', '9.9.9'))

    def test_report_without_an_unknown_campaign(self):
        self.assertEqual(
            (2, 'error: --without libvirt-campaign-99: no such campaign '
                'among libvirt-campaign-12\n'),
            self._report_error('--without', 'libvirt-campaign-12',
                               '--without', 'libvirt-campaign-99'))

    def test_report_without_every_campaign_of_a_qemu(self):
        # Left out, the campaign's runs are gone before --qemu looks.
        code, err = self._report_error('--without', 'libvirt-campaign-12',
                                       '--qemu', '7.2.22')
        self.assertEqual(2, code)
        self.assertIn('error: no runs of QEMU 7.2.22', err)

    def test_settled_fit_leaves_out_fitting_runs_not_held_still(self):
        paths = [os.path.join(raw_campaign.DATA_DIR,
                              'libvirt-campaign-%d.csv' % n)
                 for n in (14, 21, 23)]
        rows, _goodput = libvirt_runs.read_campaigns(paths)
        settle = {r['campaign']: r['settle_s'] for r in rows}
        self.assertEqual({'libvirt-campaign-14': 0.0,
                          'libvirt-campaign-21': 120.0,
                          'libvirt-campaign-23': 120.0}, settle)
        before = collections.Counter((r['campaign'], r['group'])
                                     for r in rows)
        self.assertEqual(40, libvirt_runs.settled_fit(rows))
        after = collections.Counter((r['campaign'], r['group'])
                                    for r in rows)
        self.assertEqual(before[('libvirt-campaign-14', 'fit')],
                         after[('libvirt-campaign-14',
                                libvirt_runs.UNSETTLED_FIT)])
        self.assertEqual(0, after[('libvirt-campaign-14', 'fit')])
        # Settled fitting runs and every held-out run stay where they are.
        for key in (('libvirt-campaign-23', 'fit'),
                    ('libvirt-campaign-21', 'held-out')):
            self.assertEqual(before[key], after[key])
            self.assertGreater(after[key], 0)


class TestPauseParts(testtools.TestCase):

    def _rows(self):
        # Transfers made of 0.8 x the threshold plus 2.5 MB per
        # connection, TCP or TLS; switch-over + resume 10 ms and prepare
        # 300 ms per (1 + load).
        rows = []
        for i, (transport, parallel, limit, load) in enumerate([
                ('tcp', 1, 30, 0.5), ('tcp', 2, 40, 1.0), ('tcp', 3, 50, 2.0),
                ('tls', 1, 40, 0.0), ('tls', 3, 30, 1.5),
                ('tcp', 1, 50, 3.0)]):
            goodput = 60.0 + 10 * i           # MB/s
            mb = 0.8 * goodput * limit / 1000.0 + 2.5 * parallel
            rows.append({
                'outcome': 'completed', 'transport': transport,
                'parallel': str(parallel), 'limit_at_stop_ms': str(limit),
                'link_goodput_mbps': str(goodput * 8),
                'transfer_ms': str(mb / goodput * 1000.0),
                'switchover_ms': str(4.0 * (1 + load)),
                'resume_ms': str(6.0 * (1 + load)),
                'qemu_start_s': str(0.3 * (1 + load)),
                'load': load})
        return rows

    def test_measured_recovers_the_parts(self):
        got = libvirt_parts.measured(self._rows(), {},
                                     lambda r: r['load'])
        self.assertAlmostEqual(0.8, got['stop_share'], places=6)
        mib = 1e6 / 2 ** 20
        # One buffer per connection, the same for both transports.
        self.assertAlmostEqual(2.5 * mib, got['buffer:tcp'], places=6)
        self.assertAlmostEqual(2.5 * mib, got['buffer:tls'], places=6)
        self.assertAlmostEqual(10.0, got['fixed_down_ms'], places=6)
        self.assertAlmostEqual(300.0, got['setup_ms'], places=6)
        self.assertEqual(0.0, got['iteration_ms'])

    def test_timeout_action_lag(self):
        # Nova's timeout: 3 s per GiB of at least 2 GiB -> 6 s.
        row = {'outcome': 'forced-pause', 'pause_at_s': '6.5',
               'nova_completion_timeout_s': '3', 'memory_mib': '1280'}
        self.assertAlmostEqual(0.5, libvirt_parts.action_lag_s(row))
        row = dict(row, outcome='post-copy', postcopy_at_s='13.0',
                   memory_mib='4096')
        self.assertAlmostEqual(1.0, libvirt_parts.action_lag_s(row))
        for bad in (dict(row, outcome='aborted'), dict(row, postcopy_at_s=''),
                    dict(row, nova_completion_timeout_s='0')):
            self.assertIsNone(libvirt_parts.action_lag_s(bad))
        rows = self._rows()
        self.assertNotIn('timeout_action_s', libvirt_parts.measured(
            rows, {}, lambda r: r['load']))
        for lag in (0.4, 0.5, 0.6, 0.7, 2.0):
            rows.append({'outcome': 'forced-pause', 'memory_mib': '1024',
                         'pause_at_s': str(6.0 + lag),
                         'nova_completion_timeout_s': '3'})
        self.assertAlmostEqual(0.6, libvirt_parts.measured(
            rows, {}, lambda r: r.get('load', 0.0))['timeout_action_s'])

    def test_cipher_from_the_receiving_thread(self):
        # 1 GB through the destination's thread: 0.25 CPU s over TCP
        # (32 Gbit per CPU s), 0.5 s over TLS (16): TLS's own cost is
        # 1 / 16 - 1 / 32 CPU s per Gbit, 32 Gbit/s per core.
        def run(transport, cpu_s, parallel=1):
            return {'outcome': 'completed', 'transport': transport,
                    'parallel': str(parallel), 'memory_processed': '4e9',
                    'dst_recv_run_s': str(cpu_s)}
        self.assertAlmostEqual(32.0, libvirt_parts.receive_gbps(
            run('tcp', 1.0)))
        for no in (run('tcp', 1.0, parallel=2), run('tcp', 0),
                   run('tcp', ''), dict(run('tls', 1.0),
                                        memory_processed='')):
            self.assertIsNone(libvirt_parts.receive_gbps(no))
        rows = ([run('tcp', s) for s in (0.9, 1.0, 1.0, 1.1, 5.0)] +
                [run('tls', s) for s in (1.9, 2.0, 2.0, 2.1, 0.1)])
        self.assertAlmostEqual(32.0, libvirt_parts.cipher_gbps(rows))
        # The fit takes it rather than searching it.
        got = libvirt_parts.measured(self._rows() + rows, {},
                                     lambda r: r.get('load', 0.0))
        self.assertAlmostEqual(32.0, got['crypto:tls'])
        # Fewer than 5 runs of a transport: the search keeps it.
        self.assertIsNone(libvirt_parts.cipher_gbps(rows[1:]))
        self.assertNotIn('crypto:tls', libvirt_parts.measured(
            self._rows() + rows[1:], {}, lambda r: r.get('load', 0.0)))
        # TLS no dearer than TCP: no cipher limit.
        self.assertEqual(math.inf, libvirt_parts.cipher_gbps(
            rows[:5] + [run('tls', 1.0)] * 5))

    def test_too_few_runs_leave_it_to_the_search(self):
        self.assertEqual({}, libvirt_parts.measured(
            self._rows()[:4], {}, lambda r: r['load']))

    def test_no_negative_term(self):
        x = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]])
        y = np.array([3.0, 2.0, 1.0])      # unconstrained: slope -1
        coef = libvirt_parts.nonnegative_lstsq(x, y)
        self.assertTrue((coef >= 0).all())
        self.assertAlmostEqual(2.0, coef[1])
        self.assertEqual(0.0, coef[0])


class TestLoadInput(testtools.TestCase):

    def test_saturated_host_by_each_measure(self):
        # Eight runnable threads on two CPUs, both CPUs busy all the run,
        # a 10 Gbit/s link: the migration thread is the limit.
        row = _row(load1_start=8, load1_end=8, cpu_busy=1.0,
                   bandwidth_mbps=10000)
        self.assertEqual(1.0, libvirt_loadinput.busy_share(row))
        self.assertEqual(4.0, libvirt_loadinput.agent_load(row))
        # Below saturation the busy share leads a lagging load average.
        idle = _row(load1_start=0.2, load1_end=0.2, cpu_busy=0.45)
        self.assertEqual(0.45, libvirt_loadinput.agent_load(idle))
        fitted = fit.load(os.path.join(raw_campaign.DATA_DIR,
                                       'libvirt-fitted-params.json'))
        capped, agent = (libvirt_model.estimate_rows([row], fitted,
                                                     load_of=f)[0]
                         for f in (libvirt_loadinput.busy_share,
                                   libvirt_loadinput.agent_load))
        # The stream gets 1/5 of a core, not 1/2: 2.5 times as long to
        # send (less the fixed setup and hand-off).
        self.assertGreater(agent['total_ms'], 2.0 * capped['total_ms'])
        self.assertGreater(agent['downtime_ms'], capped['downtime_ms'])

    def test_report_per_group_and_band(self):
        fitted = fit.load(os.path.join(raw_campaign.DATA_DIR,
                                       'libvirt-fitted-params.json'))
        rows = [_row(load1_start=8, load1_end=8, cpu_busy=1.0),
                _row(load1_start=1, load1_end=1, cpu_busy=0.6)]
        out = []
        libvirt_loadinput.report((('held-out', rows), ('fit', rows[1:])),
                                 fitted, out)
        # Header; held-out: all, light, loaded; fit: all and light
        # (nothing loaded).
        self.assertEqual(1 + 5 * (1 + len(libvirt_loadinput.INPUTS)),
                         len(out))
        self.assertIn('held-out, load/CPU <= 1 (1 runs)', out[5])
        self.assertIn('held-out, load/CPU > 1 (1 runs)', out[9])


class TestBounds(testtools.TestCase):

    def _rows(self, ratios, group):
        # Expected 100 ms each (see the fake estimate): pause = 100 x ratio.
        return [{'outcome': 'completed', 'group': group,
                 'downtime_e2e_ms': str(100.0 * r)} for r in ratios]

    def test_conformal_factor_and_held_out_cover(self):
        self.useFixture(fixtures.MonkeyPatch(
            'qslm_nova.testbed.libvirt_model.estimate_rows',
            lambda rows, fitted, variant=None: [{'downtime_ms': 100.0}
                                                for _ in rows]))
        train = self._rows([0.5 + 0.1 * i for i in range(9)], 'fit')
        held = self._rows([0.6, 0.9, 1.2, 1.5], 'held-out')
        got = libvirt_bounds.tradeoff(train, held, None,
                                      confidences=(0.5, 0.9, 0.95))
        # 9 runs: rank ceil(10 x 0.5) = 5 -> 0.9; ceil(9) = 9 -> 1.3;
        # ceil(9.5) = 10 > 9 -> no bound.
        self.assertAlmostEqual(0.9, got[0][1])
        self.assertEqual(0.5, got[0][2])
        self.assertAlmostEqual(1.3, got[1][1])
        self.assertEqual(0.75, got[1][2])
        self.assertAlmostEqual(np.median([1.3 / r for r in
                                          (0.6, 0.9, 1.2, 1.5)]), got[1][3])
        self.assertEqual(math.inf, got[2][1])
        self.assertEqual(1.0, got[2][2])
        out = []
        libvirt_bounds.report(train, held, None, out)
        self.assertIn('conformal rank', out[0])
        self.assertEqual(len(libvirt_bounds.CONFIDENCES) + 1, len(out))
