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

"""The topology file: hosts, network nodes, links and mechanisms.

The YAML file (version 1) is validated completely before use: every
problem is reported with the file name, the entry and the field, and
unknown keys are errors. The result is a :class:`Topology` holding a
networkx graph and the per-host data the decision needs.

The package, by concern:

* :mod:`.reader` reads a file (YAML or JSON) into a plain document;
* :mod:`.schema` checks a document and builds the Topology;
* :mod:`.model` is the Topology and its hosts;
* :mod:`.search` finds widest paths in it, and :mod:`.paths` holds what
  it found, as arrays over the hosts;
* :mod:`.files` loads a file, or seals it (:mod:`.seal`: the line that
  tells a complete file from a torn one);
* :mod:`.store` keeps the current topology of a file, reloading it.

:mod:`.reader` reads YAML with :mod:`.safeyaml`, within limits.
"""

from qslm_nova.topology.files import load
from qslm_nova.topology.files import seal_file
from qslm_nova.topology.model import Host
from qslm_nova.topology.model import Topology
from qslm_nova.topology.paths import PathInfo
from qslm_nova.topology.reader import read_document
from qslm_nova.topology.schema import DEFAULT_LEVELS
from qslm_nova.topology.schema import HOST_KEYS
from qslm_nova.topology.schema import LINK_KEYS
from qslm_nova.topology.schema import NODE_KEYS
from qslm_nova.topology.schema import NODE_KINDS
from qslm_nova.topology.schema import parse
from qslm_nova.topology.schema import parse_timestamp
from qslm_nova.topology.schema import TOP_KEYS
from qslm_nova.topology.store import TopologyStore

__all__ = ['DEFAULT_LEVELS', 'HOST_KEYS', 'Host', 'LINK_KEYS', 'NODE_KEYS',
           'NODE_KINDS', 'PathInfo', 'TOP_KEYS', 'Topology', 'TopologyStore',
           'load', 'parse', 'parse_timestamp', 'read_document', 'seal_file']
