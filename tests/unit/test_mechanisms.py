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

"""The old ``ssh`` mechanism: still loadable, read as ``tunnelled``."""

from oslotest import base

from qslm_nova import mechanisms
from qslm_nova import policy
from tests.unit import fixtures as fx


class TestDeprecatedSsh(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        mechanisms._warned.clear()

    def old_doc(self):
        doc = fx.cloud_doc()
        doc['mechanisms'] = {'ssh': {'crypto_gbps_per_core': 0.9}}
        for host in ('src', 'far'):
            doc['hosts'][host]['mechanisms'] = ['none', 'ssh']
        return doc

    def test_old_topology_loads_with_one_warning_per_place(self):
        with self.assertLogs('qslm_nova.mechanisms', 'WARNING') as logs:
            topo = fx.make_topology(self.old_doc(), 'old.yaml')
            fx.make_topology(self.old_doc(), 'old.yaml')
        self.assertEqual(3, len(logs.records))
        self.assertIn("Mechanism 'ssh' in old.yaml mechanisms.ssh is "
                      "deprecated: Nova never migrates through an ssh -L "
                      "tunnel. It is read as 'tunnelled'", logs.output[0])
        self.assertEqual(frozenset(['none', 'tunnelled']),
                         topo.hosts['src'].mechanisms)
        self.assertNotIn('ssh', topo.mechanisms)
        # The file's figures apply to the mechanism it now names.
        self.assertEqual(0.9, topo.mechanisms['tunnelled']
                         .crypto_gbps_per_core)

    def test_old_topology_decides_as_tunnelled(self):
        engine = fx.make_engine(fx.make_topology(self.old_doc()))
        d = fx.decide_one(engine, 'far',
                          flavor={'qslm:require_encryption': 'true'})
        self.assertTrue(d.allowed, d.reasons)
        self.assertEqual('tunnelled', d.mechanism)

    def test_policy_and_defaults_read_ssh_as_tunnelled(self):
        pol = policy.effective_policy(
            policy.Defaults(), policy.DEFAULT_LEVELS,
            frozenset(mechanisms.BUILTIN),
            flavor_specs={'qslm:allowed_mechanisms': 'tls,ssh'})
        self.assertEqual(frozenset(['tls', 'tunnelled']),
                         pol.allowed_mechanisms)
        self.assertEqual(('none', 'tunnelled'),
                         mechanisms.default_names(['none', 'ssh']))
        self.assertEqual('tls', mechanisms.canonical_name('tls'))
