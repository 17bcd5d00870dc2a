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

"""The seal line that tells a complete topology file from a torn one.

A writer that replaces a file in place (``open(path, 'w')`` and then the
writes) leaves a window in which a reader sees only the first part of the
file, and a YAML topology cut after any complete line is often still a
valid topology, with hosts or links missing. A sealed file ends with one
line::

    # qslm-nova-seal: sha256=<64 hex digits>

the SHA-256 of every byte before that line. A file cut anywhere lacks the
line or does not match it; a file edited after sealing does not match it
either. The line is a YAML comment; in a JSON file the reader removes it
before the JSON is read.

:func:`seal` adds (or renews) the line; :func:`write_atomic` writes a
file as a whole (a temporary file in the same directory, renamed over the
old one), so that readers see the old file or the new one, never a part.
"""

import enum
import hashlib
import os
import re
import tempfile

PREFIX = b'# qslm-nova-seal: '
_SEAL = re.compile(rb'# qslm-nova-seal: sha256=([0-9a-f]{64})\r?\n?\Z')


class Policy(enum.Enum):
    """When a topology file must carry a seal."""

    # A seal is checked when present; a file without one is read.
    OPTIONAL = 'optional'
    # As OPTIONAL until a sealed file has been loaded; from then on every
    # file must be sealed (whoever writes the file seals it).
    AUTO = 'auto'
    # Every file must carry a valid seal.
    REQUIRED = 'required'


class State(enum.Enum):
    UNSEALED = 'unsealed'
    VALID = 'valid'


class SealError(ValueError):
    """The seal line does not match the content, or is malformed."""


def _last_line_start(data):
    end = len(data)
    if data.endswith(b'\n'):
        end -= 1
    return data.rfind(b'\n', 0, end) + 1


def split(data):
    """(content before the seal line, State) of a file's bytes.

    :raises SealError: a seal line that is malformed (a file cut inside
        it) or does not match the content.
    """
    start = _last_line_start(data)
    last = data[start:]
    if not last.startswith(PREFIX):
        return data, State.UNSEALED
    match = _SEAL.match(last)
    if match is None:
        raise SealError('the seal line (last line) is malformed: the file '
                        'may be cut short')
    body = data[:start]
    if hashlib.sha256(body).hexdigest().encode('ascii') != match.group(1):
        raise SealError('the content does not match its seal line: the '
                        'file is cut short or was changed after it was '
                        'sealed (reseal it with "qslm-nova topology seal")')
    return body, State.VALID


def seal(data):
    """data (bytes) with a seal line at the end, replacing an old one."""
    start = _last_line_start(data)
    if data[start:].startswith(PREFIX):
        data = data[:start]
    if data and not data.endswith(b'\n'):
        data += b'\n'
    digest = hashlib.sha256(data).hexdigest()
    return data + PREFIX + b'sha256=' + digest.encode('ascii') + b'\n'


def write_atomic(path, data, mode=0o644):
    """Replace the file at path with data (bytes) in one step.

    The data goes to a temporary file in the same directory, is flushed
    to disk, and is renamed over path: a reader sees the old file or the
    new one. An existing file's permission bits are kept.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=directory,
                               prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
