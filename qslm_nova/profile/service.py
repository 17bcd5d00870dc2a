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

"""The ProfileStore of a service process, from its [placement] options.

nova-scheduler and nova-api already carry Keystone credentials for
Placement in their ``[placement]`` section (Nova's report client uses
them); the decision reads the published profiles with the same ones,
through a keystoneauth adapter of its own with the deadline ``[qslm]
host_profile_timeout`` on every call. One store per process and
credentials, shared by every Engine built there (an Engine rebuilt after
an option change keeps the store and its refresh thread).
"""

import threading

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log as logging

from qslm_nova.profile import placement
from qslm_nova.profile import store as store_mod

LOG = logging.getLogger(__name__)
_lock = threading.Lock()
_stores = {}


def _adapter(conf, group):
    """A keystoneauth Adapter for Placement, or None if not configured."""
    try:
        auth = ks_loading.load_auth_from_conf_options(conf, group)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return None
    if auth is None:
        return None
    session = ks_loading.load_session_from_conf_options(conf, group,
                                                        auth=auth)
    try:
        return ks_loading.load_adapter_from_conf_options(
            conf, group, session=session, auth=auth,
            service_type='placement')
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        from keystoneauth1 import adapter
        return adapter.Adapter(session, service_type='placement')


def store_from_conf(conf, group='placement'):
    """The process's ProfileStore, or None (off, or no credentials)."""
    q = conf.qslm
    if not q.host_profiles:
        return None
    key = (id(conf), group, q.host_profile_refresh, q.host_profile_timeout)
    with _lock:
        found = _stores.get(key)
        if found is not None:
            return found
        adapter = _adapter(conf, group)
        if adapter is None:
            LOG.info('QSLM reads no published host profiles: [%s] has no '
                     'Keystone credentials ([qslm] host_profiles needs '
                     'them)', group)
            return None
        found = store_mod.ProfileStore(
            placement.PlacementReader(placement.adapter_get(
                adapter, q.host_profile_timeout)),
            refresh_s=q.host_profile_refresh,
            first_wait_s=q.host_profile_timeout)
        _stores[key] = found
        return found


def reset():
    """Stop and forget every store (tests)."""
    with _lock:
        for found in _stores.values():
            found.close()
        _stores.clear()
