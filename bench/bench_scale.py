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
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc

import numpy as np

import bench
# First of the benchmark's modules: it patches Nova's threading before
# anything imports Nova.
from bench import scale_nova
from bench import scale_reload
from bench import topogen
from qslm_nova.scheduler import request as qslm_request
from qslm_nova import topology as topology_mod


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


def _topology_times(n, seed, fabric, workdir):
    """(the generated topology, its YAML file, the seconds to generate,
    parse and load it as JSON).
    """
    t0 = time.perf_counter()
    doc = topogen.generate(n, fabric=fabric, seed=seed)
    times = {'topology_generate_s': time.perf_counter() - t0}
    path = os.path.join(workdir, 'topology-%d.yaml' % n)
    scale_nova.write_topology(doc, path)
    t0 = time.perf_counter()
    topology_mod.parse(doc)
    times['topology_parse_s'] = time.perf_counter() - t0
    # The same topology as a JSON file (read by the json module).
    json_path = os.path.join(workdir, 'topology-%d.json' % n)
    scale_nova.write_topology(doc, json_path)
    t0 = time.perf_counter()
    topology_mod.load(json_path)
    times['topology_load_json_s'] = time.perf_counter() - t0
    os.unlink(json_path)
    return doc, path, times


def _time_requests(runner, sources, requests):
    """{kind: ms per request} over *requests* sources, and the hosts
    each cold request passed.
    """
    kinds = ('qslm_cold', 'qslm_warm', 'qslm_warm_filter',
             'qslm_warm_weigh', 'nova_ram_weigher', 'qslm_warm_gc_disabled',
             'compute_capabilities', 'image_properties')
    ms = {k: [] for k in kinds}
    passed_counts = []
    gc.collect()
    # Interleave the kinds so that load from other processes on the
    # machine hits all of them alike. The cyclic garbage collector runs
    # whenever allocations trigger it, as in the scheduler; one more
    # warm figure is taken with it disabled to show its share.
    for i in range(requests):
        f, w, passed, _best = runner.qslm(runner.new_request(sources[i]))
        ms['qslm_cold'].append(f + w)
        passed_counts.append(len(passed))
        # Warm: the same source again, its path search now cached. The
        # cost depends on the source (its mechanisms, rack and site), so
        # cold and warm are paired over the same sources.
        src = sources[i]
        f, w, passed, _best = runner.qslm(runner.new_request(src))
        ms['qslm_warm'].append(f + w)
        ms['qslm_warm_filter'].append(f)
        ms['qslm_warm_weigh'].append(w)
        ms['nova_ram_weigher'].append(
            runner.ram_weigh(passed, runner.new_request(src)))
        ms['compute_capabilities'].append(
            runner.nova(runner.ccf, runner.new_request(src))[0])
        ms['image_properties'].append(
            runner.nova(runner.ipf, runner.new_request(src))[0])
        spec = runner.new_request(src)
        gc.disable()
        try:
            f, w, _passed, _best = runner.qslm(spec)
        finally:
            gc.enable()
        ms['qslm_warm_gc_disabled'].append(f + w)
    return ms, passed_counts


def bench_n(n, requests, seed, workdir, fabric='mixed'):
    """The overhead of one request among *n* hosts (part 1)."""
    rng = random.Random(seed)
    doc, path, times = _topology_times(n, seed, fabric, workdir)
    scale_nova.setup(path)
    names = list(doc['hosts'])
    runner = scale_nova.Runner(scale_nova.make_hosts(names))
    # Topology load through the store, as the scheduler does it.
    t0 = time.perf_counter()
    qslm_request.ENGINES.get(scale_nova.CONF).topology_source()
    times['topology_load_s'] = time.perf_counter() - t0
    # The instance requires trusted hosts, so it runs on one.
    trusted = [h for h in names if doc['hosts'][h]['trusted']]
    sources = rng.sample(trusted, min(len(trusted), requests + 1))
    runner.qslm(runner.new_request(sources[-1]))   # warm-up
    ms, passed_counts = _time_requests(runner, sources, requests)
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
        'topology_file_mb': os.path.getsize(path) / 1e6,
        'passed_median': statistics.median(passed_counts),
        'request_peak_alloc_mb': req_peak / 1e6,
        'max_rss_mb': resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        'loadavg_after': os.getloadavg(),
    }
    res.update(times)
    res.update({kind: scale_nova.summary(v) for kind, v in ms.items()})
    for kind in ('qslm_cold', 'qslm_warm'):
        for ref in ('compute_capabilities', 'image_properties'):
            res['ratio_%s_%s' % (kind[5:], ref)] = (
                res[kind]['median_ms'] / res[ref]['median_ms'])
    return res


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
            reload_res = scale_reload.bench_reload(
                args.reload_hosts, args.reload_threads,
                args.reload_seconds, args.reloads, args.seed, workdir,
                args.reload_format)
    text = format_scale(results, machine)
    if reload_res:
        text += '\n\n' + scale_reload.format_reload(reload_res)
    print(text)
    bench.write_results(args.output, 'scale', text,
                        {'machine': machine, 'scale': results,
                         'reload': reload_res})
    return results, reload_res


if __name__ == '__main__':
    main()
