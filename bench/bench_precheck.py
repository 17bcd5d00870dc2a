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

"""Overhead of the nova-api pre-check on requests it does not act on.

Run with ``python -m bench.bench_precheck`` (``--help`` for options).

Two parts, each comparing the same requests with and without the
``qslm_precheck`` filter in one run, the two variants interleaved request
by request (alternating which goes first) so that drift hits both alike:

* ``stub``: the filter around a WSGI application that only reads the body
  and answers 200: the pure cost of the filter, the worst case for the
  ratio since the application does nearly nothing.
* ``nova``: Nova's real v2.1 paste pipeline, loaded twice in one
  in-process Nova (functional fixtures: database, conductor, fake
  computes), once from Nova's api-paste.ini and once with the filter
  inserted after ``keystonecontext``; requests are WSGI calls into the
  loaded pipelines (no HTTP client in between).

For each request kind it prints the median latency without and with the
filter, their ratio and the median difference.
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
import unittest

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', 'true')

from nova import monkey_patch  # noqa: E402
monkey_patch.patch()

import webob  # noqa: E402

from qslm_nova.api import precheck  # noqa: E402

UUID = '6f1c2b8e-8f8a-4f59-9a55-0f4d3cf0e0a1'


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


def run_stub(rounds, batch):
    """Median seconds per request, per kind, without and with the filter.
    """
    plain = _stub_app
    wrapped = precheck.filter_factory({})(_stub_app)
    results = []
    for label, method, path, body in STUB_REQUESTS:
        samples = {'without': [], 'with': []}
        for i in range(rounds):
            order = (('without', plain), ('with', wrapped))
            if i % 2:
                order = order[::-1]
            for name, app in order:
                samples[name].append(_time_stub(app, method, path, body,
                                                batch))
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
            with_app = self._load(self.paste_config_path)
            without_app = self._load(base.find_nova_api_paste())
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
            ]
            results = []
            for label, method, path, body, admin in kinds:
                samples = {'without': [], 'with': []}
                for app in (without_app, with_app):  # warm up
                    self._call(app, method, path, body, admin)
                for i in range(rounds):
                    order = (('without', without_app), ('with', with_app))
                    if i % 2:
                        order = order[::-1]
                    for name, app in order:
                        samples[name].append(self._call(
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
    without = statistics.median(samples['without'])
    with_ = statistics.median(samples['with'])
    diffs = [w - o for w, o in zip(samples['with'], samples['without'])]
    return {'request': label, 'samples': len(samples['with']),
            'without_us': without * 1e6, 'with_us': with_ * 1e6,
            'ratio': with_ / without if without else float('nan'),
            'median_diff_us': statistics.median(diffs) * 1e6}


def format_table(title, results):
    header = ('request', 'without us', 'with us', 'ratio', 'diff us')
    lines = [title, '%-46s %11s %11s %7s %10s' % header]
    for r in results:
        lines.append('%-46s %11.1f %11.1f %7.3f %10.1f' % (
            r['request'], r['without_us'], r['with_us'], r['ratio'],
            r['median_diff_us']))
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--stub-rounds', type=int, default=200)
    parser.add_argument('--stub-batch', type=int, default=200,
                        help='requests timed together per stub sample')
    parser.add_argument('--nova-rounds', type=int, default=200,
                        help='requests per kind and variant in Nova; 0 '
                             'skips the Nova part')
    parser.add_argument('--json', help='also write the results here')
    args = parser.parse_args(argv)
    out = {'python': sys.version.split()[0]}
    out['stub'] = run_stub(args.stub_rounds, args.stub_batch)
    title = ('qslm_precheck overhead, stub WSGI application (median of %d '
             'samples of %d requests each)' % (args.stub_rounds,
                                               args.stub_batch))
    print(format_table(title, out['stub']))
    if args.nova_rounds:
        out['nova'] = run_nova(args.nova_rounds)
        print()
        print(format_table(
            'qslm_precheck overhead, in-process Nova v2.1 pipeline (median '
            'of %d requests per kind and variant)' % args.nova_rounds,
            out['nova']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1, sort_keys=True)
    return out


if __name__ == '__main__':
    main()
