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

"""Reading a topology file into a plain document, within limits.

Whatever is wrong with a file, reading it raises a TopologyError that
names the file and, where there is one, the place (line and column), in
bounded time and memory:

* at most ``max_bytes`` are read;
* the seal line (:mod:`.seal`) is checked when present, and required
  when the caller says so;
* JSON (a file whose first character is ``{``) is read by the json module
  after its nesting depth is counted without recursion; anything else,
  or JSON that the json module refuses, is read as YAML by
  :mod:`.safeyaml`, which checks the depth before it enters a
  collection and counts aliases as the values they stand for.

Duplicate keys are refused in both formats.
"""

import dataclasses
import json
import os
import re
import stat

import numpy as np
import yaml

from qslm_nova import exception
from qslm_nova.topology import safeyaml
from qslm_nova.topology import seal as seal_mod


@dataclasses.dataclass(frozen=True)
class Limits:
    """Bounds on what reading one file may cost.

    The defaults admit a 50,000-host topology several times over; the
    ``[qslm] topology_max_*`` options set them.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 32
    max_values: int = 5000000

    @classmethod
    def from_conf(cls, group):
        """The limits of the [qslm] options, topology_<field>."""
        return cls(**{field.name: group['topology_' + field.name]
                      for field in dataclasses.fields(cls)})


@dataclasses.dataclass(frozen=True)
class Document:
    """A file read: its data, its name for messages, whether sealed."""

    data: object
    fname: str
    sealed: bool


def read(path, limits=Limits(), require_seal=False):
    """Read a YAML or JSON file within limits.

    :raises TopologyError: naming the file, and the place where known.
    """
    return read_bytes(read_raw(path, limits), os.path.basename(path),
                      limits, require_seal)


def read_bytes(raw, fname, limits=Limits(), require_seal=False):
    """Read the bytes of a YAML or JSON file (see :func:`read`)."""
    if len(raw) > limits.max_bytes:
        raise exception.TopologyError([
            '%s: larger than %d bytes ([qslm] topology_max_bytes)'
            % (fname, limits.max_bytes)])
    try:
        body, state = seal_mod.split(raw)
    except seal_mod.SealError as e:
        raise exception.TopologyError(['%s: %s' % (fname, e)])
    sealed = state is seal_mod.State.VALID
    if require_seal and not sealed:
        raise exception.TopologyError([
            '%s: not sealed: the file has no seal line at its end, so it '
            'may be cut short (seal it with "qslm-nova topology seal")'
            % fname])
    try:
        text = body.decode('utf-8')
    except UnicodeDecodeError as e:
        raise exception.TopologyError(
            ['%s: not UTF-8 text: %s' % (fname, e)])
    return Document(_parse_text(text, fname, limits), fname, sealed)


def read_document(path, limits=Limits()):
    """Read a YAML (or JSON) file that refuses duplicate keys.

    :returns: (document, file name used in error messages)
    :raises TopologyError: unreadable file, invalid YAML or a duplicate
        key, naming the file.
    """
    document = read(path, limits)
    return document.data, document.fname


def read_raw(path, limits=Limits()):
    """The bytes of a regular file, one more than max_bytes at most.

    Opened without blocking: a FIFO or a device in the file's place would
    otherwise hold the reading thread for ever.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        if regular:
            with os.fdopen(fd, 'rb') as f:
                return f.read(limits.max_bytes + 1)
        os.close(fd)
    except OSError as e:
        raise exception.TopologyError(
            ['%s: cannot read: %s' % (path, e.strerror or e)])
    raise exception.TopologyError(
        ['%s: cannot read: not a regular file' % path])


def _parse_text(text, fname, limits):
    try:
        doc = _read_json(text, limits.max_depth)
        if doc is None:
            doc = safeyaml.load(text, limits.max_depth, limits.max_values)
    except (_JSONError, safeyaml.ReadError) as e:
        raise exception.TopologyError(['%s: %s' % (fname, e)])
    except yaml.YAMLError as e:
        raise exception.TopologyError(['%s: invalid YAML: %s' % (fname, e)])
    except (RecursionError, MemoryError) as e:
        # Not expected within the limits; still the file's fault.
        raise exception.TopologyError(
            ['%s: cannot read: %s' % (fname, type(e).__name__)])
    return doc


class _JSONError(Exception):
    pass


def _unique_pairs(pairs):
    """json object_pairs_hook: a dict, refusing duplicate keys."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise _JSONError('duplicate key %r in a JSON object' % (key,))
        out[key] = value
    return out


def _no_constant(name):
    raise ValueError('%s is not a JSON number' % name)


# A JSON string; an unterminated one runs to the end of the text (so that
# a scan never starts again inside it: linear time on any text).
_STRING = r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)'
_JSON_STRING = re.compile(_STRING, re.S)
_JSON_TOKEN = re.compile(_STRING + r'|[\[\]{}]', re.S)
_NOT_A_BRACKET = re.compile(r'[^\[\]{}]+')


def _json_depth(text):
    """The deepest nesting of [] and {} in text, outside strings."""
    data = np.frombuffer(text.encode('utf-8'), dtype=np.uint8)
    if np.any(data == ord('\\')):
        # Escapes: strings found by the regular expression (slower).
        data = np.frombuffer(_NOT_A_BRACKET.sub(
            '', _JSON_STRING.sub('', text)).encode('ascii'), dtype=np.uint8)
    else:
        # Without escapes a string runs from a quote to the next: inside
        # one after an odd number of quotes (a uint8 sum keeps parity).
        inside = np.cumsum(data == ord('"'), dtype=np.uint8) & 1
        data = data[np.flatnonzero(inside == 0)]
    opening = (data == ord('[')) | (data == ord('{'))
    closing = (data == ord(']')) | (data == ord('}'))
    steps = opening[opening | closing].astype(np.int32) * 2 - 1
    return int(np.cumsum(steps).max()) if len(steps) else 0


def _json_too_deep(text, max_depth):
    """Where the nesting of text first goes deeper than max_depth."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in '[{':
            depth += 1
            if depth > max_depth:
                pos = match.start()
                return 'line %d, column %d' % (
                    text.count('\n', 0, pos) + 1,
                    pos - text.rfind('\n', 0, pos))
        elif token in ']}':
            depth -= 1
    return 'somewhere'


def _read_json(text, max_depth):
    """The document if text is JSON, else None (then it is read as YAML).

    JSON is YAML too, but Python's json module reads a 10,000-host file
    in a fraction of a second where PyYAML takes seconds.
    """
    if not text.lstrip().startswith('{'):
        return None
    if _json_depth(text) > max_depth:
        raise _JSONError('%s: nested deeper than %d levels ([qslm] '
                         'topology_max_depth)'
                         % (_json_too_deep(text, max_depth), max_depth))
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs,
                          parse_constant=_no_constant)
    except ValueError:
        # Flow-style YAML, or broken: the YAML reader says which.
        return None
