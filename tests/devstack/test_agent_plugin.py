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

"""The devstack plugin's compute agent: configuration and systemd unit."""

import os

from oslotest import base

from qslm_nova.agent import cmd as agent_cmd
from tests.devstack import test_plugin


class TestAgent(base.BaseTestCase):

    def env(self, services='n-api,n-sch,n-cond,n-cpu,qslm-agent'):
        denv = test_plugin.DevstackEnv(self, env={
            'ENABLED_SERVICES': services, 'SERVICE_PASSWORD': 'secret',
            'KEYSTONE_SERVICE_URI': 'http://192.0.2.1/identity'})
        denv.agent_conf = os.path.join(denv.conf_dir,
                                       'qslm-nova-agent.conf')
        return denv

    def calls(self, denv):
        with open(denv.log) as f:
            return [line.strip() for line in f
                    if line.startswith(('run_process', 'stop_process'))]

    def test_configured_started_and_stopped(self):
        denv = self.env()
        denv.phase('stack', 'post-config')
        # The file the plugin wrote is one the agent reads.
        conf = agent_cmd.make_conf(['--config-file', denv.agent_conf])
        self.assertEqual(denv.nova_conf, conf.qslm_agent.nova_config_file)
        self.assertTrue(conf.qslm_agent.state_path.endswith('qslm-agent'))
        for group in ('nova', 'placement'):
            self.assertEqual('password', conf[group].auth_type)
        denv.phase('stack', 'extra',
                   prelude=test_plugin.TestInstallAndExtra.OPENSTACK)
        run, = self.calls(denv)
        self.assertTrue(run.startswith('run_process qslm-agent '), run)
        self.assertIn('qslm-nova-agent --config-file %s' % denv.agent_conf,
                      run)
        exe = run.split()[2]
        self.assertTrue(os.access(exe, os.X_OK), exe)
        denv.phase('unstack')
        self.assertEqual('stop_process qslm-agent', self.calls(denv)[-1])
        self.assertTrue(os.path.exists(denv.agent_conf))
        denv.phase('clean')
        self.assertFalse(os.path.exists(denv.agent_conf))
        self.assertFalse(os.path.exists(denv.conf_dir))

    def test_not_enabled_nothing(self):
        denv = self.env('n-api,n-sch,n-cond,n-cpu')
        denv.phase('stack', 'post-config')
        denv.phase('stack', 'extra',
                   prelude=test_plugin.TestInstallAndExtra.OPENSTACK)
        denv.phase('unstack')
        self.assertEqual([], self.calls(denv))
        self.assertFalse(os.path.exists(denv.agent_conf))
