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

"""A test case that writes topology.yaml in a temporary directory."""

import os

import fixtures
from oslotest import base


class FileTestCase(base.BaseTestCase):
    """Writes topology.yaml in a temporary directory."""

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'topology.yaml')

    def write(self, text, mtime=None):
        with open(self.path, 'w', encoding='utf-8') as f:
            f.write(text)
        if mtime is not None:
            os.utime(self.path, (mtime, mtime))
