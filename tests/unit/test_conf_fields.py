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


"""Settings dataclasses read from the options through one field list."""

import dataclasses

from qslm_nova import conf_fields
from qslm_nova import decision
from qslm_nova import estimator
from qslm_nova import policy
from tests.unit.conf import base as conf_base

# Every settings dataclass whose fields name their options.
MAPPED = (estimator.LibvirtSettings, estimator.ModelParams, policy.Defaults)


@dataclasses.dataclass(frozen=True)
class _Example:
    size_mb: float = conf_fields.option('device_state_mb', 1.0)
    mechanisms: tuple = conf_fields.option(
        'default_allowed_mechanisms', ('none', 'tls', 'tunnelled', 'ipsec'),
        convert=tuple)
    fixed: int = conf_fields.constant(7)


@dataclasses.dataclass(frozen=True)
class _Outer:
    # The shape decision.Settings can take: settings inside settings.
    libvirt: estimator.LibvirtSettings = conf_fields.nested(
        estimator.LibvirtSettings)
    example: _Example = conf_fields.nested(_Example)
    fail_closed: bool = conf_fields.option('fail_closed', True)


@dataclasses.dataclass(frozen=True)
class _Forgotten:
    size_mb: float = conf_fields.option('device_state_mb', 1.0)
    new_field: float = 2.0


class TestConfFields(conf_base.ConfTestCase):

    def test_from_group_reads_options_and_keeps_constants(self):
        self.fixture.config(device_state_mb=3.5,
                            default_allowed_mechanisms=['tls', 'tunnelled'],
                            group='qslm')
        self.assertEqual(_Example(3.5, ('tls', 'tunnelled'), 7),
                         conf_fields.from_group(_Example, self.conf.qslm))

    def test_nested_settings_read_the_same_group(self):
        self.assertEqual(_Outer(), conf_fields.from_group(_Outer,
                                                          self.conf.qslm))
        self.fixture.config(device_state_mb=3.5, fail_closed=False,
                            live_migration_downtime=900, group='qslm')
        made = conf_fields.from_group(_Outer, self.conf.qslm)
        self.assertEqual(3.5, made.example.size_mb)
        self.assertEqual(900, made.libvirt.downtime_ms)
        self.assertFalse(made.fail_closed)
        self.assertEqual((('fail_closed', 'fail_closed', None),),
                         conf_fields.option_fields(_Outer))

    def test_undeclared_field_is_an_error(self):
        e = self.assertRaises(TypeError, conf_fields.from_group, _Forgotten,
                              self.conf.qslm)
        self.assertIn('_Forgotten.new_field names no option', str(e))

    def test_every_named_option_exists(self):
        for cls in MAPPED:
            for field, option, _convert in conf_fields.option_fields(cls):
                self.assertIn(option, self.conf.qslm,
                              '%s.%s' % (cls.__name__, field))

    def test_defaults_equal_the_options(self):
        # The dataclass defaults (used by the core and its tests) are the
        # option defaults.
        for cls in MAPPED:
            self.assertEqual(cls(), cls.from_conf(self.conf.qslm),
                             cls.__name__)

    def test_every_option_reaches_its_field(self):
        # Each option set to a value unlike its default shows up in its
        # field: no field is read from the wrong option.
        values = {'live_migration_downtime': 800,
                  'live_migration_downtime_steps': 4,
                  'live_migration_downtime_delay': 30,
                  'live_migration_completion_timeout': 0,
                  'live_migration_timeout_action': 'force_complete',
                  'live_migration_permit_post_copy': True,
                  'live_migration_permit_auto_converge': True,
                  'live_migration_bandwidth': 200,
                  'live_migration_parallel_connections': 4,
                  'setup_ms': 5.0, 'confirmation_ms': 11.0,
                  'activation_ms': 31.0, 'device_state_mb': 2.0,
                  'worst_dirty_factor': 3.0, 'worst_bandwidth_factor': 0.5,
                  'stop_share': 1.1, 'worst_stop_share': 2.0,
                  'worst_extra_ms': 60.0, 'iteration_ms': 40.0,
                  'first_sample_ms': 200.0, 'auto_converge_sync_s': 2.5,
                  'migration_gbps_per_core': 4.0,
                  'postcopy_rate_share': 0.55,
                  'worst_postcopy_buffer_factor': 5.0,
                  'qemu_default_downtime_ms': 250.0, 'monitor_delay_s': 3.0,
                  'default_require_trusted_host': True,
                  'default_min_link_security': 'shared',
                  'default_require_encryption': True,
                  'default_allowed_mechanisms': ['tls'],
                  'default_dirty_rate_mibps': 64.0,
                  'default_budget_period_days': 7}
        self.fixture.config(group='qslm', **values)
        expected = dict(values, default_allowed_mechanisms=('tls',))
        for cls in MAPPED:
            made = cls.from_conf(self.conf.qslm)
            for field, option, _convert in conf_fields.option_fields(cls):
                self.assertEqual(expected[option], getattr(made, field),
                                 '%s.%s' % (cls.__name__, field))
        self.assertEqual(
            set(values), {option for cls in MAPPED for _f, option, _c in
                          conf_fields.option_fields(cls)})


class TestDecisionSettings(conf_base.ConfTestCase):

    def test_settings_from_conf_defaults(self):
        s = decision.Settings.from_conf(self.conf.qslm)
        self.assertEqual(decision.Settings(), s)

    def test_settings_from_conf(self):
        self.fixture.config(group='qslm',
                            live_migration_downtime=800,
                            live_migration_downtime_steps=4,
                            live_migration_downtime_delay=30,
                            live_migration_completion_timeout=0,
                            live_migration_timeout_action='force_complete',
                            live_migration_permit_post_copy=True,
                            live_migration_permit_auto_converge=True,
                            live_migration_bandwidth=200,
                            default_require_encryption=True,
                            default_allowed_mechanisms=['tls'],
                            default_min_link_security='shared',
                            worst_dirty_factor=3.0,
                            setup_ms=5.0,
                            fail_closed=False,
                            sla_estimate='expected')
        s = decision.Settings.from_conf(self.conf.qslm)
        self.assertEqual(estimator.LibvirtSettings(
            downtime_ms=800, downtime_steps=4, downtime_delay_s=30,
            completion_timeout_s=0, timeout_action='force_complete',
            permit_post_copy=True, permit_auto_converge=True,
            bandwidth_mibps=200), s.libvirt)
        self.assertTrue(s.defaults.require_encryption)
        self.assertEqual(('tls',), s.defaults.allowed_mechanisms)
        self.assertEqual('shared', s.defaults.min_link_security)
        self.assertEqual(3.0, s.params.worst_dirty_factor)
        self.assertEqual(5.0, s.params.setup_ms)
        self.assertFalse(s.fail_closed)
        self.assertEqual('expected', s.sla_estimate)
