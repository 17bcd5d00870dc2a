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

"""Real-migration testbed: two QEMU processes on loopback, driven over QMP.

The testbed produces the ground truth the downtime estimator is held to:
:mod:`runner` runs one migration of the self-built guest (:mod:`guest`)
over one transport (:mod:`transports`), :mod:`campaign` runs a grid of
them into a CSV, :mod:`fit` calibrates the model constants on part of the
grid and :mod:`report` checks the estimator against the rest.
"""


class TestbedError(Exception):
    """The testbed cannot do what was asked on this machine."""
