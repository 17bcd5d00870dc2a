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

"""A cloud described in one file: topology, flavors and servers.

``qslm-nova plan`` evaluates such a file when no live cloud is given, and
every command one given with ``--cloud-file``; the embedded sample ships
as ``etc/qslm-nova/sample-cloud.yaml``.
"""

import dataclasses
import datetime
import os
import uuid

from oslo_utils import timeutils

from qslm_nova import exception
from qslm_nova import topology as topology_mod

EXTRA_KEYS = ('clock', 'flavors', 'servers')
FLAVOR_KEYS = ('ram_mb', 'vcpus', 'disk_gb', 'extra_specs')
SERVER_KEYS = ('flavor', 'host', 'metadata', 'image_properties', 'uuid',
               'touched_mb')
# Nova keeps a flavor's memory_mb, vcpus and root_gb in 32-bit integer
# columns and refuses a flavor with more.
FLAVOR_MAX = 2 ** 31 - 1


@dataclasses.dataclass
class Flavor:
    name: str
    ram_mb: int
    vcpus: int = 1
    disk_gb: int = 0
    extra_specs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Server:
    name: str
    uuid: str
    flavor: Flavor
    host: str
    metadata: dict = dataclasses.field(default_factory=dict)
    image_properties: dict = dataclasses.field(default_factory=dict)
    touched_mb: float = None


@dataclasses.dataclass
class Cloud:
    topology: topology_mod.Topology
    flavors: dict
    servers: dict
    clock: datetime.datetime = None


def sample_path():
    """Path of the embedded sample cloud (source tree or installed)."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.path.join(os.path.dirname(here), 'etc', 'qslm-nova',
                     'sample-cloud.yaml'),
    ]
    prefix = os.environ.get('VIRTUAL_ENV') or os.sys.prefix
    candidates.append(os.path.join(prefix, 'etc', 'qslm-nova',
                                   'sample-cloud.yaml'))
    for path in candidates:
        if os.path.exists(path):
            return path
    return candidates[0]


def parse_clock(value):
    """An ISO 8601 time (or YAML timestamp) as an aware UTC datetime."""
    if not isinstance(value, datetime.datetime):
        if not isinstance(value, str):
            raise ValueError('not a string: %r' % (value,))
        value = timeutils.parse_isotime(value)
    return timeutils.normalize_time(value).replace(
        tzinfo=datetime.timezone.utc)


def _str_map(value, place, errors, fname):
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append('%s: %s: must be a mapping, got %r' % (
            fname, place, value))
        return {}
    return {str(k): str(v) if not isinstance(v, bool) else str(v).lower()
            for k, v in value.items()}


def _mapping(doc, key, errors, fname):
    """doc[key] if it is a mapping (absent: empty), else {} and an error.
    """
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append('%s: %s: must be a mapping of names, got %s' % (
            fname, key, type(value).__name__))
        return {}
    for name in value:
        if not isinstance(name, str):
            errors.append('%s: %s: a name must be a text, got %r' % (
                fname, key, name))
    return {k: v for k, v in value.items() if isinstance(k, str)}


def _whole(entry, key, default, smallest, place, errors, fname):
    """entry[key] (default if absent) if it is an integer from *smallest*
    to :data:`FLAVOR_MAX`; else None and an error naming it.
    """
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not (
            smallest <= value <= FLAVOR_MAX):
        errors.append('%s: %s.%s: must be an integer from %d to %d, got %r'
                      % (fname, place, key, smallest, FLAVOR_MAX, value))
        return None
    return value


def read_document(path):
    """(document, name) of a YAML/JSON file; errors name it by its path.

    topology.read_document names a file by its base name, as the services
    log it; the commands name the path they were given.
    """
    try:
        doc, base = topology_mod.read_document(path)
    except exception.TopologyError as e:
        base = os.path.basename(path)
        raise exception.TopologyError([
            path + line[len(base):] if line.startswith(base + ': ')
            else line for line in e.errors])
    return doc, path


def _flavors(doc, errors, fname):
    """{name: Flavor} of the document's flavors; problems go to *errors*."""
    flavors = {}
    for name, entry in _mapping(doc, 'flavors', errors, fname).items():
        place = 'flavors.%s' % name
        if not isinstance(entry, dict):
            errors.append('%s: %s: must be a mapping' % (fname, place))
            continue
        for key in entry:
            if key not in FLAVOR_KEYS:
                errors.append('%s: %s.%s: unknown key (allowed: %s)' % (
                    fname, place, key, ', '.join(FLAVOR_KEYS)))
        ram = _whole(entry, 'ram_mb', None, 1, place, errors, fname)
        if ram is None:
            continue
        vcpus = _whole(entry, 'vcpus', 1, 1, place, errors, fname)
        disk = _whole(entry, 'disk_gb', 0, 0, place, errors, fname)
        if vcpus is None or disk is None:
            continue
        flavors[name] = Flavor(
            name, ram, vcpus, disk,
            _str_map(entry.get('extra_specs'), place + '.extra_specs',
                     errors, fname))
    return flavors


def _servers(doc, flavors, topo, errors, fname):
    """{name: Server} of the document's servers; problems go to *errors*."""
    servers = {}
    for name, entry in _mapping(doc, 'servers', errors, fname).items():
        place = 'servers.%s' % name
        if not isinstance(entry, dict):
            errors.append('%s: %s: must be a mapping' % (fname, place))
            continue
        for key in entry:
            if key not in SERVER_KEYS:
                errors.append('%s: %s.%s: unknown key (allowed: %s)' % (
                    fname, place, key, ', '.join(SERVER_KEYS)))
        flavor = (flavors.get(entry['flavor'])
                  if isinstance(entry.get('flavor'), str) else None)
        if flavor is None:
            errors.append('%s: %s.flavor: undefined flavor %r' % (
                fname, place, entry.get('flavor')))
            continue
        touched = entry.get('touched_mb')
        if touched is not None and (
                isinstance(touched, bool) or
                not isinstance(touched, (int, float)) or
                not 0 < touched <= flavor.ram_mb):
            errors.append('%s: %s.touched_mb: must be a number of MiB above 0 '
                          'and at most its flavor\'s ram_mb, got %r' % (
                              fname, place, touched))
            continue
        host = entry.get('host')
        if not isinstance(host, str) or (
                topo is not None and host not in topo.hosts):
            errors.append('%s: %s.host: undefined host %r' % (
                fname, place, host))
            continue
        if not isinstance(entry.get('uuid', ''), str):
            errors.append('%s: %s.uuid: must be a text, got %r' % (
                fname, place, entry['uuid']))
            continue
        servers[name] = Server(
            name=name,
            uuid=str(entry.get('uuid') or uuid.uuid5(uuid.NAMESPACE_URL,
                                                     'qslm-sample/' + name)),
            flavor=flavor, host=host,
            metadata=_str_map(entry.get('metadata'), place + '.metadata',
                              errors, fname),
            image_properties=_str_map(entry.get('image_properties'),
                                      place + '.image_properties', errors,
                                      fname),
            touched_mb=touched)
    return servers


def load(path):
    """Load a cloud file; TopologyError lists every problem with its place.
    """
    doc, fname = read_document(path)
    errors = []
    try:
        topo = topology_mod.parse(doc, fname, extra_keys=EXTRA_KEYS)
    except exception.TopologyError as e:
        errors.extend(e.errors)
        topo = None
    if not isinstance(doc, dict):
        raise exception.TopologyError(errors)
    clock = None
    if doc.get('clock') is not None:
        try:
            clock = parse_clock(doc['clock'])
        except ValueError:
            errors.append('%s: clock: must be an ISO 8601 timestamp, got %r'
                          % (fname, doc['clock']))
    flavors = _flavors(doc, errors, fname)
    servers = _servers(doc, flavors, topo, errors, fname)
    if errors:
        raise exception.TopologyError(errors)
    return Cloud(topo, flavors, servers, clock)
