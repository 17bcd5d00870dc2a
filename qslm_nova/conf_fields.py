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


"""Settings dataclasses whose fields name the option they come from.

A settings dataclass declares, next to each field, where its value comes
from: ``option('live_migration_downtime', 500.0)`` reads the option of
that name from an option group, ``constant(1448.0)`` marks a value no
option sets, ``nested(ModelParams)`` holds another settings dataclass
read from the same group. :func:`from_group` builds the dataclass from a
group (e.g. ``CONF.qslm``), so the mapping lives in one field list and a
new field cannot be left out of it: a field declared none of these ways
is an error.

This module does not import oslo.config: the core modules use it without
registering options (that is ``qslm_nova.conf``'s job).
"""

import dataclasses
import functools

_OPTION = 'qslm_nova.option'
_CONVERT = 'qslm_nova.convert'
_NESTED = 'qslm_nova.nested'


def option(name, default, convert=None):
    """A field read from the option ``name`` of the group.

    :param default: the field's default; keep it equal to the option's
        (the unit tests compare them).
    :param convert: optional callable applied to the option's value, e.g.
        ``tuple`` for a list option held in a frozen dataclass.
    """
    return dataclasses.field(default=default,
                             metadata={_OPTION: name, _CONVERT: convert})


def constant(default):
    """A field no option sets: a constant of the code."""
    return dataclasses.field(default=default, metadata={_OPTION: None})


def nested(settings_cls):
    """A field holding another settings dataclass, read from the same group.

    Its default is ``settings_cls()``.
    """
    return dataclasses.field(default_factory=settings_cls,
                             metadata={_NESTED: settings_cls})


@functools.cache
def _fields(cls):
    """(options, nested) of a settings dataclass: ((field name, option
    name, convert), ...) and ((field name, settings class), ...).
    """
    options = []
    inner = []
    for field in dataclasses.fields(cls):
        if _NESTED in field.metadata:
            inner.append((field.name, field.metadata[_NESTED]))
            continue
        if _OPTION not in field.metadata:
            raise TypeError(
                '%s.%s names no option: declare it with conf_fields.option(),'
                ' constant() or nested()' % (cls.__name__, field.name))
        name = field.metadata[_OPTION]
        if name is not None:
            options.append((field.name, name, field.metadata[_CONVERT]))
    return tuple(options), tuple(inner)


def option_fields(cls):
    """((field name, option name, convert), ...) of a settings dataclass.

    Constant and nested fields are left out. Raises TypeError for a field
    declared with none of :func:`option`, :func:`constant`, :func:`nested`.
    """
    return _fields(cls)[0]


def from_group(cls, group):
    """An instance of ``cls`` with every option field read from ``group``.

    :param group: anything with the options as attributes, e.g.
        ``CONF.qslm``.
    """
    options, inner = _fields(cls)
    values = {name: from_group(settings_cls, group)
              for name, settings_cls in inner}
    for field_name, option_name, convert in options:
        value = getattr(group, option_name)
        values[field_name] = value if convert is None else convert(value)
    return cls(**values)
