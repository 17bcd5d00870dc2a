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

"""Topology files as a whole: load one, seal one."""

import os

from qslm_nova.topology import reader
from qslm_nova.topology import schema
from qslm_nova.topology import seal as seal_mod


def load(path, extra_keys=(), limits=reader.Limits(), require_seal=False):
    """Load and validate a topology file.

    :raises TopologyError: with every problem, each naming file and place.
    """
    return load_sealed(path, extra_keys, limits, require_seal)[0]


def load_sealed(path, extra_keys=(), limits=reader.Limits(),
                require_seal=False):
    """(Topology, whether the file carries a valid seal) of a file.

    :raises TopologyError: with every problem, each naming file and place.
    """
    document = reader.read(path, limits, require_seal)
    return (schema.parse(document.data, document.fname, extra_keys),
            document.sealed)


def seal_file(path, output=None, limits=reader.Limits()):
    """Check a topology file and write it with a (new) seal line.

    Whatever seal line the file had is replaced: sealing says the content
    is complete, as it is now. The file is written atomically (to output,
    default path) and only when that changes it.

    :returns: (the Topology, whether output was written)
    :raises TopologyError: the file is not a valid topology (nothing is
        written).
    """
    sealed = seal_mod.seal(reader.read_raw(path, limits))
    document = reader.read_bytes(sealed, os.path.basename(path), limits,
                                 require_seal=True)
    topology = schema.parse(document.data, document.fname)
    output = output or path
    try:
        with open(output, 'rb') as f:
            if f.read(len(sealed) + 1) == sealed:
                return topology, False
    except OSError:
        pass
    seal_mod.write_atomic(output, sealed)
    return topology, True
