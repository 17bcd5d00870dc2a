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

"""A host profile as Placement traits and back."""

import re

from oslotest import base

from qslm_nova import estimator
from qslm_nova.profile import model
from qslm_nova.profile import traits

# Placement's own rule for custom trait names (placement/schemas/trait.py).
CUSTOM_TRAIT = re.compile(r'^CUSTOM_[A-Z0-9_]+$')

LIBVIRT = estimator.LibvirtSettings(
    downtime_ms=800, downtime_steps=4, downtime_delay_s=30,
    completion_timeout_s=300, timeout_action='force_complete',
    permit_post_copy=True, permit_auto_converge=False, bandwidth_mibps=200,
    parallel_connections=4)


def profile(**kw):
    values = dict(node='cmp-1', transport='tls', accepts_tls=True,
                  libvirt=LIBVIRT, cipher_gbps_per_core=2.4567,
                  cpu_load=0.314, cores=16, libvirt_version=9000000,
                  qemu_version=7002022, seen_at=1764057899)
    values.update(kw)
    return model.HostProfile(**values)


class TestEncode(base.BaseTestCase):

    def test_every_name_is_a_valid_custom_trait(self):
        for name in traits.encode(profile()):
            self.assertRegex(name, CUSTOM_TRAIT)
            self.assertLessEqual(len(name), 255)

    def test_round_trip_with_rounding(self):
        back = traits.decode('cmp-1', traits.encode(profile()))
        self.assertEqual((), back.errors)
        self.assertEqual(LIBVIRT, back.libvirt)
        self.assertEqual('tls', back.transport)
        self.assertTrue(back.accepts_tls)
        # Cipher down to two significant digits (a figure that holds),
        # load up to 5 % (never lighter than measured), time to ten
        # minutes.
        self.assertEqual(2.4, back.cipher_gbps_per_core)
        self.assertEqual(0.35, back.cpu_load)
        self.assertEqual(1764057600, back.seen_at)
        self.assertEqual((16, 9000000, 7002022),
                         (back.cores, back.libvirt_version,
                          back.qemu_version))

    def test_rounding_edges(self):
        self.assertEqual(0, traits.load_trait_value(0.0))
        self.assertEqual(0, traits.load_trait_value(-0.5))
        self.assertEqual(5, traits.load_trait_value(0.0001))
        self.assertEqual(35, traits.load_trait_value(0.35))
        self.assertEqual(100, traits.load_trait_value(1.0))
        # Above one runnable thread per CPU the steps widen: 25 % to
        # 400 %, then 100 % up to the cap.
        self.assertEqual(125, traits.load_trait_value(1.0001))
        self.assertEqual(175, traits.load_trait_value(1.7))
        self.assertEqual(400, traits.load_trait_value(4.0))
        self.assertEqual(500, traits.load_trait_value(4.01))
        self.assertEqual(1600, traits.load_trait_value(15.5))
        for heavy in (16.01, 1e300, float('inf'), float('nan')):
            self.assertEqual(1600, traits.load_trait_value(heavy), heavy)
        steps = {traits.load_trait_value(x / 100.0) for x in range(2000)}
        self.assertEqual(45, len(steps))
        self.assertEqual(11000, traits.cipher_trait_value(11.99))
        self.assertEqual(950, traits.cipher_trait_value(0.95))
        self.assertIsNone(traits.cipher_trait_value(float('inf')))
        self.assertIsNone(traits.cipher_trait_value(0.0))

    def test_flags_absent_when_false(self):
        names = traits.encode(profile(accepts_tls=False, transport='none'))
        self.assertNotIn(traits.ACCEPTS_TLS, names)
        self.assertIn('CUSTOM_QSLM_MIG_TRANSPORT_NONE', names)
        self.assertIn('CUSTOM_QSLM_MIG_POST_COPY', names)
        self.assertNotIn('CUSTOM_QSLM_MIG_AUTO_CONVERGE', names)


class TestDecode(base.BaseTestCase):

    def test_no_marker_no_profile(self):
        names = set(traits.encode(profile())) - {traits.MARKER}
        self.assertIsNone(traits.decode('cmp-1', names))
        self.assertIsNone(traits.decode('cmp-1', ['HW_CPU_X86_AVX2']))

    def test_other_traits_ignored(self):
        names = set(traits.encode(profile())) | {
            'HW_CPU_X86_AVX2', 'CUSTOM_QSLM_TRUSTED', 'COMPUTE_NET_VIF'}
        self.assertEqual((), traits.decode('cmp-1', names).errors)

    def test_two_transports_is_no_transport(self):
        names = set(traits.encode(profile())) | {
            'CUSTOM_QSLM_MIG_TRANSPORT_NONE'}
        got = traits.decode('cmp-1', names)
        self.assertIsNone(got.transport)
        self.assertIn('2 transports published (none, tls)', got.errors)

    def test_saturated_load_round_trips(self):
        back = traits.decode('cmp-1', traits.encode(profile(cpu_load=2.6)))
        self.assertEqual(2.75, back.cpu_load)

    def test_load_beyond_the_cap_reads_as_the_cap(self):
        names = set(traits.encode(profile(cpu_load=None))) | {
            'CUSTOM_QSLM_MIG_CPU_LOAD_PCT_999999999999999'}
        self.assertEqual(16.0, traits.decode('cmp-1', names).cpu_load)

    def test_two_values_of_one_figure_are_dropped(self):
        names = set(traits.encode(profile())) | {
            'CUSTOM_QSLM_MIG_CPU_LOAD_PCT_90',
            'CUSTOM_QSLM_MIG_DOWNTIME_MS_100'}
        got = traits.decode('cmp-1', names)
        self.assertIsNone(got.cpu_load)
        # A [libvirt] option with two values leaves the options unknown.
        self.assertIsNone(got.libvirt)
        self.assertIn('CUSTOM_QSLM_MIG_CPU_LOAD_PCT has 2 values (35, 90)',
                      got.errors)

    def test_unknown_transport_and_bad_steps(self):
        names = {traits.MARKER, 'CUSTOM_QSLM_MIG_TRANSPORT_CARRIER_PIGEON'}
        got = traits.decode('cmp-1', names)
        self.assertIsNone(got.transport)
        self.assertIn('unknown transport CARRIER_PIGEON', got.errors)
        names = set(traits.encode(profile(libvirt=estimator.LibvirtSettings(
            downtime_steps=0))))
        self.assertIsNone(traits.decode('cmp-1', names).libvirt)
        # A count the model would walk for ever (a trait holds up to 15
        # digits) is refused and named, never modelled.
        names = {n for n in traits.encode(profile())
                 if 'DOWNTIME_STEPS' not in n} | {
            'CUSTOM_QSLM_MIG_DOWNTIME_STEPS_999999999999999'}
        got = traits.decode('cmp-1', names)
        self.assertIsNone(got.libvirt)
        self.assertIn('[libvirt] downtime steps must be at most 10000, not '
                      '999999999999999', got.errors)
        names = {n for n in traits.encode(profile())
                 if 'DOWNTIME_STEPS' not in n} | {
            'CUSTOM_QSLM_MIG_DOWNTIME_STEPS_10000'}
        self.assertEqual(10000, traits.decode(
            'cmp-1', names).libvirt.downtime_steps)

    def test_partial_reading_is_not_an_error(self):
        names = {traits.MARKER, traits.ACCEPTS_TLS,
                 'CUSTOM_QSLM_MIG_CIPHER_MBPS_2400'}
        got = traits.decode('cmp-1', names, partial=True)
        self.assertEqual((), got.errors)
        self.assertIsNone(got.libvirt)
        self.assertEqual(2.4, got.cipher_gbps_per_core)
        full = traits.decode('cmp-1', names)
        self.assertIn('no transport published', full.errors)


class TestTransport(base.BaseTestCase):

    def test_nova_options(self):
        T = model.Transport
        self.assertEqual((T.PLAIN, None),
                         model.transport_of(False, False, None))
        self.assertEqual((T.NATIVE_TLS, None),
                         model.transport_of(True, False, 'tcp'))
        self.assertEqual((T.TUNNELLED, None),
                         model.transport_of(False, True, 'tls'))
        self.assertEqual(T.TUNNELLED,
                         model.transport_of(False, True, 'ssh')[0])
        plain, why = model.transport_of(False, True, None)
        self.assertEqual(T.PLAIN, plain)
        self.assertIn('plain text', why)
        none, why = model.transport_of(True, True, None)
        self.assertIsNone(none)
        self.assertIn('refuses to start', why)

    def test_streams_limited_by_cores(self):
        a = profile(cores=2)
        b = profile(cores=16)
        self.assertEqual(2, a.streams_with(b))
        self.assertEqual(4, b.streams_with(None))
        self.assertEqual(1, profile(libvirt=None).streams_with(b))
