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

"""The cipher measurement with real QEMU, as agents sharing a network do.
"""

import os
import threading

import testtools

from qslm_nova.agent import cipher

QEMU = '/usr/bin/qemu-system-x86_64'


class TestQemuCipher(testtools.TestCase):

    def test_agents_in_one_network_namespace_measure_at_once(self):
        # The real cloud's three hosts share this machine's network: their
        # agents measure at the same moment after start-up, each with
        # QEMU's own TLS stream (no fallback to OpenSSL).
        if not os.access(QEMU, os.X_OK):
            self.skipTest('no %s' % QEMU)
        results, errors = [], []

        def one():
            try:
                results.append(cipher.measure_qemu(QEMU))
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([], errors)
        self.assertEqual(['qemu', 'qemu'], [m.method for m in results])
        for m in results:
            self.assertGreater(m.gbps_per_core, 0.01)
