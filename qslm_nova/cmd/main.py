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

"""The ``qslm-nova`` command."""

import argparse
import datetime
import math
import sys
import textwrap

from oslo_config import cfg

from qslm_nova import cloudfile
from qslm_nova.cmd import output
from qslm_nova import conf as qslm_conf
from qslm_nova import decision
from qslm_nova import exception
from qslm_nova import topology as topology_mod
from qslm_nova import trust as trust_mod

EXIT_ALLOWED, EXIT_DENIED, EXIT_ERROR = 0, 1, 2

PLAN_COLUMNS = ('Server', 'Host', 'Allowed', 'Mechanism', 'Path',
                'Weakest link', 'Bottleneck Gbit/s', 'Downtime ms exp/worst',
                'Total s', 'Budget left ms', 'Reasons')


def _fmt_ms(value):
    if value is None:
        return '-'
    if not math.isfinite(value):
        return 'inf'
    return '%.0f' % value


def load_conf(config_files):
    conf = cfg.ConfigOpts()
    qslm_conf.register_opts(conf)
    conf([], project='qslm-nova', default_config_files=config_files or [])
    return conf


def offline_engine(conf, cloud):
    providers = trust_mod.load_providers(conf, conf.qslm.trust_providers)
    evaluator = trust_mod.TrustEvaluator(
        providers, conf.qslm.trust_combination,
        conf.qslm.max_attestation_age)
    return decision.Engine(decision.Settings.from_conf(conf.qslm),
                           lambda: cloud.topology, evaluator)


def request_for(server, now):
    return decision.MigrationRequest(
        instance_uuid=server.uuid, source_host=server.host,
        memory_mb=server.flavor.ram_mb,
        flavor_extra_specs=server.flavor.extra_specs,
        image_props=server.image_properties, metadata=server.metadata,
        touched_mb=server.touched_mb, now=now)


def plan_rows(name, decisions):
    rows, records = [], []
    for d in decisions:
        down = '%s / %s' % (_fmt_ms(d.expected_downtime_ms),
                            _fmt_ms(d.worst_downtime_ms))
        rows.append((name, d.host, 'yes' if d.allowed else 'NO',
                     d.mechanism or '-',
                     ' > '.join(d.path) if d.path else '-',
                     d.weakest_link or '-',
                     '-' if d.bottleneck_gbps is None
                     else '%.2f' % d.bottleneck_gbps,
                     down if d.expected_downtime_ms is not None else '-',
                     '-' if d.total_time_s is None
                     else ('%.1f' % d.total_time_s
                           if math.isfinite(d.total_time_s) else 'inf'),
                     _fmt_ms(d.remaining_budget_ms),
                     '\n'.join(textwrap.fill(r, 60)
                               for r in d.reasons + d.notes) or '-'))
        rec = d.to_dict()
        rec['server'] = name
        records.append(rec)
    return rows, records


def _load_cloud(args):
    return cloudfile.load(args.cloud or cloudfile.sample_path())


def cmd_plan(args, conf):
    cloud = _load_cloud(args)
    engine = offline_engine(conf, cloud)
    names = args.servers or sorted(cloud.servers)
    now = cloud.clock or datetime.datetime.now(datetime.timezone.utc)
    rows, records = [], []
    for name in names:
        server = cloud.servers.get(name)
        if server is None:
            raise exception.QSLMError('unknown server %r (known: %s)' % (
                name, ', '.join(sorted(cloud.servers))))
        hosts = [h for h in sorted(cloud.topology.hosts) if h != server.host]
        r, rec = plan_rows(name, engine.decide(request_for(server, now),
                                               hosts))
        rows.extend(r)
        records.extend(rec)
    output.emit(args.format, PLAN_COLUMNS, rows, records, sys.stdout)
    return EXIT_ALLOWED


def cmd_check(args, conf):
    cloud = _load_cloud(args)
    engine = offline_engine(conf, cloud)
    server = cloud.servers.get(args.server)
    if server is None:
        raise exception.QSLMError('unknown server %r' % args.server)
    now = cloud.clock or datetime.datetime.now(datetime.timezone.utc)
    d = engine.decide(request_for(server, now), [args.host])[0]
    rows, records = plan_rows(args.server, [d])
    output.emit(args.format, PLAN_COLUMNS, rows, records, sys.stdout)
    return EXIT_ALLOWED if d.allowed else EXIT_DENIED


def cmd_topology_validate(args, conf):
    topo = topology_mod.load(args.file)
    print('%s: valid: %d hosts, %d other nodes, %d links' % (
        args.file, len(topo.hosts),
        topo.graph.number_of_nodes() - len(topo.hosts),
        topo.graph.number_of_edges()))
    return EXIT_ALLOWED


def build_parser():
    parser = argparse.ArgumentParser(
        prog='qslm-nova',
        description='Explain and check QoS-aware secure live-migration '
                    'decisions.')
    parser.add_argument('--config-file', action='append', default=[],
                        help='oslo.config file with a [qslm] section '
                             '(repeatable).')
    sub = parser.add_subparsers(dest='command', required=True)

    def common(p):
        p.add_argument('--cloud', metavar='FILE',
                       help='cloud file (topology + flavors + servers); '
                            'default: the embedded sample cloud')
        p.add_argument('-f', '--format', choices=('table', 'json', 'yaml'),
                       default='table', help='output format')

    p = sub.add_parser('plan', help='every candidate host of each server, '
                                    'allowed or denied, and why')
    p.add_argument('servers', nargs='*', metavar='SERVER')
    common(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser('check', help='one decision; exit 0 allowed, '
                                     '1 denied, 2 error')
    p.add_argument('server', metavar='SERVER')
    p.add_argument('--host', required=True)
    common(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser('topology', help='topology file commands')
    tsub = p.add_subparsers(dest='topology_command', required=True)
    v = tsub.add_parser('validate', help='validate a topology file, listing '
                                         'every error with its place')
    v.add_argument('file', metavar='FILE')
    v.set_defaults(func=cmd_topology_validate)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.config_file)
        return args.func(args, conf)
    except exception.TopologyError as e:
        for line in e.errors:
            print('error: %s' % line, file=sys.stderr)
        return EXIT_ERROR
    except (exception.QSLMError, cfg.Error) as e:
        print('error: %s' % e, file=sys.stderr)
        return EXIT_ERROR


if __name__ == '__main__':
    sys.exit(main())
