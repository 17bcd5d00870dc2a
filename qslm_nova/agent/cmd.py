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

"""``qslm-nova-agent``: the compute agent's entry point.

    qslm-nova-agent --config-file /etc/qslm-nova/qslm-nova-agent.conf

Runs until SIGTERM or SIGINT. Exit status 2 when the configuration
cannot be used (no nova.conf, no state directory).
"""

import os
import queue
import signal
import sys
import threading

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log as logging

from qslm_nova.agent import cpuload
from qslm_nova.agent import dirtyrate
from qslm_nova.agent import ledger
from qslm_nova.agent import libvirt_conn
from qslm_nova.agent import nova as nova_mod
from qslm_nova.agent import novaconf
from qslm_nova.agent import placement
from qslm_nova.agent import profile
from qslm_nova.agent import service
from qslm_nova.agent import spool as spool_mod
from qslm_nova import conf as qslm_conf
from qslm_nova.conf import agent as agent_conf
from qslm_nova.history import notifications

LOG = logging.getLogger(__name__)


def make_conf(argv):
    """The agent's own ConfigOpts, parsed from ``argv``."""
    conf = cfg.ConfigOpts()
    agent_conf.register_opts(conf)
    qslm_conf.register_opts(conf)     # [qslm] default_budget_period_days
    logging.register_options(conf)
    conf(argv, project='qslm-nova', prog='qslm-nova-agent',
         default_config_files=[
             f for f in ('/etc/qslm-nova/qslm-nova-agent.conf',)
             if os.path.exists(f)])
    return conf


def session_for(conf, group):
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    session = ks_loading.load_session_from_conf_options(
        conf, group, auth=auth)
    session.timeout = conf.qslm_agent.api_timeout
    return session


def adapter_for(conf, group, service_type):
    session = session_for(conf, group)
    return ks_loading.load_adapter_from_conf_options(
        conf, group, session=session, service_type=service_type)


def nova_client_for(conf):
    """novaclient over [nova]'s session, endpoint and region options."""
    g = conf.nova
    interfaces = g.valid_interfaces or ['public']
    return nova_mod.client_from_session(
        session_for(conf, 'nova'), endpoint_override=g.endpoint_override,
        region_name=g.region_name, endpoint_type=interfaces[0],
        service_type=g.service_type or 'compute')


def build(conf, nova_client=None, placement_adapter=None, notifier=None):
    """The Agent of a parsed configuration.

    :param nova_client: a novaclient Client (default: from [nova]).
    :param placement_adapter: a keystoneauth Adapter (default: from
        [placement]).
    """
    g = conf.qslm_agent
    nova_file = novaconf.NovaConfigFile(g.nova_config_file)
    config, _changed = nova_file.get()
    uri = config.connection_uri
    events = queue.Queue()
    watcher = libvirt_conn.LibvirtWatcher(uri, events)
    if nova_client is None:
        nova_client = nova_client_for(conf)
    if placement_adapter is None:
        placement_adapter = adapter_for(conf, 'placement', 'placement')
    api = nova_mod.NovaAPI(nova_client)
    spool = spool_mod.Spool(g.state_path)
    builder = profile.ProfileBuilder(nova_file, g.qemu_config_file,
                                     g.state_path, g.node_name,
                                     g.cipher_seconds)
    sampler = publisher = None
    if g.dirty_rate_interval:
        sampler = dirtyrate.DirtyRateSampler(watcher,
                                             g.dirty_rate_calc_seconds)
        publisher = dirtyrate.Publisher(
            g.dirty_rate_change,
            max(conf.qslm.observed_dirty_rate_max_age / 2.0, 60.0))
    intervals = service.Intervals(
        load=g.load_interval, profile=g.profile_interval,
        dirty_rate=g.dirty_rate_interval, retry=g.retry_interval,
        retry_max=g.retry_max_interval, history_days=g.history_days,
        stats_wait=g.completed_stats_wait)
    return service.Agent(
        watcher, events, builder, spool, cpuload.LoadMeter(),
        placement=placement.PlacementWriter(placement_adapter,
                                            g.api_timeout),
        charger=ledger.LedgerCharger(
            api, config.host, conf.qslm.default_budget_period_days,
            g.migration_lookup_timeout, g.clock_skew_tolerance),
        nova=api, sampler=sampler, dirty_publisher=publisher,
        emitter=notifications.Emitter(conf, 'qslm-agent.%s' % config.host,
                                      notifier),
        intervals=intervals, charge_outgoing=g.charge_outgoing,
        host=config.host)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    conf = make_conf(argv)
    logging.setup(conf, 'qslm-nova-agent')
    try:
        agent = build(conf)
    except (novaconf.NovaConfigError, OSError) as e:
        LOG.error('qslm-nova-agent cannot start: %s', e)
        return 2
    stop = threading.Event()

    def on_signal(signum, frame):
        LOG.info('qslm-nova-agent stopping (signal %d)', signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    agent.run(stop)
    return 0


if __name__ == '__main__':
    sys.exit(main())
