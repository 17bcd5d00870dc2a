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

"""MariaDB, RabbitMQ and the uwsgi command line of the API services.

Debian's own server binaries, each with private data, log and socket
directories under the cloud's state directory and its own ports on
127.0.0.1: nothing of the system's default instances is used or touched.
"""

import os
import shutil

from procs import CloudError

DB_USER = 'qslm'
DB_PASSWORD = 'qslm-cloud-db'
DATABASES = ('keystone', 'placement', 'glance', 'nova_api', 'nova_cell0',
             'nova_cell1')


def write_ini(path, sections):
    """Write {section: {option: value}} as an ini file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        for key, value in options.items():
            if isinstance(value, bool):
                value = 'true' if value else 'false'
            lines.append('%s = %s' % (key, value))
        lines.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def _binary(*names):
    for name in names:
        path = shutil.which(name) or next(
            (os.path.join(d, name) for d in ('/usr/sbin', '/usr/bin')
             if os.path.exists(os.path.join(d, name))), None)
        if path:
            return path
    raise CloudError('%s not found: run tools/cloud/install (Debian '
                     'packages mariadb-server, rabbitmq-server)' % names[0])


class MariaDB(object):
    def __init__(self, sup, state):
        self.sup = sup
        self.port = state.ports['mysql']
        self.datadir = os.path.join(sup.state_dir, 'data', 'mysql')
        self.socket = os.path.join(sup.run_dir, 'mysql.sock')

    def url(self, database):
        return ('mysql+pymysql://%s:%s@127.0.0.1:%d/%s?charset=utf8'
                % (DB_USER, DB_PASSWORD, self.port, database))

    def start(self):
        os.makedirs(self.datadir, exist_ok=True)
        self.sup.run('mysql-install', [
            _binary('mariadb-install-db', 'mysql_install_db'),
            '--no-defaults', '--datadir=' + self.datadir, '--user=root',
            '--auth-root-authentication-method=socket', '--skip-test-db'],
            timeout=300)
        self.sup.spawn('mysql', [
            _binary('mariadbd', 'mysqld'), '--no-defaults',
            '--datadir=' + self.datadir, '--socket=' + self.socket,
            '--port=%d' % self.port, '--bind-address=127.0.0.1',
            '--user=root', '--skip-name-resolve', '--skip-log-bin',
            '--pid-file=' + os.path.join(self.sup.run_dir, 'mysqld.pidfile'),
            '--innodb-buffer-pool-size=96M', '--max-connections=400',
            '--innodb-flush-log-at-trx-commit=2'])
        self.sup.wait_port('mysql', self.port, timeout=120)
        grants = ["CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s';"
                  % (DB_USER, DB_PASSWORD)]
        for db in DATABASES:
            grants.append('CREATE DATABASE %s;' % db)
        grants.append("GRANT ALL PRIVILEGES ON *.* TO '%s'@'127.0.0.1';"
                      % DB_USER)
        self.sup.run('mysql-setup', [
            _binary('mariadb', 'mysql'), '--no-defaults',
            '--socket=' + self.socket, '-uroot'],
            input_text='\n'.join(grants), timeout=60)


class RabbitMQ(object):
    NODE = 'qslm-cloud@localhost'

    def __init__(self, sup, state):
        self.sup = sup
        self.port = state.ports['amqp']
        self.state = state
        base = os.path.join(sup.state_dir, 'data', 'rabbitmq')
        etc = os.path.join(sup.state_dir, 'etc', 'rabbitmq')
        self.env = {
            'HOME': base,
            'RABBITMQ_NODENAME': self.NODE,
            'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
            'RABBITMQ_NODE_PORT': str(self.port),
            'RABBITMQ_DIST_PORT': str(state.ports['amqp_dist']),
            'ERL_EPMD_PORT': str(state.ports['epmd']),
            'ERL_EPMD_ADDRESS': '127.0.0.1',
            'RABBITMQ_MNESIA_BASE': os.path.join(base, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(base, 'log'),
            'RABBITMQ_LOGS': '-',
            'RABBITMQ_CONFIG_FILE': os.path.join(etc, 'rabbitmq'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(
                etc, 'enabled_plugins'),
            'RABBITMQ_PID_FILE': os.path.join(sup.run_dir, 'rabbit.pidfile'),
        }
        self.etc = etc

    @property
    def url(self):
        return 'rabbit://guest:guest@127.0.0.1:%d/' % self.port

    def start(self):
        os.makedirs(self.etc, exist_ok=True)
        for key in ('HOME', 'RABBITMQ_MNESIA_BASE', 'RABBITMQ_LOG_BASE'):
            os.makedirs(self.env[key], exist_ok=True)
        with open(os.path.join(self.etc, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')
        with open(os.path.join(self.etc, 'rabbitmq.conf'), 'w') as f:
            f.write('loopback_users.guest = true\n'
                    'vm_memory_high_watermark.absolute = 256MiB\n'
                    'disk_free_limit.absolute = 50MB\n')
        # Debian's /usr/sbin/rabbitmq-server switches to the rabbitmq
        # user; the script it wraps runs the broker as the caller.
        server = '/usr/lib/rabbitmq/bin/rabbitmq-server'
        if not os.path.exists(server):
            raise CloudError('%s not found: run tools/cloud/install' % server)
        self.sup.spawn('rabbitmq', [server],
                       env=self.env, cwd=self.env['HOME'])

    def wait(self):
        self.sup.wait_port('rabbitmq', self.port, timeout=180)


def uwsgi_argv(venv, port, module, processes=1, threads=4):
    """uwsgi serving *module*'s ``application`` on 127.0.0.1:port.

    ``--lazy-apps`` loads the application in each worker after the fork
    (Nova's API keeps threads and connections that must not be forked);
    ``Connection: close`` because uwsgi's plain HTTP socket does not
    implement keep-alive, and keystoneauth clients would otherwise wait
    for the connection to be closed (seen with Placement).
    """
    return [os.path.join(venv, 'bin', 'uwsgi'),
            '--master', '--die-on-term', '--need-app',
            '--http-socket', '127.0.0.1:%d' % port,
            '--module', module, '--processes', str(processes),
            '--threads', str(threads), '--enable-threads', '--lazy-apps',
            '--add-header', 'Connection: close',
            '--buffer-size', '65535', '--thunder-lock',
            '--http-chunked-input', '--http-auto-chunked',
            '--hook-master-start', 'unix_signal:15 gracefully_kill_them_all',
            '--worker-reload-mercy', '10', '--disable-logging',
            '--log-5xx', '--log-4xx']
