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

"""Published host profiles and observed dirty rates in the decision."""

import dataclasses
import datetime

from qslm_nova import estimator
from qslm_nova import observed
from qslm_nova import policy
from qslm_nova.profile import model
from qslm_nova.profile import store
from qslm_nova.profile import traits
from tests.unit.decision import base
from tests.unit import fixtures as fx

NOW_S = fx.NOW.timestamp()
ENCRYPT = {'qslm:require_encryption': 'true'}


class FakeStore:
    """A ProfileStore answering from a dict of HostProfiles."""

    def __init__(self, *profiles):
        self.profiles = {p.node: p for p in profiles}
        self.table = store.DestinationTable(self.profiles)

    def source(self, node):
        return self.profiles.get(node), None

    def destinations(self):
        return self.table


def prof(node, transport='none', accepts_tls=False, **kw):
    values = dict(libvirt=estimator.LibvirtSettings(), cores=8,
                  seen_at=NOW_S - 60, cpu_load=0.2)
    values.update(kw)
    return model.HostProfile(node, transport=transport,
                             accepts_tls=accepts_tls, **values)


class ProfileTestCase(base.DecisionTestCase):

    def engine_with(self, *profiles, **settings):
        engine = fx.make_engine(**settings)
        engine.profiles = FakeStore(*profiles)
        return engine


class TestTransport(ProfileTestCase):

    def test_plain_source_cannot_encrypt_whatever_the_topology_says(self):
        # The topology file lists tls on src, but src's Nova migrates in
        # plain TCP: an instance that requires encryption cannot move.
        engine = self.engine_with(prof('src'), prof('dst', 'tls', True))
        self.assertAllowed(self.decide('dst', flavor=ENCRYPT))
        d = self.decide('dst', engine=engine, flavor=ENCRYPT)
        self.assertFalse(d.allowed)
        self.assertIn("no protecting mechanism is what src's Nova migrates "
                      "with (none, published profile)", d.reasons[0])
        self.assertIn('topology file lists none, tls, tunnelled for src but '
                      'its Nova migrates with none (published profile)',
                      d.notes)
        plain = self.decide('dst', engine=engine)
        self.assertAllowed(plain)
        self.assertEqual('none', plain.mechanism)
        self.assertEqual('profile', plain.sources.transport)

    def test_tls_source_needs_a_tls_destination(self):
        engine = self.engine_with(prof('src', 'tls', True),
                                  prof('dst', 'none', False))
        # dst has no QEMU certificates: Nova's TLS migration would fail
        # there, so it is no destination at all, encrypted or not.
        d = self.decide('dst', engine=engine)
        self.assertFalse(d.allowed)
        self.assertIn('dst can receive (none, tunnelled)', d.reasons[0])
        self.assertIn('topology file lists tls for dst but it has no QEMU '
                      'TLS certificates and cannot receive native TLS '
                      '(published profile)', d.notes)
        engine = self.engine_with(prof('src', 'tls', True),
                                  prof('dst', 'none', True))
        d = self.decide('dst', engine=engine, flavor=ENCRYPT)
        self.assertAllowed(d)
        self.assertEqual('tls', d.mechanism)
        self.assertEqual('transport=profile libvirt=profile cipher=topology '
                         'cpu_load=profile dirty_rate=policy',
                         str(d.sources))

    def test_destination_without_profile_keeps_its_topology_list(self):
        # plain has no agent: the topology file says it takes none only.
        engine = self.engine_with(prof('src', 'tls', True))
        d = self.decide('plain', engine=engine)
        self.assertFalse(d.allowed)
        self.assertIn('plain can receive (none)', d.reasons[0])
        self.assertAllowed(self.decide('dst', engine=engine))

    def test_network_level_ipsec_stays(self):
        doc = fx.cloud_doc()
        doc['hosts']['src']['mechanisms'] = ['none', 'ipsec']
        doc['hosts']['dst']['mechanisms'] = ['none', 'ipsec']
        engine = fx.make_engine(fx.make_topology(doc))
        engine.profiles = FakeStore(prof('src'), prof('dst'))
        d = self.decide('dst', engine=engine, flavor=ENCRYPT)
        self.assertAllowed(d)
        self.assertEqual('ipsec', d.mechanism)


class TestFigures(ProfileTestCase):

    def test_libvirt_options_of_the_source(self):
        slow = estimator.LibvirtSettings(bandwidth_mibps=1,
                                         completion_timeout_s=10)
        engine = self.engine_with(prof('src', libvirt=slow), prof('dst'))
        d = self.decide('dst', engine=engine)
        self.assertFalse(d.allowed)
        self.assertIn('Nova would abort it after the completion timeout '
                      '(live_migration_completion_timeout 10 s/GiB)',
                      d.reasons[0])
        self.assertAllowed(self.decide('dst'))

    def test_measured_cipher_limits_tls(self):
        fast = self.engine_with(prof('src', 'tls', True,
                                     cipher_gbps_per_core=8.0),
                                prof('dst', 'tls', True,
                                     cipher_gbps_per_core=8.0))
        slow = self.engine_with(prof('src', 'tls', True,
                                     cipher_gbps_per_core=8.0),
                                prof('dst', 'tls', True,
                                     cipher_gbps_per_core=0.8))
        d_fast = self.decide('dst', engine=fast)
        d_slow = self.decide('dst', engine=slow)
        self.assertEqual('profile', d_slow.sources.cipher)
        # 0.8 Gbit/s of cipher after 10 Gbit/s of sending on a core, of
        # which a host at load 0.2 gives the stream 1 / 1.2.
        per_core = 1e9 / 8 / (1 / 0.8 + 1 / 10.0)
        self.assertAlmostEqual(per_core / 1.2 / 2 ** 20, d_slow.rate_mibps)
        self.assertGreater(d_fast.rate_mibps, 5 * d_slow.rate_mibps)

    def test_parallel_connections_no_more_than_cores(self):
        four = estimator.LibvirtSettings(parallel_connections=4)
        one = self.engine_with(prof('src', 'tls', True),
                               prof('dst', 'tls', True))
        par = self.engine_with(prof('src', 'tls', True, libvirt=four),
                               prof('dst', 'tls', True, cores=2))
        d1 = self.decide('dst', engine=one)
        d2 = self.decide('dst', engine=par)
        # Cipher-bound (2.5 Gbit/s a core, 10 Gbit/s path): two streams
        # (dst has two cores); the second adds a core as far as the host
        # is idle (load 0.2: 80 %).
        self.assertAlmostEqual(1.8, d2.rate_mibps / d1.rate_mibps)
        self.assertLess(d2.expected_downtime_ms, d1.expected_downtime_ms)

    def test_fresh_load_used_stale_load_not(self):
        busy = self.engine_with(prof('src', 'tls', True),
                                prof('dst', 'tls', True, cpu_load=0.9))
        d = self.decide('dst', engine=busy)
        self.assertEqual('profile', d.sources.cpu_load)
        # Load 0.9: the stream gets 1 / 1.9 of a core.
        per_core = 1e9 / 8 / (1 / 2.5 + 1 / 10.0)
        self.assertAlmostEqual(per_core / 1.9 / 2 ** 20, d.rate_mibps)
        stale = self.engine_with(
            prof('src', 'tls', True, seen_at=NOW_S - 7200),
            prof('dst', 'tls', True, cpu_load=0.9, seen_at=NOW_S - 7200))
        d = self.decide('dst', engine=stale)
        self.assertEqual('topology', d.sources.cpu_load)
        self.assertIn('published profile of src is 120 min old: its CPU '
                      'load is not used', d.notes)

    def test_saturated_source_through_its_traits(self):
        # Seven busy threads on two CPUs, as the agent publishes it and
        # the destination table reads it back: 3.5 threads per CPU.
        published = traits.decode('src', traits.encode(
            prof('src', 'tls', True, cpu_load=3.5)))
        self.assertEqual(3.5, published.cpu_load)
        d = self.decide('dst', engine=self.engine_with(
            published, prof('dst', 'tls', True)))
        self.assertEqual('profile', d.sources.cpu_load)
        per_core = 1e9 / 8 / (1 / 2.5 + 1 / 10.0)
        self.assertAlmostEqual(per_core / 4.5 / 2 ** 20, d.rate_mibps)

    def test_no_profiles_decide_as_before(self):
        engine = self.engine_with()
        hosts = ['dst', 'plain', 'far', 'farplain', 'rogue']
        for flavor in ({}, ENCRYPT, base.PRIVATE):
            before = self.engine.decide(fx.request(flavor=flavor), hosts)
            after = engine.decide(fx.request(flavor=flavor), hosts)
            for a, b in zip(before, after):
                self.assertEqual(dataclasses.replace(a, sources=None),
                                 dataclasses.replace(b, sources=None))


class TestObservedDirtyRate(ProfileTestCase):

    def meta(self, mibps, age_s):
        at = fx.NOW - datetime.timedelta(seconds=age_s)
        return {policy.OBSERVED_DIRTY_RATE: observed.format_value(mibps, at)}

    def test_fresh_observation_replaces_the_hint(self):
        hint = self.decide('far', flavor={'qslm:dirty_rate_mibps': '1'})
        busy = self.decide('far', flavor={'qslm:dirty_rate_mibps': '1'},
                           metadata=self.meta(60.0, 30))
        self.assertEqual('observed', busy.sources.dirty_rate)
        self.assertEqual('policy', hint.sources.dirty_rate)
        self.assertIn('dirty rate 60.00 MiB/s observed by the compute agent '
                      '30 s ago (the hint was 16.00 MiB/s)', busy.notes)
        # The pause is set by the downtime limit; the copy takes longer.
        self.assertGreater(busy.total_time_s, hint.total_time_s)

    def test_stale_or_malformed_observation_is_a_note(self):
        d = self.decide('far', metadata=self.meta(60.0, 3600))
        self.assertEqual('policy', d.sources.dirty_rate)
        self.assertIn('observed dirty rate 60.00 MiB/s is 3600 s old (over '
                      '[qslm] observed_dirty_rate_max_age 900 s): the '
                      'dirty-rate hint is used', d.notes)
        d = self.decide('far', metadata={policy.OBSERVED_DIRTY_RATE: 'lots'})
        self.assertTrue(d.allowed)
        self.assertIn("instance metadata qslm:observed_dirty_rate 'lots' "
                      "unreadable (no \"@\" between rate and time): the "
                      "dirty-rate hint is used", d.notes)

    def test_observation_off(self):
        engine = fx.make_engine(observed_dirty_rate_max_age=0)
        d = self.decide('far', engine=engine, metadata=self.meta(60.0, 1))
        self.assertEqual('policy', d.sources.dirty_rate)
