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

"""Reading published profiles from Placement.

Placement lists the providers that have a trait, not the traits of many
providers at once. A destination needs few of a profile's figures (does
it take TLS, its cipher, its load, its cores, when it last published),
and a fleet shares few distinct values of each (they are rounded when
published), so the destination table is read with one query per
distinct trait: ``GET /traits?name=startswith:CUSTOM_QSLM_MIG_`` and then
``GET /resource_providers?required=<trait>`` for each wanted one. The
source's whole profile is read on its own (its provider, then its
traits).

The HTTP calls go through a ``get(path, microversion)`` callable that
returns ``(status, body)`` and applies its own deadline: Nova's report
client in the scheduler and nova-api, a keystoneauth adapter in the
command and the agent (:func:`adapter_get`).
"""

import urllib.parse

from qslm_nova import exception
from qslm_nova.profile import traits as traits_mod

TRAITS_MICROVERSION = '1.6'
REQUIRED_MICROVERSION = '1.18'


class PlacementError(exception.QSLMError):
    """Placement did not answer as expected (status, or no answer)."""


def adapter_get(adapter, timeout):
    """A ``get`` callable over a keystoneauth1 Adapter for Placement.

    :param timeout: seconds per request (connect and read).
    """
    def get(path, microversion):
        try:
            resp = adapter.get(path, microversion=microversion,
                               raise_exc=False, timeout=timeout)
        except Exception as e:
            raise PlacementError('Placement GET %s failed: %s' % (path, e))
        try:
            body = resp.json() if resp.content else None
        except ValueError:
            body = None
        return resp.status_code, body
    return get


def _ok(path, status, body, key):
    if status != 200 or not isinstance(body, dict) or key not in body:
        raise PlacementError('Placement GET %s answered %s%s' % (
            path, status, '' if status == 200 else
            ': %s' % str(body)[:200]))
    return body[key]


class PlacementReader:
    """Profiles from Placement through a ``get`` callable."""

    def __init__(self, get):
        self.get = get

    def _get(self, path, microversion, key):
        try:
            status, body = self.get(path, microversion)
        except PlacementError:
            raise
        except Exception as e:
            raise PlacementError('Placement GET %s failed: %s' % (path, e))
        return _ok(path, status, body, key)

    def profile_traits(self):
        """Every trait name of the profile prefix Placement knows."""
        path = '/traits?name=startswith:%s' % traits_mod.PREFIX
        names = self._get(path, TRAITS_MICROVERSION, 'traits')
        return [n for n in names if traits_mod.is_profile_trait(n)]

    def providers_with(self, trait):
        """[(uuid, name)] of the resource providers that have ``trait``."""
        path = '/resource_providers?required=%s' % urllib.parse.quote(trait)
        found = self._get(path, REQUIRED_MICROVERSION, 'resource_providers')
        return [(rp.get('uuid'), rp.get('name')) for rp in found
                if isinstance(rp, dict) and rp.get('name')]

    def destination_table(self):
        """{node: partial HostProfile} of every host with a profile."""
        wanted = {traits_mod.MARKER, traits_mod.ACCEPTS_TLS}
        prefixes = tuple(traits_mod.PREFIX + stem + '_'
                         for stem in traits_mod.DESTINATION_STEMS)
        names = [n for n in self.profile_traits()
                 if n in wanted or n.startswith(prefixes)]
        by_node = {}
        for name in sorted(names):
            for _uuid, node in self.providers_with(name):
                by_node.setdefault(node, set()).add(name)
        table = {}
        for node, found in by_node.items():
            profile = traits_mod.decode(node, found, partial=True)
            if profile is not None:
                table[node] = profile
        return table

    def provider_uuid(self, node):
        """The uuid of the resource provider named ``node``, or None."""
        path = '/resource_providers?name=%s' % urllib.parse.quote(node)
        found = self._get(path, '1.14', 'resource_providers')
        for rp in found:
            if isinstance(rp, dict) and rp.get('name') == node:
                return rp.get('uuid')
        return None

    def host_profile(self, node):
        """The full HostProfile of one host, or None without one."""
        uuid = self.provider_uuid(node)
        if uuid is None:
            return None
        path = '/resource_providers/%s/traits' % uuid
        names = self._get(path, TRAITS_MICROVERSION, 'traits')
        return traits_mod.decode(node, names)
