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

"""Part 2 of the scale benchmark: the topology replaced under load.

Requests run on several native threads while the topology file is
replaced again and again (:func:`bench_reload`); every request must see
exactly the result of one of the two versions (:func:`_expected`), none
may fail, and every replacement must be loaded.
"""

import math
import os
import random
import statistics
import threading
import time

from bench import scale_nova
from bench import topogen
from qslm_nova import decision
from qslm_nova.scheduler import request as qslm_request
from qslm_nova import topology as topology_mod


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
    eng = decision.engine_from_conf(scale_nova.CONF)
    eng = decision.Engine(eng.settings, lambda: topo, eng.trust)
    flavor = scale_nova.make_flavor()
    out = {}
    for src in sources:
        req = decision.MigrationRequest(
            instance_uuid='x', source_host=src, memory_mb=flavor.memory_mb,
            flavor_extra_specs=dict(flavor.extra_specs))
        out[src] = frozenset(d.host for d in eng.decide(req, hosts_names)
                             if d.allowed)
    return out


class _Requests:
    """Native threads that send requests until stopped, each checked
    against the allowed hosts of both topology versions.
    """

    def __init__(self, hosts, sources, expected, threads):
        self.hosts = hosts
        self.sources = sources
        self.expected = expected
        self.stats = {'requests': 0, 'failed': 0, 'inconsistent': 0,
                      'a': 0, 'b': 0, 'lat': [], 'lat_base': [],
                      'errors': []}
        #: Where latencies go: first a phase without file changes (the
        #: baseline of the same threads), then the one with reloads.
        self.phase = 'lat_base'
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._work, args=(k,))
                         for k in range(threads)]

    def start(self):
        for w in self._workers:
            w.start()

    def stop(self):
        self._stop.set()
        for w in self._workers:
            w.join()

    def _work(self, k):
        runner = scale_nova.Runner(self.hosts)
        i = k
        stats = self.stats
        while not self._stop.is_set():
            src = self.sources[i % len(self.sources)]
            i += 1
            t0 = time.perf_counter()
            try:
                _f, _w, passed, _best = runner.qslm(runner.new_request(src))
            except Exception as e:  # a failed request is what we count
                with self._lock:
                    stats['failed'] += 1
                    stats['errors'].append(repr(e))
                continue
            lat = (time.perf_counter() - t0) * 1e3
            got = frozenset(h.host for h in passed)
            with self._lock:
                stats['requests'] += 1
                stats[self.phase].append(lat)
                if got == self.expected['a'][src]:
                    stats['a'] += 1
                elif got == self.expected['b'][src]:
                    stats['b'] += 1
                else:
                    stats['inconsistent'] += 1


def _replace(path, docs, reloads, duration_s, store, base_reloads):
    """Replace the file *reloads* times over *duration_s*, then wait
    until the store has loaded every replacement (at most 60 s more);
    (seconds per write, seconds the requests ran).
    """
    write_cost = []
    interval = duration_s / float(reloads + 1)
    t_end = time.perf_counter() + duration_s
    for r in range(reloads):
        time.sleep(interval)
        t0 = time.perf_counter()
        scale_nova.write_topology(docs[(r + 1) % 2], path)
        write_cost.append(time.perf_counter() - t0)
    time.sleep(max(0.0, t_end - time.perf_counter()))
    # Writing a large YAML file takes a while, so the last replacement
    # may land near the end: let the requests run on until it is loaded,
    # so that every replacement is seen.
    late = time.perf_counter() + 60.0
    while (store.reloads - base_reloads < reloads and
           time.perf_counter() < late):
        time.sleep(0.1)
    return write_cost, duration_s + max(0.0, time.perf_counter() - t_end)


def _reload_cost(store, path, docs):
    """Seconds of three reloads with no other thread running: from the
    get() that notices the new file until its background reload is done.
    """
    load = []
    for r in range(3):
        scale_nova.write_topology(docs[r % 2], path)
        t0 = time.perf_counter()
        store.get()
        store.wait_for_reload()
        load.append(time.perf_counter() - t0)
    return load


def bench_reload(n, threads, duration_s, reloads, seed, workdir,
                 fmt='yaml'):
    """Requests on *threads* threads for *duration_s* while the topology
    file of *n* hosts is replaced *reloads* times (part 2).
    """
    docs = [topogen.generate(n, fabric='mixed', seed=seed)]
    docs.append(_variant(docs[0], seed + 1))
    path = os.path.join(workdir, 'reload-%d.%s' % (n, fmt))
    scale_nova.write_topology(docs[0], path)
    scale_nova.setup(path)
    names = list(docs[0]['hosts'])
    rng = random.Random(seed)
    sources = rng.sample([h for h in names
                          if all(d['hosts'][h]['trusted'] for d in docs)],
                         8)
    expected = {'a': _expected(docs[0], sources, names),
                'b': _expected(docs[1], sources, names)}
    store = qslm_request.ENGINES.get(
        scale_nova.CONF).topology_source.__self__
    store.get()
    base_reloads = store.reloads
    requests = _Requests(scale_nova.make_hosts(names), sources, expected,
                         threads)
    requests.start()
    time.sleep(duration_s / 2.0)
    requests.phase = 'lat'
    write_cost, ran_s = _replace(path, docs, reloads, duration_s, store,
                                 base_reloads)
    requests.stop()
    seen_reloads = store.reloads - base_reloads
    load = _reload_cost(store, path, docs)
    stats = requests.stats
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
        'request_p95_ms': scale_nova.pct(lat, 95) if lat else None,
        'request_max_ms': max(lat) if lat else None,
        'baseline_requests': len(base),
        'baseline_median_ms': statistics.median(base) if base else None,
        'baseline_p95_ms': scale_nova.pct(base, 95) if base else None,
        'baseline_max_ms': max(base) if base else None,
        'reload_s_median': statistics.median(load),
        'reload_s_all': load,
        'loadavg_after': os.getloadavg(),
    })
    return stats


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
