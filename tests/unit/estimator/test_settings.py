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


"""Nova's downtime steps and the GiB Nova scales them by."""

import numpy as np
from oslotest import base

from qslm_nova import estimator


def nova_steps(downtime, steps, delay, data_gb):
    """Nova's downtime_steps, written out by hand (no Nova import)."""
    delay = int(delay * data_gb)
    base_ = downtime / steps
    offset = (downtime - base_) / steps
    return [(int(delay * i), int(base_ + offset * i))
            for i in range(steps + 1)]


class TestNovaSteps(base.BaseTestCase):

    def test_nova_docstring_example(self):
        # nova/virt/libvirt/migration.py: 10 steps, 30 s delay, 3 GB,
        # 400 ms maximum.
        lv = estimator.LibvirtSettings(downtime_ms=400, downtime_steps=10,
                                       downtime_delay_s=30)
        self.assertEqual(
            [(0, 40), (90, 76), (180, 112), (270, 148), (360, 184),
             (450, 220), (540, 256), (630, 292), (720, 328), (810, 364),
             (900, 400)], lv.steps(3.0))

    def test_nova_defaults(self):
        # Defaults 500 ms, 10 steps, 75 s/GiB; a 2 GiB guest.
        lv = estimator.LibvirtSettings()
        self.assertEqual(
            [(0, 50), (150, 95), (300, 140), (450, 185), (600, 230),
             (750, 275), (900, 320), (1050, 365), (1200, 410), (1350, 455),
             (1500, 500)], lv.steps(2.0))

    def test_truncation(self):
        # 3 steps of 100 ms, 10 s delay, 2.5 GiB: base 33.3, offset 22.2.
        lv = estimator.LibvirtSettings(downtime_ms=100, downtime_steps=3,
                                       downtime_delay_s=10)
        self.assertEqual([(0, 33), (25, 55), (50, 77), (75, 100)],
                         lv.steps(2.5))

    def test_single_step(self):
        lv = estimator.LibvirtSettings(downtime_ms=300, downtime_steps=1,
                                       downtime_delay_s=0)
        self.assertEqual([(0, 300), (0, 300)], lv.steps(4.0))

    def test_matches_formula_on_many_settings(self):
        rng = np.random.RandomState(20261127)
        for _ in range(200):
            downtime = int(rng.randint(100, 5000))
            steps = int(rng.randint(1, 40))
            delay = int(rng.randint(0, 300))
            gb = float(rng.choice([2.0, 2.5, 3.0, 7.75, 16.0, 64.0]))
            lv = estimator.LibvirtSettings(downtime_ms=downtime,
                                           downtime_steps=steps,
                                           downtime_delay_s=delay)
            self.assertEqual(nova_steps(downtime, steps, delay, gb),
                             lv.steps(gb),
                             (downtime, steps, delay, gb))

    def test_data_gb_like_nova(self):
        # Nova counts RAM as at least 2 GiB, plus the disk of a block
        # migration.
        self.assertEqual(2.0, estimator.data_gb(512))
        self.assertEqual(2.0, estimator.data_gb(2048))
        self.assertEqual(4.0, estimator.data_gb(4096))
        self.assertEqual(12.0, estimator.data_gb(1024, disk_gb=10))
