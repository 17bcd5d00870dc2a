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

"""Trust read from Nova (aggregates, placement traits) for the source too.

The trust providers ``aggregate`` and ``traits`` read what Nova knows
about a host. The scheduler hands over only the candidates as
HostStates, and the API pre-check none at all: the source of a live
migration, which must be trusted for an instance that requires trust,
is read from Nova's databases and placement by name. Without that,
every such instance was refused ("no aggregate information" for the
source). Here, in real in-process Nova, with the scheduler filter and
the pre-check both enabled:

* compute-a1 (the source) and compute-b1 are trusted by Nova's records,
  compute-a2 is not (the topology file says nothing about trust);
* a scheduled live migration lands on compute-b1;
* a forced one to compute-b1 passes the pre-check, to compute-a2 it is
  refused.
"""

import datetime
import os
import time

import fixtures
import yaml

from tests.functional import base
from tests.functional import test_scheduler

EPOCH = int(time.time()) - 600
ATTESTED = datetime.datetime.fromtimestamp(
    EPOCH, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
TRUSTED = {'qslm:require_trusted_host': 'true'}


def _untrusted_topology():
    """The scheduler tests' cloud (tests/functional/test_scheduler.py).

    With no trust in the file: Nova's records say who is trusted.
    """
    doc = yaml.safe_load(test_scheduler.TOPOLOGY)
    for host in doc['hosts'].values():
        host.pop('trusted', None)
        host.pop('attested_at', None)
    return yaml.safe_dump(doc)


TOPOLOGY = _untrusted_topology()


class _HostTrustFromNova:
    """The tests; each subclass marks trust with one provider's records."""

    EXTRA_FILTERS = ('qslm_nova.scheduler.filters.QSLMFilter',)
    PASTE_FILTERS = (('qslm_precheck', 'qslm_nova.api.precheck:'
                      'filter_factory', {}),)
    PROVIDER = None

    def configure(self):
        tmp = self.useFixture(fixtures.TempDir()).path
        path = os.path.join(tmp, 'topology.yaml')
        with open(path, 'w') as f:
            f.write(TOPOLOGY)
        self.flags(topology_file=path, trust_providers=[self.PROVIDER],
                   max_attestation_age=3600, group='qslm')
        base.reset_engines()
        self.addCleanup(base.reset_engines)

    def setUp(self):
        super().setUp()
        self.mark_trust({'compute-a1': True, 'compute-b1': True,
                         'compute-a2': False, 'compute-b2': False})
        flavor = self.create_flavor(extra_specs=TRUSTED)
        self.server = self.boot_server('compute-a1', flavor_id=flavor)

    def test_scheduled_migration_lands_on_a_trusted_host(self):
        server, migration, _s = self.live_migrate_and_wait(self.server)
        self.assertEqual('completed', migration['status'])
        self.assertEqual('compute-b1', self.server_host(server))

    def test_forced_migration_to_a_trusted_host_passes(self):
        server, migration, _s = self.live_migrate_and_wait(
            self.server, host='compute-b1', force=True)
        self.assertEqual('completed', migration['status'])
        self.assertEqual('compute-b1', self.server_host(server))

    def test_forced_migration_to_an_untrusted_host_refused(self):
        resp = self.live_migrate(self.server, host='compute-a2', force=True)
        self.assertEqual(409, resp.status, resp.body)
        self.assertIn('host compute-a2 is not trusted',
                      resp.body['conflictingRequest']['message'])
        self.assertEqual([], self.get_migrations(self.server))
        self.assertEqual('compute-a1', self.server_host(
            self.get_server(self.server)))


class TestAggregateTrust(_HostTrustFromNova, base.QSLMFunctionalTestBase):
    PROVIDER = 'aggregate'

    def mark_trust(self, trusted):
        for value in (True, False):
            agg = self.admin_api.post_aggregate({'aggregate': {
                'name': 'qslm-%s' % value}})
            self.admin_api.post_aggregate_action(agg['id'], {
                'set_metadata': {'metadata': {
                    'qslm:trusted': str(value).lower(),
                    'qslm:attested_at': ATTESTED}}})
            for host, want in sorted(trusted.items()):
                if want == value:
                    self.admin_api.add_host_to_aggregate(agg['id'], host)


class TestTraitTrust(_HostTrustFromNova, base.QSLMFunctionalTestBase):
    PROVIDER = 'traits'

    def mark_trust(self, trusted):
        for host, want in trusted.items():
            rp = self._get_provider_uuid_by_host(host)
            traits = ['CUSTOM_QSLM_ATTESTED_AT_%d' % EPOCH,
                      'CUSTOM_QSLM_TRUSTED' if want
                      else 'CUSTOM_QSLM_UNTRUSTED']
            for trait in traits:
                self.placement.put('/traits/%s' % trait, None, version='1.6')
            self._set_provider_traits(rp, traits)
