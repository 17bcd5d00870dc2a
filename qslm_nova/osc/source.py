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


"""Where a command's servers, hosts, topology and options come from.

Offline, a cloud file (``--cloud-file``; for ``qslm-nova`` without
credentials the embedded sample cloud) holds topology, flavors and
servers. Live, the cloud OpenStackClient's options name (``--os-cloud``,
``OS_*``, ``secure.yaml``...) is read with openstacksdk's config loader
and keystoneauth1, and Nova with python-novaclient; the topology comes
from ``--topology`` or ``[qslm] topology_file``.

The ``[qslm]`` options come from ``--config-file``; live, without it,
from the files nova-scheduler itself reads by default
(``/etc/nova/nova.conf`` and ``nova.conf.d``, as oslo.config finds
them), so that a decision here is the scheduler's.
"""

import datetime
import os

from keystoneauth1 import loading as ks_loading
from osc_lib.api import auth as osc_auth
from oslo_config import cfg

from qslm_nova import cloud as cloud_mod
from qslm_nova import cloudfile
from qslm_nova import conf as qslm_conf
from qslm_nova import exception
from qslm_nova import topology as topology_mod

#: Global options that name a live cloud (qslm-nova without them is
#: offline): their ``dest`` in OpenStackClient's and qslm-nova's parser.
LIVE_OPTIONS = ('cloud', 'auth_url', 'auth_type', 'token', 'endpoint')

#: Which nova-scheduler's default configuration files to read.
SCHEDULER_PROG = 'nova-scheduler'


def add_arguments(parser, topology=True, config=True):
    """The cloud selection options of a command."""
    group = parser.add_argument_group('cloud selection')
    group.add_argument(
        '--cloud-file', metavar='FILE',
        help='Evaluate a cloud described in FILE (topology, flavors and '
             'servers) instead of a live cloud. qslm-nova without '
             'credentials uses the embedded sample cloud.')
    if topology:
        group.add_argument(
            '--topology', metavar='FILE',
            help='Live cloud: the topology file (default: [qslm] '
                 'topology_file of the configuration).')
    if config:
        group.add_argument(
            '--config-file', metavar='FILE', action='append', default=[],
            help='oslo.config file with the [qslm] options (repeatable). '
                 'Default for a live cloud: the files nova-scheduler reads '
                 '(/etc/nova/nova.conf, nova.conf.d) where they exist; '
                 'offline: none (the built-in defaults).')
    return group


def app_config_files(app):
    """The --config-file options given before the command, if any."""
    return list(getattr(app.options, 'config_files', None) or [])


def is_live(app, parsed_args):
    """True if the command works on a live cloud."""
    if getattr(parsed_args, 'cloud_file', None):
        return False
    if not getattr(app, 'offline_by_default', False):
        return True
    return any(getattr(app.options, name, None) for name in LIVE_OPTIONS)


def load_conf(parsed_args, live, warn, app_files=()):
    """The [qslm] options, as oslo.config reads them.

    :param warn: called with a message for every default configuration
        file that exists but cannot be read.
    :param app_files: the files given before the command (qslm-nova
        --config-file), used when the command has none of its own.
    """
    conf = cfg.ConfigOpts()
    qslm_conf.register_opts(conf)
    files = list(getattr(parsed_args, 'config_file', None) or app_files)
    dirs = []
    if not files and live:
        for path in cfg.find_config_files('nova', SCHEDULER_PROG):
            if os.access(path, os.R_OK):
                files.append(path)
            else:
                warn('cannot read %s (permission denied): the [qslm] options '
                     'are the defaults and may differ from the scheduler\'s; '
                     'give a readable copy with --config-file' % path)
        dirs = [d for d in cfg.find_config_dirs('nova', SCHEDULER_PROG)
                if os.access(d, os.R_OK | os.X_OK)]
    try:
        conf([], project='nova', prog='qslm-nova',
             default_config_files=files, default_config_dirs=dirs,
             use_env=False)
    except cfg.ConfigFilesNotFoundError as e:
        raise exception.QSLMError('configuration file not found: %s' % (
            ', '.join(e.config_files)))
    except cfg.ConfigFilesPermissionDeniedError as e:
        raise exception.QSLMError('cannot read the configuration file %s '
                                  '(permission denied)' % (
                                      ', '.join(e.config_files)))
    return conf


class OfflineCloud:
    """A cloud file seen through the interface of cloud.LiveCloud."""

    live = False

    def __init__(self, cloud):
        self.cloud = cloud
        self.topology = cloud.topology
        self.clock = cloud.clock
        self.warnings = []

    def server(self, ref):
        server = self.cloud.servers.get(ref)
        if server is None:
            for s in self.cloud.servers.values():
                if s.uuid == ref:
                    return s
            raise exception.QSLMError('unknown server %r (known: %s)' % (
                ref, ', '.join(sorted(self.cloud.servers))))
        return server

    def server_names(self):
        return sorted(self.cloud.servers)

    def compute_hosts(self):
        return sorted(self.topology.hosts)

    def known_host(self, host):
        return host in self.topology.hosts

    def candidates(self, server):
        return [h for h in self.compute_hosts() if h != server.host]

    def host_info(self):
        return None


def offline_cloud(parsed_args):
    """The cloud file of the arguments, or the embedded sample cloud."""
    return OfflineCloud(cloudfile.load(parsed_args.cloud_file or
                                       cloudfile.sample_path()))


def live_region(app):
    """openstacksdk's CloudRegion of the global options, authenticated.

    The steps OpenStackClient takes before a command that needs
    authentication, taken here because a qslm command needs it only when
    it works on a live cloud: the validating load (clouds.yaml,
    secure.yaml, ``--os-*``, ``OS_*``; a password prompt on a terminal),
    then osc-lib's check for options the auth plugin does not mark
    required (a password without a user name).
    """
    try:
        region = app.cloud_config.get_one(
            cloud=app.options.cloud, argparse=app.options, validate=True)
    except TypeError as e:
        # Plugins that do not declare their options required (admin_token)
        # fail in their constructor instead.
        auth_type = getattr(app.options, 'auth_type', None) or 'password'
        names = ', '.join('--os-%s' % o.name for o in
                          ks_loading.get_plugin_loader(auth_type)
                          .get_options())
        raise exception.QSLMError('missing credentials for auth type %s '
                                  '(%s); its options: %s' % (
                                      auth_type, e, names))
    osc_auth.check_valid_authentication_options(
        region, region.config['auth_type'])
    return region


def live_cloud(region, topology):
    """cloud.LiveCloud of an authenticated CloudRegion."""
    session = region.get_session()
    region_name = region.get_region_name('compute')
    interface = region.get_interface('compute')
    nova = cloud_mod.nova_client(session, region_name, interface,
                                 region.get_endpoint('compute'))
    return cloud_mod.LiveCloud(nova, topology, session, region_name,
                               interface)


def live_topology(parsed_args, conf):
    # A cloud file also serves as a topology file (its extra sections are
    # ignored), so the sample cloud can describe a test cloud.
    return topology_mod.load(getattr(parsed_args, 'topology', None) or
                             conf.qslm.topology_file,
                             extra_keys=cloudfile.EXTRA_KEYS)


def now(src):
    """The time decisions are made at: the cloud file's clock or now."""
    return src.clock or datetime.datetime.now(datetime.timezone.utc)
