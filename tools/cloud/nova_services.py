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

"""Nova: nova.conf as devstack writes it, then the qslm-nova plugin.

The base nova.conf carries what devstack's own lib/nova would write for
this cloud (databases, message bus, Keystone, Placement, the network
service, the scheduler's filter list). The qslm-nova part is written by
the devstack plugin itself: ``devstack/plugin.sh stack post-config`` is
run against this nova.conf and Nova's own api-paste.ini, with the
stand-in devstack functions of ``tests/devstack/functions-stub.sh``.
"""

import os
import shutil
import subprocess

import identity
import infra
from procs import CloudError

#: Nova's scheduler filters as devstack enables them.
DEVSTACK_FILTERS = ('ComputeFilter,ComputeCapabilitiesFilter,'
                    'ImagePropertiesFilter,ServerGroupAntiAffinityFilter,'
                    'ServerGroupAffinityFilter,SameHostFilter,'
                    'DifferentHostFilter')


CONTROL = ('nova-api', 'nova-conductor', 'nova-scheduler')


def _service_auth(state):
    opts = identity.authtoken(state, 'nova')
    opts.pop('www_authenticate_uri')
    return opts


def base_nova_conf(state, db, rabbit):
    etc = os.path.join(state.dir, 'etc', 'nova')
    data = os.path.join(state.dir, 'data', 'nova')
    os.makedirs(data, exist_ok=True)
    auth = _service_auth(state)
    token = dict(identity.authtoken(state, 'nova'),
                 service_token_roles_required=True)
    infra.write_ini(os.path.join(etc, 'nova.conf'), {
        'DEFAULT': {
            'debug': True,
            'transport_url': rabbit.url,
            'my_ip': '127.0.0.1',
            'state_path': data,
            'use_syslog': False,
        },
        'wsgi': {'api_paste_config': os.path.join(etc, 'api-paste.ini')},
        'api': {'auth_strategy': 'keystone'},
        'api_database': {'connection': db.url('nova_api')},
        'database': {'connection': db.url('nova_cell1')},
        'keystone_authtoken': token,
        'service_user': dict(auth, send_service_user_token=True),
        'placement': auth,
        'neutron': auth,
        'glance': {'region_name': identity.REGION},
        'oslo_concurrency': {'lock_path': os.path.join(data, 'locks')},
        'scheduler': {'discover_hosts_in_cells_interval': -1},
        'filter_scheduler': {'enabled_filters': DEVSTACK_FILTERS},
        'compute': {'live_migration_wait_for_vif_plug': False},
        'libvirt': {'virt_type': 'qemu'},
    })
    shutil.copy(os.path.join(state.venv, 'etc', 'nova', 'api-paste.ini'),
                etc)
    return etc


def plugin_env(sup, state, conf_dir, services):
    """The variables every run of devstack/plugin.sh here needs."""
    return {
        'STACK_USER': 'root',
        'DEST': os.path.join(state.dir, 'data'),
        'DATA_DIR': os.path.join(state.dir, 'data'),
        'QSLM_DIR': state.repo,
        'QSLM_CONF_DIR': conf_dir,
        'QSLM_PYTHON': os.path.join(state.venv, 'bin', 'python'),
        'ENABLED_SERVICES': services,
        'STUB_LOG': sup.log_path('devstack-plugin'),
    }


def source_plugin(sup, state, env, phase, then=''):
    """Source devstack/plugin.sh with *phase* (e.g. ``stack
    post-config``) over the devstack stub, then run the shell line
    *then*.
    """
    script = ('set -eu -o pipefail\n'
              'source "$1"\n'
              'source "$2" %s\n' % phase + (then and then + '\n'))
    sup.run('devstack-plugin', [
        'bash', '-c', script, 'plugin',
        os.path.join(state.repo, 'tests', 'devstack', 'functions-stub.sh'),
        os.path.join(state.repo, 'devstack', 'plugin.sh')], env=env)


def run_plugin(sup, state, extra_env=None):
    """devstack/plugin.sh stack post-config on this cloud's files."""
    etc = os.path.join(state.dir, 'etc')
    env = plugin_env(sup, state, os.path.join(etc, 'qslm-nova'),
                     'n-api,n-cond,n-sch,n-cpu,placement-api')
    env.update({
        'NOVA_CONF': os.path.join(etc, 'nova', 'nova.conf'),
        'NOVA_API_PASTE_INI': os.path.join(etc, 'nova', 'api-paste.ini'),
        'QSLM_STATE_FILE': os.path.join(state.dir, 'data', 'qslm-nova',
                                        'devstack.state'),
        'PATH': os.path.join(state.venv, 'bin') + os.pathsep +
        os.environ.get('PATH', '/usr/bin:/bin'),
    })
    env.update(extra_env or {})
    source_plugin(sup, state, env, 'stack post-config')
    return env['QSLM_CONF_DIR']


def manage(state, *args):
    return [os.path.join(state.venv, 'bin', 'nova-manage'), '--config-file',
            os.path.join(state.dir, 'etc', 'nova', 'nova.conf')] + list(args)


def create_databases(sup, state, db, rabbit):
    sup.run('nova-manage', manage(state, 'api_db', 'sync'))
    sup.run('nova-manage', manage(
        state, 'cell_v2', 'map_cell0', '--database_connection',
        db.url('nova_cell0')))
    sup.run('nova-manage', manage(
        state, 'cell_v2', 'create_cell', '--name', 'cell1',
        '--database_connection', db.url('nova_cell1'),
        '--transport-url', rabbit.url))
    sup.run('nova-manage', manage(state, 'db', 'sync'))


def _nova_env(state):
    # Nova's services run with their own threading defaults, whatever the
    # test runner that started the cloud exported.
    return {'OS_NOVA_DISABLE_EVENTLET_PATCHING': '',
            'OS_NOVA_CONFIG_DIR': os.path.join(state.dir, 'etc', 'nova')}


def start_control(sup, state):
    conf = os.path.join(state.dir, 'etc', 'nova', 'nova.conf')
    env = _nova_env(state)
    sup.spawn('nova-api', infra.uwsgi_argv(
        state.venv, state.ports['nova_api'],
        'nova.wsgi.osapi_compute:application', processes=1, threads=4),
        env=env)
    for name in CONTROL[1:]:
        sup.spawn(name, [os.path.join(state.venv, 'bin', name),
                         '--config-file', conf], env=env)


def compute_conf(state, host, driver):
    """The per-host nova.conf of one nova-compute."""
    data = os.path.join(state.dir, 'data', host)
    os.makedirs(os.path.join(data, 'instances'), exist_ok=True)
    path = os.path.join(state.dir, 'etc', 'nova', 'compute-%s.conf' % host)
    sections = {'DEFAULT': {
        'host': host,
        'state_path': data,
        'instances_path': os.path.join(data, 'instances'),
        'compute_driver': driver.compute_driver,
    }}
    for section, options in driver.options(host).items():
        sections.setdefault(section, {}).update(options)
    infra.write_ini(path, sections)
    return path


def start_compute(sup, state, host, driver):
    """Start *host*'s nova-compute; the path of its own nova.conf."""
    conf = os.path.join(state.dir, 'etc', 'nova', 'nova.conf')
    own = compute_conf(state, host, driver)
    argv = [os.path.join(state.venv, 'bin', 'nova-compute'),
            '--config-file', conf, '--config-file', own]
    sup.spawn('nova-compute-%s' % host, driver.wrap(host, argv),
              env=_nova_env(state))
    return own


class GuestImage(object):
    """A Glance image to upload: file, formats, properties.

    *references* maps a property (``kernel_id``) to the name of an image
    uploaded before this one.
    """

    def __init__(self, name, path, disk_format, container_format,
                 properties, references):
        self.name = name
        self.path = path
        self.disk_format = disk_format
        self.container_format = container_format
        self.properties = properties
        self.references = references


class FakeDriver(object):
    """Nova's fake live-migration driver: no guests, instant moves."""

    name = 'fake'
    compute_driver = 'fake.FakeLiveMigrateDriver'

    def options(self, host):
        return {}

    def start(self):
        pass

    def wrap(self, host, argv):
        return argv

    def describe(self):
        return {}

    def images(self, state):
        """A 1 MiB raw disk: the fake driver boots nothing."""
        path = os.path.join(state.dir, 'data', 'empty-disk.raw')
        with open(path, 'wb') as f:
            f.truncate(1024 * 1024)
        return [GuestImage('qslm-guest', path, 'raw', 'bare', {}, {})]


def discover_hosts(sup, state, hosts, timeout=300):
    """Map the computes into cell1 once each has registered."""
    import time
    deadline = time.monotonic() + timeout
    wanted = set(hosts)
    while True:
        for name in CONTROL + tuple('nova-compute-%s' % h for h in hosts):
            sup.check_alive(name)
        sup.run('nova-manage', manage(state, 'cell_v2', 'discover_hosts',
                                      '--verbose'))
        mapped = _mapped_hosts(state)
        if wanted <= mapped:
            return
        if time.monotonic() > deadline:
            raise CloudError('computes %s did not register in %d s (logs: '
                             '%s)' % (', '.join(sorted(wanted - mapped)),
                                      timeout, sup.log_dir))
        time.sleep(2)


def _mapped_hosts(state):
    out = subprocess.run(
        manage(state, 'cell_v2', 'list_hosts'), capture_output=True,
        text=True, timeout=120)
    hosts = set()
    for line in out.stdout.splitlines():
        cells = [c.strip() for c in line.split('|')]
        if len(cells) > 3 and cells[1] == 'cell1':
            hosts.add(cells[3])
    return hosts
