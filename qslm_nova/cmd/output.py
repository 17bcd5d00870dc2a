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

"""Table, JSON and YAML output like the openstack client's."""

import json

import yaml


def table(columns, rows):
    """Render rows as an aligned, boxed table (cells may have newlines)."""
    cells = [[str(c) for c in columns]] + [
        ['' if v is None else str(v) for v in row] for row in rows]
    split = [[c.split('\n') for c in row] for row in cells]
    widths = [max(len(line) for row in split for line in row[i])
              for i in range(len(columns))]
    sep = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def render(row):
        height = max(len(c) for c in row)
        lines = []
        for k in range(height):
            parts = [(c[k] if k < len(c) else '').ljust(w)
                     for c, w in zip(row, widths)]
            lines.append('| ' + ' | '.join(parts) + ' |')
        return lines

    out = [sep] + render(split[0]) + [sep]
    for row in split[1:]:
        out.extend(render(row))
    out.append(sep)
    return '\n'.join(out)


def emit(fmt, columns, rows, records, stream):
    """Write rows as a table, or records (list of dicts) as JSON/YAML."""
    if fmt == 'json':
        stream.write(json.dumps(records, indent=2, sort_keys=True,
                                default=str) + '\n')
    elif fmt == 'yaml':
        stream.write(yaml.safe_dump(json.loads(json.dumps(records,
                                                          default=str)),
                                    sort_keys=True))
    else:
        stream.write(table(columns, rows) + '\n')
