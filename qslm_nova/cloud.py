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

"""Live-cloud access for the qslm commands: Nova through python-novaclient.

The keystoneauth1 session comes from OpenStackClient's options, read by
openstacksdk's config loader (:mod:`qslm_nova.osc.source`).
python-novaclient talks to Nova at a pinned microversion,
:data:`MICROVERSION`: 2.47+ embeds the flavor with its extra specs in the
server, 2.68+ has no ``force`` on live migration (a migration started
here can never bypass the scheduler), 2.79 is Train.

Every keystoneauth1/novaclient failure is turned into a one-line
:class:`CloudError` by :func:`translate_errors`.
"""

import contextlib
import os
import re

from keystoneauth1 import exceptions as ks_exc
from oslo_utils import uuidutils

from qslm_nova import cloudfile
from qslm_nova import exception
from qslm_nova import trust

#: Compute API microversion every request uses (Train, 2019).
MICROVERSION = '2.79'

MIGRATION_FINAL = ('completed', 'done', 'error', 'failed', 'cancelled')


class CloudError(exception.QSLMError):
    """The live cloud could not be used; the message is one line."""


def _one_line(text):
    return ' '.join(str(text).split())


def _causes(exc):
    """The exception and everything it was raised from, breadth first."""
    seen, todo = set(), [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        linked = [e.__cause__, e.__context__, getattr(e, 'reason', None)]
        linked += list(e.args)
        todo.extend(x for x in linked if isinstance(x, BaseException))


def connect_message(exc):
    """'URL (reason)' of a keystoneauth1 connection error.

    The URL is the failed request's, the reason the operating system's
    (``Connection refused``, ``Name or service not known``) found among
    the exceptions the error was raised from.
    """
    url = why = None
    for e in _causes(exc):
        request = getattr(e, 'request', None)
        if url is None and getattr(request, 'url', None):
            url = request.url.split('?')[0]
        if why is None and isinstance(e, OSError) and e.strerror:
            # errno's own text: a green socket's strerror is its name.
            why = (os.strerror(e.errno) if isinstance(e.errno, int) and
                   e.errno > 0 else e.strerror)
    if isinstance(exc, ks_exc.ConnectTimeout):
        why = why or 'timed out'
    if url is None:
        return _one_line(exc)
    return '%s (%s)' % (url, why or type(exc).__name__)


@contextlib.contextmanager
def translate_errors():
    """Turn keystoneauth1 and novaclient exceptions into CloudError."""
    from novaclient import exceptions as nova_exc
    try:
        yield
    except CloudError:
        raise
    except ks_exc.MissingRequiredOptions as e:
        raise CloudError('missing credentials: %s not set' % ', '.join(
            '--os-%s' % o.name for o in e.options))
    except ks_exc.NoMatchingPlugin as e:
        raise CloudError('unknown auth type %r (--os-auth-type, '
                         'OS_AUTH_TYPE, auth_type)' % e.name)
    except ks_exc.MissingAuthPlugin:
        raise CloudError('missing credentials: use --os-cloud NAME '
                         '(clouds.yaml) or the --os-*/OS_* options')
    except ks_exc.EndpointNotFound as e:
        raise CloudError('no compute endpoint in the service catalog (%s)'
                         % _one_line(e))
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
            ks_exc.DiscoveryFailure, ks_exc.SSLError,
            ks_exc.UnknownConnectionError) as e:
        raise CloudError('cannot reach the cloud: %s' % connect_message(e))
    except (nova_exc.Unauthorized, ks_exc.Unauthorized) as e:
        raise CloudError('authentication failed (HTTP 401): %s; check the '
                         'credentials' % _one_line(e))
    except (nova_exc.Forbidden, ks_exc.Forbidden) as e:
        raise CloudError('permission denied (HTTP 403): %s; this command '
                         'needs the admin role' % _one_line(e))
    except nova_exc.NotAcceptable as e:
        raise CloudError('the compute API does not support microversion '
                         '%s (Nova Train or newer is needed): %s' % (
                             MICROVERSION, _one_line(e)))
    except nova_exc.ClientException as e:
        raise CloudError('compute API error (HTTP %s): %s' % (
            getattr(e, 'code', '?'), _one_line(e)))
    except ks_exc.ClientException as e:
        raise CloudError('%s: %s' % (type(e).__name__, _one_line(e)))


def nova_client(sess, region_name=None, interface=None,
                endpoint_override=None):
    """A python-novaclient client at :data:`MICROVERSION`."""
    from novaclient import client as nova_client_mod
    kwargs = {'session': sess}
    if region_name:
        kwargs['region_name'] = region_name
    if interface:
        kwargs['endpoint_type'] = interface
    if endpoint_override:
        kwargs['endpoint_override'] = endpoint_override
    return nova_client_mod.Client(MICROVERSION, **kwargs)


class LiveCloud:
    """What the decision needs, read from a live Nova."""

    live = True

    def __init__(self, nova, topology, session=None, region_name=None,
                 interface=None):
        self.nova = nova
        self.topology = topology
        self.clock = None
        self.session = session
        self.region_name = region_name
        self.interface = interface
        self.warnings = []
        self._services = None
        self._images = {}

    def image_properties(self, image_id):
        """The ``qslm:`` properties of an image (Glance v2), or {}.

        Best effort: an image that cannot be read (no image service,
        deleted image, volume-backed server) adds a warning and counts as
        having no qslm properties.
        """
        if not image_id or self.session is None:
            return {}
        if image_id in self._images:
            return self._images[image_id]
        props = {}
        try:
            resp = self.session.get(
                '/v2/images/%s' % image_id, raise_exc=False,
                endpoint_filter={'service_type': 'image',
                                 'interface': self.interface or 'public',
                                 'region_name': self.region_name})
            if resp.status_code != 200:
                raise ValueError('HTTP %d' % resp.status_code)
            props = {k: str(v) for k, v in resp.json().items()
                     if isinstance(k, str) and k.startswith('qslm:')}
        except (ks_exc.ClientException, ValueError) as e:
            self.warnings.append(
                'image %s not read (%s): its qslm: properties are not '
                'considered' % (image_id, _one_line(e)))
        self._images[image_id] = props
        return props

    # -- servers ------------------------------------------------------------
    def _find(self, ref):
        from novaclient import exceptions as nova_exc
        if uuidutils.is_uuid_like(ref):
            try:
                return self.nova.servers.get(ref)
            except nova_exc.NotFound:
                raise CloudError('unknown server %r' % ref)
        found = self.nova.servers.list(search_opts={
            'name': '^%s$' % re.escape(ref), 'all_tenants': 1})
        found = [s for s in found if s.name == ref]
        if not found:
            raise CloudError('unknown server %r' % ref)
        if len(found) > 1:
            raise CloudError('%d servers are named %r; use the ID (%s)' % (
                len(found), ref, ', '.join(s.id for s in found)))
        # The list view lacks nothing at 2.79, but get() is authoritative.
        return self.nova.servers.get(found[0].id)

    def _to_server(self, s):
        host = getattr(s, 'OS-EXT-SRV-ATTR:host', None)
        if host is None:
            raise CloudError('server %s (%s) has no visible host: it is not '
                             'placed, or the credentials lack the admin '
                             'role' % (s.name, s.id))
        fl = s.flavor or {}
        flavor = cloudfile.Flavor(
            name=fl.get('original_name', '?'), ram_mb=fl.get('ram', 0),
            vcpus=fl.get('vcpus', 1), disk_gb=fl.get('disk', 0),
            extra_specs={str(k): str(v) for k, v in
                         (fl.get('extra_specs') or {}).items()})
        image = s.image.get('id') if isinstance(s.image, dict) else None
        return cloudfile.Server(
            name=s.name, uuid=s.id, flavor=flavor, host=host,
            metadata=dict(s.metadata or {}),
            image_properties=self.image_properties(image))

    def server(self, ref):
        """A cloudfile.Server for a server name or ID."""
        return self._to_server(self._find(ref))

    def server_names(self):
        """IDs of every ACTIVE server (all projects)."""
        servers = self.nova.servers.list(
            search_opts={'all_tenants': 1, 'status': 'ACTIVE'})
        return sorted(s.id for s in servers)

    def server_status(self, server_id):
        """(status, task_state, host) of a server."""
        s = self.nova.servers.get(server_id)
        return (s.status, getattr(s, 'OS-EXT-STS:task_state', None),
                getattr(s, 'OS-EXT-SRV-ATTR:host', None))

    # -- hosts --------------------------------------------------------------
    def services(self):
        if self._services is None:
            self._services = self.nova.services.list(binary='nova-compute')
        return self._services

    def known_host(self, host):
        """True if host runs a nova-compute service, in any state."""
        return any(s.host == host for s in self.services())

    def compute_hosts(self):
        """Enabled, up nova-compute hosts, sorted."""
        return sorted({s.host for s in self.services()
                       if s.status == 'enabled' and s.state == 'up'})

    def candidates(self, server):
        return [h for h in self.compute_hosts() if h != server.host]

    def host_info(self):
        """{host: {'aggregate_metadata': {key: set}, 'aggregates': [..]}}.

        The metadata merged as the scheduler merges it
        (:func:`qslm_nova.trust.merge_aggregate_metadata`).
        """
        info = {}
        metadatas = {}
        for agg in self.nova.aggregates.list():
            for host in agg.hosts or ():
                entry = info.setdefault(host, {'aggregate_metadata': {},
                                               'aggregates': []})
                entry['aggregates'].append(agg.name)
                metadatas.setdefault(host, []).append(agg.metadata)
        for host, found in metadatas.items():
            info[host]['aggregate_metadata'] = (
                trust.merge_aggregate_metadata(found))
        for hyp in self.nova.hypervisors.list(detailed=True):
            svc = getattr(hyp, 'service', None) or {}
            host = svc.get('host') or hyp.hypervisor_hostname
            entry = info.setdefault(host, {'aggregate_metadata': {},
                                           'aggregates': []})
            entry['hypervisor_state'] = getattr(hyp, 'state', None)
            entry['hypervisor_status'] = getattr(hyp, 'status', None)
        return info

    # -- actions ------------------------------------------------------------
    def set_metadata(self, server_id, metadata):
        self.nova.servers.set_meta(server_id, metadata)

    def live_migrate(self, server_id, host):
        """Ask Nova to live-migrate (scheduler-checked, never forced)."""
        self.nova.servers.live_migrate(server_id, host=host,
                                       block_migration='auto')

    def migrations(self, server_id):
        """Live-migration records of a server, oldest first."""
        migs = self.nova.migrations.list(instance_uuid=server_id,
                                         migration_type='live-migration')
        return sorted(migs, key=lambda m: m.id)

    def migration_progress(self, server_id):
        """Memory progress of the in-progress live migration, or None.

        :returns: (processed_bytes, total_bytes) or None.
        """
        for mig in self.nova.server_migrations.list(server_id):
            total = getattr(mig, 'memory_total_bytes', None)
            done = getattr(mig, 'memory_processed_bytes', None)
            if total:
                return (done or 0, total)
        return None
