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

"""The seal line and atomic writes: a torn file never replaces a good one.

The sample topology, cut at any point, often still loads: with hosts or
links missing. Sealed, no cut of it is read, and the store keeps the last
good topology.
"""

import hashlib
import os

import fixtures
from oslotest import base

from qslm_nova import exception
from qslm_nova import topology
from qslm_nova.topology import reader
from qslm_nova.topology import seal
from tests.unit.topology import filetest

SAMPLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc',
                      'qslm-nova', 'topology.yaml.sample')


def _sample():
    with open(SAMPLE, 'rb') as f:
        return f.read()


class TestSeal(base.BaseTestCase):

    def test_seal_line(self):
        data = b'version: 1\n'
        digest = hashlib.sha256(data).hexdigest()
        self.assertEqual(
            data + b'# qslm-nova-seal: sha256=' + digest.encode() + b'\n',
            seal.seal(data))
        # No newline at the end: one is added before the seal.
        self.assertEqual(seal.seal(data), seal.seal(b'version: 1'))

    def test_reseal_replaces_the_old_line(self):
        once = seal.seal(b'a: 1\n')
        self.assertEqual(once, seal.seal(once))
        edited = once.replace(b'a: 1', b'a: 2')
        self.assertEqual(seal.seal(b'a: 2\n'), seal.seal(edited))

    def test_split(self):
        data = b'a: 1\n'
        self.assertEqual((data, seal.State.UNSEALED), seal.split(data))
        self.assertEqual((data, seal.State.VALID),
                         seal.split(seal.seal(data)))
        # Without its last newline, or with Windows line ends.
        self.assertEqual((data, seal.State.VALID),
                         seal.split(seal.seal(data)[:-1]))
        crlf = b'a: 1\r\n'
        self.assertEqual((crlf, seal.State.VALID),
                         seal.split(seal.seal(crlf)[:-1] + b'\r\n'))

    def test_split_refuses(self):
        sealed = seal.seal(b'a: 1\n')
        for bad in (sealed.replace(b'1', b'2', 1),     # edited
                    b'b: 2\n' + sealed,                # more in front
                    sealed[:-10],                      # cut in the line
                    sealed[:-1] + b' \n',              # trailing text
                    sealed[:-65] + sealed[-65:].upper()):  # hex case
            self.assertRaises(seal.SealError, seal.split, bad)
        # Only the last line is a seal: one in the middle is a comment,
        # and a file ending elsewhere is unsealed.
        self.assertEqual(seal.State.UNSEALED,
                         seal.split(sealed + b'c: 3\n')[1])


class TestWriteAtomic(filetest.FileTestCase):

    def test_replaces_in_one_step(self):
        self.write('old\n')
        os.chmod(self.path, 0o640)
        seal.write_atomic(self.path, b'new\n')
        with open(self.path, 'rb') as f:
            self.assertEqual(b'new\n', f.read())
        self.assertEqual(0o640, os.stat(self.path).st_mode & 0o777)
        self.assertEqual(['topology.yaml'], os.listdir(self.dir))

    def test_new_file(self):
        seal.write_atomic(self.path, b'x\n')
        self.assertEqual(0o644, os.stat(self.path).st_mode & 0o777)

    def test_failure_leaves_the_old_file_and_no_temporary(self):
        self.write('old\n')
        self.useFixture(fixtures.MockPatch('os.replace',
                                           side_effect=OSError('disk')))
        self.assertRaises(OSError, seal.write_atomic, self.path, b'new\n')
        with open(self.path) as f:
            self.assertEqual('old\n', f.read())
        self.assertEqual(['topology.yaml'], os.listdir(self.dir))


class TestTornFiles(filetest.FileTestCase):

    def test_cuts_of_the_unsealed_sample_load(self):
        # Why the seal: unsealed, the sample cut after many a line is a
        # valid topology with links missing (133 of its 8,783 cuts).
        data = _sample()
        topo = topology.parse(reader.read_bytes(data, 'topology.yaml').data)
        links = len(topo.graph.edges)
        torn = []
        for n in range(0, len(data) - 1, 11):
            try:
                document = reader.read_bytes(data[:n], 'topology.yaml')
                torn.append(topology.parse(document.data))
            except exception.TopologyError:
                pass
        self.assertTrue(torn)
        self.assertTrue(all(len(t.graph.edges) < links for t in torn))

    def test_every_cut_of_the_sealed_sample_is_refused(self):
        sealed = seal.seal(_sample())
        self.assertTrue(reader.read_bytes(sealed, 'topology.yaml',
                                          require_seal=True).sealed)
        for n in range(len(sealed) - 1):
            self.assertRaises(exception.TopologyError, reader.read_bytes,
                              sealed[:n], 'topology.yaml', require_seal=True)
        # Cut before its last newline only: the whole content.
        self.assertTrue(reader.read_bytes(sealed[:-1], 'topology.yaml',
                                          require_seal=True).sealed)

    def test_the_store_keeps_the_sealed_topology(self):
        # A writer that rewrites the file in place: a reader may see any
        # cut of it. Under the default policy, once a sealed file was
        # loaded, no cut replaces it.
        self.useFixture(fixtures.FakeLogger())
        sealed = seal.seal(_sample())
        store = topology.TopologyStore(self.path)
        self.write(sealed.decode(), 1000000)
        good = store.get()
        self.assertEqual(9, len(good.graph.edges))
        for k, n in enumerate(range(0, len(sealed) - 1, 37)):
            with open(self.path, 'wb') as f:
                f.write(sealed[:n])
            os.utime(self.path, (1000001 + k, 1000001 + k))
            self.assertIs(good, store.get())
            self.assertTrue(store.wait_for_reload(30))
            self.assertIs(good, store.get())
        self.assertEqual(1, store.reloads)
