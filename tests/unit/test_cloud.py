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

"""LiveCloud: what the commands read of a live Nova."""

import types

from oslotest import base

from qslm_nova import cloud
from qslm_nova import trust


def _aggregate(name, hosts, metadata):
    return types.SimpleNamespace(name=name, hosts=hosts, metadata=metadata)


class FakeNova:

    def __init__(self, aggregates, hypervisors=()):
        self.aggregates = types.SimpleNamespace(list=lambda: aggregates)
        self.hypervisors = types.SimpleNamespace(
            list=lambda detailed=False: list(hypervisors))


class TestHostInfo(base.BaseTestCase):

    def test_aggregates_merged_as_the_scheduler_merges_them(self):
        aggs = [_aggregate('attested', ['c1', 'c2'],
                           {'qslm:trusted': 'true'}),
                _aggregate('quarantine', ['c2'], {'qslm:trusted': 'false'}),
                _aggregate('plain', ['c3'], None)]
        hyp = types.SimpleNamespace(service={'host': 'c1'},
                                    hypervisor_hostname='c1.example',
                                    state='up', status='enabled')
        info = cloud.LiveCloud(FakeNova(aggs, [hyp]), None).host_info()
        for host, names in (('c1', ['attested']),
                            ('c2', ['attested', 'quarantine']),
                            ('c3', ['plain'])):
            metadatas = [a.metadata for a in aggs if host in a.hosts]
            self.assertEqual(trust.merge_aggregate_metadata(metadatas),
                             info[host]['aggregate_metadata'], host)
            self.assertEqual(names, info[host]['aggregates'])
        # Disagreeing aggregates stay visible to the providers.
        self.assertEqual({'true', 'false'},
                         info['c2']['aggregate_metadata']['qslm:trusted'])
        self.assertEqual(('up', 'enabled'), (info['c1']['hypervisor_state'],
                                             info['c1']['hypervisor_status']))
