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

"""QSLMFilter: keep only hosts the QSLM decision allows.

Enable with::

    [filter_scheduler]
    available_filters = nova.scheduler.filters.all_filters
    available_filters = qslm_nova.scheduler.filters.QSLMFilter
    enabled_filters = ...,QSLMFilter
"""

import itertools

from nova.scheduler import filters
from oslo_log import log as logging

from qslm_nova import conf as qslm_conf
from qslm_nova.scheduler import request

LOG = logging.getLogger(__name__)
CONF = qslm_conf.CONF


class QSLMFilter(filters.BaseHostFilter):
    """Drop live-migration destinations that break security or the SLA."""

    # A rebuild keeps the instance on its host: nothing to decide.
    RUN_ON_REBUILD = False

    # filter_all is overridden rather than host_passes: the decision needs
    # one instance look-up, one path search from the source and one
    # vectorised estimate for all hosts of the request, which per-host
    # calls would repeat N times. The verdicts come back as one list of
    # booleans; a host's full Decision is only built to log its reasons.
    def filter_all(self, filter_obj_list, spec_obj):
        hosts = list(filter_obj_list)
        from nova.scheduler import utils as sched_utils
        if not hosts or sched_utils.request_is_rebuild(spec_obj):
            return hosts
        rs = request.request_state(spec_obj)
        if rs.applicable is False:
            return hosts
        if rs.applicable is None:
            if not CONF.qslm.fail_closed and not request.flavor_demands(
                    spec_obj):
                return hosts
            LOG.warning('QSLM removed all %d hosts for instance %s: %s '
                        '([qslm] fail_closed is True)', len(hosts),
                        rs.instance_uuid, rs.error)
            return []
        allowed, _weight = request.screen(rs, hosts)
        passed = list(itertools.compress(hosts, allowed))
        if len(passed) == len(hosts):
            return passed
        decisions = rs.decisions
        if LOG.isEnabledFor(logging.DEBUG):
            # One line per removed host: thousands per request, so the
            # reasons are only built when DEBUG is on.
            for host, ok in zip(hosts, allowed):
                if ok:
                    continue
                LOG.debug('%(host)s fails QSLM for instance %(uuid)s '
                          '(%(kind)s from %(src)s): %(why)s',
                          {'host': host.host, 'uuid': rs.instance_uuid,
                           'kind': rs.why, 'src': rs.request.source_host,
                           'why': '; '.join(decisions[host.host].reasons)})
        if not passed:
            reasons = sorted({r for host in hosts
                              for r in decisions[host.host].reasons})
            LOG.warning('QSLM removed all %(n)d candidate hosts for the '
                        '%(kind)s of instance %(uuid)s from %(src)s. '
                        'Reasons: %(why)s. Explain with: qslm-nova plan '
                        '%(uuid)s',
                        {'n': len(hosts), 'kind': rs.why,
                         'uuid': rs.instance_uuid,
                         'src': rs.request.source_host,
                         'why': ' | '.join(reasons)})
        return passed
