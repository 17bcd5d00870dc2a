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

"""Fuzzing the topology reader, checks and store (issue 15, items 4, 5).

Generated topology files: valid documents (random clouds) mutated at any
place with hostile values, shared alias trees, deep nesting, unknown keys
and deletions, written as YAML (block or flow) or JSON and then cut,
spliced or garbled as text; and raw hostile text (deep brackets, alias
bombs, tags, huge numbers, binary). Properties:

* loading any of them gives a Topology or the project's TopologyError,
  whose messages name the file and stay short; nothing else escapes;
* no example hangs (the suite's hang guard) and each property keeps its
  time budget;
* in the store, a file that fails to load never replaces the last good
  topology, and under the default seal policy no cut of a sealed file
  does.
"""

import json
import os
import random

import fixtures
from hypothesis import strategies as st
import yaml

from qslm_nova import exception
from qslm_nova import topology
from qslm_nova.topology import reader
from qslm_nova.topology import seal
from tests.fuzz import base
from tests.fuzz import strategies as hostile
from tests.unit import randomcloud as rc

FNAME = 'topology.yaml'
MAX_MESSAGE = 2000
_DUMP = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)
# Strategies built once (building one costs more than drawing from it).
_VALUES = hostile.hostile_json(max_leaves=8)
_KEYS = st.one_of(st.sampled_from(('hosts', 'links', 'mechanisms', 'site',
                                   'between', 'security', '<<')),
                  st.text(max_size=6))
_ACTIONS = st.sampled_from(('value', 'value', 'delete', 'add', 'nest',
                            'shared'))


def _alias_tree(fanout, depth):
    """One list shared fanout times per level: YAML writes it with anchors
    and aliases, a few bytes per level for fanout ** depth values.
    """
    tree = ['x'] * fanout
    for _ in range(depth):
        tree = [tree] * fanout
    return tree


@st.composite
def _paths(draw, doc):
    """A place in doc: the container and a key of it."""
    node = doc
    while True:
        keys = list(node) if isinstance(node, dict) else range(len(node))
        if not keys:
            return node, None
        key = draw(st.sampled_from(list(keys)))
        child = node[key]
        if not isinstance(child, (dict, list)) or draw(st.booleans()):
            return node, key
        node = child


@st.composite
def _mutated(draw, shared):
    """A random cloud with a few mutations at drawn places."""
    doc = rc.random_doc(random.Random(draw(st.integers(0, 2 ** 32 - 1))),
                        hosts=draw(st.integers(2, 6)))
    for _ in range(draw(st.integers(0, 3))):
        node, key = draw(_paths(doc))
        action = draw(_ACTIONS)
        if key is None or action == 'add':
            value = draw(_VALUES)
            if isinstance(node, dict):
                node[draw(_KEYS)] = value
            else:
                node.append(value)
        elif action == 'value':
            node[key] = draw(_VALUES)
        elif action == 'delete':
            del node[key]
        elif action == 'nest':
            value = node[key]
            for _ in range(draw(st.integers(1, 60))):
                value = [value]
            node[key] = value
        elif shared:
            node[key] = _alias_tree(draw(st.integers(2, 9)),
                                    draw(st.integers(1, 9)))
        else:
            node[key] = _alias_tree(draw(st.integers(2, 4)),
                                    draw(st.integers(1, 4)))
    return doc


@st.composite
def structured_files(draw):
    """Bytes of a mutated document as YAML or JSON, maybe cut or garbled.
    """
    if draw(st.booleans()):
        text = yaml.dump(draw(_mutated(True)), Dumper=_DUMP,
                         default_flow_style=draw(st.sampled_from(
                             (False, True, None))), allow_unicode=True)
    else:
        text = json.dumps(draw(_mutated(False)),
                          indent=draw(st.sampled_from((None, 1))))
    data = text.encode('utf-8')
    edit = draw(st.sampled_from(('none', 'none', 'cut', 'splice', 'byte')))
    at = draw(st.integers(0, len(data)))
    if edit == 'cut':
        data = data[:at]
    elif edit == 'splice':
        data = data[:at] + draw(_fragments()) + data[at:]
    elif edit == 'byte':
        data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + \
            data[at + 1:]
    if draw(st.integers(0, 9)) == 0:
        data = seal.seal(data)
    return data


_FRAGMENTS = (b'[', b'{', b']', b'}', b'&a ', b'*a', b'<<: ', b'? ', b': ',
              b'- ', b'\n', b'\t', b'!!python/object:os.system ', b'!!set ',
              b'"', b"'", b'#', b'---\n', b'...\n', b'\xff', b'\x00',
              b'%YAML 1.1\n', b'1' * 120, b'1:' * 60, b'.nan', b'\\u0000')


@st.composite
def _fragments(draw):
    return b''.join(draw(st.lists(st.sampled_from(_FRAGMENTS), min_size=1,
                                  max_size=6)))


@st.composite
def raw_files(draw):
    """Hostile text with no valid document under it."""
    kind = draw(st.sampled_from(('nest', 'laughs', 'json', 'fragments',
                                 'text', 'binary')))
    if kind == 'nest':
        opener = draw(st.sampled_from(('[', '{', '{a: ', '- ', '[{"a": ')))
        depth = draw(st.integers(1, 60000))
        return ('version: 1\nhosts: ' + opener * depth).encode()
    if kind == 'laughs':
        fanout, depth = draw(st.integers(2, 12)), draw(st.integers(1, 12))
        lines = ['version: 1', 'a0: &a0 [%s]' % ', '.join(['x'] * fanout)]
        for i in range(1, depth + 1):
            lines.append('a%d: &a%d [%s]' % (i, i, ', '.join(
                ['*a%d' % (i - 1)] * fanout)))
        lines.append('%s: *a%d' % (draw(st.sampled_from(
            ('hosts', 'links', 'security_levels', 'nodes'))), depth))
        return '\n'.join(lines).encode()
    if kind == 'json':
        return draw(hostile.deeply_nested(1, 120000)).join(
            ('{"version": 1, "hosts": ', '}')).encode()
    if kind == 'fragments':
        return draw(_fragments()) * draw(st.integers(1, 2000))
    if kind == 'text':
        return draw(st.text(max_size=200)).encode('utf-8', 'surrogatepass')
    return draw(st.binary(max_size=200))


class TestFuzzTopologyFiles(base.FuzzTestCase):

    def assertLoadsOrRefuses(self, data):
        try:
            document = reader.read_bytes(data, FNAME)
            topo = topology.parse(document.data, FNAME)
        except exception.TopologyError as e:
            self.assertTrue(e.errors)
            self.assertLessEqual(len(e.errors), 201)
            for message in e.errors:
                self.assertTrue(message.startswith(FNAME + ': '), message)
                self.assertLess(len(message), MAX_MESSAGE, message[:300])
            return None
        self.assertTrue(topo.hosts)
        for _u, _v, attrs in topo.graph.edges(data=True):
            self.assertGreater(attrs['avail_gbps'], 0)
        return topo

    @base.given(2000, data=structured_files(), budget_s=180)
    def test_mutated_documents(self, data):
        self.assertLoadsOrRefuses(data)

    @base.given(1500, data=raw_files(), budget_s=150)
    def test_raw_hostile_text(self, data):
        self.assertIsNone(self.assertLoadsOrRefuses(data))


class TestFuzzStore(base.FuzzTestCase):

    def setUp(self):
        super().setUp()
        self.useFixture(fixtures.FakeLogger())
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, FNAME)
        self.mtime = 1000000
        self.good = yaml.safe_dump(rc.random_doc(random.Random(7))).encode()

    def write(self, data):
        with open(self.path, 'wb') as f:
            f.write(data)
        self.mtime += 10
        os.utime(self.path, (self.mtime, self.mtime))

    def replace(self, store, data):
        """The store's topology after data replaced the file."""
        self.write(data)
        store.get()
        self.assertTrue(store.wait_for_reload(base.HANG_S))
        return store.get()

    @base.given(300, data=st.one_of(structured_files(), raw_files()),
                sealed=st.booleans(), budget_s=120)
    def test_a_failed_file_never_replaces_the_last_good(self, data, sealed):
        store = topology.TopologyStore(self.path)
        good = seal.seal(self.good) if sealed else self.good
        self.write(good)
        last_good = store.get()
        got = self.replace(store, data)
        # Under the default policy a sealed topology asks for sealed files.
        try:
            expected = topology.load(self.path, require_seal=sealed)
        except exception.TopologyError:
            expected = None
        if expected is None:
            self.assertIs(last_good, got)
        else:
            self.assertIsNot(last_good, got)
            self.assertEqual(expected.hosts, got.hosts)

    @base.given(300, cut=st.floats(0, 1, exclude_max=True),
                seed=st.integers(0, 2 ** 32 - 1), budget_s=90)
    def test_no_cut_of_a_sealed_file_replaces_it(self, cut, seed):
        store = topology.TopologyStore(self.path)
        doc = rc.random_doc(random.Random(seed))
        sealed = seal.seal(yaml.safe_dump(doc).encode())
        self.write(sealed)
        last_good = store.get()
        got = self.replace(store, sealed[:int(cut * (len(sealed) - 1))])
        self.assertIs(last_good, got)
