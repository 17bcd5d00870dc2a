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


"""The compute agents' published profiles, for the live commands.

A live command reads them from Placement with its own session (the
user's credentials; Placement shows traits to admins by default): the
decisions of ``plan``, ``check`` and ``migrate`` then use them as the
scheduler does, and ``topology validate --live`` lists where the
topology file differs from what each host's Nova really does.
"""

from keystoneauth1 import adapter as ks_adapter

from qslm_nova.profile import mechanisms as profile_mechs
from qslm_nova.profile import placement
from qslm_nova.profile import store as store_mod

TIMEOUT_S = 5.0


def reader_for(session, region_name=None, interface=None):
    """A PlacementReader over a keystoneauth session."""
    adapter = ks_adapter.Adapter(session, service_type='placement',
                                 region_name=region_name,
                                 interface=interface)
    return placement.PlacementReader(placement.adapter_get(adapter,
                                                           TIMEOUT_S))


def store_for(src):
    """A ProfileStore for a live source (read at the first decision), or
    None offline.

    A Placement the user cannot read (its traits are for admins by
    default) leaves the decisions to the topology file; the store logs
    it once.
    """
    if not getattr(src, 'live', False) or src.session is None:
        return None
    return store_mod.ProfileStore(
        reader_for(src.session, src.region_name, src.interface),
        refresh_s=3600.0, first_wait_s=2 * TIMEOUT_S)


def mismatches(topo, reader):
    """(problems, hosts with a profile) of the topology against Placement.

    :raises placement.PlacementError: Placement cannot be read.
    """
    problems, profiled = [], 0
    for host in sorted(topo.hosts):
        profile = reader.host_profile(host)
        if profile is None:
            continue
        profiled += 1
        for text in profile_mechs.mismatches(
                host, topo.hosts[host].mechanisms, profile):
            problems.append('%s: hosts.%s: %s' % (topo.source, host, text))
    return problems, profiled
