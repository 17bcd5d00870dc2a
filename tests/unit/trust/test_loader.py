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


"""The trust provider loader registers each provider's own options.

Watcher-style: a provider declares its options (``get_config_opts``,
``get_config_group``); the loader registers them on the conf object
before it constructs the provider, and ``list_provider_opts`` finds them
through the entry points for the sample configuration.
"""

import os

import fixtures
from oslo_config import cfg
import testtools

from qslm_nova import conf as qslm_conf
from qslm_nova import exception
from qslm_nova import trust
from qslm_nova.trust import aggregate
from qslm_nova.trust import base
from qslm_nova.trust import keylime
from qslm_nova.trust import static
from qslm_nova.trust import traits


class _NoGroup(base.TrustProvider):
    name = 'nogroup'
    config_opts = [cfg.StrOpt('anything')]

    def get_trust(self, hosts, topology, host_info=None):
        return {}


class TestProviderOptions(testtools.TestCase):

    def conf(self, text=''):
        """A ConfigOpts with only [qslm] registered, reading ``text``."""
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'qslm.conf')
        with open(path, 'w') as f:
            f.write(text)
        conf = cfg.ConfigOpts()
        qslm_conf.register_opts(conf)
        conf([], project='qslm-test', default_config_files=[path])
        return conf

    def test_loader_registers_before_constructing(self):
        conf = self.conf('[qslm_keylime]\ncache_ttl = 7\n'
                         '[qslm_aggregate]\ntrusted_key = attested\n')
        self.assertNotIn('qslm_keylime', conf)
        loaded = trust.load_providers(conf, ['keylime', 'aggregate',
                                             'static'])
        self.assertEqual(['keylime', 'aggregate', 'static'],
                         [p.name for p in loaded])
        # Values of the file read before the options existed.
        self.assertEqual(7, conf.qslm_keylime.cache_ttl)
        self.assertEqual('attested', conf.qslm_aggregate.trusted_key)
        self.assertNotIn('qslm_traits', conf)

    def test_loading_twice_is_harmless(self):
        conf = self.conf()
        trust.load_providers(conf, ['traits'])
        trust.load_providers(conf, ['traits'])
        self.assertEqual('CUSTOM_QSLM_TRUSTED',
                         conf.qslm_traits.trusted_trait)

    def test_constructors_register_nothing(self):
        conf = self.conf()
        for provider in (keylime.KeylimeTrustProvider,
                         aggregate.AggregateTrustProvider,
                         traits.TraitTrustProvider,
                         static.StaticTrustProvider):
            provider(conf)
        self.assertEqual([], [g for g in conf if g.startswith('qslm_')])

    def test_options_without_group_are_refused(self):
        e = self.assertRaises(TypeError, trust.register_provider_opts,
                              self.conf(), _NoGroup)
        self.assertIn('_NoGroup declares options but no option group',
                      str(e))

    def test_unknown_provider_named(self):
        e = self.assertRaises(exception.TrustProviderError,
                              trust.load_providers, self.conf(),
                              ['static', 'nosuch'])
        self.assertIn('nosuch', str(e))

    def test_list_provider_opts_from_entry_points(self):
        listed = {group.name: opts
                  for group, opts in trust.list_provider_opts()}
        self.assertEqual(['qslm_aggregate', 'qslm_keylime', 'qslm_traits'],
                         sorted(listed))
        self.assertEqual(keylime.KeylimeTrustProvider.get_config_opts(),
                         listed['qslm_keylime'])
        self.assertEqual([], static.StaticTrustProvider.get_config_opts())
