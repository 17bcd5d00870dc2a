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

"""The Topology: levels and host numbering."""

from oslotest import base

from tests.unit import fixtures as fx


class TestTopology(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.topo = fx.make_topology()

    def test_level_name(self):
        self.assertEqual('wan', self.topo.level_name(1))
        self.assertEqual(3, self.topo.level_index['private'])

    def test_host_positions(self):
        topo = self.topo
        self.assertEqual([topo.host_names.index('far'), -1],
                         topo.host_positions(['far', 'ghost']).tolist())
