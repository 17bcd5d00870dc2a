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

"""The order in which the cloud comes up, and what it hands the tests."""

import os
import threading
import time

import identity
import infra
import nova_services
import procs
import services


#: QSLM_CLOUD_DRIVER: ``libvirt`` (default: real guests, real live
#: migrations) or ``fake`` (Nova's fake live-migration driver, for a
#: machine without libvirt or root).
DRIVERS = ('libvirt', 'fake')


def _compute_driver(state, hosts):
    name = os.environ.get('QSLM_CLOUD_DRIVER', 'libvirt')
    if name not in DRIVERS:
        raise procs.CloudError('QSLM_CLOUD_DRIVER=%s: use one of %s'
                               % (name, ', '.join(DRIVERS)))
    if name == 'fake':
        return nova_services.FakeDriver()
    import libvirt_computes
    return libvirt_computes.LibvirtDriver(state, hosts)


#: [qslm] options beyond the plugin's defaults. The ledger writers: the
#: tenant-side account ``ledger`` (role service) and the agents, which run
#: as Nova's service user: Nova lets only ``admin`` write another
#: project's server metadata, so that user has admin (as devstack gives
#: it) and admin is a writer role. Published host profiles are re-read
#: every 15 s (default 60) so that a scenario sees a new one soon.
EXTRA_OPTS = ('ledger_writer_roles=service,admin '
              'host_profile_refresh=15')


def _start_agents(sup, state, driver, compute_confs):
    import agents
    return {host: agents.start(sup, state, host, driver, conf)
            for host, conf in compute_confs.items()}


def _parallel(steps, jobs):
    """Run {name: (func, args)} in threads; raise the first failure."""
    errors = []

    def one(name, func, args):
        try:
            steps(name, func, *args)
        except BaseException as e:  # noqa: re-raised below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(name, func, args))
               for name, (func, args) in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _topology_source(state):
    """tools/cloud/topology.yaml, attested now, for the plugin to install."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, 'topology.yaml')) as f:
        text = f.read()
    now = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    path = os.path.join(state.dir, 'data', 'topology-source.yaml')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text.replace('ATTESTED_AT', '"%s"' % now))
    return path


def build(sup, state, steps, hosts):
    db = infra.MariaDB(sup, state)
    rabbit = infra.RabbitMQ(sup, state)
    steps('rabbitmq (spawn)', rabbit.start)
    steps('mariadb', db.start)
    etc = nova_services.base_nova_conf(state, db, rabbit)
    qslm_etc = steps('devstack plugin', nova_services.run_plugin, sup,
                     state, {
                         'QSLM_TOPOLOGY_SOURCE': _topology_source(state),
                         'QSLM_EXTRA_OPTS': EXTRA_OPTS})
    # Schema migrations are most of the start-up: one thread per service.
    _parallel(steps, {
        'keystone db+bootstrap': (identity.prepare_keystone,
                                  (sup, state, db)),
        'placement db': (services.prepare_placement, (sup, state, db)),
        'glance db': (services.prepare_glance, (sup, state, db)),
        'nova databases': (nova_services.create_databases,
                           (sup, state, db, rabbit)),
    })
    identity.start_keystone(sup, state)
    services.start_placement(sup, state)
    services.start_glance(sup, state)
    services.start_network_standin(sup, state)
    steps('rabbitmq (ready)', rabbit.wait)
    steps('keystone ready', sup.wait_http, 'keystone',
          state.url('keystone') + '/v3', 240)
    steps('keystone accounts', identity.populate, state)
    clouds_yaml = identity.write_clouds_yaml(state)
    # Nova's services authenticate as they start: after the accounts.
    nova_services.start_control(sup, state)
    driver = _compute_driver(state, hosts)
    steps('compute hosts (%s)' % driver.name, driver.start)
    compute_confs = {
        host: nova_services.start_compute(sup, state, host, driver)
        for host in hosts}
    steps('placement/glance ready', services.wait_apis, sup, state)
    steps('nova-api ready', sup.wait_http, 'nova-api',
          state.url('nova_api') + '/v2.1', 300)
    steps('computes mapped', nova_services.discover_hosts, sup, state,
          hosts)
    image = steps('glance image', services.upload_image, state,
                  driver)
    # The agents charge real migrations and publish what libvirt hosts'
    # Nova does: with the fake driver there is nothing for them to read.
    agent_info = {}
    if driver.name == 'libvirt':
        agent_info = steps('qslm-nova agents', _start_agents, sup, state,
                           driver, compute_confs)
    return {
        'state_dir': state.dir,
        'auth_url': state.url('keystone') + '/v3',
        'region': identity.REGION,
        'clouds_yaml': clouds_yaml,
        'clouds': {name: {'user': user, 'project': project,
                          'roles': list(roles)}
                   for name, (user, _pw, project, roles)
                   in identity.ACCOUNTS.items()},
        'endpoints': {name: state.url(name) for name in
                      ('keystone', 'placement', 'glance', 'network',
                       'nova_api')},
        'hosts': list(hosts),
        'virt_driver': driver.name,
        'agents': agent_info,
        'compute_hosts': driver.describe(),
        'image': image,
        'nova_conf': os.path.join(etc, 'nova.conf'),
        'api_paste_ini': os.path.join(etc, 'api-paste.ini'),
        'topology_file': os.path.join(qslm_etc, 'topology.yaml'),
        'log_dir': sup.log_dir,
        'venv': state.venv,
        'started_at': time.time(),
    }


def teardown(sup):
    """Stop the libvirt hosts: every process in their namespaces."""
    try:
        import libvirt_computes
    except ImportError:  # no cloud virtualenv: nothing of it can run
        return []
    return libvirt_computes.teardown(sup.state_dir)
