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


"""Shared set-up of the option tests: a fresh ConfigOpts with [qslm]."""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
from oslotest import base

from qslm_nova import conf


class ConfTestCase(base.BaseTestCase):
    """A ConfigOpts of its own with every [qslm] option registered."""

    def setUp(self):
        super().setUp()
        self.conf = cfg.ConfigOpts()
        conf.register_opts(self.conf)
        self.fixture = self.useFixture(config_fixture.Config(self.conf))
        self.conf([], project='qslm-nova-test')

    def assertRefused(self, **values):
        """Setting these [qslm] values raises ValueError."""
        for name, value in values.items():
            self.assertRaises(ValueError, self.fixture.config,
                              group='qslm', **{name: value})
