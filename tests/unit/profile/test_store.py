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

"""Reading profiles from Placement, and keeping them off the request path."""

import urllib.parse

from oslotest import base

from qslm_nova.profile import placement
from qslm_nova.profile import store
from qslm_nova.profile import traits
from tests.unit.profile import test_traits


class FakePlacement:
    """Answers the GETs PlacementReader makes from a table of providers.

    ``providers``: {name: (uuid, set of traits)}. Every GET is recorded.
    """

    def __init__(self, providers):
        self.providers = providers
        self.calls = []
        self.down = False

    def get(self, path, microversion):
        self.calls.append((path, microversion))
        if self.down:
            raise placement.PlacementError('connection refused')
        url = urllib.parse.urlparse(path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == '/traits':
            prefix = query['name'][0].split(':', 1)[1]
            names = sorted({t for _u, ts in self.providers.values()
                            for t in ts if t.startswith(prefix)} |
                           {prefix + 'SEEN_1'})   # an unused old trait
            return 200, {'traits': names}
        if url.path == '/resource_providers':
            if 'required' in query:
                want = query['required'][0]
                found = [n for n, (_u, ts) in self.providers.items()
                         if want in ts]
            else:
                found = [n for n in self.providers if n == query['name'][0]]
            return 200, {'resource_providers': [
                {'uuid': self.providers[n][0], 'name': n} for n in found]}
        if url.path.endswith('/traits'):
            uuid = url.path.split('/')[2]
            for _n, (u, ts) in self.providers.items():
                if u == uuid:
                    return 200, {'traits': sorted(ts)}
            return 404, {'errors': [{'detail': 'no such provider'}]}
        return 404, None


def fleet():
    tls = traits.encode(test_traits.profile(node='a'))
    plain = traits.encode(test_traits.profile(
        node='b', transport='none', accepts_tls=False, cpu_load=0.9))
    return FakePlacement({'a': ('uuid-a', set(tls) | {'HW_CPU_X86_AVX2'}),
                          'b': ('uuid-b', set(plain)),
                          'c': ('uuid-c', {'COMPUTE_NET_VIF'})})


class TestPlacementReader(base.BaseTestCase):

    def test_destination_table_one_query_per_wanted_trait(self):
        fake = fleet()
        table = placement.PlacementReader(fake.get).destination_table()
        self.assertEqual({'a', 'b'}, set(table))
        self.assertTrue(table['a'].accepts_tls)
        self.assertFalse(table['b'].accepts_tls)
        self.assertEqual(0.9, table['b'].cpu_load)
        self.assertEqual(2.4, table['a'].cipher_gbps_per_core)
        # The destination reading leaves out what only a source needs.
        self.assertIsNone(table['a'].libvirt)
        asked = [p for p, _v in fake.calls if 'required=' in p]
        self.assertFalse(any('DOWNTIME' in p or 'TRANSPORT' in p
                             for p in asked))
        self.assertEqual(len(asked), len(set(asked)))

    def test_host_profile_is_complete(self):
        got = placement.PlacementReader(fleet().get).host_profile('a')
        self.assertEqual((), got.errors)
        self.assertEqual(test_traits.LIBVIRT, got.libvirt)
        self.assertIsNone(
            placement.PlacementReader(fleet().get).host_profile('c'))
        self.assertIsNone(
            placement.PlacementReader(fleet().get).host_profile('nowhere'))

    def test_error_status_names_the_request(self):
        def get(path, microversion):
            return 503, {'errors': [{'title': 'Service Unavailable'}]}
        e = self.assertRaises(placement.PlacementError,
                              placement.PlacementReader(get).profile_traits)
        self.assertIn('Placement GET /traits?name=startswith:'
                      'CUSTOM_QSLM_MIG_ answered 503', str(e))

    def test_exception_of_the_client_becomes_placement_error(self):
        def get(path, microversion):
            raise TimeoutError('read timed out')
        e = self.assertRaises(placement.PlacementError,
                              placement.PlacementReader(get).host_profile,
                              'a')
        self.assertIn('read timed out', str(e))


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class TestProfileStore(base.BaseTestCase):

    def make(self, fake):
        clock = FakeClock()
        s = store.ProfileStore(placement.PlacementReader(fake.get),
                               refresh_s=60, first_wait_s=5, clock=clock)
        self.addCleanup(s.close)
        return s, clock

    def test_first_request_waits_for_the_first_table(self):
        s, _clock = self.make(fleet())
        table = s.destinations()
        self.assertEqual({'a', 'b'}, set(table.by_node))

    def test_failed_refresh_keeps_the_last_table(self):
        fake = fleet()
        s, _clock = self.make(fake)
        self.assertTrue(s.refresh())
        fake.down = True
        with self.assertLogs('qslm_nova.profile.store', 'WARNING') as logs:
            self.assertFalse(s.refresh())
            self.assertFalse(s.refresh())
        # One warning per failure streak, not per attempt.
        self.assertEqual(1, len(logs.records))
        self.assertIn('keeping the last 2', logs.output[0])
        self.assertEqual({'a', 'b'}, set(s.destinations().by_node))

    def test_source_cached_and_kept_through_an_outage(self):
        fake = fleet()
        s, clock = self.make(fake)
        first, error = s.source('a')
        self.assertIsNone(error)
        calls = len(fake.calls)
        self.assertIs(first, s.source('a')[0])
        self.assertEqual(calls, len(fake.calls))
        clock.now += 61
        fake.down = True
        again, error = s.source('a')
        self.assertIs(first, again)
        self.assertIn('host profile of a unreadable', error)

    def test_arrays_over_a_topology(self):
        from tests.unit import fixtures as fx
        topo = fx.make_topology()
        table = store.DestinationTable({
            'far': test_traits.profile(node='far', accepts_tls=False),
            'unknown-host': test_traits.profile(node='unknown-host')})
        arrays = table.arrays_for(topo)
        self.assertIs(arrays, table.arrays_for(topo))
        i = topo.host_index['far']
        self.assertTrue(arrays.profiled[i])
        self.assertFalse(arrays.accepts_tls[i])
        self.assertEqual(1, int(arrays.profiled.sum()))
