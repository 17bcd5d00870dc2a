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


def _wrap(text, width):
    """Each line of text wrapped at words; long words are broken."""
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
        table = prettytable.PrettyTable(column_names)
        table.padding_width = 1
        table.break_on_hyphens = False
        texts = [[_text(v) for v in row] for row in rows]
        for i, name in enumerate(column_names):
            table.align[name] = align or _alignment(r[i] for r in rows)
        natural, compact, floors = [], [], []
        for i, name in enumerate(column_names):
            cells = [line for row in texts for line in row[i].split('\n')]
            content = max([0] + [len(c) for c in cells])
            word = max([_longest_word(name)] +
                       [min(_longest_word(c), LONG_WORD) for c in cells])
            natural.append(max(len(name), content))
            # A header may wrap to its longest word before values wrap.
            compact.append(max(_longest_word(name), content))
            floors.append(min(natural[-1], max(word, MIN_COLUMN)))
        term = terminal_width(stdout, parsed_args)
        widths = natural
        if term is not None:
            available = term - 3 * len(column_names) - 1
            if sum(natural) > available:
                widths = fit_widths(compact, floors, available)
        for name, width in zip(column_names, widths):
            table.max_width[name] = width
            table.min_width[name] = width
        # Wrapped here, once per distinct text: a plan repeats the same
        # reasons thousands of times and prettytable would wrap each.
        wrapped = {}
        for row in texts:
            for i, width in enumerate(widths):
                key = (row[i], width)
                if key not in wrapped:
                    wrapped[key] = _wrap(row[i], width)
                row[i] = wrapped[key]
        for row in texts:
            table.add_row(row)
        if all(len(n) <= w for n, w in zip(column_names, widths)):
            stdout.write(table.get_string() + '\n')
            return
        # A header wider than its column: prettytable would cut it, so
        # the header block is drawn here, in prettytable's frame style.
        border = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
        heads = [textwrap.wrap(n, w, break_on_hyphens=False) or ['']
                 for n, w in zip(column_names, widths)]
        lines = [border]
        for k in range(max(len(h) for h in heads)):
            cells = []
            for name, head, width in zip(column_names, heads, widths):
                text = head[k] if k < len(head) else ''
                if table.align.get(name) == 'r':
                    cells.append(text.rjust(width))
                else:
                    cells.append(text.ljust(width))
            lines.append('| ' + ' | '.join(cells) + ' |')
        body = table.get_string(header=False).split('\n')
        stdout.write('\n'.join(lines + body) + '\n')
