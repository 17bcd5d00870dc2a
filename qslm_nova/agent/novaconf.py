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

"""What the compute's own nova.conf says Nova does on a live migration.

The options are read with oslo.config, declared here with Nova's names,
types and defaults (nova/conf/libvirt.py of Nova 34), so the agent reads
them as nova-compute does without importing Nova. Nova's minimums are
not enforced here: a value Nova would refuse to start with is reported,
not guessed at.
"""

import dataclasses
import os
import socket
import urllib.parse

from oslo_config import cfg

from qslm_nova import estimator
from qslm_nova.profile import model

LIBVIRT_OPTS = [
    cfg.BoolOpt('live_migration_with_native_tls', default=False),
    cfg.BoolOpt('live_migration_tunnelled', default=False),
    cfg.StrOpt('live_migration_scheme'),
    cfg.StrOpt('live_migration_uri'),
    cfg.StrOpt('live_migration_inbound_addr'),
    cfg.IntOpt('live_migration_parallel_connections', default=1),
    cfg.IntOpt('live_migration_bandwidth', default=0),
    cfg.IntOpt('live_migration_downtime', default=500),
    cfg.IntOpt('live_migration_downtime_steps', default=10),
    cfg.IntOpt('live_migration_downtime_delay', default=75),
    cfg.IntOpt('live_migration_completion_timeout', default=800),
    cfg.StrOpt('live_migration_timeout_action', default='abort'),
    cfg.BoolOpt('live_migration_permit_post_copy', default=False),
    cfg.BoolOpt('live_migration_permit_auto_converge', default=False),
    cfg.StrOpt('connection_uri', default=''),
    cfg.StrOpt('virt_type', default='kvm'),
]
DEFAULT_OPTS = [cfg.StrOpt('host', default=socket.gethostname())]


class NovaConfigError(Exception):
    """The compute's nova.conf cannot be read."""


@dataclasses.dataclass(frozen=True)
class MigrationConfig:
    """The live-migration settings of this compute's Nova.

    :param transport: a :class:`model.Transport`, or None when Nova would
        refuse to start with these options.
    :param notes: what an operator should know (a plain tunnel, an
        impossible combination).
    """

    host: str
    transport: model.Transport
    libvirt: estimator.LibvirtSettings
    scheme: str
    inbound_addr: str
    connection_uri: str
    notes: tuple = ()


def _scheme(group):
    """The scheme of libvirt's connection to the destination."""
    if group.live_migration_uri:
        scheme = urllib.parse.urlsplit(
            group.live_migration_uri.replace('%s', 'host')).scheme
        return scheme.split('+', 1)[1] if '+' in scheme else 'tcp'
    return group.live_migration_scheme or 'tcp'


def read(path):
    """The MigrationConfig of a nova.conf file.

    :raises NovaConfigError: the file is missing or not an ini file.
    """
    if not os.path.exists(path):
        raise NovaConfigError('%s does not exist' % path)
    conf = cfg.ConfigOpts()
    conf.register_opts(LIBVIRT_OPTS, group='libvirt')
    conf.register_opts(DEFAULT_OPTS)
    try:
        conf(args=[], project='nova', default_config_files=[path],
             default_config_dirs=[], use_env=False)
        return _config(conf)
    except (cfg.Error, ValueError) as e:
        raise NovaConfigError('%s: %s' % (path, e))


def _config(conf):
    """The MigrationConfig of a parsed nova.conf (values checked here)."""
    lv = conf.libvirt
    notes = []
    scheme = _scheme(lv)
    transport, why = model.transport_of(lv.live_migration_with_native_tls,
                                        lv.live_migration_tunnelled, scheme)
    if why:
        notes.append(why)
    action = lv.live_migration_timeout_action
    if action not in estimator.TIMEOUT_ACTIONS:
        notes.append('live_migration_timeout_action %r is not one Nova '
                     'knows; read as abort' % action)
        action = 'abort'
    steps = max(lv.live_migration_downtime_steps, 1)
    if steps > estimator.MAX_DOWNTIME_STEPS:
        notes.append('live_migration_downtime_steps %d is more than the %d '
                     'qslm-nova models; published as %d' % (
                         steps, estimator.MAX_DOWNTIME_STEPS,
                         estimator.MAX_DOWNTIME_STEPS))
        steps = estimator.MAX_DOWNTIME_STEPS
    settings = estimator.LibvirtSettings(
        downtime_ms=float(max(lv.live_migration_downtime, 100)),
        downtime_steps=steps,
        downtime_delay_s=float(max(lv.live_migration_downtime_delay, 0)),
        completion_timeout_s=float(max(
            lv.live_migration_completion_timeout, 0)),
        timeout_action=action,
        permit_post_copy=lv.live_migration_permit_post_copy,
        permit_auto_converge=lv.live_migration_permit_auto_converge,
        bandwidth_mibps=float(max(lv.live_migration_bandwidth, 0)),
        parallel_connections=max(lv.live_migration_parallel_connections, 1))
    return MigrationConfig(
        host=conf.host, transport=transport, libvirt=settings,
        scheme=scheme, inbound_addr=lv.live_migration_inbound_addr,
        connection_uri=lv.connection_uri or 'qemu:///system',
        notes=tuple(notes))


class NovaConfigFile:
    """A nova.conf read again whenever its modification time changes."""

    def __init__(self, path):
        self.path = path
        self._stamp = None
        self._config = None

    def get(self):
        """(MigrationConfig, changed since the last call)."""
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError as e:
            raise NovaConfigError('%s: %s' % (self.path, e.strerror))
        if stamp == self._stamp:
            return self._config, False
        config = read(self.path)
        changed = config != self._config
        self._stamp, self._config = stamp, config
        return config, changed
