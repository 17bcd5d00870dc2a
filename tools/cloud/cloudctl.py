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

"""Start, stop and describe the real cloud (see tools/cloud/README.rst).

    cloudctl.py start   fresh cloud under $QSLM_CLOUD_DIR (default .cloud)
    cloudctl.py stop    stop every service of it, also after a crash
    cloudctl.py status  which recorded services still run

``start`` writes ``cloud.json`` (endpoints, accounts, hosts, files) for
the tests of tests/realcloud and prints how long each step took.
"""

import argparse
import json
import os
import shutil
import sys
import time

import procs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
#: Compute hosts: two that may receive live migrations and one decoy
#: that the scenarios mark untrusted.
HOSTS = ('cmp-1', 'cmp-2', 'cmp-3')
#: Stop order: the agents and computes before the control plane, the bus
#: and the database last.
STOP_ORDER = tuple('qslm-agent-%s' % h for h in HOSTS) + tuple(
    'nova-compute-%s' % h for h in HOSTS) + (
    'nova-api', 'nova-scheduler', 'nova-conductor', 'glance', 'placement',
    'keystone', 'network', 'rabbitmq', 'mysql')
PORTS = ('mysql', 'amqp', 'amqp_dist', 'epmd', 'keystone', 'placement',
         'glance', 'network', 'nova_api')


def state_dir():
    return os.path.abspath(os.environ.get(
        'QSLM_CLOUD_DIR', os.path.join(REPO, '.cloud')))


class CloudState(object):
    def __init__(self, directory):
        self.dir = directory
        self.repo = REPO
        self.venv = os.path.join(directory, 'venv')
        self.ports = {name: procs.free_port() for name in PORTS}
        self.timings = []

    def url(self, name):
        return 'http://127.0.0.1:%d' % self.ports[name]


class Steps(object):
    """Times each start-up step and prints it as it ends."""

    def __init__(self, state):
        self.state = state
        self.started = time.monotonic()

    def __call__(self, name, func, *args):
        t0 = time.monotonic()
        result = func(*args)
        took = time.monotonic() - t0
        self.state.timings.append((name, round(took, 1)))
        print('cloud: %-28s %6.1f s' % (name, took), flush=True)
        return result

    @property
    def total(self):
        return time.monotonic() - self.started


def _fresh(directory):
    for sub in ('run', 'log', 'etc', 'data'):
        shutil.rmtree(os.path.join(directory, sub), ignore_errors=True)
    for name in ('cloud.json', 'clouds.yaml'):
        try:
            os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            pass


def start(args):
    directory = state_dir()
    sup = procs.Supervisor(directory)
    state = CloudState(directory)
    if not os.path.exists(os.path.join(state.venv, 'bin', 'nova-compute')):
        raise procs.CloudError('no cloud virtualenv at %s: run '
                               'tools/cloud/install first' % state.venv)
    # Imported here: they need the cloud's virtualenv, stop does not.
    import bootstrap
    stopped = bootstrap.teardown(sup) + sup.stop_all(order=STOP_ORDER)
    if stopped:
        print('cloud: stopped leftovers of an earlier run: %s'
              % ', '.join(stopped))
    _fresh(directory)
    steps = Steps(state)
    try:
        info = bootstrap.build(sup, state, steps, HOSTS)
    except BaseException:
        print('cloud: start-up failed; stopping what was started '
              '(logs stay in %s)' % sup.log_dir, file=sys.stderr)
        bootstrap.teardown(sup)
        sup.stop_all(order=STOP_ORDER)
        raise
    info['startup_s'] = round(steps.total, 1)
    info['timings'] = state.timings
    with open(os.path.join(directory, 'cloud.json'), 'w') as f:
        json.dump(info, f, indent=2, sort_keys=True)
    print('cloud: up in %.1f s; %d services; %s' % (
        steps.total, len(sup.procs), os.path.join(directory, 'cloud.json')),
        flush=True)
    print('cloud: memory of its processes: %d MiB' % rss_mib(sup),
          flush=True)
    return 0


def rss_mib(sup):
    """Resident memory of every process of the cloud, in MiB."""
    total = 0
    for pid in sup.marked():
        try:
            with open('/proc/%d/status' % pid) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total // 1024


def stop(args):
    sup = procs.Supervisor(state_dir())
    try:
        import bootstrap
        hosts = bootstrap.teardown(sup)
        if hosts:
            print('cloud: stopped the libvirt hosts %s' % ', '.join(hosts))
    except ImportError:
        pass
    stopped = sup.stop_all(order=STOP_ORDER)
    print('cloud: stopped %s' % (', '.join(stopped) or 'nothing'))
    return 0


def status(args):
    sup = procs.Supervisor(state_dir())
    marked = sup.marked()
    print('cloud: %d processes running under %s (%d MiB)' % (
        len(marked), sup.state_dir, rss_mib(sup)))
    return 0 if marked else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('command', choices=('start', 'stop', 'status'))
    args = parser.parse_args(argv)
    try:
        return {'start': start, 'stop': stop, 'status': status}[
            args.command](args)
    except procs.CloudError as e:
        print('cloud: error: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
