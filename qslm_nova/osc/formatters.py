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

"""cliff's table formatter, fitted to the terminal.

cliff fits a table only when stdout is a terminal whose size
``os.get_terminal_size`` can read, gives every wide column the same share,
and never wraps a header, so a table with a few long headers stays wider
than the terminal. This one:

* fits when stdout is a terminal, with ``--fit-width`` or
  ``--max-width N``, and whenever ``COLUMNS`` is set (read with
  ``shutil.get_terminal_size``, which honours ``COLUMNS``);
* shrinks columns in proportion to their width, so a long ``Reasons``
  column keeps the most room, and lets a header wrap before a column
  gets narrower than its values;
* wraps cells at word boundaries (host names are not split at hyphens)
  and headers too, when a column is narrower than its header.

Every other formatter (json, yaml, value, csv, shell) is cliff's own; the
``qslm_nova.formatter.list`` and ``.show`` entry point namespaces list
them.
"""

import os
import shutil
import textwrap

import prettytable
import wcwidth

from cliff import columns as cliff_columns
from cliff.formatters import table as cliff_table

#: Narrowest a column is squeezed to (unless its content is narrower).
MIN_COLUMN = 4
#: A word longer than this may be broken to make room.
LONG_WORD = 12


def _text(value):
    """What a cell shows: ``-`` for nothing."""
    if isinstance(value, cliff_columns.FormattableColumn):
        value = value.human_readable()
    if value is None:
        return '-'
    return str(value).replace('\r\n', '\n').replace('\r', ' ')


def _width(text):
    """Columns the text takes on a terminal."""
    return len(text) if text.isascii() else max(0, wcwidth.wcswidth(text))


def _wrap(text, width):
    """Each line of text wrapped at words; long words are broken.

    Text with wide characters is left to prettytable, which measures
    them.
    """
    if not text.isascii():
        return text
    return '\n'.join(
        '\n'.join(textwrap.wrap(line, width, break_on_hyphens=False))
        if len(line) > width else line for line in text.split('\n'))


def _alignment(values):
    """Numbers (and number columns) right, everything else left."""
    for value in values:
        if value is None:
            continue
        if getattr(value, 'align', None) == 'r' or (
                isinstance(value, (int, float)) and
                not isinstance(value, bool)):
            return 'r'
        return 'l'
    return 'l'


def _longest_word(text):
    return max((len(w) for w in text.split()), default=0)


def terminal_width(stdout, parsed_args):
    """The width to fit to, or None to leave the table at its width."""
    if int(parsed_args.max_width) > 0:
        return int(parsed_args.max_width)
    isatty = getattr(stdout, 'isatty', None)
    if ('COLUMNS' in os.environ or parsed_args.fit_width or
            (isatty is not None and isatty())):
        return shutil.get_terminal_size((80, 24)).columns
    return None


def fit_widths(natural, floors, available):
    """Column widths summing to at most ``available``.

    Columns shrink in proportion to their natural width (a long Reasons
    column gives up more than a short Mechanism column), never below
    their floor; what rounding leaves goes back to the widest columns.
    """
    if sum(natural) <= available:
        return list(natural)
    if sum(floors) >= available:
        return list(floors)

    def widths(scale):
        return [max(f, min(n, int(n * scale)))
                for n, f in zip(natural, floors)]

    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if sum(widths(mid)) <= available:
            lo = mid
        else:
            hi = mid
    result = widths(lo)
    spare = available - sum(result)
    for i in sorted(range(len(natural)), key=lambda k: -natural[k]):
        if spare <= 0:
            break
        grow = min(spare, natural[i] - result[i])
        result[i] += grow
        spare -= grow
    return result


class TableFormatter(cliff_table.TableFormatter):
    """A prettytable fitted to the terminal, headers wrapped if need be."""

    def emit_list(self, column_names, data, stdout, parsed_args):
        rows = [list(r) for r in data] if data else []
        if not rows and not parsed_args.print_empty:
            return
        self._emit(column_names, rows, stdout, parsed_args, None)

    def emit_one(self, column_names, data, stdout, parsed_args):
        rows = [[name, value] for name, value in zip(column_names, data)]
        self._emit(('Field', 'Value'), rows, stdout, parsed_args, 'l')

    def _emit(self, column_names, rows, stdout, parsed_args, align):
        texts = [[_text(v) for v in row] for row in rows]
        aligns = [align or _alignment(r[i] for r in rows)
                  for i in range(len(column_names))]
        widths = _widths(column_names, texts,
                         terminal_width(stdout, parsed_args))
        # Wrapped here, once per distinct text: a plan repeats the same
        # reasons thousands of times.
        wrapped = {}
        for row in texts:
            for i, width in enumerate(widths):
                key = (row[i], width)
                if key not in wrapped:
                    wrapped[key] = _wrap(row[i], width)
                row[i] = wrapped[key]
        heads = [textwrap.wrap(n, w, break_on_hyphens=False) or ['']
                 for n, w in zip(column_names, widths)]
        border = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
        lines = [border] + _block(heads, widths, aligns) + [border]
        if rows and all(c.isascii() for row in texts for c in row):
            # prettytable's frame, drawn directly: the cells are wrapped
            # to their widths already, and prettytable's per-character
            # width measuring would triple the time of a large plan.
            for row in texts:
                lines += _block([c.split('\n') for c in row], widths,
                                aligns)
            lines.append(border)
            stdout.write('\n'.join(lines) + '\n')
            return
        # Wide characters: prettytable measures them; the header block is
        # still drawn here, since prettytable cuts a header it must wrap.
        table = prettytable.PrettyTable(column_names)
        table.padding_width = 1
        table.break_on_hyphens = False
        for name, width, how in zip(column_names, widths, aligns):
            table.align[name] = how
            table.max_width[name] = width
            table.min_width[name] = width
        for row in texts:
            table.add_row(row)
        body = table.get_string(header=False).split('\n')
        stdout.write('\n'.join(lines[:-1] + body) + '\n')


def _widths(column_names, texts, term):
    """Natural widths, or widths fitted to ``term`` columns."""
    natural, compact, floors = [], [], []
    for i, name in enumerate(column_names):
        cells = [line for row in texts for line in row[i].split('\n')]
        content = max([0] + [_width(c) for c in cells])
        word = max([_longest_word(name)] +
                   [min(_longest_word(c), LONG_WORD) for c in set(cells)])
        natural.append(max(len(name), content))
        # A header may wrap to its longest word before values wrap.
        compact.append(max(_longest_word(name), content))
        floors.append(min(natural[-1], max(word, MIN_COLUMN)))
    if term is None:
        return natural
    available = term - 3 * len(column_names) - 1
    if sum(natural) <= available:
        return natural
    return fit_widths(compact, floors, available)


def _block(cells, widths, aligns):
    """The lines of one table row; ``cells``: each cell's lines."""
    lines = []
    for k in range(max(len(c) for c in cells)):
        parts = []
        for cell, width, how in zip(cells, widths, aligns):
            text = cell[k] if k < len(cell) else ''
            if how == 'r':
                parts.append(text.rjust(width))
            elif how == 'c':
                parts.append(text.center(width))
            else:
                parts.append(text.ljust(width))
        lines.append('| ' + ' | '.join(parts) + ' |')
    return lines
