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

"""The scheduler's estimate notifications (calibration history).

After QSLMWeigher has weighed a live migration's hosts, the estimates of
the best ``[qslm] history_estimates`` allowed ones go out as
``qslm.migration.estimate`` notifications with Nova's migration id: the
API created the migration record before the conductor asked the
scheduler, so the notifier thread finds it (one query, off the request
path) and the measured migration the agent reports joins it by that id.
"""

import datetime

from oslo_log import log as logging

from qslm_nova import conf as qslm_conf
from qslm_nova.history import notifications

LOG = logging.getLogger(__name__)
CONF = qslm_conf.CONF
_EMITTER = []


def emitter():
    if not _EMITTER:
        _EMITTER.append(notifications.AsyncEmitter(
            CONF, 'qslm-scheduler.%s' % getattr(CONF, 'host', 'unknown')))
    return _EMITTER[0]


def migration_id(ctx, instance_uuid):
    """The id of the instance's live migration in progress, or None."""
    from nova import context as nova_context
    from nova import objects
    ctx = (ctx or nova_context.get_admin_context()).elevated()
    mapping = objects.InstanceMapping.get_by_instance_uuid(ctx,
                                                           instance_uuid)
    with nova_context.target_cell(ctx, mapping.cell_mapping) as cctx:
        # While the scheduler runs, the API's record is still 'accepted'
        # (which Nova does not count as in progress).
        found = objects.MigrationList.get_by_filters(cctx, {
            'instance_uuid': instance_uuid,
            'migration_type': 'live-migration',
            'status': ['accepted', 'queued', 'preparing', 'running',
                       'post-migrating']})
    ids = [m.id for m in found]
    return max(ids) if ids else None


def emit_estimates(rs, host_states, weights):
    """Queue the estimates of the best allowed hosts of one request."""
    count = CONF.qslm.history_estimates
    if not count or not rs.applicable or not host_states:
        return
    em = emitter()
    if not em.enabled():
        return
    ranked = sorted((w, i) for i, w in enumerate(weights) if w >= 0)
    best = [host_states[i].host for _w, i in ranked[::-1][:count]]
    if not best:
        return
    decided = rs.decisions
    request = rs.request
    ctx = rs.context
    now = datetime.datetime.now(datetime.timezone.utc)

    def make():
        try:
            mid = migration_id(ctx, rs.instance_uuid)
        except Exception as e:   # noqa: the estimate still counts
            LOG.warning('QSLM: no migration id for the estimates of %s: %s',
                        rs.instance_uuid, e)
            mid = None
        return [(notifications.ESTIMATE, notifications.estimate_payload(
            decided[host], rs.instance_uuid, request.source_host, now, mid,
            'scheduler')) for host in best]

    em.submit(make)
