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

"""Scheduler overhead of QSLM at scale (issue 9, parts 1 and 2).

Run with ``tox -e bench`` or ``python -m bench.bench_scale``.

For every N it builds N real ``nova.scheduler.host_manager.HostState``
objects and a generated topology with the same host names
(:mod:`bench.topogen`), written to a YAML file that the real
:class:`~qslm_nova.topology.TopologyStore` loads through ``[qslm]
topology_file``. One live-migration request is then:

* a fresh ``RequestSpec`` (decisions are cached on it, so reusing one
  would measure a dictionary look-up);
* ``HostFilterHandler.get_filtered_objects([QSLMFilter], hosts)`` and
  ``HostWeightHandler.get_weighed_objects([QSLMWeigher], passed)``.

The instance look-up (``request._lookup_instance``, a database read in
Nova) is replaced by an in-memory ``objects.Instance`` in task state
``migrating``. Nova's ``ComputeCapabilitiesFilter`` and
``ImagePropertiesFilter`` run through the same handler on the same hosts
with the same RequestSpec contents. The load time of the same topology
written as JSON (read by the json module) is reported next to YAML's.

Two QSLM figures: *cold* (every request comes from a new source host, so
the per-source path search of the topology runs each time) and *warm*
(the next request from that same source: the topology's path cache hits;
the decision itself is still computed in full).

Part 2 (``--reload``) runs requests on several native threads while the
topology file is replaced again and again, and checks that every request
sees exactly the result of one of the two topology versions
(``--reload-format json`` for a JSON topology file).
"""

import argparse
import datetime
import gc
import json
import math
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', 'true')

from nova import monkey_patch  # noqa: E402
monkey_patch.patch()

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from nova.compute import task_states  # noqa: E402
from nova import objects  # noqa: E402
from nova.scheduler import filters as nova_filters  # noqa: E402
from nova.scheduler.filters import compute_capabilities_filter  # noqa
from nova.scheduler.filters import image_props_filter  # noqa: E402
from nova.scheduler import host_manager  # noqa: E402
from nova.scheduler import weights as nova_weights  # noqa: E402
from nova.scheduler.weights import ram  # noqa: E402
from oslo_utils import uuidutils  # noqa: E402

import bench  # noqa: E402
from bench import topogen  # noqa: E402
from qslm_nova import conf as qslm_conf  # noqa: E402
from qslm_nova import decision  # noqa: E402
from qslm_nova.scheduler import filters as qslm_filters  # noqa: E402
from qslm_nova.scheduler import request as qslm_request  # noqa: E402
from qslm_nova.scheduler import weights as qslm_weights  # noqa: E402
from qslm_nova import topology as topology_mod  # noqa: E402

CONF = qslm_conf.CONF
CELL = uuidutils.generate_uuid()

# The flavor of the benchmark instance: QSLM keys (which Nova's
# ComputeCapabilitiesFilter skips, being in another namespace) and one
# capabilities key, as an operator pinning the hypervisor would set.
EXTRA_SPECS = {
    'qslm:max_downtime_ms': '800',
    'qslm:min_link_security': 'shared',
    'qslm:require_trusted_host': 'true',
    'qslm:dirty_rate_mibps': '32',
    'capabilities:hypervisor_type': 'QEMU',
}
IMAGE_PROPS = {'hw_architecture': 'x86_64', 'img_hv_type': 'qemu',
               'hw_vm_mode': 'hvm'}

_INSTANCES = {}


def machine_info():
    cpu = 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return {'nproc': os.cpu_count(), 'cpu': cpu,
            'python': platform.python_version(), 'numpy': np.__version__,
            'nova': _nova_version(), 'loadavg': os.getloadavg(),
            'commit': bench.source_commit(),
            'date': datetime.datetime.now(
                datetime.timezone.utc).isoformat(timespec='seconds')}


def _nova_version():
    try:
        from importlib import metadata
        return metadata.version('nova')
    except Exception:
        return 'unknown'


def _fake_lookup(spec_obj):
    return _INSTANCES[spec_obj.instance_uuid]


def setup(topology_path):
    objects.register_all()
    CONF.set_override('topology_file', topology_path, group='qslm')
    CONF.set_override('trust_providers', ['static'], group='qslm')
    # 1 year: the generated attestation times stay fresh for the bench.
    CONF.set_override('max_attestation_age', 365 * 86400, group='qslm')
    qslm_request._lookup_instance = _fake_lookup
    qslm_request.ENGINES.reset()


def write_topology(doc, path):
    """Write atomically (temp file + rename), as an operator's tool would.

    JSON when the path ends in .json, else YAML.
    """
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        if path.endswith('.json'):
            json.dump(doc, f)
        else:
            yaml.dump(doc, f, Dumper=getattr(yaml, 'CSafeDumper',
                                             yaml.SafeDumper),
                      default_flow_style=None, sort_keys=False)
    os.replace(tmp, path)


def make_hosts(names):
    hosts = []
    for i, name in enumerate(names):
        hs = host_manager.HostState(name, name, CELL)
        hs.hypervisor_type = 'QEMU'
        hs.hypervisor_version = 8002000
        hs.supported_instances = [('x86_64', 'qemu', 'hvm'),
                                  ('i686', 'qemu', 'hvm')]
        hs.cpu_info = {'arch': 'x86_64', 'vendor': 'AMD'}
        hs.stats = {}
        # Free RAM varies, so that Nova's RAMWeigher has work to do.
        hs.free_ram_mb = 8192 + (i * 7919) % 120000
        hs.total_usable_ram_mb = 131072
        hs.vcpus_total = 64
        hs.vcpus_used = 8
        hosts.append(hs)
    return hosts


def make_flavor():
    return objects.Flavor(name='bench', memory_mb=4096, vcpus=2,
                          root_gb=20, ephemeral_gb=0, swap=0,
                          extra_specs=dict(EXTRA_SPECS))


def make_instance(uuid, source, flavor):
    inst = objects.Instance(uuid=uuid, host=source, node=source,
                            task_state=task_states.MIGRATING,
                            flavor=flavor, metadata={}, system_metadata={})
    _INSTANCES[uuid] = inst
    return inst


def make_spec(uuid, flavor, image):
    return objects.RequestSpec(instance_uuid=uuid, flavor=flavor,
                               image=image, scheduler_hints={},
                               num_instances=1, ignore_hosts=[],
                               force_hosts=[], force_nodes=[])


class Runner:
    """Times one request through Nova's handlers."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.fh = nova_filters.HostFilterHandler()
        self.wh = nova_weights.HostWeightHandler()
        self.qslm_filter = qslm_filters.QSLMFilter()
        self.qslm_weigher = qslm_weights.QSLMWeigher()
        self.ram_weigher = ram.RAMWeigher()
        self.ccf = compute_capabilities_filter.ComputeCapabilitiesFilter()
        self.ipf = image_props_filter.ImagePropertiesFilter()
        self.flavor = make_flavor()
        self.image = objects.ImageMeta.from_dict(
            {'properties': dict(IMAGE_PROPS)})

    def new_request(self, source):
        uuid = uuidutils.generate_uuid()
        make_instance(uuid, source, self.flavor)
        return make_spec(uuid, self.flavor, self.image)

    def qslm(self, spec):
        """(filter ms, weigh ms, passed, best host)."""
        t0 = time.perf_counter()
        passed = self.fh.get_filtered_objects([self.qslm_filter],
                                              self.hosts, spec, 0)
        t1 = time.perf_counter()
        weighed = self.wh.get_weighed_objects([self.qslm_weigher], passed,
                                              spec)
        t2 = time.perf_counter()
        best = weighed[0].obj.host if weighed else None
        return (t1 - t0) * 1e3, (t2 - t1) * 1e3, passed, best

    def ram_weigh(self, passed, spec):
        """ms of Nova's RAMWeigher through the same handler."""
        t0 = time.perf_counter()
        self.wh.get_weighed_objects([self.ram_weigher], passed, spec)
        return (time.perf_counter() - t0) * 1e3

    def nova(self, flt, spec):
        t0 = time.perf_counter()
        passed = self.fh.get_filtered_objects([flt], self.hosts, spec, 0)
        return (time.perf_counter() - t0) * 1e3, passed


def pct(values, q):
    return float(np.percentile(np.asarray(values), q))


def summary(values):
    return {'median_ms': statistics.median(values),
            'p95_ms': pct(values, 95), 'min_ms': min(values),
            'n': len(values)}


def bench_n(n, requests, seed, workdir, fabric='mixed'):
    rng = random.Random(seed)
    t0 = time.perf_counter()
    doc = topogen.generate(n, fabric=fabric, seed=seed)
    gen_s = time.perf_counter() - t0
    path = os.path.join(workdir, 'topology-%d.yaml' % n)
    write_topology(doc, path)
    t0 = time.perf_counter()
    topology_mod.parse(doc)
    parse_s = time.perf_counter() - t0
    # The same topology as a JSON file (read by the json module).
    json_path = os.path.join(workdir, 'topology-%d.json' % n)
    write_topology(doc, json_path)
    t0 = time.perf_counter()
    topology_mod.load(json_path)
    json_s = time.perf_counter() - t0
    os.unlink(json_path)
    setup(path)
    names = list(doc['hosts'])
    hosts = make_hosts(names)
    runner = Runner(hosts)
    # Topology load through the store, as the scheduler does it.
    t0 = time.perf_counter()
    qslm_request.ENGINES.get(CONF).topology_source()
    load_s = time.perf_counter() - t0
    # The instance requires trusted hosts, so it runs on one.
    trusted = [h for h in names if doc['hosts'][h]['trusted']]
    sources = rng.sample(trusted, min(len(trusted), requests + 1))
    runner.qslm(runner.new_request(sources[-1]))   # warm-up

    cold, warm, filt, weigh, ccf, ipf, nogc = [], [], [], [], [], [], []
    ram_w = []
    passed_counts = []
    gc.collect()
    # Interleave the kinds so that load from other processes on the
    # machine hits all of them alike. The cyclic garbage collector runs
    # whenever allocations trigger it, as in the scheduler; one more
    # warm figure is taken with it disabled to show its share.
    for i in range(requests):
        f, w, passed, _best = runner.qslm(runner.new_request(sources[i]))
        cold.append(f + w)
        passed_counts.append(len(passed))
        # Warm: the same source again, its path search now cached. The
        # cost depends on the source (its mechanisms, rack and site), so
        # cold and warm are paired over the same sources.
        src = sources[i]
        f, w, passed, _best = runner.qslm(runner.new_request(src))
        warm.append(f + w)
        filt.append(f)
        weigh.append(w)
        ram_w.append(runner.ram_weigh(passed, runner.new_request(src)))
        ccf.append(runner.nova(runner.ccf, runner.new_request(src))[0])
        ipf.append(runner.nova(runner.ipf, runner.new_request(src))[0])
        spec = runner.new_request(src)
        gc.disable()
        try:
            f, w, _passed, _best = runner.qslm(spec)
        finally:
            gc.enable()
        nogc.append(f + w)

    # Memory: the process peak RSS so far, and what one request
    # allocates at its peak (tracemalloc, measured on its own run since
    # tracing slows everything down).
    tracemalloc.start()
    runner.qslm(runner.new_request(rng.choice(names)))
    _cur, req_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    res = {
        'hosts': n, 'requests': requests,
        'sites': topogen.default_sites(n), 'fabric': fabric,
        'nodes': len(doc['nodes']) + n, 'links': len(doc['links']),
        'topology_generate_s': gen_s,
        'topology_parse_s': parse_s,
        'topology_load_s': load_s,
        'topology_load_json_s': json_s,
        'topology_file_mb': os.path.getsize(path) / 1e6,
        'qslm_cold': summary(cold), 'qslm_warm': summary(warm),
        'qslm_warm_filter': summary(filt),
        'qslm_warm_weigh': summary(weigh),
        'nova_ram_weigher': summary(ram_w),
        'qslm_warm_gc_disabled': summary(nogc),
        'compute_capabilities': summary(ccf),
        'image_properties': summary(ipf),
        'passed_median': statistics.median(passed_counts),
        'request_peak_alloc_mb': req_peak / 1e6,
        'max_rss_mb': resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        'loadavg_after': os.getloadavg(),
    }
    for kind in ('qslm_cold', 'qslm_warm'):
        for ref in ('compute_capabilities', 'image_properties'):
            res['ratio_%s_%s' % (kind[5:], ref)] = (
                res[kind]['median_ms'] / res[ref]['median_ms'])
    return res


# -- part 2: reload under concurrent requests -----------------------------

def _variant(doc, seed):
    """A second version of the topology: other trust and utilisation."""
    rng = random.Random(seed)
    other = {'version': doc['version'], 'nodes': doc['nodes'],
             'hosts': {}, 'links': []}
    for name, entry in doc['hosts'].items():
        entry = dict(entry)
        if rng.random() < 0.2:
            entry['trusted'] = not entry['trusted']
            if entry['trusted']:
                entry['attested_at'] = topogen.FRESH
            else:
                entry.pop('attested_at', None)
        other['hosts'][name] = entry
    for link in doc['links']:
        link = dict(link)
        link['utilization'] = round(rng.uniform(0.0, 0.9), 2)
        other['links'].append(link)
    return other


def _expected(doc, sources, hosts_names):
    """Allowed host sets per source, computed with a private Engine."""
    topo = topology_mod.parse(doc)
    eng = decision.engine_from_conf(CONF)
    eng = decision.Engine(eng.settings, lambda: topo, eng.trust)
    flavor = make_flavor()
    out = {}
    for src in sources:
        req = decision.MigrationRequest(
            instance_uuid='x', source_host=src, memory_mb=flavor.memory_mb,
            flavor_extra_specs=dict(flavor.extra_specs))
        out[src] = frozenset(d.host for d in eng.decide(req, hosts_names)
                             if d.allowed)
    return out


def bench_reload(n, threads, duration_s, reloads, seed, workdir,
                 fmt='yaml'):
    doc_a = topogen.generate(n, fabric='mixed', seed=seed)
    doc_b = _variant(doc_a, seed + 1)
    path = os.path.join(workdir, 'reload-%d.%s' % (n, fmt))
    write_topology(doc_a, path)
    setup(path)
    names = list(doc_a['hosts'])
    hosts = make_hosts(names)
    rng = random.Random(seed)
    sources = rng.sample([h for h in names if doc_a['hosts'][h]['trusted']
                          and doc_b['hosts'][h]['trusted']], 8)
    expected = {'a': _expected(doc_a, sources, names),
                'b': _expected(doc_b, sources, names)}
    store = qslm_request.ENGINES.get(CONF).topology_source.__self__
    store.get()
    base_reloads = store.reloads
    stop = threading.Event()
    lock = threading.Lock()
    stats = {'requests': 0, 'failed': 0, 'inconsistent': 0, 'a': 0,
             'b': 0, 'lat': [], 'lat_base': [], 'errors': []}
    # First a phase without file changes (the baseline latency of the
    # same threads), then the phase with reloads.
    phase = ['lat_base']

    def worker(k):
        runner = Runner(hosts)
        i = k
        while not stop.is_set():
            src = sources[i % len(sources)]
            i += 1
            t0 = time.perf_counter()
            try:
                _f, _w, passed, _best = runner.qslm(runner.new_request(src))
            except Exception as e:  # a failed request is what we count
                with lock:
                    stats['failed'] += 1
                    stats['errors'].append(repr(e))
                continue
            lat = (time.perf_counter() - t0) * 1e3
            got = frozenset(h.host for h in passed)
            with lock:
                stats['requests'] += 1
                stats[phase[0]].append(lat)
                if got == expected['a'][src]:
                    stats['a'] += 1
                elif got == expected['b'][src]:
                    stats['b'] += 1
                else:
                    stats['inconsistent'] += 1

    workers = [threading.Thread(target=worker, args=(k,))
               for k in range(threads)]
    for w in workers:
        w.start()
    time.sleep(duration_s / 2.0)
    phase[0] = 'lat'
    write_cost = []
    interval = duration_s / float(reloads + 1)
    t_end = time.perf_counter() + duration_s
    for r in range(reloads):
        time.sleep(interval)
        t0 = time.perf_counter()
        write_topology(doc_b if r % 2 == 0 else doc_a, path)
        write_cost.append(time.perf_counter() - t0)
    time.sleep(max(0.0, t_end - time.perf_counter()))
    # Writing a large YAML file takes a while, so the last replacement
    # may land near the end: let the requests run on until it is loaded
    # (at most 60 s more), so that every replacement is seen.
    late = time.perf_counter() + 60.0
    while (store.reloads - base_reloads < reloads and
           time.perf_counter() < late):
        time.sleep(0.1)
    ran_s = duration_s + max(0.0, time.perf_counter() - t_end)
    stop.set()
    for w in workers:
        w.join()
    seen_reloads = store.reloads - base_reloads
    # Reload cost on its own (no other thread running): from the get()
    # that notices the new file until its background reload is done.
    load = []
    for r in range(3):
        write_topology(doc_a if r % 2 == 0 else doc_b, path)
        t0 = time.perf_counter()
        store.get()
        store.wait_for_reload()
        load.append(time.perf_counter() - t0)
    lat = stats.pop('lat')
    base = stats.pop('lat_base')
    stats['errors'] = stats['errors'][:5]
    stats.update({
        'hosts': n, 'threads': threads, 'duration_s': duration_s,
        'format': fmt.upper(),
        'file_replacements': reloads, 'reloads_seen': seen_reloads,
        'ran_s': ran_s,
        'write_s_median': statistics.median(write_cost) if write_cost
        else math.nan,
        'request_median_ms': statistics.median(lat) if lat else None,
        'request_p95_ms': pct(lat, 95) if lat else None,
        'request_max_ms': max(lat) if lat else None,
        'baseline_requests': len(base),
        'baseline_median_ms': statistics.median(base) if base else None,
        'baseline_p95_ms': pct(base, 95) if base else None,
        'baseline_max_ms': max(base) if base else None,
        'reload_s_median': statistics.median(load),
        'reload_s_all': load,
        'loadavg_after': os.getloadavg(),
    })
    return stats


# -- report -----------------------------------------------------------------

def format_scale(results, machine):
    lines = ['QSLM scheduler overhead: one live-migration request via Nova '
             'filter + weight handlers',
             'machine: %(nproc)s cores, %(cpu)s, Python %(python)s, numpy '
             '%(numpy)s, nova %(nova)s, %(date)s, qslm-nova %(commit)s'
             % machine,
             'load average at start: %.2f %.2f %.2f' % tuple(
                 machine['loadavg']),
             '',
             '%7s %7s | %17s | %17s | %15s | %15s | %11s | %11s | %6s %6s '
             '%6s' % ('hosts', 'passed', 'QSLM cold med/p95',
                      'QSLM warm med/p95', 'CompCaps med/p95',
                      'ImageProps med/p95', 'cold/CC,IP', 'warm/CC,IP',
                      'topo s', 'RSS MB', 'req MB')]
    for r in results:
        lines.append(
            '%7d %7d | %8.2f %8.2f | %8.2f %8.2f | %7.2f %7.2f | '
            '%7.2f %7.2f | %5.2f %5.2f | %5.2f %5.2f | %6.2f %6.0f %6.1f' % (
                r['hosts'], r['passed_median'],
                r['qslm_cold']['median_ms'], r['qslm_cold']['p95_ms'],
                r['qslm_warm']['median_ms'], r['qslm_warm']['p95_ms'],
                r['compute_capabilities']['median_ms'],
                r['compute_capabilities']['p95_ms'],
                r['image_properties']['median_ms'],
                r['image_properties']['p95_ms'],
                r['ratio_cold_compute_capabilities'],
                r['ratio_cold_image_properties'],
                r['ratio_warm_compute_capabilities'],
                r['ratio_warm_image_properties'],
                r['topology_load_s'], r['max_rss_mb'],
                r['request_peak_alloc_mb']))
    lines.append('')
    lines.append('warm split filter/weigher (median ms): ' + ', '.join(
        '%d: %.2f/%.2f' % (r['hosts'], r['qslm_warm_filter']['median_ms'],
                           r['qslm_warm_weigh']['median_ms'])
        for r in results))
    lines.append('Nova\'s RAMWeigher on the hosts QSLM passed, through the '
                 'same handler (median ms): ' + ', '.join('%d: %.2f' % (
                     r['hosts'], r['nova_ram_weigher']['median_ms'])
                     for r in results))
    lines.append('warm with the garbage collector disabled (median ms): '
                 + ', '.join('%d: %.2f' % (
                     r['hosts'], r['qslm_warm_gc_disabled']['median_ms'])
                     for r in results))
    lines.append('topology load (YAML file via TopologyStore) / the same '
                 'as JSON / parse of the dict only (s): ' + ', '.join(
                     '%d: %.2f/%.2f/%.2f' % (
                         r['hosts'], r['topology_load_s'],
                         r['topology_load_json_s'],
                         r['topology_parse_s'])
                     for r in results))
    if len(results) > 1:
        a, b = results[0], results[-1]
        growth = (b['qslm_warm']['median_ms'] / a['qslm_warm']['median_ms'])
        lines.append('growth of warm median %d -> %d hosts: x%.1f for x%.0f '
                     'hosts' % (a['hosts'], b['hosts'], growth,
                                b['hosts'] / a['hosts']))
    return '\n'.join(lines)


def format_reload(r):
    return ('Reload under load: %(hosts)d hosts, %(threads)d threads, '
            '%(ran_s).0f s, %(file_replacements)d file replacements '
            '(each written in %(write_s_median).1f s; %(reloads_seen)d '
            'reloads seen): %(requests)d requests, '
            '%(failed)d failed, %(inconsistent)d inconsistent '
            '(%(a)d saw version A, %(b)d version B).\n'
            'Request latency on %(threads)d threads with reloads: median '
            '%(request_median_ms).0f ms, p95 %(request_p95_ms).0f ms, max '
            '%(request_max_ms).0f ms; before, without reloads '
            '(%(baseline_requests)d requests): median '
            '%(baseline_median_ms).0f ms, p95 %(baseline_p95_ms).0f ms, max '
            '%(baseline_max_ms).0f ms.\nOne reload (%(format)s load + '
            'validate, in the store\'s background thread while requests '
            'keep the last good topology): %(reload_s_median).2f s' % r)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--hosts', default='100,1000,10000,50000',
                   help='comma-separated host counts')
    p.add_argument('--requests', type=int, default=30,
                   help='requests per kind and N')
    p.add_argument('--seed', type=int, default=7)
    p.add_argument('--reload-hosts', type=int, default=2000)
    p.add_argument('--reload-threads', type=int, default=4)
    p.add_argument('--reload-seconds', type=float, default=20.0)
    p.add_argument('--reloads', type=int, default=6)
    p.add_argument('--no-reload', action='store_true')
    p.add_argument('--reload-format', choices=('yaml', 'json'),
                   default='yaml',
                   help='file format of the reload test\'s topology')
    p.add_argument('--output', default=bench.RESULTS,
                   help='directory for scale.txt and scale.json; "-" for '
                        'none')
    args = p.parse_args(argv)
    machine = machine_info()
    results = []
    reload_res = None
    with tempfile.TemporaryDirectory(prefix='qslm-bench-') as workdir:
        for n in [int(x) for x in args.hosts.split(',') if x]:
            res = bench_n(n, args.requests, args.seed, workdir)
            results.append(res)
            print('N=%d done: cold %.2f ms, warm %.2f ms, CC %.2f ms, '
                  'IP %.2f ms' % (n, res['qslm_cold']['median_ms'],
                                  res['qslm_warm']['median_ms'],
                                  res['compute_capabilities']['median_ms'],
                                  res['image_properties']['median_ms']),
                  file=sys.stderr)
        if not args.no_reload:
            reload_res = bench_reload(args.reload_hosts, args.reload_threads,
                                      args.reload_seconds, args.reloads,
                                      args.seed, workdir,
                                      args.reload_format)
    text = format_scale(results, machine)
    if reload_res:
        text += '\n\n' + format_reload(reload_res)
    print(text)
    bench.write_results(args.output, 'scale', text,
                        {'machine': machine, 'scale': results,
                         'reload': reload_res})
    return results, reload_res


if __name__ == '__main__':
    main()
