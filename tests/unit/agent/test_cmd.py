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

"""The agent's Nova client follows [nova]'s endpoint options."""

import os
import warnings

import fixtures
from oslotest import base

from qslm_nova.agent import cmd

CONF_TEXT = """\
[nova]
auth_type = password
auth_url = http://192.0.2.1/identity
username = nova
password = secret
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionTwo
valid_interfaces = internal
endpoint_override = http://192.0.2.9:8774/v2.1
"""


class TestNovaClient(base.BaseTestCase):

    def conf(self, text):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'agent.conf')
        with open(path, 'w') as f:
            f.write(text)
        return cmd.make_conf(['--config-file', path])

    def test_endpoint_region_and_interface_from_the_nova_group(self):
        conf = self.conf(CONF_TEXT)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            client = cmd.nova_client_for(conf).client
        # novaclient's name for the interface (no deprecation warning).
        self.assertEqual([], [str(w.message) for w in caught
                              if 'deprecated' in str(w.message)])
        self.assertEqual(('http://192.0.2.9:8774/v2.1', 'RegionTwo',
                          'internal', 'compute'),
                         (client.endpoint_override, client.region_name,
                          client.interface, client.service_type))

    def test_defaults_are_the_public_compute_endpoint(self):
        text = '\n'.join(line for line in CONF_TEXT.splitlines()
                         if not line.startswith(('region_name',
                                                 'valid_interfaces',
                                                 'endpoint_override')))
        client = cmd.nova_client_for(self.conf(text)).client
        self.assertEqual((None, None, 'public', 'compute'),
                         (client.endpoint_override, client.region_name,
                          client.interface, client.service_type))
