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

"""Reading a topology file: YAML, or JSON, refusing duplicate keys.

The result is the plain document (dicts, lists, scalars) that
:func:`qslm_nova.topology.schema.parse` checks.
"""

import json
import os

import yaml

from qslm_nova import exception

# libyaml's parser when PyYAML has it (about ten times faster on a
# 10,000-host file), with the same safe constructors.
_SafeBase = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class _UniqueKeyLoader(_SafeBase):
    """A SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise exception.TopologyError([
                'line %d: duplicate key %r (first at line %d)' % (
                    key_node.start_mark.line + 1, key, seen[key])])
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _unique_pairs(pairs):
    """json object_pairs_hook: a dict, refusing duplicate keys."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise exception.TopologyError(
                ['duplicate key %r in a JSON object' % (key,)])
        out[key] = value
    return out


def _no_constant(name):
    raise ValueError('%s is not a JSON number' % name)


def _read_json(text):
    """The document if text is JSON, else None (then it is read as YAML).

    JSON is YAML too, but Python's json module reads a 10,000-host file
    in a fraction of a second where PyYAML takes seconds.
    """
    if not text.lstrip().startswith('{'):
        return None
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs,
                          parse_constant=_no_constant)
    except ValueError:
        # Flow-style YAML, or broken: the YAML reader says which.
        return None


def read_document(path):
    """Read a YAML (or JSON) file that refuses duplicate keys.

    :returns: (document, file name used in error messages)
    :raises TopologyError: unreadable file, invalid YAML or a duplicate
        key, naming the file.
    """
    fname = os.path.basename(path)
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        doc = _read_json(text)
        if doc is None:
            doc = yaml.load(text, Loader=_UniqueKeyLoader)  # nosec: Safe
    except OSError as e:
        raise exception.TopologyError(
            ['%s: cannot read: %s' % (path, e.strerror or e)])
    except UnicodeDecodeError as e:
        raise exception.TopologyError(
            ['%s: not UTF-8 text: %s' % (fname, e)])
    except exception.TopologyError as e:
        raise exception.TopologyError(
            ['%s: %s' % (fname, m) for m in e.errors])
    except yaml.YAMLError as e:
        raise exception.TopologyError(['%s: invalid YAML: %s' % (fname, e)])
    return doc, fname
