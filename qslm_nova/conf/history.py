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


"""[qslm] options of the calibration history the decision side publishes.
"""

from oslo_config import cfg

from qslm_nova.conf import groups

history_opts = [
    cfg.IntOpt('history_estimates',
               default=3, min=0,
               help="""
Allowed destinations per live migration whose estimate is published.

After weighing, the scheduler publishes a ``qslm.migration.estimate``
notification for the best allowed destinations (QSLM's ranking, with
every input of the model and Nova's migration id), and the API
pre-check one for a forced destination; the compute agents publish
``qslm.migration.measured``. ``qslm-nova calibrate --from-history``
pairs them by migration id and destination to refit the model. They go
through oslo.messaging with the service's
``[oslo_messaging_notifications]`` driver (nothing is sent without one),
from a thread of their own: a decision never waits for them.

Possible values:

* 0: publish none.
* A number of destinations (Nova usually takes the best one; a few more
  cover its other weighers and retries).

Related options:

* ``[oslo_messaging_notifications] driver``, ``topics``
"""),
]


def register_opts(conf):
    conf.register_group(groups.QSLM_GROUP)
    conf.register_opts(history_opts, group=groups.QSLM_GROUP)


def list_opts():
    return {groups.QSLM_GROUP: history_opts}
