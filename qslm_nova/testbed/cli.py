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

"""Command-line entry points of the testbed: campaign, report, calibrate.

Each ``main(argv)`` returns a process exit code; wire them as console
scripts or as ``qslm-nova`` subcommands.
"""

import argparse
import json
import os
import signal
import sys
import threading

from qslm_nova.testbed import TestbedError


def _floats(text):
    return tuple(float(x) for x in text.split(',') if x)


def _ints(text):
    return tuple(int(x) for x in text.split(',') if x)


def campaign_main(argv=None):
    from qslm_nova.testbed import campaign
    from qslm_nova.testbed import runner

    g = campaign.Grid()
    p = argparse.ArgumentParser(
        prog='qslm-nova-testbed-campaign',
        description='Run a grid of real QEMU live migrations (TCG, '
                    'loopback) and append the measurements to a CSV.')
    p.add_argument('--memory', type=_ints, default=g.memory_mib,
                   help='guest memory sizes, MiB (%(default)s)')
    p.add_argument('--dirty', type=_floats, default=g.dirty_rate_mibps,
                   help='guest dirty rates, MiB/s (%(default)s)')
    p.add_argument('--bandwidth', type=_floats, default=g.bandwidth_mbps,
                   help='max-bandwidth caps, Mbit/s (%(default)s)')
    p.add_argument('--downtime', type=_ints, default=g.downtime_limit_ms,
                   help='downtime limits, ms (%(default)s)')
    p.add_argument('--transport', default=','.join(g.transport),
                   help='transports: tcp,tls,ssh (%(default)s)')
    p.add_argument('--repeats', type=int, default=g.repeats)
    p.add_argument('--link', choices=runner.LINK_MODES, default=g.link,
                   help='link emulation: tc (shaped loopback in a private '
                        'network namespace) or qemu-cap (QEMU '
                        'max-bandwidth only) (%(default)s)')
    p.add_argument('--small', action='store_true',
                   help='a few runs per transport only')
    p.add_argument('--out', default=campaign.DATA_DIR,
                   help='output directory (%(default)s)')
    p.add_argument('--csv', default='campaign.csv')
    p.add_argument('--fresh', action='store_true',
                   help='start a new CSV instead of resuming')
    p.add_argument('--limit', type=int, default=None,
                   help='run at most this many migrations')
    p.add_argument('--workdir', default=None,
                   help='keep QEMU working files here')
    args = p.parse_args(argv)
    if args.small:
        grid = campaign.SMALL_GRID
    else:
        grid = campaign.Grid(
            memory_mib=args.memory, dirty_rate_mibps=args.dirty,
            bandwidth_mbps=args.bandwidth,
            downtime_limit_ms=args.downtime,
            transport=tuple(t for t in args.transport.split(',') if t),
            repeats=args.repeats, link=args.link)

    def progress(i, n, row):
        print('[%d/%d] %s %s total=%sms downtime=%sms %s' % (
            i, n, row['run_id'], row['status'], row.get('total_time_ms'),
            row.get('downtime_ms'), row.get('error') or ''), flush=True)

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    # Let a terminated campaign stop its QEMUs and namespaces.
    signal.signal(signal.SIGTERM, stop)
    try:
        path, rows = campaign.run_campaign(
            grid, out_dir=args.out, csv_name=args.csv,
            workdir=args.workdir, resume=not args.fresh, limit=args.limit,
            progress=progress)
    except TestbedError as e:
        print('testbed error: %s' % e, file=sys.stderr)
        return 2
    bad = [r for r in rows if r['status'] != 'completed']
    print('%d migrations, %d not completed; data in %s'
          % (len(rows), len(bad), path))
    return 1 if bad and len(bad) == len(rows) else 0


def report_main(argv=None):
    from qslm_nova.testbed import campaign
    from qslm_nova.testbed import fit
    from qslm_nova.testbed import report

    p = argparse.ArgumentParser(
        prog='qslm-nova-testbed-report',
        description='Compare testbed measurements with the estimator.')
    p.add_argument('--csv', default=os.path.join(campaign.DATA_DIR,
                                                 'campaign.csv'))
    p.add_argument('--params', default=fit.DEFAULT_PARAMS_PATH,
                   help='fitted parameters JSON (%(default)s)')
    p.add_argument('--fit', action='store_true',
                   help='fit the constants on the fitting part of the '
                        'grid and write them to --params first')
    p.add_argument('--holdout-repeat', type=int, default=fit.HOLDOUT_REPEAT,
                   help='first repeat index kept out of the fit; later '
                        'repeats are kept out too (%(default)s)')
    p.add_argument('--downtime', choices=('e2e', 'qemu'), default='e2e',
                   help='downtime measurement to fit and check: e2e '
                        '(source STOP to destination RESUME) or qemu '
                        '(query-migrate); with --fit (%(default)s)')
    p.add_argument('--json', action='store_true',
                   help='print the summary as JSON')
    args = p.parse_args(argv)
    rows = campaign.read_rows(args.csv)
    if not rows:
        print('no measurements in %s' % args.csv, file=sys.stderr)
        return 2
    if args.fit or not os.path.exists(args.params):
        env_path = os.path.splitext(args.csv)[0] + '-environment.json'
        goodput = {}
        if os.path.exists(env_path):
            with open(env_path) as f:
                goodput = json.load(f).get('link_goodput_mbps', {})
        fitted = fit.fit(rows, holdout_repeat=args.holdout_repeat,
                         link_goodput_mbps=goodput,
                         downtime_source=args.downtime)
        fit.save(fitted, args.params)
        print(fit.describe(fitted))
    else:
        fitted = fit.load(args.params)
    summary = report.evaluate(rows, fitted,
                              holdout_repeat=args.holdout_repeat)
    if args.fit:
        bounds = report.establish_bounds(rows, fitted,
                                         args.holdout_repeat)
        fit.save_bounds(bounds, args.params)
        print('CI bounds from %(from_runs)d held-out runs: measured '
              'downtime <= %(downtime_over_worst_max).2f x worst case, '
              'total-time error <= %(total_ape_max).1f %%' % bounds)
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(report.format_summary(summary))
    return 0


def calibrate_main(argv=None):
    from qslm_nova.testbed import calibrate

    p = argparse.ArgumentParser(
        prog='qslm-nova calibrate',
        description='Measure cipher throughput per core on this host.')
    p.add_argument('--seconds', type=float, default=1.0)
    p.add_argument('--method', choices=('auto', 'openssl', 'python'),
                   default='auto')
    p.add_argument('--json', action='store_true')
    args = p.parse_args(argv)
    result = calibrate.measure_cipher_throughput(seconds=args.seconds,
                                                 method=args.method)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print('CPU: %s (%s)' % (result['cpu'], result['method']))
    for cipher, gbps in sorted(result['ciphers'].items()):
        print('  %-20s %8.2f Gbit/s per core' % (cipher, gbps))
    print('crypto_gbps_per_core for the topology file:')
    for mech, gbps in sorted(result['mechanisms'].items()):
        print('  %-6s %8.2f' % (mech, gbps))
    return 0


def _libvirt_campaign_args(argv):
    """The parsed arguments of libvirt-campaign."""
    from qslm_nova.testbed import campaign
    from qslm_nova.testbed import libvirt_campaign

    p = argparse.ArgumentParser(
        prog='qslm-nova-testbed libvirt-campaign',
        description='Live-migrate 1-1.5 GiB TCG guests between two libvirt '
                    'hosts on this machine, driven by Nova 34\'s monitor, '
                    'as a plan file says, and append the measurements to '
                    'its CSV. Resumes: run it again after a stop.')
    p.add_argument('--plan', help='plan file (qslm-nova-testbed '
                   'libvirt-plan makes one); default: the first campaign\'s '
                   'plan')
    p.add_argument('--out', default=campaign.DATA_DIR)
    p.add_argument('--csv', default=None,
                   help='CSV under --out (default: the plan\'s, else %s)'
                   % libvirt_campaign.CSV_NAME)
    p.add_argument('--limit', type=int, default=None,
                   help='run at most this many migrations')
    p.add_argument('--estimate', action='store_true',
                   help='print what is left and how long it takes; run '
                        'nothing')
    p.add_argument('--settle-s', type=float, default=0.0,
                   help='before a run whose hog count differs from the '
                        'run before, run its hogs this many seconds so '
                        'the load average reaches its load (120 s: 86 %%; '
                        'with a plan made with libvirt-plan --by-load); '
                        'default %(default)s')
    return p.parse_args(argv)


def libvirt_campaign_main(argv=None):
    from qslm_nova.testbed import campaign
    from qslm_nova.testbed import libvirt_campaign
    from qslm_nova.testbed import libvirt_plan

    args = _libvirt_campaign_args(argv)
    if not 0.0 <= args.settle_s <= 3600.0:
        print('--settle-s: 0 to 3600 seconds, got %g' % args.settle_s,
              file=sys.stderr)
        return 2
    try:
        if args.plan:
            specs, csv_name = libvirt_plan.load(args.plan)
        else:
            specs, csv_name = libvirt_plan.make(), libvirt_campaign.CSV_NAME
    except TestbedError as e:
        print('testbed error: %s' % e, file=sys.stderr)
        return 2
    csv_name = args.csv or csv_name
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        print('testbed error: --out %s: %s' % (args.out, e), file=sys.stderr)
        return 2
    rows = campaign.read_rows(os.path.join(args.out, csv_name))
    todo = libvirt_campaign.pending(specs, rows)[:args.limit or None]
    earlier = [r for name in sorted(os.listdir(args.out))
               if name.startswith('libvirt-campaign') and
               name.endswith('.csv')
               for r in campaign.read_rows(os.path.join(args.out, name))]
    print('%d of %d runs of the plan to do into %s: about %.0f min (median '
          'run time per label of the %d libvirt runs so far in %s)' % (
              len(todo), len(specs), csv_name,
              libvirt_plan.estimate_s(todo, earlier) / 60.0, len(earlier),
              args.out), flush=True)
    if args.estimate:
        return 0

    def progress(i, n, row):
        print('[%d/%d] %s %s %s pause=%sms load=%s %s' % (
            i, n, row['run_id'], row['status'], row.get('outcome'),
            row.get('downtime_e2e_ms'), row.get('load1_start'),
            row.get('error') or ''), flush=True)

    stopping = threading.Event()

    def stop(signum, frame):
        # First signal: end after the run in progress (its row is kept,
        # hosts and namespaces are removed); a second one: now.
        if stopping.is_set():
            raise SystemExit(128 + signum)
        stopping.set()
        print('stopping after the run in progress (signal again to stop '
              'at once)', flush=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        path = libvirt_campaign.run_campaign(
            out_dir=args.out, csv_name=csv_name, specs=specs,
            limit=args.limit, progress=progress, stop=stopping,
            settle=args.settle_s)
    except TestbedError as e:
        print('testbed error: %s' % e, file=sys.stderr)
        return 2
    print('data in %s' % path)
    return 0


def libvirt_plan_main(argv=None):
    from qslm_nova.testbed import libvirt_plan

    p = argparse.ArgumentParser(
        prog='qslm-nova-testbed libvirt-plan',
        description='Write a libvirt campaign plan: fitting and held-out '
                    'configurations (libvirt_plan.FIT, HELD_OUT), Nova\'s '
                    'default steps and its other outcomes.')
    p.add_argument('path', help='plan file to write')
    p.add_argument('--csv', required=True,
                   help='CSV name the campaign appends to (under its --out)')
    p.add_argument('--steps-fit', type=int, default=22)
    p.add_argument('--steps-held', type=int, default=14)
    p.add_argument('--per-outcome', type=_ints, default=(6, 5),
                   help='fitting,held-out runs per outcome label '
                        '(%(default)s)')
    p.add_argument('--seed', type=int, default=17)
    p.add_argument('--first-repeat', type=int, default=0,
                   help='repeat number of the first run of each kind '
                        '(another campaign: another number, so run ids '
                        'differ)')
    p.add_argument('--description', default='')
    p.add_argument('--repeat-of', metavar='PLAN',
                   help='instead: run configurations of this earlier plan '
                        'again (group "repeat", the noise floor of the '
                        'report)')
    p.add_argument('--configs', type=int, default=8,
                   help='with --repeat-of: how many configurations '
                        '(%(default)s)')
    p.add_argument('--times', type=int, default=4,
                   help='with --repeat-of: runs of each (%(default)s)')
    p.add_argument('--by-load', action='store_true',
                   help='order the runs in blocks of one hog count, '
                        'fewest first (with libvirt-campaign --settle-s: '
                        'each run reads the load it has)')
    args = p.parse_args(argv)
    if len(args.per_outcome) != 2:
        print('--per-outcome: two numbers, fitting,held-out',
              file=sys.stderr)
        return 2
    try:
        if args.repeat_of:
            specs = libvirt_plan.repeats(
                libvirt_plan.load(args.repeat_of)[0], args.configs,
                args.times, args.seed, args.first_repeat)
        else:
            specs = libvirt_plan.make(args.steps_fit, args.steps_held,
                                      args.per_outcome, args.seed,
                                      args.first_repeat)
    except TestbedError as e:
        print('testbed error: %s' % e, file=sys.stderr)
        return 2
    if args.by_load:
        specs = libvirt_plan.by_load(specs)
    try:
        print(libvirt_plan.write(specs, args.path, args.csv,
                                 args.description))
    except OSError as e:
        print('testbed error: %s: %s' % (args.path, e), file=sys.stderr)
        return 2
    return 0


def libvirt_report_main(argv=None):
    from qslm_nova.testbed import libvirt_report
    return libvirt_report.main(argv)


def main(argv=None):
    """``qslm-nova-testbed campaign|report|calibrate|libvirt-... ...``"""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {'campaign': campaign_main, 'report': report_main,
                'calibrate': calibrate_main,
                'libvirt-campaign': libvirt_campaign_main,
                'libvirt-plan': libvirt_plan_main,
                'libvirt-report': libvirt_report_main}
    if not argv or argv[0] not in commands:
        print('usage: qslm-nova-testbed {%s} [options]'
              % ','.join(sorted(commands)), file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == '__main__':
    sys.exit(main())
