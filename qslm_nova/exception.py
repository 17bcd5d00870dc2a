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

"""Errors raised by the qslm-nova core."""


class QSLMError(Exception):
    """Base class of qslm-nova errors."""


class TopologyError(QSLMError):
    """A topology file is invalid.

    ``errors`` lists every problem found, each already prefixed with the
    file name and the place of the entry, e.g.
    ``topology.yaml: links[3].bandwidth_gbps: must be > 0, got -1``.
    """

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__('\n'.join(self.errors))


class PolicyValueError(QSLMError, ValueError):
    """A qslm: extra spec, image property or metadata value is malformed."""

    def __init__(self, key, value, why):
        self.key = key
        self.value = value
        self.why = why
        super().__init__('%s: %s, got %r' % (key, why, value))


class TrustProviderError(QSLMError):
    """A trust provider could not answer (unreachable, malformed...)."""
