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

"""The [qslm] options and the settings built from them."""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslotest import base

from qslm_nova import conf
from qslm_nova import decision
from qslm_nova import estimator
from qslm_nova import policy


class TestOptions(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        conf.register_opts(self.conf)
        self.fixture = self.useFixture(config_fixture.Config(self.conf))
        self.conf([], project='qslm-nova-test')

    def test_list_opts(self):
        groups = conf.list_opts()
        group, opts = groups[0]
        self.assertEqual('qslm', group.name)
        self.assertIs(conf.ALL_OPTS, opts)
        names = [o.name for o in opts]
        self.assertEqual(len(names), len(set(names)))
        for name in ('topology_file', 'trust_providers', 'trust_combination',
                     'max_attestation_age', 'default_require_trusted_host',
                     'default_min_link_security', 'fail_closed',
                     'live_migration_downtime',
                     'live_migration_downtime_steps',
                     'live_migration_downtime_delay',
                     'live_migration_completion_timeout',
                     'live_migration_timeout_action',
                     'live_migration_permit_post_copy',
                     'live_migration_permit_auto_converge',
                     'live_migration_bandwidth'):
            self.assertIn(name, names)

    def test_every_option_has_help(self):
        for opt in conf.ALL_OPTS:
            self.assertTrue(opt.help and opt.help.strip(), opt.name)

    def test_nova_defaults_mirrored(self):
        # Nova's [libvirt] defaults.
        group = self.conf.qslm
        self.assertEqual(500, group.live_migration_downtime)
        self.assertEqual(10, group.live_migration_downtime_steps)
        self.assertEqual(75, group.live_migration_downtime_delay)
        self.assertEqual(800, group.live_migration_completion_timeout)
        self.assertEqual('abort', group.live_migration_timeout_action)
        self.assertFalse(group.live_migration_permit_post_copy)
        self.assertFalse(group.live_migration_permit_auto_converge)
        self.assertEqual(0, group.live_migration_bandwidth)

    def test_fail_closed_default(self):
        self.assertTrue(self.conf.qslm.fail_closed)

    def test_invalid_timeout_action_refused(self):
        self.assertRaises(ValueError, self.fixture.config,
                          live_migration_timeout_action='pause',
                          group='qslm')

    def test_downtime_minimum(self):
        self.assertRaises(ValueError, self.fixture.config,
                          live_migration_downtime=50, group='qslm')

    def test_trust_combination_choices(self):
        self.fixture.config(trust_combination='first', group='qslm')
        self.assertRaises(ValueError, self.fixture.config,
                          trust_combination='any', group='qslm')

    def test_settings_from_conf_defaults(self):
        s = decision.Settings.from_conf(self.conf.qslm)
        self.assertEqual(decision.Settings(), s)

    def test_settings_from_conf(self):
        self.fixture.config(group='qslm',
                            live_migration_downtime=800,
                            live_migration_downtime_steps=4,
                            live_migration_downtime_delay=30,
                            live_migration_completion_timeout=0,
                            live_migration_timeout_action='force_complete',
                            live_migration_permit_post_copy=True,
                            live_migration_permit_auto_converge=True,
                            live_migration_bandwidth=200,
                            default_require_encryption=True,
                            default_allowed_mechanisms=['tls'],
                            default_min_link_security='shared',
                            worst_dirty_factor=3.0,
                            setup_ms=5.0,
                            fail_closed=False,
                            sla_estimate='expected')
        s = decision.Settings.from_conf(self.conf.qslm)
        self.assertEqual(estimator.LibvirtSettings(
            downtime_ms=800, downtime_steps=4, downtime_delay_s=30,
            completion_timeout_s=0, timeout_action='force_complete',
            permit_post_copy=True, permit_auto_converge=True,
            bandwidth_mibps=200), s.libvirt)
        self.assertTrue(s.defaults.require_encryption)
        self.assertEqual(('tls',), s.defaults.allowed_mechanisms)
        self.assertEqual('shared', s.defaults.min_link_security)
        self.assertEqual(3.0, s.params.worst_dirty_factor)
        self.assertEqual(5.0, s.params.setup_ms)
        self.assertFalse(s.fail_closed)
        self.assertEqual('expected', s.sla_estimate)

    def test_policy_defaults_match_conf(self):
        self.assertEqual(policy.Defaults(),
                         policy.Defaults.from_conf(self.conf.qslm))

    def test_model_params_match_conf(self):
        self.assertEqual(estimator.ModelParams(),
                         estimator.ModelParams.from_conf(self.conf.qslm))

    def test_global_conf_registered(self):
        self.assertIn('topology_file', conf.CONF.qslm)


class TestConfigSample(base.BaseTestCase):

    def test_committed_sample_is_current(self):
        # etc/qslm-nova/qslm-nova.conf.sample is what `tox -e genconfig`
        # writes; a new or changed option must be regenerated into it.
        import os
        import subprocess
        import sys
        import tempfile
        top = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        committed = os.path.join(top, 'etc', 'qslm-nova',
                                 'qslm-nova.conf.sample')
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'sample')
            subprocess.run(
                [sys.executable, '-m', 'oslo_config.generator',
                 '--namespace', 'qslm_nova', '--wrap-width', '79',
                 '--output-file', out], check=True, cwd=top)
            with open(out) as f:
                fresh = f.read()
        with open(committed) as f:
            self.assertEqual(fresh, f.read(),
                             'regenerate it with tox -e genconfig')
