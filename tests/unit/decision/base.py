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

"""The decision tests' shared case: one engine on the test cloud."""

from oslotest import base

from tests.unit import fixtures as fx

PRIVATE = {'qslm:min_link_security': 'private'}
TRUSTED = {'qslm:require_trusted_host': 'true'}


class DecisionTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.engine = fx.make_engine()

    def decide(self, host, engine=None, **kw):
        return fx.decide_one(engine or self.engine, host, **kw)

    def assertAllowed(self, d):
        self.assertTrue(d.allowed, d.reasons)
        self.assertEqual((), d.reasons)
        self.assertGreaterEqual(d.score, 0.0)

    def assertDenied(self, d, reason):
        self.assertFalse(d.allowed)
        self.assertIn(reason, d.reasons)
