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

"""This host's migration profile, from nova.conf, libvirt and measurement.
"""

import re

from oslo_log import log as logging

from qslm_nova.agent import cipher
from qslm_nova.agent import hostinfo
from qslm_nova.profile import model
from qslm_nova.profile import traits

LOG = logging.getLogger(__name__)
_EMULATOR = re.compile(r'<path>([^<]+)</path>')


def qemu_binary(conn):
    """The QEMU binary libvirt runs (from its domain capabilities)."""
    try:
        found = _EMULATOR.search(conn.getDomainCapabilities())
    except Exception as e:   # noqa: an old libvirt, or no QEMU driver
        LOG.debug('No domain capabilities: %s', e)
        return None
    return found.group(1) if found else None


class ProfileBuilder:
    """Builds the HostProfile to publish, keeping what changes rarely.

    :param nova_conf: a :class:`novaconf.NovaConfigFile`.
    """

    def __init__(self, nova_conf, qemu_conf, state_path, node_name=None,
                 cipher_seconds=2.0, measure=cipher.measure):
        self.nova_conf = nova_conf
        self.qemu_conf = qemu_conf
        self.state_path = state_path
        self.node_name = node_name
        self.cipher_seconds = cipher_seconds
        self.measure = measure
        self.cipher = None
        self.facts = None
        self._noted = set()

    def config(self):
        """The compute's MigrationConfig (re-read when nova.conf changed).
        """
        config, changed = self.nova_conf.get()
        if changed:
            for note in config.notes:
                if note not in self._noted:
                    self._noted.add(note)
                    LOG.warning('nova.conf %s: %s', self.nova_conf.path,
                                note)
            LOG.info('Nova on this host migrates with %s (%d connection(s),'
                     ' downtime %d ms in %d steps, completion timeout %d '
                     's/GiB, %s)',
                     config.transport.value if config.transport else
                     'nothing (Nova would not start)',
                     config.libvirt.parallel_connections,
                     config.libvirt.downtime_ms,
                     config.libvirt.downtime_steps,
                     config.libvirt.completion_timeout_s,
                     config.libvirt.timeout_action)
        return config

    def host(self, conn):
        """This host's libvirt facts (read at (re)connection)."""
        self.facts = hostinfo.read(conn, self.qemu_conf, self.node_name)
        if self.cipher is None:
            try:
                self.cipher = cipher.once_per_boot(
                    self.state_path, qemu_binary(conn), self.cipher_seconds,
                    measure_fn=self.measure)
            except Exception as e:
                LOG.error('Cannot measure this host\'s cipher throughput '
                          '(%s): none is published, the decision uses the '
                          'topology file\'s figure', e)
        return self.facts

    def build(self, load, now):
        """The HostProfile of now (facts must have been read)."""
        config = self.config()
        facts = self.facts
        return model.HostProfile(
            node=facts.node,
            transport=config.transport.value if config.transport else None,
            accepts_tls=facts.accepts_tls, libvirt=config.libvirt,
            cipher_gbps_per_core=(self.cipher.gbps_per_core
                                  if self.cipher else None),
            cpu_load=load, cores=facts.cores,
            libvirt_version=facts.libvirt_version,
            qemu_version=facts.qemu_version, seen_at=int(now))

    @staticmethod
    def traits(profile):
        return traits.encode(profile)
