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

"""Writing the host profile as traits of this host's resource provider.

Nova's resource tracker writes the same provider's traits (the driver's
``COMPUTE_*`` ones) and keeps the ``CUSTOM_`` ones it did not set; both
write with the provider generation Placement hands out, so a concurrent
write makes one of them fail with 409 and read again. The agent replaces
only its own ``CUSTOM_QSLM_MIG_*`` traits and then deletes the definitions
of its old measured values (load, time) that no provider uses any more,
so Placement's trait list does not grow without end.
"""

import urllib.parse

from oslo_log import log as logging

from qslm_nova.profile import placement as profile_placement
from qslm_nova.profile import traits as traits_mod

LOG = logging.getLogger(__name__)
PlacementError = profile_placement.PlacementError
MICROVERSION = '1.18'
#: Measured values whose old trait definitions are cleaned up.
TRANSIENT = tuple(traits_mod.PREFIX + stem + '_' for stem in
                  ('SEEN', 'CPU_LOAD_PCT', 'CIPHER_MBPS'))


class PlacementWriter:
    """Publishes a set of profile traits on one resource provider.

    :param adapter: a keystoneauth1 Adapter for Placement.
    :param timeout: seconds per request.
    """

    def __init__(self, adapter, timeout):
        self.adapter = adapter
        self.timeout = timeout
        self._uuid = {}

    def _call(self, method, path, body=None):
        try:
            resp = self.adapter.request(
                path, method, microversion=MICROVERSION, raise_exc=False,
                timeout=self.timeout,
                **({} if body is None else {'json': body}))
        except Exception as e:
            raise PlacementError('Placement %s %s failed: %s'
                                 % (method, path, e))
        try:
            data = resp.json() if resp.content else None
        except ValueError:
            data = None
        return resp.status_code, data

    def provider_uuid(self, node):
        """The uuid of the provider named ``node``."""
        if node in self._uuid:
            return self._uuid[node]
        path = '/resource_providers?name=%s' % urllib.parse.quote(node)
        status, data = self._call('GET', path)
        found = [rp['uuid'] for rp in (data or {}).get(
            'resource_providers', []) if rp.get('name') == node]
        if status != 200 or not found:
            raise PlacementError(
                'no resource provider named %r in Placement (%s): is '
                'nova-compute running here, and is [qslm_agent] node_name '
                'the hypervisor host name Nova reports?' % (node, status))
        self._uuid[node] = found[0]
        return found[0]

    def publish(self, node, wanted, attempts=4):
        """Make ``wanted`` the provider's profile traits.

        :returns: True if anything was written.
        :raises PlacementError: no provider, or Placement refused.
        """
        uuid = self.provider_uuid(node)
        path = '/resource_providers/%s/traits' % uuid
        wanted = frozenset(wanted)
        for _ in range(attempts):
            status, data = self._call('GET', path)
            if status == 404:
                self._uuid.pop(node, None)
            if status != 200:
                raise PlacementError('Placement GET %s answered %s'
                                     % (path, status))
            current = set(data['traits'])
            ours = {t for t in current if traits_mod.is_profile_trait(t)}
            target = (current - ours) | wanted
            if target == current:
                return False
            for name in sorted(wanted - current):
                self.define(name)
            status, body = self._call('PUT', path, {
                'traits': sorted(target),
                'resource_provider_generation':
                    data['resource_provider_generation']})
            if status == 200:
                self.forget(ours - wanted)
                return True
            if status != 409:
                raise PlacementError('Placement PUT %s answered %s: %s' % (
                    path, status, str(body)[:300]))
            LOG.debug('Provider %s changed under the agent (409); reading '
                      'its traits again', uuid)
        raise PlacementError('provider %s kept changing: %d attempts to '
                             'write its traits failed' % (uuid, attempts))

    def define(self, name):
        status, _ = self._call('PUT', '/traits/%s' % name)
        if status not in (201, 204):
            raise PlacementError('Placement refused to define trait %s '
                                 '(%s)' % (name, status))

    def forget(self, names):
        """Delete old measured-value traits no provider uses (best effort).
        """
        for name in sorted(n for n in names if n.startswith(TRANSIENT)):
            status, _ = self._call('DELETE', '/traits/%s' % name)
            if status not in (204, 404, 409):
                LOG.debug('Deleting trait %s answered %s', name, status)
