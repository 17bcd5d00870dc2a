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


"""The conf package registers every module once, and only it registers.

Nova-style: ``qslm_nova.conf`` registers its option modules on the
global ``CONF`` when imported; no other module registers options at
import (the trust provider loader registers a provider's options when it
loads the provider).
"""

import ast
import json
import os
import subprocess
import sys

import fixtures
from oslo_config import cfg
from oslotest import base

from qslm_nova import conf
from qslm_nova.conf import opts

PACKAGE = os.path.dirname(os.path.abspath(conf.__file__))
SOURCE = os.path.dirname(PACKAGE)
REGISTERING = ('register_opt', 'register_opts', 'register_group',
               'register_cli_opt', 'register_cli_opts')


def registrations_at_import(path):
    """Line numbers of option registrations outside any function."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    found = []

    def visit(node, in_function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.Lambda)):
            in_function = True
        if (not in_function and isinstance(node, ast.Call) and
                isinstance(node.func, ast.Attribute) and
                node.func.attr in REGISTERING):
            found.append(node.lineno)
        if (not in_function and isinstance(node, ast.Call) and
                isinstance(node.func, ast.Name) and
                node.func.id in REGISTERING):
            found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, in_function)

    visit(tree, False)
    return found


class TestRegistration(base.BaseTestCase):

    def test_global_conf_has_every_qslm_option(self):
        listed = dict((g.name, o) for g, o in opts.list_opts())['qslm']
        for opt in listed:
            self.assertIn(opt.name, conf.CONF.qslm)

    def test_register_opts_twice_is_harmless(self):
        fresh = cfg.ConfigOpts()
        conf.register_opts(fresh)
        conf.register_opts(fresh)
        fresh([], project='qslm-nova-test')
        self.assertTrue(fresh.qslm.fail_closed)

    def test_only_the_package_registers_at_import(self):
        offenders = {}
        for root, _dirs, files in os.walk(SOURCE):
            for name in files:
                if not name.endswith('.py'):
                    continue
                path = os.path.join(root, name)
                lines = registrations_at_import(path)
                if lines:
                    offenders[os.path.relpath(
                        path, os.path.dirname(SOURCE))] = lines
        self.assertEqual(['qslm_nova/conf/__init__.py'], sorted(offenders))
        self.assertEqual(1, len(offenders['qslm_nova/conf/__init__.py']))

    def test_scan_finds_a_registration_at_import(self):
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'module.py')
        with open(path, 'w') as f:
            f.write('from oslo_config import cfg\n'
                    'cfg.CONF.register_opts([])\n'
                    'def later(conf):\n'
                    '    conf.register_opts([])\n')
        self.assertEqual([2], registrations_at_import(path))

    def test_conf_imports_no_adapter(self):
        # The options do not import the modules that read them: no cycle.
        code = ('import json, sys, qslm_nova.conf; '
                'print(json.dumps(sorted(m for m in sys.modules '
                'if m.startswith("qslm_nova"))))')
        out = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True).stdout
        self.assertEqual([], [m for m in json.loads(out)
                              if not m.startswith('qslm_nova.conf') and
                              m != 'qslm_nova'])
