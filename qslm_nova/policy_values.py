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

"""The syntax of qslm: values: what each parser reads, and its bounds.

Flavor extra specs, image properties, instance metadata and the ledger
all go through these parsers (and Nova's flavor API through the same
ones, see :mod:`qslm_nova.scheduler.extra_specs`). They read text the
way an operator writes it and nothing more: ASCII digits only (``int()``
would also take ``'\u0661\u0662'``, ``'1_000'`` or ``'+5'``), blanks only
around the value, no exponent, NaN or infinity, and every number within
bounds that keep the decision's float, date and numpy arithmetic exact.
A value outside raises :class:`~qslm_nova.exception.PolicyValueError`
naming the key, the rule and a shortened rendering of the value.
"""

import datetime
import re

from qslm_nova import exception

# The strings Nova's extra-spec validators accept as booleans
# (oslo_utils.strutils.bool_from_string, strict): a value the flavor API
# lets through must not be a malformed policy here.
_TRUE = ('true', 't', 'yes', 'y', 'on', '1')
_FALSE = ('false', 'f', 'no', 'n', 'off', '0')
NAME_CHARS = frozenset('abcdefghijklmnopqrstuvwxyz0123456789_-')

# Bounds of the values (see the README's table). Every number the
# decision computes with stays far inside what floats, dates and numpy
# represent, whatever a flavor, an image or a tenant writes.
MAX_VALUE_CHARS = 255          # Nova's limit for extra specs and metadata
MAX_MS = 2 ** 31 - 1           # about 24.8 days, in milliseconds
MAX_PERIOD_DAYS = 3660         # ten years
MAX_DIRTY_RATE = 1048576.0     # 1 TiB/s, in MiB/s
MAX_MEMORY_MB = 1048576.0      # 1 TiB, in MiB
MAX_LEDGER_MS = 2 ** 53        # every such integer is exact as a float
# Only ASCII digits and blanks: int() also reads '١٢', '1_000',
# '+5' and non-ASCII spaces, which no operator means.
BLANKS = ' \t\n\r\f\v'
_INT_RE = re.compile(r'[0-9]{1,30}', re.ASCII)
_NUMBER_RE = re.compile(r'[0-9]{1,30}(\.[0-9]{1,30})?', re.ASCII)
_DATE_RE = re.compile(r'([0-9]{4})-([0-9]{2})-([0-9]{2})([T ].{1,40})?',
                      re.ASCII | re.DOTALL)


def _text(key, value, what):
    """The value as text, refusing types and lengths no source sends."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        if value.bit_length() > 100:
            raise exception.PolicyValueError(key, value, what)
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if not isinstance(value, str):
        raise exception.PolicyValueError(key, value, what)
    if len(value) > MAX_VALUE_CHARS:
        raise exception.PolicyValueError(
            key, value, '%s, and at most %d characters long' % (
                what, MAX_VALUE_CHARS))
    return value.strip(BLANKS)


def parse_bool(key, value):
    text = _text(key, value, 'must be true or false')
    if text.isascii():
        text = text.lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise exception.PolicyValueError(key, value, 'must be true or false')


def parse_int(key, value, minimum, maximum=MAX_MS):
    what = 'must be an integer from %d to %d' % (minimum, maximum)
    if isinstance(value, bool):
        raise exception.PolicyValueError(key, value, what)
    text = _text(key, value, what)
    if not _INT_RE.fullmatch(text):
        raise exception.PolicyValueError(key, value, what)
    number = int(text)
    if not minimum <= number <= maximum:
        raise exception.PolicyValueError(key, value, what)
    return number


def parse_float(key, value, minimum, maximum=MAX_DIRTY_RATE):
    what = 'must be a number from %s to %s' % (minimum, maximum)
    if isinstance(value, bool):
        raise exception.PolicyValueError(key, value, what)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value) if abs(value) <= maximum else None
    else:
        text = _text(key, value, what)
        number = float(text) if _NUMBER_RE.fullmatch(text) else None
    # Written this way, NaN fails too; + 0.0 turns -0.0 into 0.0.
    if number is None or not minimum <= number <= maximum:
        raise exception.PolicyValueError(key, value, what)
    return number + 0.0


def parse_name(key, value):
    what = 'must be a name of lower-case letters, digits, "_" or "-"'
    text = _text(key, value, what)
    if text.isascii():
        text = text.lower()
        if text and set(text) <= NAME_CHARS:
            return text
    raise exception.PolicyValueError(key, value, what)


def parse_name_list(key, value):
    what = 'must be a comma-separated list of mechanism names'
    text = _text(key, value, what)
    names = [p.strip(BLANKS).lower() for p in text.split(',')]
    if not text.isascii() or any(not n or not set(n) <= NAME_CHARS
                                 for n in names):
        raise exception.PolicyValueError(key, value, what)
    return names


def parse_date(key, value):
    """A calendar date written YYYY-MM-DD, optionally with a time.

    With a time zone, the later of the date as written and the date in
    UTC: a period that starts later ends later, the stricter reading.
    """
    what = 'must be an ISO 8601 date (YYYY-MM-DD)'
    text = _text(key, value, what)
    match = _DATE_RE.fullmatch(text)
    try:
        if match is None:
            raise ValueError()
        day = datetime.date(*(int(g) for g in match.groups()[:3]))
        if match.group(4):
            when = datetime.datetime.fromisoformat(text)
            if when.tzinfo is not None:
                day = max(day, when.astimezone(datetime.timezone.utc).date())
    except OverflowError:
        pass        # 9999-12-31T23:00-05:00: already the latest date
    except ValueError:
        raise exception.PolicyValueError(key, value, what)
    return day
