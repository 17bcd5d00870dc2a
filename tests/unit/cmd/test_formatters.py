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


"""The table fits the terminal; reasons and headers wrap at words."""

import argparse
import io
import random

import testtools

from qslm_nova.osc import formatters
from tests.unit.cmd import base


def words_of(text):
    return text.split()


class TestFitWidths(testtools.TestCase):

    def test_fits_and_keeps_floors(self):
        rng = random.Random(7)
        for _ in range(500):
            n = rng.randint(1, 12)
            natural = [rng.randint(1, 200) for _ in range(n)]
            floors = [min(w, rng.randint(1, 12)) for w in natural]
            available = rng.randint(0, 400)
            widths = formatters.fit_widths(natural, floors, available)
            for w, nat, fl in zip(widths, natural, floors):
                self.assertLessEqual(fl, w)
                self.assertLessEqual(w, nat)
            if sum(natural) <= available:
                self.assertEqual(natural, widths)
            elif sum(floors) <= available:
                self.assertEqual(available, sum(widths),
                                 (natural, floors, available))

    def test_wide_columns_give_up_most(self):
        widths = formatters.fit_widths([6, 10, 150, 30], [6, 10, 12, 9],
                                       100)
        self.assertEqual(100, sum(widths))
        self.assertEqual([6, 10], widths[:2])
        self.assertGreater(widths[2], 3 * widths[3])


def parsed(max_width=0, fit_width=False):
    return argparse.Namespace(max_width=max_width, fit_width=fit_width,
                              print_empty=False)


class TestTable(base.CLITestCase):

    def emit(self, columns, rows, args=None, tty=False):
        out = base.Stream(tty)
        formatters.TableFormatter().emit_list(columns, rows, out,
                                              args or parsed())
        return out.getvalue()

    def test_piped_table_keeps_its_width(self):
        text = 'word ' * 60
        out = self.emit(('A', 'Reasons'), [('x', text)])
        self.assertEqual(1, len(out.splitlines()[3].split('\n')))
        self.assertGreater(len(out.splitlines()[0]), 300)

    def test_columns_is_honoured(self):
        self.env(COLUMNS='60')
        reason = ('host compute-b2 is not trusted (static: attestation is '
                  '448200 s old, older than max_attestation_age 86400 s)')
        out = self.emit(('Server', 'Host', 'Reasons'),
                        [('db-1', 'compute-b2', reason)])
        lines = out.splitlines()
        self.assertTrue(all(len(line) <= 60 for line in lines), out)
        # The reason wraps inside its column, at word boundaries.
        cells = [line.split('|')[3].strip() for line in lines[3:-1]]
        self.assertEqual(words_of(reason), words_of(' '.join(cells)))
        self.assertTrue(all(c in reason.split() or ' ' in c or
                            c in words_of(reason) for c in cells))

    def test_terminal_width_and_options(self):
        self.env(COLUMNS='50')
        args = parsed()
        self.assertEqual(50, formatters.terminal_width(io.StringIO(), args))
        self.assertEqual(70, formatters.terminal_width(
            io.StringIO(), parsed(max_width=70)))
        self.useFixture(base.fixtures.EnvironmentVariable('COLUMNS'))
        self.assertIsNone(formatters.terminal_width(io.StringIO(), args))
        self.assertIsNotNone(formatters.terminal_width(
            io.StringIO(), parsed(fit_width=True)))
        self.assertIsNotNone(formatters.terminal_width(base.Stream(True),
                                                       args))

    def test_headers_wrap_when_columns_are_narrow(self):
        out = self.emit(('Server', 'Budget left ms', 'Reasons'),
                        [('db-1', 300, 'a ' * 40)], parsed(max_width=40))
        lines = out.splitlines()
        self.assertTrue(all(len(line) <= 40 for line in lines), out)
        end = lines.index(lines[0], 1)
        self.assertGreater(end, 2)          # a header of several lines
        self.assertEqual('Budget left ms', ' '.join(
            line.split('|')[2].strip() for line in lines[1:end]).strip())
        # Numbers stay right-aligned under a wrapped header.
        self.assertIn('|    300 |', out)

    def test_nothing_shows_as_a_dash(self):
        out = self.emit(('A', 'B'), [('x', None)])
        self.assertIn('| x | - |', out)

    def test_plan_fits_100_columns(self):
        self.env(COLUMNS='100')
        rc, out, err = self.run_cli('plan')
        self.assertEqual(0, rc, err)
        self.assertTrue(all(len(line) <= 100 for line in out.splitlines()))
        # Reasons gets the room: it is the widest column.
        head = out.splitlines()[0].split('+')[1:-1]
        self.assertEqual(max(len(c) for c in head), len(head[-1]))


class TestSameAsPrettytable(testtools.TestCase):
    """The table drawn directly is prettytable's, line for line."""

    def test_random_tables(self):
        import prettytable
        rng = random.Random(3)
        words = ['a', 'host', 'compute-b2', 'is', 'not', 'trusted', '300',
                 '(static:', 'attestation', 'x' * 14]
        for _ in range(200):
            ncol = rng.randint(1, 5)
            names = ['Col %d' % i for i in range(ncol)]
            rows = [[' '.join(rng.choice(words)
                              for _ in range(rng.randint(0, 12)))
                     if rng.random() < 0.8 else rng.randint(0, 99999)
                     for _ in range(ncol)]
                    for _ in range(rng.randint(1, 6))]
            out = base.Stream()
            width = rng.randint(30, 120)
            formatters.TableFormatter().emit_list(
                names, rows, out, parsed(max_width=width))
            got = out.getvalue().rstrip('\n')
            widths = [len(c) - 2 for c in got.split('\n')[0]
                      .split('+')[1:-1]]
            if any(len(n) > w for n, w in zip(names, widths)):
                continue            # a wrapped header: prettytable cuts
            table = prettytable.PrettyTable(names)
            table.padding_width = 1
            table.break_on_hyphens = False
            for i, (name, w) in enumerate(zip(names, widths)):
                table.max_width[name] = table.min_width[name] = w
                table.align[name] = formatters._alignment(
                    r[i] for r in rows)
            for row in rows:
                table.add_row([formatters._wrap(formatters._text(v), w)
                               for v, w in zip(row, widths)])
            self.assertEqual(table.get_string(), got)

    def test_wide_characters_measured(self):
        out = base.Stream()
        formatters.TableFormatter().emit_list(
            ('Host', 'Note'), [('h1', '日本語のホスト')], out, parsed())
        lines = out.getvalue().splitlines()
        self.assertEqual('| h1   | 日本語のホスト |', lines[3])
