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


"""Running the commands in-process, as qslm-nova and as openstack."""

import io
import json
import os
import struct

import fixtures
import testtools

from qslm_nova.cmd import main as qslm_main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SAMPLE = os.path.join(ROOT, 'etc', 'qslm-nova', 'sample-cloud.yaml')
TOPOLOGY_SAMPLE = os.path.join(ROOT, 'etc', 'qslm-nova',
                               'topology.yaml.sample')

OS_VARS = ('OS_CLOUD', 'OS_AUTH_URL', 'OS_AUTH_TYPE', 'OS_TOKEN',
           'OS_ENDPOINT', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME',
           'OS_USER_DOMAIN_NAME', 'OS_PROJECT_DOMAIN_NAME', 'OS_USER_ID',
           'OS_REGION_NAME', 'OS_INTERFACE', 'OS_CLIENT_CONFIG_FILE',
           'OS_CLIENT_SECURE_FILE', 'COLUMNS', 'CLIFF_FIT_WIDTH',
           'CLIFF_MAX_TERM_WIDTH')


def png_size(data):
    """(width, height) from a PNG's signature and IHDR chunk."""
    if data[:8] != b'\x89PNG\r\n\x1a\n' or data[12:16] != b'IHDR':
        raise ValueError('not a PNG')
    return struct.unpack('>II', data[16:24])


class Stream(io.StringIO):
    """A captured stream that can claim to be a terminal."""

    def __init__(self, tty=False):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


class CLITestCase(testtools.TestCase):
    """No credentials, clouds.yaml or nova.conf of the developer leak in."""

    def setUp(self):
        super().setUp()
        for name in OS_VARS:
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.EnvironmentVariable('HOME', self.tmp))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_CONFIG_FILE', os.path.join(self.tmp, 'clouds.yaml')))
        self.useFixture(fixtures.EnvironmentVariable(
            'OS_CLIENT_SECURE_FILE', os.path.join(self.tmp, 'secure.yaml')))
        # osc-lib adds a console handler to the root logger on every run.
        self.useFixture(fixtures.FakeLogger())
        # oslo.config looks for nova.conf under HOME and /etc.
        self.useFixture(fixtures.MockPatch(
            'oslo_config.cfg.find_config_files',
            side_effect=self.find_config_files))
        self.useFixture(fixtures.MockPatch(
            'oslo_config.cfg.find_config_dirs', return_value=[]))

    def find_config_files(self, project=None, prog=None, extension='.conf'):
        path = os.path.join(self.tmp, 'nova.conf')
        return [path] if os.path.exists(path) else []

    def env(self, **values):
        for name, value in values.items():
            self.useFixture(fixtures.EnvironmentVariable(name, value))

    def run_cli(self, *argv, tty=False, main=None):
        """(status, stdout, stderr) of ``qslm-nova argv``."""
        out, err = Stream(tty), Stream(tty)
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        try:
            rc = (main or qslm_main.main)(list(argv))
        except SystemExit as e:
            rc = e.code
        return rc, out.getvalue(), err.getvalue()

    def run_osc(self, *argv, tty=False):
        """(status, stdout, stderr) of ``openstack argv``."""
        from openstackclient import shell as osc_shell
        return self.run_cli(*argv, tty=tty, main=osc_shell.main)

    def json_cli(self, *argv, expect=(0, 1)):
        rc, out, err = self.run_cli(*(argv + ('-f', 'json')))
        self.assertIn(rc, expect, err)
        return rc, json.loads(out)
