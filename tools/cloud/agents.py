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

"""qslm-nova-agent beside each libvirt nova-compute.

Each host's agent configuration is written by the devstack plugin's own
``configure_qslm_agent`` (with the stand-in devstack functions), as on a
devstack compute node with ``enable_service qslm-agent``: Nova's service
user ``nova`` (roles admin and service in project ``service``) for Nova
and Placement, the host's nova.conf for ``[libvirt]``, a state directory
of its own. The agent runs inside its host's namespaces, as nova-compute
does, so that ``qemu:///system`` is that host's libvirtd and its
``/etc/libvirt/qemu.conf`` the host's own.
"""

import os

import identity
import nova_services


def paths(state, host):
    """(configuration file, state directory) of *host*'s agent."""
    return (os.path.join(state.dir, 'etc', 'qslm-nova',
                         'qslm-nova-agent-%s.conf' % host),
            os.path.join(state.dir, 'data', host, 'qslm-agent'))


def configure(sup, state, host, compute_conf):
    """The plugin's configure_qslm_agent for *host*; the file it wrote."""
    conf, state_path = paths(state, host)
    env = nova_services.plugin_env(sup, state, os.path.dirname(conf),
                                   'n-cpu,qslm-agent')
    env.update({
        'QSLM_AGENT_CONF': conf,
        'QSLM_AGENT_STATE': state_path,
        'QSLM_AGENT_NOVA_CONF': compute_conf,
        'KEYSTONE_SERVICE_URI': state.url('keystone'),
        'SERVICE_PASSWORD': identity.SERVICE_PASSWORD,
        'REGION_NAME': identity.REGION,
    })
    # Sourced with a phase nothing matches: only the functions are
    # defined; then the one a compute node's post-config phase calls.
    nova_services.source_plugin(sup, state, env, 'agent configure',
                                then='configure_qslm_agent')
    return conf


def start(sup, state, host, driver, compute_conf):
    """Configure and start *host*'s agent in the host's namespaces."""
    conf = configure(sup, state, host, compute_conf)
    argv = [os.path.join(state.venv, 'bin', 'qslm-nova-agent'),
            '--config-file', conf]
    sup.spawn('qslm-agent-%s' % host, driver.wrap(host, argv))
    return {'config_file': conf, 'state_path': paths(state, host)[1]}
