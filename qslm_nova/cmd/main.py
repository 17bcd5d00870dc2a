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

"""The ``qslm-nova`` command.

Offline (the default) it evaluates a cloud file, the embedded sample cloud
unless ``--cloud FILE`` names another. With ``--os-cloud NAME``, ``--live``
or ``OS_*`` variables it reads a live Nova through python-novaclient and
takes the topology from ``--topology FILE`` or ``[qslm] topology_file``.
Exit status: 0 success/allowed, 1 denied, 2 error.
"""

import argparse
import datetime
import logging
import math
import os
import sys
import textwrap
import time

from oslo_config import cfg

from qslm_nova import cloud as cloud_mod
from qslm_nova import cloudfile
from qslm_nova.cmd import output
from qslm_nova import conf as qslm_conf
from qslm_nova import decision
from qslm_nova import exception
from qslm_nova import policy as policy_mod
from qslm_nova import topology as topology_mod

EXIT_ALLOWED, EXIT_DENIED, EXIT_ERROR = 0, 1, 2

PLAN_COLUMNS = ('Server', 'Host', 'Allowed', 'Mechanism', 'Path',
                'Weakest link', 'Bottleneck Gbit/s', 'Downtime ms exp/worst',
                'Total s', 'Budget left ms', 'Reasons')
LEDGER_COLUMNS = ('Server', 'Used ms', 'Period start', 'Period end',
                  'Period days', 'Budget ms', 'Remaining ms', 'Problems')
MIGRATE_COLUMNS = ('Server', 'Source', 'Destination', 'Status', 'Host now',
                   'Seconds', 'Mechanism', 'Downtime ms exp/worst')


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


def make_engine(conf, topo):
    return decision.engine_from_conf(conf, lambda: topo)


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


# -- where the servers come from --------------------------------------------

class OfflineCloud:
    """A cloud file seen through the same interface as cloud.LiveCloud."""

    live = False

    def __init__(self, cloud):
        self.cloud = cloud
        self.topology = cloud.topology
        self.clock = cloud.clock

    def server(self, ref):
        server = self.cloud.servers.get(ref)
        if server is None:
            for s in self.cloud.servers.values():
                if s.uuid == ref:
                    return s
            raise exception.QSLMError('unknown server %r (known: %s)' % (
                ref, ', '.join(sorted(self.cloud.servers))))
        return server

    def server_names(self):
        return sorted(self.cloud.servers)

    def compute_hosts(self):
        return sorted(self.topology.hosts)

    def candidates(self, server):
        return [h for h in self.compute_hosts() if h != server.host]

    def host_info(self):
        return None


def _is_live(args):
    live = cloud_mod.wants_live(getattr(args, 'os_cloud', None),
                                getattr(args, 'live', False))
    if getattr(args, 'cloud', None):
        if getattr(args, 'os_cloud', None) or getattr(args, 'live', False):
            raise exception.QSLMError('--cloud FILE (offline) cannot be '
                                      'combined with --os-cloud or --live')
        return False
    return live


def open_source(args, conf):
    """OfflineCloud or cloud.LiveCloud, as the arguments ask."""
    if not _is_live(args):
        if getattr(args, 'topology', None) and getattr(
                args, 'topology_offline_error', True):
            raise exception.QSLMError(
                '--topology is for live mode (--os-cloud, --live or OS_* '
                'variables); offline, the cloud file holds the topology')
        return OfflineCloud(cloudfile.load(args.cloud or
                                           cloudfile.sample_path()))
    sess, region, interface = cloud_mod.make_session(args.os_cloud)
    topo = _live_topology(args, conf)
    nova = cloud_mod.nova_client(sess, region, interface)
    src = cloud_mod.LiveCloud(nova, topo, sess, region, interface)
    # Shown by main() once the command succeeded.
    args.warnings = src.warnings
    return src


def _live_topology(args, conf):
    # A cloud file also serves as a topology file (its extra sections are
    # ignored), so the sample cloud can describe a test cloud.
    return topology_mod.load(args.topology or conf.qslm.topology_file,
                             extra_keys=cloudfile.EXTRA_KEYS)


def _now(src):
    return src.clock or datetime.datetime.now(datetime.timezone.utc)


def decide(src, engine, server, hosts=None):
    """Decisions for server over hosts (default: every candidate)."""
    cands = src.candidates(server) if hosts is None else list(hosts)
    decisions = engine.decide(request_for(server, _now(src)), cands,
                              src.host_info())
    if src.live:
        up = set(src.compute_hosts())
        for d in decisions:
            if d.host not in up and d.host != server.host:
                d.deny('host %s is not an enabled, up nova-compute service'
                       % d.host)
                d.score = -1.0
    return decisions


def best_allowed(decisions):
    allowed = [d for d in decisions if d.allowed]
    if not allowed:
        return None
    return max(allowed, key=lambda d: (d.score, -(d.worst_downtime_ms or 0)))


# -- plan / check ------------------------------------------------------------

def cmd_plan(args, conf):
    src = open_source(args, conf)
    engine = make_engine(conf, src.topology)
    refs = args.servers or src.server_names()
    rows, records = [], []
    for ref in refs:
        server = src.server(ref)
        r, rec = plan_rows(server.name, decide(src, engine, server))
        rows.extend(r)
        records.extend(rec)
    output.emit(args.format, PLAN_COLUMNS, rows, records, sys.stdout)
    return EXIT_ALLOWED


def cmd_check(args, conf):
    src = open_source(args, conf)
    engine = make_engine(conf, src.topology)
    server = src.server(args.server)
    d = decide(src, engine, server, [args.host])[0]
    rows, records = plan_rows(server.name, [d])
    output.emit(args.format, PLAN_COLUMNS, rows, records, sys.stdout)
    return EXIT_ALLOWED if d.allowed else EXIT_DENIED


# -- migrate -----------------------------------------------------------------

def _progress_line(elapsed, status, task, host, progress):
    text = '[%6.1fs] %s' % (elapsed, status)
    if task:
        text += '/%s' % task
    text += ' on %s' % (host or '?')
    if progress:
        done, total = progress
        text += ': memory %.0f/%.0f MiB (%.0f%%)' % (
            done / 2.0 ** 20, total / 2.0 ** 20,
            100.0 * done / total if total else 0.0)
    return text


def wait_for_migration(src, server_id, after_id, timeout, interval,
                       stream=None):
    """Poll the server and its migration; show progress; return record.

    :returns: (migration or None, (status, task_state, host), seconds).
    """
    stream = stream or sys.stderr
    tty = hasattr(stream, 'isatty') and stream.isatty()
    start = time.monotonic()
    last = None
    mig = None
    while True:
        elapsed = time.monotonic() - start
        state = src.server_status(server_id)
        progress = src.migration_progress(server_id) if state[1] else None
        line = _progress_line(elapsed, state[0], state[1], state[2],
                              progress)
        key = line.split('] ', 1)[1]
        if tty:
            stream.write('\r' + line.ljust(78))
        elif key != last:
            stream.write(line + '\n')
        stream.flush()
        last = key
        migs = [m for m in src.migrations(server_id) if m.id > after_id]
        mig = migs[-1] if migs else None
        if (mig is not None and mig.status in cloud_mod.MIGRATION_FINAL
                and not state[1]):
            break
        if elapsed > timeout:
            if tty:
                stream.write('\n')
            raise exception.QSLMError(
                'timed out after %.0f s waiting for the live migration of '
                '%s (last state %s/%s on %s, migration %s)' % (
                    timeout, server_id, state[0], state[1], state[2],
                    mig.status if mig else 'not yet recorded'))
        time.sleep(interval)
    if tty:
        stream.write('\n')
    return mig, state, time.monotonic() - start


def cmd_migrate(args, conf):
    src = open_source(args, conf)
    if not src.live and not args.dry_run:
        raise exception.QSLMError(
            'migrate needs a live cloud (--os-cloud, --live or OS_* '
            'variables); use --dry-run to only decide')
    engine = make_engine(conf, src.topology)
    server = src.server(args.server)
    decisions = decide(src, engine, server,
                       [args.host] if args.host else None)
    chosen = (decisions[0] if args.host else best_allowed(decisions))
    if args.format == 'table':
        rows, _rec = plan_rows(server.name, decisions)
        sys.stdout.write(output.table(PLAN_COLUMNS, rows) + '\n')
    if chosen is None or not chosen.allowed:
        msg = ('refused: %s may not live-migrate to %s' % (
            server.name, args.host) if args.host else
            'refused: no allowed destination for %s' % server.name)
        _report(args, msg, decisions, None)
        return EXIT_DENIED
    down = '%s / %s' % (_fmt_ms(chosen.expected_downtime_ms),
                        _fmt_ms(chosen.worst_downtime_ms))
    if args.dry_run:
        _report(args, 'dry run: would live-migrate %s from %s to %s via %s '
                '(downtime %s ms)' % (server.name, server.host, chosen.host,
                                      chosen.mechanism, down),
                decisions, chosen)
        return EXIT_ALLOWED
    before = src.migrations(server.uuid)
    after_id = before[-1].id if before else 0
    print('live-migrating %s from %s to %s (expected mechanism %s)' % (
        server.name, server.host, chosen.host, chosen.mechanism),
        file=sys.stderr)
    src.live_migrate(server.uuid, chosen.host)
    mig, state, secs = wait_for_migration(
        src, server.uuid, after_id, args.timeout, args.poll_interval)
    status = mig.status if mig is not None else 'unknown'
    ok = status == 'completed' and state[2] == chosen.host
    row = (server.name, server.host, chosen.host, status, state[2],
           '%.1f' % secs, chosen.mechanism, down)
    record = dict(zip(('server', 'source', 'destination', 'status',
                       'host_now', 'seconds', 'mechanism', 'downtime_ms'),
                      row), succeeded=ok)
    output.emit(args.format, MIGRATE_COLUMNS, [row], [record], sys.stdout)
    if not ok:
        print('error: live migration of %s ended %s; the server is on %s'
              % (server.name, status, state[2]), file=sys.stderr)
        return EXIT_ERROR
    return EXIT_ALLOWED


def _report(args, message, decisions, chosen):
    if args.format == 'table':
        print(message)
        return
    rows, records = plan_rows(args.server, decisions)
    doc = {'message': message, 'decisions': records,
           'chosen': chosen.host if chosen else None}
    output.emit(args.format, PLAN_COLUMNS, rows, doc, sys.stdout)


# -- ledger ------------------------------------------------------------------

def _ledger_view(conf, topo, server):
    pol = policy_mod.effective_policy(
        policy_mod.Defaults.from_conf(conf.qslm), topo.levels,
        topo.mechanisms, server.flavor.extra_specs, server.image_properties,
        server.metadata)
    ledger = policy_mod.parse_ledger(server.metadata)
    return pol, ledger


def _ledger_row(server, pol, ledger, today):
    end = None
    start = ledger.period_start
    if start is not None:
        end = start + datetime.timedelta(days=pol.budget_period_days)
        if today >= end:
            start, end = None, None
    remaining = ledger.remaining_ms(pol.downtime_budget_ms,
                                    pol.budget_period_days, today)
    used = ledger.used_ms if start is not None else 0
    problems = ledger.errors + pol.errors
    row = (server.name, used, start.isoformat() if start else '-',
           end.isoformat() if end else '-', pol.budget_period_days,
           '-' if pol.downtime_budget_ms is None else pol.downtime_budget_ms,
           '-' if remaining is None else remaining,
           '\n'.join(textwrap.fill(p, 60) for p in problems) or '-')
    record = dict(zip(('server', 'used_ms', 'period_start', 'period_end',
                       'period_days', 'budget_ms', 'remaining_ms'),
                      (server.name, used, row[2] if start else None,
                       row[3] if end else None, pol.budget_period_days,
                       pol.downtime_budget_ms, remaining)),
                  problems=problems, uuid=server.uuid)
    return row, record


def cmd_ledger_show(args, conf):
    src = open_source(args, conf)
    server = src.server(args.server)
    today = _now(src).date()
    pol, ledger = _ledger_view(conf, src.topology, server)
    row, record = _ledger_row(server, pol, ledger, today)
    output.emit(args.format, LEDGER_COLUMNS, [row], [record], sys.stdout)
    return EXIT_ALLOWED


def cmd_ledger_record(args, conf):
    if args.downtime_ms < 0:
        raise exception.QSLMError('--downtime-ms must be >= 0, got %d'
                                  % args.downtime_ms)
    src = open_source(args, conf)
    if not src.live:
        raise exception.QSLMError(
            'ledger record needs a live cloud (--os-cloud, --live or OS_* '
            'variables): the ledger lives in the instance metadata')
    server = src.server(args.server)
    today = _now(src).date()
    pol, ledger = _ledger_view(conf, src.topology, server)
    if ledger.errors:
        raise exception.QSLMError(
            'the ledger of %s is malformed (%s); fix or delete the keys '
            'first' % (server.name, '; '.join(ledger.errors)))
    update = ledger.record(args.downtime_ms, pol.budget_period_days, today)
    src.set_metadata(server.uuid, update)
    server.metadata.update(update)
    pol, ledger = _ledger_view(conf, src.topology, server)
    row, record = _ledger_row(server, pol, ledger, today)
    output.emit(args.format, LEDGER_COLUMNS, [row], [record], sys.stdout)
    return EXIT_ALLOWED


# -- topology ----------------------------------------------------------------

def cmd_topology_validate(args, conf):
    topo = topology_mod.load(args.file)
    print('%s: valid: %d hosts, %d other nodes, %d links' % (
        args.file, len(topo.hosts),
        topo.graph.number_of_nodes() - len(topo.hosts),
        topo.graph.number_of_edges()))
    return EXIT_ALLOWED


def cmd_topology_seal(args, conf):
    topo, written = topology_mod.seal_file(args.file, args.output)
    print('%s: %s: %d hosts, %d links' % (
        args.output or args.file, 'sealed' if written else 'already sealed',
        len(topo.hosts), topo.graph.number_of_edges()))
    return EXIT_ALLOWED


def _topology_for(args, conf):
    if _is_live(args):
        return _live_topology(args, conf)
    if args.topology:
        return topology_mod.load(args.topology,
                                 extra_keys=cloudfile.EXTRA_KEYS)
    return cloudfile.load(args.cloud or cloudfile.sample_path()).topology


def topology_tables(topo):
    hosts = []
    for name in sorted(topo.hosts):
        h = topo.hosts[name]
        hosts.append({'name': name, 'site': h.site, 'trusted': h.trusted,
                      'attested_at': h.attested_at.isoformat()
                      if h.attested_at else None,
                      'mechanisms': sorted(h.mechanisms),
                      'cpu_load': h.cpu_load})
    nodes = [{'name': n, 'kind': a.get('kind'), 'site': a.get('site')}
             for n, a in sorted(topo.graph.nodes(data=True))
             if n not in topo.hosts]
    links = []
    for u, v, a in sorted(topo.graph.edges(data=True),
                          key=lambda e: e[2]['index']):
        links.append({'index': a['index'], 'between': [u, v],
                      'bandwidth_gbps': a['bandwidth_gbps'],
                      'available_gbps': round(a['avail_gbps'], 6),
                      'latency_ms': a['latency_ms'],
                      'security': topo.level_name(a['level']),
                      'mechanisms': sorted(a['mechanisms'])})
    return {'hosts': hosts, 'nodes': nodes, 'links': links}


def cmd_topology_show(args, conf):
    topo = _topology_for(args, conf)
    doc = topology_tables(topo)
    if args.format != 'table':
        output.emit(args.format, (), [], doc, sys.stdout)
        return EXIT_ALLOWED

    def yn(v):
        return '-' if v is None else ('yes' if v else 'no')
    out = sys.stdout
    out.write('Hosts\n' + output.table(
        ('Host', 'Site', 'Trusted', 'Attested at', 'Mechanisms',
         'CPU load'),
        [(h['name'], h['site'] or '-', yn(h['trusted']),
          h['attested_at'] or '-', ', '.join(h['mechanisms']),
          '-' if h['cpu_load'] is None else '%.2f' % h['cpu_load'])
         for h in doc['hosts']]) + '\n')
    out.write('Nodes\n' + output.table(
        ('Node', 'Kind', 'Site'),
        [(n['name'], n['kind'] or '-', n['site'] or '-')
         for n in doc['nodes']]) + '\n')
    out.write('Links\n' + output.table(
        ('#', 'Between', 'Gbit/s', 'Available', 'Latency ms', 'Security',
         'Link mechanisms'),
        [(lk['index'], ' - '.join(lk['between']),
          '%g' % lk['bandwidth_gbps'], '%.3g' % lk['available_gbps'],
          '%g' % lk['latency_ms'], lk['security'],
          ', '.join(lk['mechanisms']) or '-')
         for lk in doc['links']]) + '\n')
    return EXIT_ALLOWED


def _parse_size(text):
    try:
        w, h = (int(x) for x in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError('must be WIDTHxHEIGHT in pixels, '
                                         'e.g. 1200x800')
    if not (100 <= w <= 10000 and 100 <= h <= 10000):
        raise argparse.ArgumentTypeError('width and height must be within '
                                         '100..10000 pixels')
    return w, h


def cmd_topology_plot(args, conf):
    from qslm_nova import plot
    path = None
    title = note = None
    if args.server:
        args.topology_offline_error = False
        src = open_source(args, conf)
        if args.topology and not src.live:
            raise exception.QSLMError('--server with --topology needs live '
                                      'mode; offline use --cloud FILE')
        topo = src.topology
        server = src.server(args.server)
        engine = make_engine(conf, topo)
        decisions = decide(src, engine, server,
                           [args.host] if args.host else None)
        chosen = decisions[0] if args.host else best_allowed(decisions)
        if chosen is not None and chosen.path:
            path = list(chosen.path)
            title = '%s: %s -> %s via %s' % (
                server.name, server.host, chosen.host,
                chosen.mechanism or '-')
            note = ('%s; downtime %s / %s ms (expected / worst)' % (
                'allowed' if chosen.allowed else
                'DENIED: ' + '; '.join(chosen.reasons)[:120],
                _fmt_ms(chosen.expected_downtime_ms),
                _fmt_ms(chosen.worst_downtime_ms)))
        else:
            title = '%s on %s' % (server.name, server.host)
            note = ('no allowed destination' if chosen is None
                    else 'no path: ' + '; '.join(chosen.reasons)[:120])
    else:
        topo = _topology_for(args, conf)
    width, height = args.size
    fmt = plot.render(topo, args.out, path=path, title=title,
                      width=width, height=height, note=note)
    print('wrote %s (%s, %dx%d)' % (args.out, fmt, width, height))
    return EXIT_ALLOWED


# -- parser ------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(
        prog='qslm-nova',
        description='Explain, check and perform QoS-aware secure live '
                    'migrations. Offline (default) it evaluates the '
                    'embedded sample cloud or --cloud FILE; with '
                    '--os-cloud, --live or OS_* variables a live Nova.',
        epilog='Exit status: 0 success or allowed, 1 denied, 2 error.')
    parser.add_argument('--config-file', action='append', default=[],
                        help='oslo.config file with a [qslm] section '
                             '(repeatable).')
    parser.add_argument('--debug', action='store_true',
                        help='show a traceback on unexpected errors')
    sub = parser.add_subparsers(dest='command', required=True,
                                metavar='COMMAND')

    def fmt(p):
        p.add_argument('-f', '--format', choices=('table', 'json', 'yaml'),
                       default='table', help='output format')

    def common(p, formats=True):
        g = p.add_argument_group('cloud selection')
        g.add_argument('--cloud', metavar='FILE',
                       help='offline cloud file (topology + flavors + '
                            'servers); default: the embedded sample cloud')
        g.add_argument('--os-cloud', metavar='NAME',
                       default=os.environ.get('OS_CLOUD'),
                       help='live mode: cloud in clouds.yaml '
                            '(default: $OS_CLOUD)')
        g.add_argument('--live', action='store_true',
                       help='live mode with credentials from OS_* '
                            'variables')
        g.add_argument('--topology', metavar='FILE',
                       help='live mode: topology file (default: [qslm] '
                            'topology_file)')
        if formats:
            fmt(p)

    p = sub.add_parser('plan', help='every candidate host of each server, '
                                    'allowed or denied, and why')
    p.add_argument('servers', nargs='*', metavar='SERVER',
                   help='server names or IDs (default: all; live: every '
                        'ACTIVE server)')
    common(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser('check', help='one decision; exit 0 allowed, '
                                     '1 denied, 2 error')
    p.add_argument('server', metavar='SERVER')
    p.add_argument('--host', required=True, help='destination host')
    common(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        'migrate', help='decide, then live-migrate only if allowed',
        description='Decide; if allowed, ask Nova to live-migrate the '
                    'server to the chosen host (never forced: the '
                    'scheduler still checks it) and wait, showing '
                    'progress. Exit 0 migrated (or allowed with '
                    '--dry-run), 1 denied, 2 error or failed migration.')
    p.add_argument('server', metavar='SERVER')
    p.add_argument('--host', help='destination host (default: the allowed '
                                  'host with the best score)')
    p.add_argument('--dry-run', action='store_true',
                   help='only decide and tell what would be done')
    p.add_argument('--timeout', type=float, default=600.0,
                   help='seconds to wait for the migration (default 600)')
    p.add_argument('--poll-interval', type=float, default=2.0,
                   help='seconds between progress polls (default 2)')
    common(p)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser('ledger', help='downtime ledger in instance '
                                      'metadata')
    lsub = p.add_subparsers(dest='ledger_command', required=True,
                            metavar='COMMAND')
    s = lsub.add_parser('show', help='downtime used and left in the '
                                     'current budget period')
    s.add_argument('server', metavar='SERVER')
    common(s)
    s.set_defaults(func=cmd_ledger_show)
    s = lsub.add_parser(
        'record', help='(admin) add the downtime of one migration, '
                       'rolling the period over when it expired')
    s.add_argument('server', metavar='SERVER')
    s.add_argument('--downtime-ms', type=int, required=True,
                   help='measured downtime of the migration, ms')
    common(s)
    s.set_defaults(func=cmd_ledger_record)

    p = sub.add_parser('topology', help='topology file commands')
    tsub = p.add_subparsers(dest='topology_command', required=True,
                            metavar='COMMAND')
    v = tsub.add_parser('validate', help='validate a topology file, listing '
                                         'every error with its place')
    v.add_argument('file', metavar='FILE')
    v.set_defaults(func=cmd_topology_validate)
    v = tsub.add_parser(
        'seal', help='validate a topology file and end it with a seal line '
                     '(replacing an old one), written atomically, so that '
                     'a torn copy is never loaded ([qslm] topology_seal)')
    v.add_argument('file', metavar='FILE')
    v.add_argument('--output', metavar='OUT',
                   help='write the sealed file here (default: FILE, in '
                        'place)')
    v.set_defaults(func=cmd_topology_seal)
    s = tsub.add_parser('show', help='hosts, nodes and links as tables')
    common(s)
    s.set_defaults(func=cmd_topology_show)
    s = tsub.add_parser(
        'plot', help='draw the topology (PNG or SVG), optionally with the '
                     'chosen path of a server')
    s.add_argument('--out', required=True, metavar='FILE',
                   help='output file, .png or .svg')
    s.add_argument('--server', metavar='SERVER',
                   help='highlight the path to the best allowed host')
    s.add_argument('--host', help='with --server: highlight the path to '
                                  'this host instead')
    s.add_argument('--size', type=_parse_size, default=(1200, 800),
                   metavar='WxH', help='image size in pixels (default '
                                       '1200x800)')
    common(s, formats=False)
    s.set_defaults(func=cmd_topology_plot)

    # Handled in main() by the testbed's own parser; listed for --help.
    sub.add_parser('calibrate', add_help=False,
                   help='measure cipher throughput per core on this host '
                        '(crypto_gbps_per_core for the topology file); '
                        'see calibrate --help')
    return parser


def _calibrate(argv):
    from qslm_nova.testbed import cli as testbed_cli
    return testbed_cli.calibrate_main(argv)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == 'calibrate':
        return _calibrate(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG)
    else:
        # Library warnings (version discovery...) would repeat the error
        # we print; keep stderr to one line.
        for name in ('keystoneauth', 'keystoneauth1', 'novaclient',
                     'stevedore'):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        conf = load_conf(args.config_file)
        with cloud_mod.translate_errors():
            rc = args.func(args, conf)
        for text in getattr(args, 'warnings', ()):
            print('warning: %s' % text, file=sys.stderr)
        return rc
    except exception.TopologyError as e:
        for line in e.errors:
            print('error: %s' % line, file=sys.stderr)
        return EXIT_ERROR
    except (exception.QSLMError, cfg.Error) as e:
        print('error: %s' % ' '.join(str(e).split()), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print('error: interrupted', file=sys.stderr)
        return EXIT_ERROR
    except Exception as e:
        if args.debug:
            raise
        print('error: unexpected %s: %s (run with --debug for a traceback)'
              % (type(e).__name__, ' '.join(str(e).split())),
              file=sys.stderr)
        return EXIT_ERROR


if __name__ == '__main__':
    sys.exit(main())
