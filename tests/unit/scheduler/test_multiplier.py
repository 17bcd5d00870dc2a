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

"""The weigher's multiplier: worked out once per request, same values.

Nova's weight handler calls ``weight_multiplier(host_state)`` once per
host right after ``weigh_objects``; the weigher reads ``[qslm]
weight_multiplier`` once per request and each host's aggregates in
``weigh_objects``. The result must stay what
``nova.scheduler.utils.get_weight_multiplier`` gives (aggregate
``qslm_weight_multiplier`` overrides the option; several values: the
smallest; a malformed one: the option), and nothing may outlive the
request: a changed option or aggregate counts from the next request on.
"""

import threading

from nova import objects
from nova.scheduler import utils
from nova.scheduler import weights as nova_weights

from qslm_nova.scheduler import weights
from tests.unit import scheduler as base

KEY = 'qslm_weight_multiplier'


class TestMultiplierPerRequest(base.SchedulerTestCase):

    def setUp(self):
        super().setUp()
        self.weigher = weights.QSLMWeigher()
        self.handler = nova_weights.HostWeightHandler()
        self.flags(weight_multiplier=2.0, group='qslm')

    @staticmethod
    def aggregate(i, value=None):
        metadata = {} if value is None else {KEY: value}
        return objects.Aggregate(id=i, name='agg%d' % i, metadata=metadata)

    def mixed_hosts(self):
        """near: no aggregate; rogue: -1; stale: malformed; far: 3 and
        0.5 (the smallest wins); farplain: an aggregate without the key.
        """
        hosts = self.hosts()
        aggs = {'rogue': [self.aggregate(1, '-1.0')],
                'stale': [self.aggregate(2, 'lots')],
                'far': [self.aggregate(3, '3'), self.aggregate(4, '0.5')],
                'farplain': [self.aggregate(5)]}
        for h in hosts:
            h.aggregates = aggs.get(h.host, [])
        return hosts

    def expected(self, hosts):
        return [utils.get_weight_multiplier(h, KEY, 2.0) for h in hosts]

    def test_handler_gets_nova_multipliers(self):
        hosts = self.mixed_hosts()
        spec_obj = self.spec()
        raw = dict(zip([h.host for h in hosts], self.weigher.weigh_objects(
            [nova_weights.WeighedHost(h, 0.0) for h in hosts], spec_obj)))
        weighed = self.handler.get_weighed_objects([self.weigher], hosts,
                                                   spec_obj)
        by_host = {w.obj.host: w.weight for w in weighed}
        for h, mult in zip(hosts, self.expected(hosts)):
            # Nova normalises between minval -1 and maxval 1.
            self.assertEqual(mult * (raw[h.host] + 1.0) / 2.0,
                             by_host[h.host], h.host)
        self.assertEqual([2.0, -1.0, 2.0, 0.5, 2.0], self.expected(hosts))

    def test_each_host_once_then_read_again(self):
        hosts = self.mixed_hosts()
        self.weigher.weigh_objects(
            [nova_weights.WeighedHost(h, 0.0) for h in hosts], self.spec())
        self.assertEqual(self.expected(hosts),
                         [self.weigher.weight_multiplier(h) for h in hosts])
        # The request is over: a changed option counts at once.
        self.flags(weight_multiplier=7.0, group='qslm')
        self.assertEqual(7.0, self.weigher.weight_multiplier(hosts[0]))

    def test_changes_count_from_the_next_request(self):
        hosts = self.mixed_hosts()
        first = self.handler.get_weighed_objects([self.weigher], hosts,
                                                 self.spec())
        self.assertEqual('rogue', first[-1].obj.host)   # multiplier -1
        self.flags(weight_multiplier=-4.0, group='qslm')
        hosts[3].aggregates = [self.aggregate(6, '9')]     # far
        self.weigher.weigh_objects(
            [nova_weights.WeighedHost(h, 0.0) for h in hosts], self.spec())
        self.assertEqual([-4.0, -1.0, -4.0, 9.0, -4.0],
                         [self.weigher.weight_multiplier(h) for h in hosts])

    def test_other_hosts_not_taken_from_the_request(self):
        hosts = self.mixed_hosts()
        self.weigher.weigh_objects(
            [nova_weights.WeighedHost(h, 0.0) for h in hosts], self.spec())
        other = self.hosts('near', aggregates=[self.aggregate(7, '5')])[0]
        self.assertEqual(5.0, self.weigher.weight_multiplier(other))

    def test_per_thread(self):
        hosts = self.mixed_hosts()
        spec_obj = self.spec()

        def weigh():
            self.weigher.weigh_objects(
                [nova_weights.WeighedHost(h, 0.0) for h in hosts], spec_obj)

        worker = threading.Thread(target=weigh)
        worker.start()
        worker.join()
        # This thread has no request under way: the option as it is now.
        self.flags(weight_multiplier=3.0, group='qslm')
        self.assertEqual(3.0, self.weigher.weight_multiplier(hosts[0]))
