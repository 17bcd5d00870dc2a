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

"""Shortened values and the bounded error list."""

from oslotest import base

from qslm_nova import exception
from qslm_nova.topology import checks


class TestShow(base.BaseTestCase):

    def test_small_values_as_repr(self):
        for value in (None, True, 1.5, -3, 'tls', ['a', 'b'], {'b': 1, 'a': 2},
                      [['none']], ''):
            self.assertEqual(repr(value), checks.show(value))

    def test_large_values_shortened(self):
        self.assertEqual("'%s...%s'" % ('x' * 37, 'x' * 38),
                         checks.show('x' * 10 ** 6))
        self.assertEqual('[0, 1, 2, 3, 4, 5, 6, 7, ...]',
                         checks.show(list(range(10 ** 6))))
        self.assertEqual('[[[[...]]]]', checks.show([[[[[1]]]]]))
        self.assertEqual('100000000000000000...0000000000000000000',
                         checks.show(10 ** 100))
        # An alias tree: never expanded.
        tree = ['lol'] * 9
        for _ in range(9):
            tree = [tree] * 9
        self.assertEqual(checks.SHOW_CHARS + 3, len(checks.show(tree)))

    def test_names(self):
        self.assertEqual('a, b', checks.name_list(['a', 'b']))
        self.assertEqual(', '.join('n%d' % i for i in range(11)) + ', ...',
                         checks.name_list('n%d' % i for i in range(10 ** 9)))
        self.assertEqual('7', checks.key_text(7))
        self.assertEqual("'%s...%s'" % ('k' * 37, 'k' * 38),
                         checks.key_text('k' * 81))


class TestChecker(base.BaseTestCase):

    def test_errors_are_capped(self):
        chk = checks.Checker('t.yaml')
        chk.raise_errors()
        for i in range(checks.MAX_ERRORS + 5):
            chk.err('links[%d]' % i, 'wrong')
        e = self.assertRaises(exception.TopologyError, chk.raise_errors)
        self.assertEqual(checks.MAX_ERRORS + 1, len(e.errors))
        self.assertEqual('t.yaml: links[0]: wrong', e.errors[0])
        self.assertEqual('t.yaml: 5 more errors not shown', e.errors[-1])

    def test_number_too_large_for_a_float(self):
        chk = checks.Checker('t.yaml')
        self.assertIsNone(chk.number({'x': 10 ** 400}, 'x', 'p'))
        self.assertEqual(['t.yaml: p.x: must be finite, got '
                          '100000000000000000...0000000000000000000'],
                         chk.errors)
