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

"""The bounded YAML reader against PyYAML's safe_load, and its refusals."""

import datetime
import random

from oslotest import base
import yaml

from bench import topogen
from qslm_nova import cloudfile
from qslm_nova.topology import safeyaml
from tests.unit import randomcloud as rc


def load(text, max_depth=32, max_values=100000):
    return safeyaml.load(text, max_depth, max_values)


class TestSameAsSafeLoad(base.BaseTestCase):
    """Where PyYAML's safe_load reads a file, the reader reads the same."""

    def assertSame(self, text):
        expected = yaml.load(text, Loader=yaml.CSafeLoader)  # nosec
        got = load(text, max_values=10 ** 7)
        self.assertEqual(expected, got)
        # Key order too: hosts are numbered in file order.
        self.assertEqual(repr(expected), repr(got))

    def test_sample_files(self):
        for path in (cloudfile.sample_path(),
                     cloudfile.sample_path().replace('sample-cloud.yaml',
                                                     'topology.yaml.sample')):
            with open(path, encoding='utf-8') as f:
                self.assertSame(f.read())

    def test_generated_and_random_clouds(self):
        rng = random.Random(5)
        docs = [topogen.generate(100, fabric='mixed', seed=2)]
        docs += [rc.random_doc(rng) for _ in range(20)]
        for doc in docs:
            for flow in (False, True, None):
                self.assertSame(yaml.safe_dump(doc, default_flow_style=flow,
                                               sort_keys=False))

    def test_scalars(self):
        self.assertSame(
            'a: [1, -2, 0x1f, 0o17, 1_000, 1:30, 1.5, -.5, 1e3, .inf, -.Inf,'
            ' .nan, true, False, yes, no, on, off, null, ~, "", "1", \'x\', '
            '2026-11-25, 2026-11-25T12:00:00Z, 2026-11-25 12:00:00.5 +01:00,'
            ' !!str 12, !!float 3, !!int "7", !!binary aGVsbG8=, <<x]\n'
            'b: |\n  block\n  text\nc: >\n  folded\n  text\n'
            'd:\ne: ! 12\n')

    def test_anchors_aliases_and_merge_keys(self):
        self.assertSame('base: &b {trusted: true, site: east}\n'
                        'lst: &l [tls, none]\n'
                        'a: {<<: *b, mechanisms: *l}\n'
                        'b: {<<: [*b, {site: west, x: 1}], y: 2}\n'
                        'c: {<<: {z: 3}, site: north}\n'
                        's: &s text\nt: *s\n')

    def test_keys_of_every_scalar_type(self):
        self.assertSame('{~: 1, a: ~, 1: 2, 1.5: x, false: y, 2026-11-25: z, '
                        '"": e, <<x: m}\n')
        self.assertSame('? ~\n: [~]\nnull2: ~\n')

    def test_empty_documents(self):
        for text in ('', '# only a comment\n', '---\n', '--- \n...\n'):
            self.assertIsNone(load(text))

    def test_merge_key_override(self):
        # The mapping's own keys win over merged ones, the first merged
        # mapping over later ones (YAML's merge key specification).
        self.assertEqual(
            {'a': 1, 'b': 2, 'c': 30},
            load('x: &x {a: 10, b: 2}\ny: &y {a: 100, c: 30}\n'
                 'z: {<<: [*x, *y], a: 1}\n')['z'])

    def test_timestamps(self):
        self.assertEqual(datetime.date(2026, 11, 25), load('2026-11-25'))

    def test_value_key_is_text(self):
        # PyYAML cannot construct "=" (the "value" key type) as a value.
        self.assertEqual({'=': '='}, load('=: ='))


class TestRefusals(base.BaseTestCase):

    def assertRefused(self, text, message, **limits):
        e = self.assertRaises(safeyaml.ReadError, load, text, **limits)
        self.assertEqual(message, str(e))

    def test_depth_checked_before_entering(self):
        self.assertEqual([[[[1]]]], load('[[[[1]]]]', max_depth=4))
        self.assertRefused('[[[[[1]]]]]', 'line 1, column 5: nested deeper '
                           'than 4 levels ([qslm] topology_max_depth)',
                           max_depth=4)
        self.assertRefused('a:\n  b:\n    c:\n      d:\n        e: 1\n',
                           'line 5, column 9: nested deeper than 4 levels '
                           '([qslm] topology_max_depth)', max_depth=4)

    def test_fifty_thousand_brackets(self):
        e = self.assertRaises(safeyaml.ReadError, load,
                              'version: 1\nhosts: ' + '[' * 50000)
        self.assertIn('nested deeper than 32 levels', str(e))

    def test_aliases_count_what_they_stand_for(self):
        text = ('a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\n'
                'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n'
                'c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n')
        # Every key and value: the mapping, then each key and its list:
        # 1 + (1 + 10) + (1 + 1 + 9 * 10) + (1 + 1 + 9 * 91) = 925.
        self.assertEqual(3, len(load(text, max_values=925)))
        self.assertRefused(text, 'line 3, column 37: more than 924 values '
                           '([qslm] topology_max_values; an alias counts as '
                           'the values it stands for)', max_values=924)

    def test_billion_laughs(self):
        lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]']
        for i in range(1, 10):
            lines.append('a%d: &a%d [%s]' % (i, i, ', '.join(
                ['*a%d' % (i - 1)] * 9)))
        e = self.assertRaises(safeyaml.ReadError, load, '\n'.join(lines),
                              max_values=5000000)
        self.assertIn('more than 5000000 values', str(e))

    def test_recursive_and_undefined_aliases(self):
        self.assertRefused('a: &a [1, *a]', 'line 1, column 11: alias *a is '
                           'recursive')
        self.assertRefused('a: *nowhere', 'line 1, column 4: alias *nowhere '
                           'is not defined')

    def test_complex_keys(self):
        self.assertRefused('? [a]\n: 1\n', 'line 1, column 3: a mapping key '
                           'must be a plain value, not a list')
        self.assertRefused('{? {a: 1} : 1}', 'line 1, column 4: a mapping '
                           'key must be a plain value, not a mapping')
        self.assertRefused('x: &x [1]\n*x : 2\n', 'line 2, column 1: a '
                           'mapping key must be a plain value, not list')

    def test_duplicate_keys(self):
        self.assertRefused('a: 1\nb: 2\na: 3\n', "line 3: duplicate key 'a' "
                           "(first at line 1)")
        self.assertRefused('{1: a, 1: b}', 'line 1: duplicate key 1 (first '
                           'at line 1)')

    def test_tags(self):
        for text, tag in (('!!python/object/apply:os.getcwd []',
                           'tag:yaml.org,2002:python/object/apply:os.getcwd'),
                          ('a: !!python/name:os.system x',
                           'tag:yaml.org,2002:python/name:os.system'),
                          ('a: !custom 1', '!custom'),
                          ('!!set {a, b}', 'tag:yaml.org,2002:set'),
                          ('!!omap [a: 1]', 'tag:yaml.org,2002:omap'),
                          ('!!str [a]', 'tag:yaml.org,2002:str')):
            e = self.assertRaises(safeyaml.ReadError, load, text)
            self.assertIn('tag %s is not allowed in a topology file' % tag,
                          str(e))

    def test_numbers(self):
        for text in ('1' * 101, '1' + ':1' * 50000, '1.' + '5' * 100,
                     '0x' + 'f' * 99):
            e = self.assertRaises(safeyaml.ReadError, load, 'a: ' + text)
            self.assertEqual('line 1, column 4: a number of more than 100 '
                             'characters', str(e))
        self.assertEqual({'a': 10 ** 99}, load('a: 1' + '0' * 99))

    def test_values_python_cannot_hold(self):
        self.assertRefused('a: 2026-13-45', "line 1, column 4: cannot read "
                           "'2026-13-45' as timestamp: month must be in "
                           "1..12")
        self.assertRefused('a: 0000-01-01', "line 1, column 4: cannot read "
                           "'0000-01-01' as timestamp: year 0 is out of "
                           "range")
        self.assertRefused('a: !!int x', "line 1, column 4: cannot read 'x' "
                           "as int: invalid literal for int() with base 10: "
                           "'x'")

    def test_merge_of_a_list(self):
        self.assertRefused('a: {<<: [1, 2]}', 'line 1, column 9: a merge key '
                           '(<<) takes a mapping or a list of mappings')

    def test_more_than_one_document(self):
        self.assertRefused('a: 1\n---\nb: 2\n', 'line 2, column 1: expected '
                           'a single document, found another')

    def test_not_yaml(self):
        self.assertRaises(yaml.YAMLError, load, 'a: [\n')
        self.assertRaises(yaml.YAMLError, load, 'a: b: c')
        self.assertRaises(yaml.YAMLError, load, '\x00')
