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

"""QSLMWeigher: prefer destinations with the larger QSLM margin.

Enable with::

    [filter_scheduler]
    weight_classes = nova.scheduler.weights.all_weighers,
                     qslm_nova.scheduler.weights.QSLMWeigher

The weight is the decision's score (0..1, see
``qslm_nova.decision.verdicts.host_score``): mostly the share of the
downtime limit left after the estimate, then the security headroom of the
path and how quickly the migration completes; with ``[qslm] rank_by =
expected_loss``, for flavors that price a migration, 1 / (1 + the
expected monetary loss) instead (``qslm_nova.risk``). Hosts the decision
denies weigh -1 (they only reach the weigher when QSLMFilter is not
enabled).
Requests that are not live migrations weigh 0 everywhere.
``[qslm] weight_multiplier`` is overridden per aggregate by
``qslm_weight_multiplier`` metadata.
"""

import threading

from nova.scheduler import utils
from nova.scheduler import weights
from oslo_log import log as logging

from qslm_nova import conf as qslm_conf
from qslm_nova.scheduler import history
from qslm_nova.scheduler import request

LOG = logging.getLogger(__name__)
CONF = qslm_conf.CONF
MULTIPLIER_KEY = 'qslm_weight_multiplier'

# Per thread: the multipliers of the hosts of the last weigh_objects()
# call, {id(host_state): (host_state, multiplier)}. Nova's weight handler
# asks weight_multiplier() once per host right after weigh_objects().
_LOCAL = threading.local()


def _multiplier(host_state, default):
    """``qslm_weight_multiplier`` of the host's aggregates, else default.
    """
    if not host_state.aggregates:
        # What get_weight_multiplier() returns without aggregate values,
        # without its per-host set and log calls.
        return default
    return utils.get_weight_multiplier(host_state, MULTIPLIER_KEY, default)


class QSLMWeigher(weights.BaseHostWeigher):
    minval = -1.0
    maxval = 1.0

    def weight_multiplier(self, host_state):
        memo = getattr(_LOCAL, 'multipliers', None)
        if memo:
            # Taken out once used: a later call reads the option and the
            # aggregates again.
            hit = memo.pop(id(host_state), None)
            if hit is not None and hit[0] is host_state:
                return hit[1]
        return _multiplier(host_state, CONF.qslm.weight_multiplier)

    @staticmethod
    def _remember_multipliers(hosts):
        """Work out every host's multiplier at once (the option read once).
        """
        default = CONF.qslm.weight_multiplier
        _LOCAL.multipliers = {id(h): (h, _multiplier(h, default))
                              for h in hosts}

    @staticmethod
    def _weights(hosts, spec_obj):
        if not hosts:
            return []
        rs = request.request_state(spec_obj)
        if not rs.applicable:
            return [0.0] * len(hosts)
        return request.screen(rs, hosts)[1]

    def _weigh_object(self, host_state, weight_properties):
        return self._weights([host_state], weight_properties)[0]

    def weigh_objects(self, weighed_obj_list, weight_properties):
        # All hosts at once: the decisions come from the filter's work on
        # the same request, or are computed here in one batch.
        hosts = [w.obj for w in weighed_obj_list]
        self._remember_multipliers(hosts)
        weights = self._weights(hosts, weight_properties)
        if hosts and CONF.qslm.history_estimates:
            try:
                history.emit_estimates(request.request_state(
                    weight_properties), hosts, weights)
            except Exception:   # noqa: a notification never fails a move
                LOG.exception('QSLM could not queue the estimates of '
                              'instance %s', getattr(weight_properties,
                                                     'instance_uuid', None))
        return weights
