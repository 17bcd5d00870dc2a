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


"""How a migration ends, as the model and Nova see it."""

import enum


class Outcome(enum.IntEnum):
    """How a migration ends; the numbers are stored in result arrays."""

    COMPLETED = 0
    ABORTED = 1
    FORCED_PAUSE = 2
    POST_COPY = 3
    NO_CONVERGENCE = 4

    @property
    def label(self):
        """The name shown to operators, e.g. ``forced-pause``."""
        return self.name.lower().replace('_', '-')
