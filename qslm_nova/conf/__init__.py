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


"""qslm-nova's configuration options, one module per concern.

Like ``nova.conf``: every module below holds options with
``register_opts(conf)`` and ``list_opts()``. The [qslm] group is large,
so its options are split by concern over several modules that share one
group object (``groups.QSLM_GROUP``). This package registers every module
once on the global ``CONF``; nothing else registers options at import.

Trust provider options ([qslm_keylime], ...) are not registered here:
each provider declares its own and the provider loader registers them
(``qslm_nova.trust.load_providers``). ``qslm_nova.conf.opts.list_opts``
lists both for ``oslo-config-generator`` and the documentation.
"""

from oslo_config import cfg

from qslm_nova.conf import core
from qslm_nova.conf import estimator
from qslm_nova.conf import history
from qslm_nova.conf import libvirt
from qslm_nova.conf import policy
from qslm_nova.conf import precheck
from qslm_nova.conf import profiles
from qslm_nova.conf import risk

CONF = cfg.CONF

#: The option modules, in the order of the sample configuration file.
MODULES = (core, policy, estimator, libvirt, precheck, profiles, history,
           risk)


def register_opts(conf):
    """Register every [qslm] option on ``conf``, e.g. a command's own."""
    for module in MODULES:
        module.register_opts(conf)


register_opts(CONF)
