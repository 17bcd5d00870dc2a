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


"""Every qslm-nova option, for ``oslo-config-generator`` and the docs.

The single ``oslo.config.opts`` entry point of the package (setup.cfg):
the options of the modules of ``qslm_nova.conf`` and those every trust
provider found through the ``qslm_nova.trust`` entry points declares
(``get_config_opts``).
"""

from qslm_nova import conf
from qslm_nova import trust


def list_opts():
    """[(group, [options])], one entry per group, groups in file order."""
    merged = {}
    groups = {}
    for module in conf.MODULES:
        for group, opts in module.list_opts().items():
            groups.setdefault(group.name, group)
            merged.setdefault(group.name, []).extend(opts)
    for group, opts in trust.list_provider_opts():
        groups.setdefault(group.name, group)
        merged.setdefault(group.name, []).extend(opts)
    return [(groups[name], opts) for name, opts in merged.items()]
