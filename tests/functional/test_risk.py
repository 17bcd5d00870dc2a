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

"""Ranking by expected monetary loss inside in-process Nova.

Three fake computes on one switch:

    compute-src  --25G isolated--+
    compute-fast --25G shared----+-- sw
    compute-safe --2G  isolated--+

The headroom score prefers compute-safe (an isolated path), the expected
loss of a flavor that prices the migration time compute-fast (ten times
the bandwidth).
"""

import datetime
import os

import fixtures

from tests.functional import base

NOW = datetime.datetime.now(datetime.timezone.utc)
FRESH = (NOW - datetime.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')

TOPOLOGY = """
version: 1
hosts:
  compute-src: {site: a, trusted: true, attested_at: "%(t)s",
                mechanisms: [none, tls]}
  compute-fast: {site: a, trusted: true, attested_at: "%(t)s",
                 mechanisms: [none, tls]}
  compute-safe: {site: a, trusted: true, attested_at: "%(t)s",
                 mechanisms: [none, tls]}
nodes:
  sw: {kind: switch, site: a}
links:
  - {between: [compute-src, sw], bandwidth_gbps: 25, security: isolated}
  - {between: [compute-fast, sw], bandwidth_gbps: 25, security: shared}
  - {between: [compute-safe, sw], bandwidth_gbps: 2, security: isolated}
""" % {'t': FRESH}

PRICED = {'qslm:max_downtime_ms': '2000',
          'qslm:downtime_cost_per_s': '100',
          'qslm:migration_cost_per_s': '10'}


class RiskTestBase(base.QSLMFunctionalTestBase):
    EXTRA_FILTERS = ('qslm_nova.scheduler.filters.QSLMFilter',)
    EXTRA_WEIGHERS = ('qslm_nova.scheduler.weights.QSLMWeigher',)
    COMPUTE_HOSTS = ('compute-src', 'compute-fast', 'compute-safe')
    RANK_BY = 'headroom'

    def configure(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'topology.yaml')
        with open(path, 'w') as f:
            f.write(TOPOLOGY)
        self.flags(topology_file=path, rank_by=self.RANK_BY, group='qslm')
        # Only QSLM weighs: Nova's own weighers would spread the load.
        self.flags(weight_classes=[
            'qslm_nova.scheduler.weights.QSLMWeigher'],
            group='filter_scheduler')

    def migrate(self, extra_specs):
        flavor = self.create_flavor(extra_specs=extra_specs)
        server = self.boot_server('compute-src', flavor_id=flavor)
        server, mig, _t = self.live_migrate_and_wait(server)
        self.assertEqual('completed', mig['status'])
        return mig['dest_compute']


class TestRankByHeadroom(RiskTestBase):

    def test_priced_flavor_still_ranked_by_headroom(self):
        self.assertEqual('compute-safe', self.migrate(PRICED))


class TestRankByExpectedLoss(RiskTestBase):
    RANK_BY = 'expected_loss'

    def test_weigher_picks_the_lowest_expected_loss(self):
        self.assertEqual('compute-fast', self.migrate(PRICED))

    def test_unpriced_flavor_ranked_by_headroom(self):
        self.assertEqual('compute-safe', self.migrate(
            {'qslm:max_downtime_ms': '2000'}))


class TestRiskExtraSpecs(RiskTestBase):

    def test_flavor_api_refuses_bad_values_naming_the_key(self):
        flavor = self.create_flavor()
        for key, value in (('qslm:sla_breach_penalty', '1e12'),
                           ('qslm:downtime_cost_per_s', '10000000000'),
                           ('qslm:sla_confidence', '1.5')):
            resp = self.raw_request(
                'POST', '/flavors/%s/os-extra_specs' % flavor,
                {'extra_specs': {key: value}}, admin=True)
            self.assertEqual(400, resp.status, (key, value))
            self.assertIn(key, str(resp.body))
        resp = self.raw_request(
            'POST', '/flavors/%s/os-extra_specs' % flavor,
            {'extra_specs': PRICED}, admin=True)
        self.assertEqual(200, resp.status, resp.body)
