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

"""Overhead of the nova-api pre-check, this tree's against a baseline's.

Run with ``python -m bench.bench_precheck`` (``--help`` for options).

The baseline is the filter as committed at ``--baseline`` (default
``main``), read with ``git show`` and loaded beside this tree's, so both
run in one process on the same requests. Two parts, each timing the same
requests without the filter, with the baseline's and with this tree's,
the three variants interleaved request by request (the order rotating)
so that drift hits all alike:

* ``stub``: the filters around a WSGI application that only reads the
  body and answers 200: the pure cost of a filter, the worst case for
  the ratio since the application does nearly nothing.
* ``nova``: Nova's real v2.1 paste pipeline, loaded three times in one
  in-process Nova (functional fixtures: database, conductor, fake
  computes), from Nova's api-paste.ini and with either filter inserted
  after ``keystonecontext``; requests are WSGI calls into the loaded
  pipelines (no HTTP client in between).

For each request kind it prints the median latency without a filter,
with the baseline's and with this tree's, the ratio of this tree's to
the baseline's (the pre-check must not make a normal request more than
5 % slower) and the median added cost of each filter.
"""

import argparse
import importlib.util
import io
import json
import os
import statistics
import subprocess
import sys
import time
import unittest

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', 'true')

from nova import monkey_patch  # noqa: E402
monkey_patch.patch()

import webob  # noqa: E402

from qslm_nova.api import precheck  # noqa: E402

UUID = '6f1c2b8e-8f8a-4f59-9a55-0f4d3cf0e0a1'
#: The module name the baseline filter is loaded under (paste imports it).
BASELINE_MODULE = 'bench_precheck_baseline'
VARIANTS = ('without', 'baseline', 'new')


def load_baseline(ref):
    """The filter module as committed at git ``ref``, importable by name.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = subprocess.run(
        ['git', 'show', '%s:qslm_nova/api/precheck.py' % ref], cwd=root,
        check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader(BASELINE_MODULE, loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, '%s:precheck.py' % ref, 'exec'), module.__dict__)
    sys.modules[BASELINE_MODULE] = module
    return module


# -- part 1: the filter around a stub application ---------------------------

def _stub_app(environ, start_response):
    length = int(environ.get('CONTENT_LENGTH') or 0)
    if length:
        environ['wsgi.input'].read(length)
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [b'{}']


class _Context:
    is_admin = True
    roles = ['admin']


STUB_REQUESTS = [
    ('GET /servers/detail', 'GET', '/servers/detail', None),
    ('GET /servers/{id}', 'GET', '/servers/%s' % UUID, None),
    ('PUT /servers/{id} (rename)', 'PUT', '/servers/%s' % UUID,
     {'server': {'name': 'renamed'}}),
    ('POST /servers/{id}/action os-stop', 'POST',
     '/servers/%s/action' % UUID, {'os-stop': None}),
    ('POST /servers/{id}/metadata (admin)', 'POST',
     '/servers/%s/metadata' % UUID, {'metadata': {'a': 'b'}}),
]


def _environ(method, path, body):
    raw = json.dumps(body).encode() if body is not None else b''
    return {'REQUEST_METHOD': method, 'SCRIPT_NAME': '/v2.1',
            'PATH_INFO': path, 'CONTENT_LENGTH': str(len(raw)),
            'CONTENT_TYPE': 'application/json', 'wsgi.input': io.BytesIO(raw),
            'nova.context': _Context(), 'SERVER_NAME': 'localhost',
            'SERVER_PORT': '80', 'wsgi.url_scheme': 'http'}


def _start_response(status, headers, exc_info=None):
    return None


def _time_stub(app, method, path, body, batch):
    envs = [_environ(method, path, body) for _i in range(batch)]
    start = time.perf_counter()
    for env in envs:
        for _chunk in app(env, _start_response):
            pass
    return (time.perf_counter() - start) / batch


def _rounds(rounds, apps, time_one):
    """Samples per variant, the three interleaved in a rotating order."""
    samples = {name: [] for name in VARIANTS}
    order = list(zip(VARIANTS, apps))
    for i in range(rounds):
        turn = order[i % 3:] + order[:i % 3]
        for name, app in turn:
            samples[name].append(time_one(app))
    return samples


def run_stub(rounds, batch, baseline):
    """Median seconds per request, per kind and variant."""
    apps = (_stub_app, baseline.filter_factory({})(_stub_app),
            precheck.filter_factory({})(_stub_app))
    results = []
    for label, method, path, body in STUB_REQUESTS:
        samples = _rounds(rounds, apps, lambda app: _time_stub(
            app, method, path, body, batch))
        results.append(_summary(label, samples))
    return results


# -- part 2: Nova's pipeline, with and without the filter -------------------

NOVA_RESULTS = {}


def _nova_case(rounds):
    from nova.api import wsgi as nova_api_wsgi

    from tests.functional import base

    class PipelineBench(base.QSLMFunctionalTestBase):
        COMPUTE_HOSTS = ('compute-a1', 'compute-a2')
        PASTE_FILTERS = (('qslm_precheck',
                          'qslm_nova.api.precheck:filter_factory', {}),)

        def _load(self, path):
            self.flags(api_paste_config=path, group='wsgi')
            return nova_api_wsgi.Loader().load_app('osapi_compute')

        def _baseline_paste(self):
            with open(self.paste_config_path) as f:
                text = f.read()
            path = self.paste_config_path + '.baseline'
            with open(path, 'w') as f:
                f.write(text.replace('qslm_nova.api.precheck:filter_factory',
                                     BASELINE_MODULE + ':filter_factory'))
            return path

        def _call(self, app, method, path, body, admin):
            req = webob.Request.blank('/v2.1' + path, method=method)
            user = 'admin' if admin else 'fake'
            roles = 'reader,member,admin' if admin else 'reader,member'
            req.headers.update({
                'X-Auth-User': user, 'X-User-Id': user,
                'X-Auth-Project-Id': self.api_fixture.project_id,
                'X-Roles': roles,
                'X-OpenStack-Nova-API-Version': self.microversion,
                'OpenStack-API-Version': 'compute ' + self.microversion})
            if body is not None:
                req.body = json.dumps(body).encode()
                req.content_type = 'application/json'
            start = time.perf_counter()
            resp = req.get_response(app)
            elapsed = time.perf_counter() - start
            if resp.status_int >= 400:
                raise AssertionError('%s %s: %s %s' % (
                    method, path, resp.status, resp.text))
            return elapsed

        def test_overhead(self):
            apps = (self._load(base.find_nova_api_paste()),
                    self._load(self._baseline_paste()),
                    self._load(self.paste_config_path))
            sid = self.boot_server('compute-a1')['id']
            kinds = [
                ('GET /servers/detail', 'GET', '/servers/detail', None,
                 False),
                ('GET /servers/{id}', 'GET', '/servers/%s' % sid, None,
                 False),
                ('PUT /servers/{id} (rename)', 'PUT', '/servers/%s' % sid,
                 {'server': {'name': 'renamed'}}, False),
                ('POST /servers/{id}/action os-getConsoleOutput', 'POST',
                 '/servers/%s/action' % sid,
                 {'os-getConsoleOutput': {'length': 5}}, False),
                ('POST /servers/{id}/metadata (tenant)', 'POST',
                 '/servers/%s/metadata' % sid, {'metadata': {'a': 'b'}},
                 False),
                ('POST /servers/{id}/metadata (admin)', 'POST',
                 '/servers/%s/metadata' % sid, {'metadata': {'a': 'c'}},
                 True),
            ]
            results = []
            for label, method, path, body, admin in kinds:
                for app in apps:  # warm up
                    self._call(app, method, path, body, admin)
                samples = _rounds(rounds, apps, lambda app: self._call(
                    app, method, path, body, admin))
                results.append(_summary(label, samples))
            NOVA_RESULTS['results'] = results

    return PipelineBench('test_overhead')


def run_nova(rounds):
    NOVA_RESULTS.clear()
    result = unittest.TextTestRunner(stream=io.StringIO(),
                                     verbosity=0).run(_nova_case(rounds))
    if not result.wasSuccessful():
        problems = result.errors + result.failures
        raise RuntimeError('in-process Nova run failed:\n%s' % (
            problems[0][1] if problems else 'unknown'))
    return NOVA_RESULTS['results']


# -- report ------------------------------------------------------------------

def _summary(label, samples):
    median = {name: statistics.median(samples[name]) for name in VARIANTS}

    def added(name):
        return statistics.median(
            [w - o for w, o in zip(samples[name], samples['without'])])
    return {'request': label, 'samples': len(samples['new']),
            'without_us': median['without'] * 1e6,
            'baseline_us': median['baseline'] * 1e6,
            'new_us': median['new'] * 1e6,
            'new_vs_baseline': (median['new'] / median['baseline']
                                if median['baseline'] else float('nan')),
            'baseline_added_us': added('baseline') * 1e6,
            'new_added_us': added('new') * 1e6}


def format_table(title, results):
    header = ('request', 'without', 'baseline', 'new', 'new/base',
              '+base', '+new')
    lines = [title + ' (microseconds)',
             '%-46s %9s %9s %9s %8s %8s %8s' % header]
    for r in results:
        lines.append('%-46s %9.1f %9.1f %9.1f %8.3f %8.1f %8.1f' % (
            r['request'], r['without_us'], r['baseline_us'], r['new_us'],
            r['new_vs_baseline'], r['baseline_added_us'],
            r['new_added_us']))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--baseline', default='main',
                        help='git revision whose filter is the baseline')
    parser.add_argument('--stub-rounds', type=int, default=200)
    parser.add_argument('--stub-batch', type=int, default=200,
                        help='requests timed together per stub sample')
    parser.add_argument('--nova-rounds', type=int, default=200,
                        help='requests per kind and variant in Nova; 0 '
                             'skips the Nova part')
    parser.add_argument('--json', help='also write the results here')
    args = parser.parse_args(argv)
    baseline = load_baseline(args.baseline)
    out = {'python': sys.version.split()[0], 'baseline': args.baseline}
    out['stub'] = run_stub(args.stub_rounds, args.stub_batch, baseline)
    title = ('qslm_precheck overhead, stub WSGI application, baseline %s '
             '(median of %d samples of %d requests each)' % (
                 args.baseline, args.stub_rounds, args.stub_batch))
    print(format_table(title, out['stub']))
    if args.nova_rounds:
        out['nova'] = run_nova(args.nova_rounds)
        print()
        print(format_table(
            'qslm_precheck overhead, in-process Nova v2.1 pipeline, '
            'baseline %s (median of %d requests per kind and variant)'
            % (args.baseline, args.nova_rounds), out['nova']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1, sort_keys=True)
    return out


if __name__ == '__main__':
    main()
