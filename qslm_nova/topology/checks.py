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

"""Checking a document of unknown shape: errors with their place.

A :class:`Checker` collects every problem of a document with its place
(``links[3].bandwidth_gbps``) and tests the type of a value before it
uses it. Values in messages are shortened (:func:`show`), and at most
``MAX_ERRORS`` messages are kept, so that a check of a hostile document
costs time and memory in proportion to it.
"""

import itertools
import math
import reprlib

from qslm_nova import exception

MAX_ERRORS = 200


class _ShortRepr(reprlib.Repr):
    """reprlib's bounded repr, keeping a mapping's own key order."""

    def __init__(self):
        super().__init__()
        self.maxlevel = 3
        self.maxdict = self.maxlist = self.maxtuple = 8
        self.maxstring = self.maxother = 80
        self.maxlong = 40

    def repr_dict(self, x, level):
        if not x:
            return '{}'
        if level <= 0:
            return '{...}'
        pieces = ['%s: %s' % (self.repr1(k, level - 1),
                              self.repr1(x[k], level - 1))
                  for k in itertools.islice(x, self.maxdict)]
        if len(x) > self.maxdict:
            pieces.append('...')
        return '{%s}' % ', '.join(pieces)


_SHORT = _ShortRepr()


# Longest value shown in a message.
SHOW_CHARS = 200


def show(value):
    """repr of a value from the file, shortened: at most SHOW_CHARS
    characters (and a few hundred elements looked at), whatever the value
    stands for.
    """
    text = _SHORT.repr(value)
    return text if len(text) <= SHOW_CHARS else text[:SHOW_CHARS] + '...'


def key_text(key):
    """A key of the file as it appears in a place (hosts.NAME)."""
    text = key if isinstance(key, str) else str(key)
    return text if len(text) <= 80 else show(text)


def name_list(names):
    """A list of names for a message, shortened."""
    names = list(itertools.islice(names, 12))
    return ', '.join(key_text(n) for n in names[:11]) + (
        ', ...' if len(names) > 11 else '')


class Checker:
    """Collects validation errors with their place in the file."""

    def __init__(self, fname):
        self.fname = fname
        self.errors = []
        self.more = 0

    def err(self, place, msg):
        if len(self.errors) < MAX_ERRORS:
            self.errors.append('%s: %s: %s' % (self.fname, place, msg))
        else:
            self.more += 1

    def raise_errors(self):
        """Raise a TopologyError with the errors, if any."""
        if not self.errors:
            return
        errors = list(self.errors)
        if self.more:
            errors.append('%s: %d more errors not shown' % (self.fname,
                                                            self.more))
        raise exception.TopologyError(errors)

    def mapping(self, value, place):
        if not isinstance(value, dict):
            self.err(place, 'must be a mapping, got %s' %
                     type(value).__name__)
            return False
        return True

    def entry(self, value, allowed, place, empty_ok=False):
        """An entry of a section as a mapping, its unknown keys reported;
        None (reported) when it is not a mapping. ``empty_ok``: an empty
        entry (null) stands for {}.
        """
        if value is None and empty_ok:
            return {}
        if not self.mapping(value, place):
            return None
        self.unknown(value, allowed, place)
        return value

    def unknown(self, entry, allowed, place):
        for key in entry:
            if key not in allowed:
                self.err('%s.%s' % (place, key_text(key)) if place
                         else key_text(key),
                         'unknown key (allowed: %s)' % ', '.join(allowed))

    def number(self, entry, key, place, default=None, minimum=None,
               above=None, below=None, maximum=None, required=False):
        where = '%s.%s' % (place, key)
        if key not in entry:
            if required:
                self.err(where, 'is required')
            return default
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.err(where, 'must be a number, got %s' % show(value))
            return default
        try:
            finite = math.isfinite(value)
        except OverflowError:
            # An integer too large for a float.
            finite = False
        if not finite:
            self.err(where, 'must be finite, got %s' % show(value))
            return default
        if above is not None and not value > above:
            self.err(where, 'must be > %s, got %s' % (above, value))
        if minimum is not None and value < minimum:
            self.err(where, 'must be >= %s, got %s' % (minimum, value))
        if below is not None and not value < below:
            self.err(where, 'must be < %s, got %s' % (below, value))
        if maximum is not None and value > maximum:
            self.err(where, 'must be <= %s, got %s' % (maximum, value))
        return float(value)

    def string(self, entry, key, place, required=False):
        where = '%s.%s' % (place, key)
        if key not in entry:
            if required:
                self.err(where, 'is required')
            return None
        value = entry[key]
        if not isinstance(value, str) or not value:
            self.err(where, 'must be a non-empty string, got %s'
                     % show(value))
            return None
        return value

    def boolean(self, entry, key, place, default=False):
        if key not in entry:
            return default
        value = entry[key]
        if not isinstance(value, bool):
            self.err('%s.%s' % (place, key),
                     'must be true or false, got %s' % show(value))
            return default
        return value
