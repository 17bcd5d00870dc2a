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


"""The [qslm] option group, shared by the modules that fill it.

The [qslm] group is large, so its options are split over several modules
by concern (``core``, ``policy``, ``estimator``, ``libvirt``,
``precheck``, ``risk``); each registers its options into this one group object.
"""

from oslo_config import cfg

QSLM_GROUP = cfg.OptGroup(
    'qslm',
    title='QoS-aware secure live migration options',
    help="""
Options of the qslm-nova plugin, which decides for every live migration
whether a destination keeps the instance's security requirements (host
trust, link security, encrypted transport) and its downtime SLA.
""")
