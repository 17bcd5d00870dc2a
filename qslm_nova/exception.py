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

"""Errors raised by the qslm-nova core."""


def show_value(value):
    """A short, printable rendering of a value for an error message.

    Long strings are cut (their length is given), huge integers are never
    turned into text (that alone can take seconds or fail), containers
    and other types only name their type: a hostile value can neither
    flood a log nor break the message.
    """
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 100:
            return 'an integer of about %d digits' % int(
                value.bit_length() * 0.30103)
        return repr(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        cut = value[:40]
        # Escapes make the text up to ten times longer than the value.
        while len(repr(cut)) > 80:
            cut = cut[:len(cut) // 2]
        if len(cut) < len(value):
            return '%r... (%d characters)' % (cut, len(value))
        return repr(value)
    return 'a value of type %s' % type(value).__name__


def show_name(name):
    """A key or name as written if short and printable, else shown."""
    if isinstance(name, str) and len(name) <= 80 and name.isprintable():
        return name
    return show_value(name)


class QSLMError(Exception):
    """Base class of qslm-nova errors."""


class TopologyError(QSLMError):
    """A topology file is invalid.

    ``errors`` lists every problem found, each already prefixed with the
    file name and the place of the entry, e.g.
    ``topology.yaml: links[3].bandwidth_gbps: must be > 0, got -1``.
    """

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__('\n'.join(self.errors))


class PolicyValueError(QSLMError, ValueError):
    """A qslm: extra spec, image property or metadata value is malformed."""

    def __init__(self, key, value, why):
        self.key = key
        self.value = value
        self.why = why
        super().__init__('%s: %s, got %s' % (
            show_name(key), why, show_value(value)))


class TrustProviderError(QSLMError):
    """A trust provider could not answer (unreachable, malformed...)."""
