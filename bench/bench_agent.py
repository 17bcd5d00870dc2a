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

"""The compute agent's cost and speed, measured on real libvirt.

    sudo .venv/bin/python -m bench.bench_agent [--guests 50] [--seconds 600]
        [--migrations 5]

Two libvirt daemons in namespaces of their own (the testbed's
``host_pair``); ``--guests`` real QEMU (TCG) guests on the first (16 MiB
each, the testbed kernel ticking at 10 Hz, one in five writing memory at
1 to 3 MiB/s so that their dirty rates change); the real daemon,
``qslm-nova-agent`` (the console script), beside each at its default
intervals (CPU load every 30 s, profile every 300 s, dirty rates every
300 s). Nova and Placement are a stand-in HTTP server on the loopback
that answers the agent's calls as they do (os-migrations, servers,
metadata, resource providers and traits): the agent's work is the same,
Nova's own time to answer is not in it.

Printed: the agent's CPU time over ``--seconds`` (whole rounds of every
interval) as a share of one core, against the 1 % target, with the
guests' own QEMU CPU in the same run beside it; the cipher measurement
of the boot (once per boot, reported apart); and for ``--migrations``
real migrations to the second host, the time from the end of the
migration (the destination's resume event: the instance runs again) to
the ledger write arriving at Nova, and where that falls against the
source's migrate call returning (libvirt's confirm phase on the source
ends later, so the charge usually comes first).
"""

import argparse
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid as uuid_mod

import libvirt

from qslm_nova.agent import cipher
from qslm_nova.testbed import guest
from qslm_nova.testbed import libvirt_guest
from qslm_nova.testbed import libvirt_host

FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
         libvirt.VIR_MIGRATE_PERSIST_DEST |
         libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)


class StubCloud:
    """What Nova and Placement answer the agent, kept in memory."""

    def __init__(self):
        self.lock = threading.Lock()
        self.servers = {}        # uuid -> metadata
        self.migrations = {}     # uuid -> [record]
        self.traits = {}         # rp name -> (generation, set)
        self.writes = []         # (time, uuid, metadata)
        self.requests = 0
        self.next_id = 100

    def add_server(self, uuid):
        self.servers[uuid] = {}

    def add_migration(self, uuid, source, dest):
        with self.lock:
            self.next_id += 1
            now = time.strftime('%Y-%m-%dT%H:%M:%S.000000', time.gmtime())
            self.migrations.setdefault(uuid, []).append({
                'id': self.next_id, 'uuid': str(uuid_mod.uuid4()),
                'instance_uuid': uuid, 'source_compute': source,
                'dest_compute': dest, 'status': 'completed',
                'migration_type': 'live-migration', 'created_at': now,
                'updated_at': now})

    def handle(self, method, path, body):
        url = urllib.parse.urlparse(path)
        parts = [p for p in url.path.split('/') if p]
        query = urllib.parse.parse_qs(url.query)
        with self.lock:
            self.requests += 1
            if parts[0] == 'placement':
                return self.placement(method, parts[1:], query, body)
            return self.nova(method, parts[2:], query, body)

    def placement(self, method, parts, query, body):
        if parts == ['resource_providers'] and 'name' in query:
            name = query['name'][0]
            return 200, {'resource_providers': [{'uuid': name,
                                                 'name': name}]}
        if parts[0] == 'traits':
            return (201 if method == 'PUT' else 204), None
        name = parts[1]
        generation, traits = self.traits.get(name, (0, set()))
        if method == 'GET':
            return 200, {'traits': sorted(traits),
                         'resource_provider_generation': generation}
        self.traits[name] = (generation + 1, set(body['traits']))
        return 200, {'traits': body['traits'],
                     'resource_provider_generation': generation + 1}

    def nova(self, method, parts, query, body):
        if parts[0] == 'os-migrations':
            uuid = query.get('instance_uuid', [''])[0]
            return 200, {'migrations': self.migrations.get(uuid, [])}
        uuid = parts[1]
        if uuid not in self.servers:
            return 404, {'itemNotFound': {'code': 404,
                                          'message': 'no such server'}}
        meta = self.servers[uuid]
        if method == 'POST':
            meta.update(body['metadata'])
            self.writes.append((time.time(), uuid, dict(body['metadata'])))
            return 200, {'metadata': meta}
        return 200, {'server': {'id': uuid, 'metadata': dict(meta),
                                'flavor': {'extra_specs': {}}}}


def serve(cloud):
    class Handler(http.server.BaseHTTPRequestHandler):
        def _do(self):
            size = int(self.headers.get('Content-Length') or 0)
            body = json.loads(self.rfile.read(size)) if size else None
            status, answer = cloud.handle(self.command, self.path, body)
            data = b'' if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = _do

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def agent_config(base, host, port):
    """The agent's config file for a testbed host (and its nova.conf)."""
    state = os.path.join(base, 'agent-' + host.name)
    os.makedirs(state, exist_ok=True)
    nova_conf = os.path.join(state, 'nova.conf')
    with open(nova_conf, 'w') as f:
        f.write('[DEFAULT]\nhost = %s\n[libvirt]\nconnection_uri = %s\n'
                % (host.name, host.uri))
    path = os.path.join(state, 'agent.conf')
    endpoint = 'http://127.0.0.1:%d' % port
    with open(path, 'w') as f:
        f.write('[DEFAULT]\nlog_file = %s\n'
                '[qslm_agent]\nnova_config_file = %s\nstate_path = %s\n'
                'qemu_config_file = %s\n'
                '[nova]\nauth_type = none\nendpoint_override = %s\n'
                '[placement]\nauth_type = none\nendpoint_override = %s\n' % (
                    os.path.join(state, 'agent.log'), nova_conf, state,
                    host.host_path('/etc/libvirt/qemu.conf'),
                    endpoint + '/compute/v2.1', endpoint + '/placement'))
    return path, state


def cpu_s(pid):
    """CPU seconds of a process (0 if it is gone)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def _name(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read()
    except OSError:
        return ''


def start_agent(config):
    exe = os.path.join(os.path.dirname(sys.executable), 'qslm-nova-agent')
    return subprocess.Popen([exe, '--config-file', config],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop_agent(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def boot_guests(host, conn, peer, elf, count):
    guests = []
    for i in range(count):
        rate = float(1 + i % 3) if i % 5 == 0 else 0.0
        g = libvirt_guest.Guest(16, guest.Workload(
            dirty_rate_mibps=rate, wss_mib=4 + 1 / 256.0, hz=10))
        g.name = 'bench-%02d' % i
        g.boot(host, conn, elf, peer=peer)
        guests.append(g)
    return guests


def measure_cpu(config, host, seconds, cloud):
    """(agent CPU s, QEMU CPU s, wall s, Nova/Placement requests)."""
    proc = start_agent(config)
    try:
        time.sleep(5.0)   # connect, catch up, first profile
        qemu_pids = [p for p in host.ns.pids() if p != host.proc.pid and
                     'qemu' in _name(p)]
        before = (cpu_s(proc.pid), sum(cpu_s(p) for p in qemu_pids),
                  time.monotonic(), cloud.requests)
        time.sleep(seconds)
        after = (cpu_s(proc.pid), sum(cpu_s(p) for p in qemu_pids),
                 time.monotonic(), cloud.requests)
    finally:
        stop_agent(proc)
    return tuple(b - a for a, b in zip(before, after))


def measure_latency(config, src, dst, conn, guests, count, cloud):
    """Per migration: (from migrate() returning, from the agent's end)."""
    proc = start_agent(config)
    out = []
    try:
        time.sleep(5.0)
        for g in guests[:count]:
            dom = conn.lookupByUUIDString(g.uuid)
            cloud.add_migration(g.uuid, src.name, dst.name)
            seen = len(cloud.writes)
            dom.migrateToURI3(dst.peer_uri('tcp'), {}, FLAGS)
            returned = time.time()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                charged = [w for w in cloud.writes[seen:] if w[1] == g.uuid
                           and 'qslm:downtime_used_ms' in w[2]]
                if charged:
                    out.append((g.uuid, charged[0][0] - returned))
                    break
                time.sleep(0.005)
    finally:
        stop_agent(proc)
    return out


def ended_at(state, uuid):
    from qslm_nova.agent import spool as spool_mod
    spool = spool_mod.Spool(state)
    try:
        for measured, _mid, _res, _at in spool.history():
            if measured.instance_uuid == uuid:
                return measured.ended_at
    finally:
        spool.close()
    return None


def run(args):
    base = tempfile.mkdtemp(prefix='qslm-bench-agent-')
    cloud = StubCloud()
    server = serve(cloud)
    port = server.server_address[1]
    elf = libvirt_guest.build_elf(os.path.join(base, 'build'))
    names = ('bag%05da' % (os.getpid() % 100000),
             'bag%05db' % (os.getpid() % 100000))
    with libvirt_host.host_pair(base, names=names,
                                subnet='198.18.31') as (a, b, link):
        link.shape(rate_mbps=1000)
        conn = a.connect()
        start = time.monotonic()
        guests = boot_guests(a, conn, b, elf, args.guests)
        print('booted %d real TCG guests in %.0f s' % (
            len(guests), time.monotonic() - start))
        for g in guests:
            cloud.add_server(g.uuid)
        config_a, state_a = agent_config(base, a, port)
        config_b, state_b = agent_config(base, b, port)
        qemu = '/usr/bin/qemu-system-x86_64'
        t0 = time.monotonic()
        found = cipher.once_per_boot(state_a, qemu)
        print('cipher throughput (once per boot): %.2f Gbit/s per core '
              '(%s), measured in %.1f s' % (
                  found.gbps_per_core, found.method,
                  time.monotonic() - t0))
        cipher.once_per_boot(state_b, qemu)
        agent, qemu_cpu, wall, requests = measure_cpu(
            config_a, a, args.seconds, cloud)
        share = agent / wall * 100.0
        print('agent CPU with %d guests over %.0f s: %.2f s = %.3f %% of '
              'one core (target < 1 %%: %s); %d Nova/Placement requests'
              % (len(guests), wall, agent, share,
                 'met' if share < 1.0 else 'MISSED', requests))
        print('the guests\' QEMU in the same run: %.1f %% of one core '
              '(%.1f times the agent)' % (qemu_cpu / wall * 100.0,
                                          qemu_cpu / max(agent, 1e-9)))
        print('dirty-rate writes to Nova: %d' % len(
            [w for w in cloud.writes if 'qslm:observed_dirty_rate' in w[2]]))
        lat = measure_latency(config_b, a, b, conn, guests,
                              args.migrations, cloud)
        from_resume = []
        for uuid, from_return in lat:
            end = ended_at(state_b, uuid)
            write = [w[0] for w in cloud.writes if w[1] == uuid and
                     'qslm:downtime_used_ms' in w[2]][0]
            from_resume.append(write - end)
            print('migration %s: charged %.0f ms after the destination '
                  'resumed it (%.0f ms after the source\'s migrate() '
                  'returned)' % (uuid[:8], (write - end) * 1000.0,
                                 from_return * 1000.0))
        if from_resume:
            values = sorted(from_resume)
            print('migration end (destination resume) to ledger charge: '
                  'median %.0f ms, max %.0f ms over %d migrations' % (
                      values[len(values) // 2] * 1000.0,
                      values[-1] * 1000.0, len(values)))
        conn.close()
    server.shutdown()
    shutil.rmtree(base, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--guests', type=int, default=50)
    parser.add_argument('--seconds', type=float, default=600.0)
    parser.add_argument('--migrations', type=int, default=5)
    run(parser.parse_args())


if __name__ == '__main__':
    main()
