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

"""How long one decision waits for a misbehaving Keylime verifier.

Run with ``python -m bench.bench_attestation [--hosts 1000]``.

Real servers on loopback, in their own process
(``tests/unit/fake_keylime.py`` and ``tests/unit/hostile_servers.py``):
a healthy verifier, one that sends
its answers a byte every 0.3 s, one that never answers, a TCP server
that never speaks TLS, one that never accepts, a proxy that trickles the
TLS handshake, a DNS look-up that takes 20 s, 50 MiB answers and answers
nested 100,000 deep. For each, with the default options
(``decision_timeout`` 5 s, 8 requests at once, ``cache_ttl`` 30 s):

* the first decision over all hosts (cold cache), and the worst of four
  decisions started at once on a fresh provider;
* the worst of three decisions in a row with ``cache_ttl = 0``;
* requests sent, look-up threads alive at the end, hosts trusted.

``healthy-bulk`` asks with ``bulk_requests = True``.

The code before issue 15 (``--old-rev``, default f85c307) runs the same
scenarios in a subprocess that is stopped after ``--old-cap`` seconds.
"""

import argparse
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Native threads, as Nova 34 runs its services: the tests package picks
# Nova's concurrency mode on import.
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', 'true')

from oslo_config import cfg  # noqa: E402

from qslm_nova import conf as qslm_conf  # noqa: E402
from qslm_nova import trust  # noqa: E402
from tests.unit import fake_keylime  # noqa: E402
from tests.unit import hostile_servers  # noqa: E402
from tests.unit.trust import test_keylime as kl  # noqa: E402

SCENARIOS = ('healthy', 'healthy-bulk', 'trickle', 'silent', 'tls-stall',
             'connect-stall', 'tls-trickle', 'slow-dns', 'huge', 'deep')


def _servers(scenario, n, pki):
    """Start the servers of a scenario; return (url, things to stop)."""
    verifier = fake_keylime.FakeVerifier(pki).start()
    body = b'[' * 100000 + b']' * 100000 if scenario == 'deep' else None
    for i in range(n):
        verifier.set('agent-%d' % i, body or fake_keylime.agent_status(3))
    running, url = [verifier], verifier.url
    if scenario == 'trickle':
        verifier.trickle = 0.3
    elif scenario == 'silent':
        verifier.silent = True
    elif scenario == 'huge':
        verifier.body_size = 50 * 1024 * 1024
    elif scenario in ('tls-stall', 'connect-stall'):
        running.append(hostile_servers.StallServer(
            accept=scenario == 'tls-stall').start())
    elif scenario == 'tls-trickle':
        running.append(hostile_servers.TrickleProxy(verifier.port,
                                                    0.3).start())
    elif scenario == 'slow-dns':
        url = 'https://localhost:%d' % verifier.port
    if len(running) > 1:
        url = running[-1].url
    return url, running


def _serve(scenario, n, pki, pipe, parent):
    """Child process: the servers, until the parent says stop or dies."""
    url, running = _servers(scenario, n, pki)
    pipe.send(url)
    while not pipe.poll(1.0):
        if os.getppid() != parent:
            break
    for server in reversed(running):
        server.stop()
    pipe.send('stopped')


class Cloud:
    """Servers behaving as ``scenario`` for ``n`` agents.

    They run in a child process, as a real verifier would: the client's
    threads do not share a GIL with them.
    """

    def __init__(self, scenario, n, pki):
        self.scenario = scenario
        self.names = {'h%d' % i: 'agent-%d' % i for i in range(n)}
        self.topo = kl.topology(self.names)
        ctx = multiprocessing.get_context('spawn')
        self._pipe, child = ctx.Pipe()
        self._child = ctx.Process(target=_serve, args=(
            scenario, n, pki, child, os.getpid()), daemon=True)
        self._child.start()
        self.url = self._pipe.recv()
        if scenario == 'slow-dns':
            self._slow_dns()

    def _slow_dns(self):
        real = socket.getaddrinfo
        self.release = threading.Event()

        def slow(host, *args, **kwargs):
            if host == 'localhost':
                self.release.wait(20)
            return real(host, *args, **kwargs)

        socket.getaddrinfo = slow
        self._real_getaddrinfo = real

    def stop(self):
        if self.scenario == 'slow-dns':
            self.release.set()
            socket.getaddrinfo = self._real_getaddrinfo
        self._pipe.send('stop')
        if self._pipe.poll(10):
            self._pipe.recv()
        self._child.terminate()
        self._child.join(5)


def make_provider(provider_class, cloud, pki, **options):
    conf = cfg.ConfigOpts()
    qslm_conf.register_opts(conf)
    trust.register_provider_opts(conf, provider_class)
    conf([], project='qslm-bench', default_config_files=[])
    # Every option a scenario changes is set each time: overrides live
    # in the option groups, which all ConfigOpts objects share.
    values = dict(verifier_url=cloud.url, cafile=pki.cafile,
                  certfile=pki.client_cert, keyfile=pki.client_key,
                  cache_ttl=30, bulk_requests=False)
    values.update(options)
    for name, value in values.items():
        conf.set_override(name, value, group='qslm_keylime')
    return provider_class(conf)


def decide(provider, cloud):
    start = time.monotonic()
    got = provider.get_trust(list(cloud.names), cloud.topo)
    took = time.monotonic() - start
    return took, sum(1 for s in got.values() if s.trusted)


def pool_threads(provider):
    prefix = getattr(provider, 'thread_prefix', 'qslm-keylime')
    return sum(1 for t in threading.enumerate()
               if t.name.startswith(prefix))


def run(provider_class, scenario, n, pki, concurrent=4, in_row=3,
        on_first=None):
    """The figures of one scenario, as a dict.

    :param on_first: called with the first decision's time.
    """
    options = {}
    if scenario.endswith('-bulk'):
        scenario = scenario[:-len('-bulk')]
        options['bulk_requests'] = True
    cloud = Cloud(scenario, n, pki)
    try:
        provider = make_provider(provider_class, cloud, pki, **options)
        first, trusted = decide(provider, cloud)
        threads_used = pool_threads(provider)
        if on_first is not None:
            on_first(first)
        fresh = make_provider(provider_class, cloud, pki, **options)
        times = []
        threads = [threading.Thread(
            target=lambda: times.append(decide(fresh, cloud)[0]))
            for _i in range(concurrent)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        nocache = make_provider(provider_class, cloud, pki, cache_ttl=0,
                                **options)
        row = [decide(nocache, cloud)[0] for _i in range(in_row)]
        sent = sum(p.requests_sent for p in (provider, fresh, nocache))
        return {'first': first, 'concurrent': max(times),
                'in_row': max(row), 'requests': sent,
                'threads': threads_used, 'trusted': trusted}
    finally:
        for name in ('provider', 'fresh', 'nocache'):
            p = locals().get(name)
            if p is not None and hasattr(p, 'close'):
                p.close()
        cloud.stop()


def old_provider_class(rev):
    """The KeylimeTrustProvider of an older commit, from git."""
    source = subprocess.run(
        ['git', 'show', '%s:qslm_nova/trust/keylime.py' % rev],
        check=True, capture_output=True, text=True).stdout
    module = type(sys)('qslm_old_keylime')
    exec(compile(source, 'keylime.py@%s' % rev, 'exec'), module.__dict__)
    return module.KeylimeTrustProvider


def fmt(row):
    return ('%8.2f %10.2f %8.2f %9d %8d %8d' % (
        row['first'], row['concurrent'], row['in_row'], row['requests'],
        row['threads'], row['trusted']))


HEADER = ('%-14s %-4s %8s %10s %8s %9s %8s %8s' % (
    'scenario', 'code', 'first s', '4 at once', 'in row', 'requests',
    'threads', 'trusted'))


def old_worker(args):
    """Subprocess: one scenario with the old code, one line of output."""
    logging.getLogger().setLevel(logging.CRITICAL)
    pki = fake_keylime.PKI(tempfile.mkdtemp(prefix='qslm-bench-'))
    row = run(old_provider_class(args.old_rev), args.old_worker, args.hosts,
              pki, on_first=lambda t: print('first %.2f' % t, flush=True))
    print(fmt(row), flush=True)
    os._exit(0)       # the old code's threads may still be waiting


def run_old(args, scenario):
    cmd = [sys.executable, '-m', 'bench.bench_attestation', '--hosts',
           str(args.hosts), '--old-rev', args.old_rev, '--old-worker',
           scenario]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=args.old_cap)
        out = done.stdout.strip()
        if done.returncode == 0 and out:
            return out.splitlines()[-1]
        errors = done.stderr.strip().splitlines() or ['no output']
        return '  failed: %s' % errors[-1][:100]
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b''
        out = out.decode() if isinstance(out, bytes) else out
        first = [line.split()[1] for line in out.splitlines()
                 if line.startswith('first ')]
        if first:
            return '%8s   stopped after %d s' % (first[0], args.old_cap)
        return '  > %d s: stopped, no decision finished' % args.old_cap


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=1000)
    parser.add_argument('--scenarios', default=','.join(SCENARIOS))
    parser.add_argument('--old-rev', default='f85c307')
    parser.add_argument('--old-cap', type=int, default=60)
    parser.add_argument('--skip-old', action='store_true')
    parser.add_argument('--old-worker', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.old_worker:
        return old_worker(args)
    from qslm_nova.trust import keylime
    # One WARNING per decision is the design; here it is only noise.
    logging.getLogger('qslm_nova').setLevel(logging.ERROR)
    pki = fake_keylime.PKI(tempfile.mkdtemp(prefix='qslm-bench-'))
    print('Keylime attestation per decision, %d hosts, decision_timeout '
          '5 s, 8 requests at once; seconds' % args.hosts)
    print(HEADER)
    for scenario in args.scenarios.split(','):
        row = run(keylime.KeylimeTrustProvider, scenario, args.hosts, pki)
        print('%-14s %-4s %s' % (scenario, 'new', fmt(row)), flush=True)
        if not args.skip_old:
            old = run_old(args, scenario)
            print('%-14s %-4s %s' % (scenario, 'old', old), flush=True)


if __name__ == '__main__':
    main()
