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

"""The fuzz suite as a whole runs at least 10,000 inputs per CI run."""

import importlib
import os
import pkgutil

from oslotest import base as oslo_base
from testtools import content

from tests.fuzz import base

HERE = os.path.dirname(os.path.abspath(__file__))


def fuzz_modules():
    """Every tests/fuzz/test_fuzz_*.py module, imported."""
    return [importlib.import_module('tests.fuzz.' + info.name)
            for info in pkgutil.iter_modules([HERE])
            if info.name.startswith('test_fuzz_')]


class TestBudget(oslo_base.BaseTestCase):

    def test_suite_states_enough_examples(self):
        modules = fuzz_modules()
        self.assertTrue(modules)
        rows = sorted(base.REGISTRY.items())
        total = sum(d.examples for _n, d in rows)
        budget = sum(d.budget_s for _n, d in rows)
        report = '\n'.join('%6d  %5.0f s  %s' % (d.examples, d.budget_s, n)
                           for n, d in rows)
        report += '\n%6d  %5.0f s  in all (seed %d, scale %s)' % (
            total, budget, base.SEED, base.SCALE)
        self.addDetail('fuzz-budget', content.text_content(report))
        self.assertGreaterEqual(
            total, base.MIN_TOTAL_EXAMPLES,
            'the fuzz modules state %d examples, fewer than the %d per run '
            'issue 15 asks for:\n%s' % (
                total, base.MIN_TOTAL_EXAMPLES, report))
        for module in modules:
            self.assertTrue(
                any(n.startswith(module.__name__ + '.') for n, _d in rows),
                '%s has no property declared with tests.fuzz.base.given'
                % module.__name__)
