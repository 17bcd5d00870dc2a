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

"""Unit tests of the Nova adapters, with Nova's own fakes.

No database, no services: the instance look-up is patched to return an
in-memory ``objects.Instance``, hosts are ``FakeHostState`` and requests
are in-memory ``objects.RequestSpec``. The topology file (written to a
temporary directory) has two sites joined by a 1 Gbit/s WAN link::

    src   (trusted, none/tls/tunnelled) -+
    near  (trusted, none/tls)     -+- sw-a --1G wan, 20 ms-- sw-b -+- far
    rogue (UNtrusted, none/tls)   -+                               +- farplain
    stale (trusted 3 days ago)    -+
    far (trusted, none/tls), farplain (trusted, none only)

Instances live on ``src``; ``ghost`` is a host the file does not know.
"""

import datetime
import os

import fixtures
from nova import objects
from nova import test
from nova.tests.unit.scheduler import fakes
from oslo_utils.fixture import uuidsentinel as uuids

from qslm_nova.scheduler import request

_NOW = datetime.datetime.now(datetime.timezone.utc)
_STAMP = '%Y-%m-%dT%H:%M:%SZ'
FRESH = (_NOW - datetime.timedelta(hours=1)).strftime(_STAMP)
OLD = (_NOW - datetime.timedelta(days=3)).strftime(_STAMP)
TODAY = _NOW.date().isoformat()

TOPOLOGY = """
version: 1
hosts:
  src: {site: a, trusted: true, attested_at: "%(fresh)s",
        mechanisms: [none, tls, tunnelled]}
  near: {site: a, trusted: true, attested_at: "%(fresh)s",
         mechanisms: [none, tls]}
  rogue: {site: a, trusted: false, mechanisms: [none, tls]}
  stale: {site: a, trusted: true, attested_at: "%(old)s",
          mechanisms: [none, tls]}
  far: {site: b, trusted: true, attested_at: "%(fresh)s",
        mechanisms: [none, tls]}
  farplain: {site: b, trusted: true, attested_at: "%(fresh)s",
             mechanisms: [none]}
nodes:
  sw-a: {kind: switch, site: a}
  sw-b: {kind: switch, site: b}
links:
  - {between: [src, sw-a], bandwidth_gbps: 10, security: private}
  - {between: [near, sw-a], bandwidth_gbps: 10, security: private}
  - {between: [rogue, sw-a], bandwidth_gbps: 10, security: private}
  - {between: [stale, sw-a], bandwidth_gbps: 10, security: private}
  - {between: [sw-a, sw-b], bandwidth_gbps: 1, latency_ms: 20,
     security: wan}
  - {between: [far, sw-b], bandwidth_gbps: 10, security: private}
  - {between: [farplain, sw-b], bandwidth_gbps: 10, security: private}
""" % {'fresh': FRESH, 'old': OLD}

ALL_HOSTS = ('near', 'rogue', 'stale', 'far', 'farplain')


class SchedulerTestCase(test.NoDBTestCase):
    """Topology file, fake instance and request builders."""

    def setUp(self):
        super().setUp()
        objects.register_all()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.write_topology(TOPOLOGY)
        self.log = self.useFixture(fixtures.FakeLogger(
            name='qslm_nova', level='DEBUG'))
        self.instance = None
        self.lookup = self.useFixture(fixtures.MockPatch(
            'qslm_nova.scheduler.request._lookup_instance',
            side_effect=lambda spec_obj: self.instance)).mock

    def write_topology(self, text, name='topology.yaml'):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        self.flags(topology_file=path, group='qslm')
        return path

    def spec(self, extra_specs=None, task_state='migrating', source='src',
             metadata=None, system_metadata=None, hints=None,
             memory_mb=1024):
        """A RequestSpec and the fake instance the look-up returns."""
        flavor = objects.Flavor(name='m1.qslm', flavorid='42',
                                memory_mb=memory_mb, vcpus=1, root_gb=1,
                                ephemeral_gb=0, swap=0,
                                extra_specs=dict(extra_specs or {}))
        self.instance = objects.Instance(
            uuid=uuids.instance, task_state=task_state, host=source,
            flavor=flavor, metadata=dict(metadata or {}),
            system_metadata=dict(system_metadata or {}))
        return objects.RequestSpec(
            instance_uuid=uuids.instance, flavor=flavor,
            scheduler_hints=dict(hints or {}))

    @staticmethod
    def hosts(*names, **attrs):
        return [fakes.FakeHostState(name, name, dict(attrs))
                for name in names or ALL_HOSTS]

    @staticmethod
    def decisions(spec_obj):
        """The cached decisions of a request, by host name."""
        return request.request_state(spec_obj).decisions
