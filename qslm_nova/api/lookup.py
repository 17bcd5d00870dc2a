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

"""What the API pre-check reads from Nova, through Nova objects.

The pre-check runs inside nova-api, after ``keystonecontext``, so the
request's ``nova.context`` is at hand. Reading Nova objects with it costs
two cell-database queries and one API-database query per live-migration
request and nothing for any other request; it needs no token, no service
catalog, no HTTP round trip to nova-api itself (which a novaclient-based
check would: a request inside a request, one more worker held, and a
second policy evaluation). Every function here is stateless apart from
the servicegroup API, built once, and Nova's own per-cell connection
cache; all are safe to call from several native threads at once.

Look-ups use an elevated copy of the request context: the caller's own
right to move the instance is checked with the caller's context
(:func:`may_migrate`, :func:`may_evacuate`), exactly with the rule Nova
will apply, before anything is decided.

A requested host is looked up with the very query Nova runs for that
request (:func:`resolve_host`), never compared with names read
elsewhere: a database whose collation ignores case or trailing spaces
(MySQL's) finds ``COMPUTE-B2`` for ``compute-b2`` for Nova, and so it
does for the pre-check, which then judges the host the record names.
"""

import dataclasses
import threading

from nova import context as nova_context
from nova import exception as nova_exception
from nova import objects
from nova import servicegroup
from nova import utils as nova_utils

from qslm_nova import conf as qslm_conf
from qslm_nova import decision
from qslm_nova import policy as policy_mod
from qslm_nova.scheduler import host_info

CONF = qslm_conf.CONF
#: Nova's rules for os-migrateLive without / with a requested host.
RULE = 'os_compute_api:os-migrate-server:migrate_live'
RULE_HOST = RULE + ':host'
#: Nova's rule for evacuate.
RULE_EVACUATE = 'os_compute_api:os-evacuate'
#: Exceptions meaning "no such server": Nova answers them itself.
NotFound = nova_exception.NotFound

_sg_lock = threading.Lock()
_sg = []


def _servicegroup():
    if not _sg:
        with _sg_lock:
            if not _sg:
                _sg.append(servicegroup.API())
    return _sg[0]


@dataclasses.dataclass
class Server:
    """An instance and the compute services of its cell."""

    instance: object
    #: {host: (enabled, up)} of every nova-compute service of the cell.
    computes: dict


def _cell_context(ctxt, uuid):
    admin = ctxt.elevated()
    mapping = objects.InstanceMapping.get_by_instance_uuid(admin, uuid)
    if 'cell_mapping' not in mapping or mapping.cell_mapping is None:
        # Still being scheduled (not in a cell yet): nothing to migrate.
        raise nova_exception.InstanceNotFound(instance_id=uuid)
    return nova_context.target_cell(admin, mapping.cell_mapping)


def load_server(ctxt, uuid):
    """Read the instance (flavor, metadata, system metadata) and computes.

    :raises NotFound: no such instance (Nova answers the request itself).
    """
    with _cell_context(ctxt, uuid) as cctxt:
        instance = objects.Instance.get_by_uuid(
            cctxt, uuid,
            expected_attrs=['flavor', 'metadata', 'system_metadata'])
        services = objects.ServiceList.get_by_binary(
            cctxt, 'nova-compute', include_disabled=True)
    sg = _servicegroup()
    computes = {s.host: (not s.disabled, sg.service_is_up(s))
                for s in services}
    return Server(instance, computes)


def resolve_host(ctxt, uuid, host, evacuation=False):
    """The compute host names Nova's look-up of ``host`` finds.

    The query is Nova's own for the request: for a live migration
    ``ComputeNodeList.get_all_by_host`` in the instance's cell
    (``compute.API.live_migrate``), for an evacuation the host mapping
    and the service in its cell (``compute.HostAPI.
    service_get_by_compute_host``). The names returned are the records'
    own spelling, sorted; empty when Nova will not find the host (it
    then refuses the request itself).
    """
    try:
        if evacuation:
            admin = ctxt.elevated()
            mapping = objects.HostMapping.get_by_host(admin, host)
            with nova_context.target_cell(admin,
                                          mapping.cell_mapping) as cctxt:
                service = objects.Service.get_by_compute_host(cctxt, host)
            return [service.host]
        with _cell_context(ctxt, uuid) as cctxt:
            nodes = objects.ComputeNodeList.get_all_by_host(cctxt, host)
    except (nova_exception.ComputeHostNotFound,
            nova_exception.HostMappingNotFound,
            nova_exception.InstanceNotFound):
        return []
    return sorted({node.host for node in nodes})


def load_host_info(ctxt, hosts):
    """What the trust providers read about these hosts, as the scheduler
    adapter gives it (aggregate metadata; placement traits with the
    ``traits`` provider).

    :param hosts: the candidates and the source of the move.
    """
    return host_info.for_host_names(ctxt, hosts)


def load_metadata(ctxt, uuid):
    """The instance's metadata dict.

    :raises NotFound: no such instance.
    """
    with _cell_context(ctxt, uuid) as cctxt:
        instance = objects.Instance.get_by_uuid(
            cctxt, uuid, expected_attrs=['metadata'])
    return dict(instance.metadata or {})


def may_migrate(ctxt, instance, host):
    """Would Nova's policy let this caller live-migrate the instance?"""
    rule = RULE_HOST if host else RULE
    return ctxt.can(rule, target={'project_id': instance.project_id},
                    fatal=False)


def may_evacuate(ctxt, instance):
    """Would Nova's policy let this caller evacuate the instance?"""
    return ctxt.can(RULE_EVACUATE,
                    target={'user_id': instance.user_id,
                            'project_id': instance.project_id},
                    fatal=False)


def migration_request(instance, block_migration=None):
    """The core's MigrationRequest for this instance.

    An explicit block migration also copies the local disks, which Nova's
    libvirt driver counts in the data it times the migration against.
    """
    flavor = instance.flavor
    disk_gb = 0.0
    if block_migration is True:
        disk_gb = float((flavor.root_gb or 0) + (flavor.ephemeral_gb or 0))
    return decision.MigrationRequest.for_instance(
        instance, nova_utils.SM_IMAGE_PROP_PREFIX, disk_gb=disk_gb)


def needs_protection(request):
    """Does the instance's policy ask for trust or encryption?

    Used only when no decision could be computed, so it must not need the
    topology: levels are the default ones. A policy that cannot be read
    counts as needing protection (fail closed).
    """
    if request is None:
        return True
    try:
        defaults = policy_mod.Defaults.from_conf(CONF.qslm)
        pol = policy_mod.policy_without_topology(
            defaults, request.flavor_extra_specs, request.image_props,
            request.metadata, extra_mechanisms=defaults.allowed_mechanisms)
        return bool(pol.needs_protection or pol.errors)
    except Exception:  # noqa: any failure here means "cannot tell"
        return True
