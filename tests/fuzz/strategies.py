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

"""Hostile values shared by the fuzz modules.

Building a strategy costs more than drawing from it: the functions
without arguments return one cached strategy; draw from them, do not
call them inside a composite strategy for every example.

The classes of input that broke parsers before (issue 15): numbers
beyond every float (10^309), NaN, infinities, negative zero, digits of
other scripts (``'\\u0661\\u0662'``), full-width letters, blanks that are
not ASCII, booleans spelled oddly, dates at the ends of the calendar and
with time zones, very long strings, deep nesting.
"""

import functools

from hypothesis import strategies as st

#: Digits of other scripts that int() and float() read as numbers.
UNICODE_DIGITS = ('\u0660\u0661\u0662\u0663\u06f1\u06f2\u0966\u0967'
                  '\uff10\uff11\uff12\U0001d7ce\U0001d7cf')
#: Blanks str.strip() removes but no operator types.
ODD_BLANKS = '\u00a0\u2003\u3000\u200b\u2028\u2029\ufeff\x85\x1c'
ASCII_BLANKS = ' \t\n\r\f\v'

_SPECIAL_NUMBERS = (
    'nan', 'NaN', '-nan', 'inf', '-inf', 'Infinity', '-Infinity', '1e309',
    '-1e309', '1e308', '1e-400', '-0', '-0.0', '+0', '+5', '0x10', '0o7',
    '0b1', '1_000', '1.', '.5', '5e3', '1E2', '08', '00000000000000000001',
    '9' * 30, '1' + '0' * 309, '4' * 4301, '2147483647', '2147483648',
    '9007199254740992', '9007199254740993', '18446744073709551616')

_BOOL_WORDS = ('true', 'false', 'True', 'FALSE', 'yes', 'no', 'on', 'off',
               't', 'f', 'y', 'n', '1', '0', 'tRuE', 'oN', 'enabled',
               'truee', 'ｔｒｕｅ', 'tr\u0131e', 'TRUE\u0130', '\u212a')

_DATES = ('2026-11-25', '0001-01-01', '9999-12-31', '0000-01-01',
          '10000-01-01', '2026-02-29', '2024-02-29', '2026-13-01',
          '2026-11-25T00:00:00Z', '2026-11-25T23:59:59+14:00',
          '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-12:00',
          '2026-11-25T24:00:00', '20261125', '2026-W48-3', '2026-329',
          '\u0662\u0660\u0662\u0666-11-25', '2026-11-25garbage')


@functools.lru_cache()
def blanks():
    """Runs of ASCII and non-ASCII blanks."""
    return st.text(alphabet=ASCII_BLANKS + ODD_BLANKS, max_size=3)


def padded(inner):
    """``inner`` text with blanks of any kind around it."""
    return st.builds(lambda a, text, b: a + text + b, blanks(), inner,
                     blanks())


@functools.lru_cache()
def number_text():
    """Texts that are, or look like, numbers."""
    return st.one_of(
        st.sampled_from(_SPECIAL_NUMBERS),
        st.integers().map(str),
        st.integers(min_value=-10 ** 400, max_value=10 ** 400).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.text(alphabet='0123456789' + UNICODE_DIGITS, min_size=1,
                max_size=12),
        st.text(alphabet='0123456789.-+eE_x', min_size=1, max_size=12),
    )


@functools.lru_cache()
def hostile_text():
    """Any text a tenant or an operator might write, and worse."""
    return st.one_of(
        padded(number_text()),
        padded(st.sampled_from(_BOOL_WORDS)),
        padded(st.sampled_from(_DATES)),
        st.text(max_size=20),
        # Long texts, built cheaply from a short one.
        st.builds(lambda text, times: (text or 'x') * times,
                  st.text(max_size=6), st.integers(40, 120)),
        st.text(alphabet=st.characters(codec='ascii'), max_size=30),
    )


@functools.lru_cache()
def hostile_scalars():
    """Hostile text plus the other scalars JSON and YAML produce."""
    return st.one_of(
        hostile_text(),
        st.integers(min_value=-10 ** 400, max_value=10 ** 400),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
    )


def hostile_json(max_leaves=20):
    """JSON-like documents: scalars, lists and objects, some deep."""
    return st.recursive(
        hostile_scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=8), children, max_size=4)),
        max_leaves=max_leaves)


def deeply_nested(min_depth=100, max_depth=100000):
    """Text of a JSON array nested ``depth`` times (``[[[...]]]``)."""
    return st.integers(min_value=min_depth, max_value=max_depth).map(
        lambda depth: '[' * depth + ']' * depth)
