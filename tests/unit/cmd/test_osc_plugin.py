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


"""``openstack qslm ...``: the same commands inside OpenStackClient."""

import argparse
import json

from qslm_nova.osc import plugin
from tests.unit.cmd import base


class TestOpenStackClient(base.CLITestCase):

    def test_same_output_as_qslm_nova(self):
        args = ('plan', '--cloud-file', base.SAMPLE, '-f', 'json', '--long')
        rc, osc_out, err = self.run_osc('qslm', *args)
        self.assertEqual(0, rc, err)
        rc, own_out, err = self.run_cli(*args)
        self.assertEqual(0, rc, err)
        self.assertEqual(json.loads(own_out), json.loads(osc_out))

    def test_statuses(self):
        common = ('--cloud-file', base.SAMPLE)
        self.assertEqual(0, self.run_osc('qslm', 'check', 'db-1', '--host',
                                         'compute-a2', *common)[0])
        self.assertEqual(1, self.run_osc('qslm', 'check', 'db-1', '--host',
                                         'compute-a3', *common)[0])
        rc, out, err = self.run_osc('qslm', 'check', 'db-1', '--host',
                                    'nosuch', *common)
        self.assertEqual(2, rc)
        self.assertIn("unknown host 'nosuch'", err)
        rc, out, err = self.run_osc('qslm', 'topology', 'validate',
                                    base.SAMPLE, '-f', 'json')
        self.assertEqual(0, rc, err)
        self.assertTrue(json.loads(out)['Valid'])

    def test_listed_with_help(self):
        rc, out, err = self.run_osc('help', 'qslm', 'check')
        self.assertIn(rc, (0, None))
        self.assertIn(' qslm check [-h]', out)   # NAME is argv[0]'s
        self.assertIn('provided by the qslm-nova plugin', out)
        self.assertIn('--cloud-file FILE', out)

    def test_global_options_after_the_command(self):
        rc, out, err = self.run_osc('qslm', 'plan', 'db-1', '--cloud-file',
                                    base.SAMPLE, '-f', 'json', '--debug')
        self.assertEqual(0, rc, err)
        self.assertEqual(5, len(json.loads(out)))

    def test_plugin_interface(self):
        parser = argparse.ArgumentParser()
        plugin.build_option_parser(parser)
        self.assertEqual('1', parser.parse_args([]).os_qslm_api_version)
        self.assertIn(plugin.DEFAULT_API_VERSION, plugin.API_VERSIONS)
