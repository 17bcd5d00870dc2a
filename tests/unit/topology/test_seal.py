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

"""The seal line and atomic writes."""

import hashlib
import os

import fixtures
from oslotest import base

from qslm_nova.topology import seal
from tests.unit.topology import filetest


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
