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

"""What the scheduler adapter tells trust providers about a host."""

from unittest import mock

from nova import objects
from nova import test
from nova.tests.unit.scheduler import fakes
from oslo_utils.fixture import uuidsentinel as uuids

from qslm_nova.scheduler import host_info


class TestHostInfo(test.NoDBTestCase):

    def setUp(self):
        super().setUp()
        objects.register_all()
        host_info.TRAITS.clear()

    def host(self, *metadatas):
        aggs = [objects.Aggregate(id=i, name='agg%d' % i, metadata=md)
                for i, md in enumerate(metadatas)]
        hs = fakes.FakeHostState('h1', 'h1', {'aggregates': aggs})
        hs.uuid = uuids.rp
        return hs

    def test_disagreeing_aggregates_stay_visible(self):
        info = host_info.for_host_state(self.host(
            {'qslm:trusted': 'true'}, {'qslm:trusted': 'false'}))
        self.assertEqual({'qslm:trusted': {'true', 'false'}},
                         info['aggregate_metadata'])
        self.assertNotIn('traits', info)

    def test_traits_read_from_placement_once_per_ttl(self):
        self.flags(trust_providers=['traits'], group='qslm')
        client = mock.Mock()
        client.get_provider_traits.return_value = mock.Mock(
            traits={'CUSTOM_QSLM_TRUSTED'})
        with mock.patch('nova.scheduler.client.report.'
                        'report_client_singleton', return_value=client):
            for _ in range(3):
                info = host_info.for_host_state(self.host(), mock.sentinel.ctx)
        self.assertEqual({'CUSTOM_QSLM_TRUSTED'}, info['traits'])
        client.get_provider_traits.assert_called_once_with(
            mock.sentinel.ctx, uuids.rp)

    def test_placement_failure_leaves_traits_unknown(self):
        self.flags(trust_providers=['traits'], group='qslm')
        client = mock.Mock()
        client.get_provider_traits.side_effect = RuntimeError('down')
        with mock.patch('nova.scheduler.client.report.'
                        'report_client_singleton', return_value=client):
            info = host_info.for_host_state(self.host(), mock.sentinel.ctx)
        self.assertNotIn('traits', info)
