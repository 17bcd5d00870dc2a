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

"""``topology validate --live``: the file against the published profiles.

Placement is the stand-in of tests/unit/profile (it answers the reader's
GETs from a table of providers and their traits); the live credentials
are not needed for that and are left out.
"""

import json

import fixtures

from qslm_nova.cloudfile import sample_path
from qslm_nova.osc import profiles
from qslm_nova.profile import placement
from qslm_nova.profile import traits
from tests.unit.cmd import base
from tests.unit.profile import test_store
from tests.unit.profile import test_traits


class Region:
    def get_session(self):
        return None

    def get_region_name(self, service):
        return None

    def get_interface(self, service):
        return None


class TestValidateLive(base.CLITestCase):

    def setUp(self):
        super().setUp()
        # The sample lists none, tls, tunnelled on compute-a1: its Nova
        # migrates with none; compute-a2 lists none, tls but migrates with
        # tls and has no certificates; compute-b1 migrates with tls.
        self.fake = test_store.FakePlacement({
            'compute-a1': ('u1', set(traits.encode(test_traits.profile(
                node='compute-a1', transport='none', accepts_tls=True)))),
            'compute-a2': ('u2', set(traits.encode(test_traits.profile(
                node='compute-a2', transport='tls', accepts_tls=False)))),
            'compute-b1': ('u3', set(traits.encode(test_traits.profile(
                node='compute-b1', transport='tls', accepts_tls=True)))),
        })
        self.useFixture(fixtures.MonkeyPatch(
            'qslm_nova.osc.source.live_region', lambda app: Region()))
        self.useFixture(fixtures.MonkeyPatch(
            'qslm_nova.osc.profiles.reader_for',
            lambda *a: placement.PlacementReader(self.fake.get)))

    def test_mismatches_are_problems(self):
        rc, out, err = self.run_cli('topology', 'validate', sample_path(),
                                    '--live', '-f', 'json')
        self.assertEqual(1, rc, err)
        problems = json.loads(out)['Problems']
        # A host's Nova sends with one transport; the file listing more
        # (the decision would choose among them) differs from it.
        self.assertEqual(4, len(problems), problems)
        self.assertIn('hosts.compute-a1: topology file lists none, tls, '
                      'tunnelled for compute-a1 but its Nova migrates with '
                      'none (published profile)', problems[0])
        self.assertIn('hosts.compute-a2: topology file lists tls for '
                      'compute-a2 but it has no QEMU TLS certificates',
                      problems[2])
        self.assertIn('hosts.compute-b1: topology file lists none, tls, '
                      'tunnelled for compute-b1 but its Nova migrates with '
                      'tls', problems[3])
        self.assertIn('3 of 6 hosts publish a profile', err)

    def test_without_live_the_file_alone(self):
        rc, out, err = self.run_cli('topology', 'validate', sample_path(),
                                    '-f', 'json')
        self.assertEqual(0, rc, err)
        self.assertEqual([], json.loads(out)['Problems'])

    def test_placement_down_is_an_error(self):
        self.fake.down = True
        rc, _out, err = self.run_cli('topology', 'validate', sample_path(),
                                     '--live')
        self.assertEqual(2, rc)
        self.assertIn('cannot read the published host profiles from '
                      'Placement: connection refused', err)

    def test_store_for_offline_source_is_none(self):
        self.assertIsNone(profiles.store_for(object()))
