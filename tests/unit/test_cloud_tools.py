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

"""tools/cloud without a cloud: stopping after a crash, the stand-in."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import fixtures
from oslotest import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, 'tools', 'cloud')
sys.path.insert(0, TOOLS)
import procs  # noqa: E402  (tools/cloud is not a package)


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(') ', 1)[1][0] != 'Z'
    except OSError:
        return False


class TestStopAfterCrash(base.BaseTestCase):

    def test_stop_finds_groups_and_escaped_children(self):
        state = self.useFixture(fixtures.TempDir()).path
        sup = procs.Supervisor(state)
        # A service whose child leaves the process group (as epmd does).
        sup.spawn('svc', ['sh', '-c', 'setsid sleep 300 & echo $! > %s; '
                          'exec sleep 300' % os.path.join(state, 'child')])
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(state, 'child')):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        time.sleep(0.2)
        with open(os.path.join(state, 'child')) as f:
            child = int(f.read())
        service = sup.procs['svc'].pid
        self.assertTrue(alive(child))
        # "The start crashed": a new supervisor knows only the directory.
        names = procs.Supervisor(state).stop_all(timeout=10)
        sup.procs['svc'].wait(timeout=10)
        self.assertEqual(['svc'], names)
        deadline = time.monotonic() + 10
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(alive(child), 'escaped child still runs')
        self.assertFalse(alive(service))
        self.assertEqual([], os.listdir(os.path.join(state, 'run')))

    def test_run_failure_names_command_and_log(self):
        sup = procs.Supervisor(self.useFixture(fixtures.TempDir()).path)
        e = self.assertRaises(procs.CloudError, sup.run, 'step',
                              ['sh', '-c', 'echo broken; exit 3'])
        self.assertIn('step: sh -c echo broken; exit 3 exited 3', str(e))
        self.assertIn('broken', str(e))


class TestNetworkStandIn(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.port = procs.free_port()
        proc = subprocess.Popen(
            [sys.executable, os.path.join(TOOLS, 'network_standin.py'),
             str(self.port)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.addCleanup(proc.wait, 10)
        self.addCleanup(proc.terminate)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.get('/')
                break
            except OSError:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)

    def get(self, path, method='GET'):
        req = urllib.request.Request(
            'http://127.0.0.1:%d%s' % (self.port, path), method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())

    def test_reads_nova_makes_are_empty(self):
        self.assertEqual((200, {'ports': []}),
                         self.get('/v2.0/ports?device_id=x&fields=id'))
        self.assertEqual((200, {'networks': []}),
                         self.get('/v2.0/networks?shared=True'))
        self.assertEqual((200, {'extensions': []}),
                         self.get('/v2.0/extensions'))
        status, doc = self.get('/')
        self.assertEqual('v2.0', doc['versions'][0]['id'])

    def test_anything_else_fails_loudly(self):
        for path, method in (('/v2.0/ports', 'POST'),
                             ('/v2.0/routers', 'GET'),
                             ('/v2.0/ports/x', 'DELETE')):
            e = self.assertRaises(urllib.error.HTTPError, self.get, path,
                                  method)
            self.assertEqual(501, e.code, path)
            self.assertIn(b'no network service', e.read())


class TestAgentConfiguration(base.BaseTestCase):

    def test_the_plugin_writes_what_the_agent_reads(self):
        import configparser
        import types

        import agents
        import identity
        from qslm_nova.agent import cmd as agent_cmd

        tmp = self.useFixture(fixtures.TempDir()).path
        state = types.SimpleNamespace(
            dir=tmp, repo=ROOT,
            venv=os.path.dirname(os.path.dirname(sys.executable)),
            url=lambda name: 'http://127.0.0.1:5000')
        compute = os.path.join(tmp, 'compute-cmp-1.conf')
        with open(compute, 'w') as f:
            f.write('[DEFAULT]\nhost = cmp-1\n')
        path = agents.configure(procs.Supervisor(tmp), state, 'cmp-1',
                                compute)
        self.assertEqual(agents.paths(state, 'cmp-1')[0], path)
        conf = agent_cmd.make_conf(['--config-file', path])
        self.assertEqual((compute, agents.paths(state, 'cmp-1')[1]),
                         (conf.qslm_agent.nova_config_file,
                          conf.qslm_agent.state_path))
        self.assertTrue(os.path.isdir(conf.qslm_agent.state_path))
        ini = configparser.ConfigParser()
        ini.read(path)
        for group in ('nova', 'placement'):
            self.assertEqual(
                ('nova', identity.SERVICE_PASSWORD, 'service',
                 'http://127.0.0.1:5000', identity.REGION),
                tuple(ini[group][k] for k in (
                    'username', 'password', 'project_name', 'auth_url',
                    'region_name')))
