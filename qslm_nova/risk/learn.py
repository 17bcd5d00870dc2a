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

"""Learn the residuals file from real migrations.

From the testbed, run from the repository root after any new campaign::

    python -m qslm_nova.risk.learn

It reads the Nova-driven libvirt campaigns
(``data/testbed/libvirt-campaign*.csv``, every QEMU release of
:data:`~qslm_nova.testbed.libvirt_runs.RELEASE_FITS`), estimates every
usable run that paused with the constants qslm-nova ships (the
``ModelParams`` defaults and built-in mechanisms, with the testbed's
link goodput and the run's measured inputs), and writes measured
end-to-end pause / expected pause per transport and regime to
``qslm_nova/risk/residuals.json`` (``--out`` elsewhere), with the
largest dirty share of each group's runs. No run taught those
constants, so every run counts; the ratios are those of the constants
a cloud runs with, which is what makes their bound hold there. Runs
whose hosts ran ``--loaded-cpu-load`` (default
:data:`LOADED_CPU_LOAD`) or more runnable threads per CPU go to groups
of their own (``tcp@loaded/long``...), which the file's
``loaded_cpu_load`` names; 0 keeps every load together.

``--csv CAMPAIGN --params FIT`` learns from a raw-QEMU testbed campaign
and the constants fitted to it instead (only the runs over shaped links
that the fit did not see, repeat >= its hold-out repeat: runs the fit
saw would give residuals too small for a conformal bound), for a cloud
that runs with that fit.

From a cloud's own history (the estimates the scheduler and the
pre-check published, joined with the pauses the compute agents
measured), ``qslm-nova calibrate --from-history FILE ... --residuals-out
PATH`` writes the same kind of file with
:func:`qslm_nova.risk.from_history.history_document`: the
pause each migration really had over the pause expected when it was
decided. Those ratios hold all the model's error in that cloud, the
declared dirty rates and the link bandwidths included, but only for the
model and inputs in force when the history was collected, and only for
guests that dirtied no more of their path than those migrations did
(each group keeps the largest share its estimates' inputs show).
"""

import argparse
import json
import math
import os
import sys

from qslm_nova.risk import regimes
from qslm_nova.risk import residuals
from qslm_nova.risk import residuals_file
from qslm_nova.testbed import campaign
from qslm_nova.testbed import fit
from qslm_nova.testbed import libvirt_model
from qslm_nova.testbed import libvirt_runs
from qslm_nova.testbed import model


#: Runnable threads per CPU (load average over CPUs, the busier host's)
#: from which the shipped residuals keep runs apart: the testbed's
#: hosts with three or more CPU hogs per CPU. Below, Nova's forced
#: pauses stayed within 1.5 times the model's; above, up to three times.
LOADED_CPU_LOAD = 3.0


def loaded_split(threads):
    """The ``loaded_cpu_load`` an option's value asks for: None for 0
    (every load in one pool); ValueError naming the range if outside it
    (NaN included).
    """
    if not 0 <= threads <= residuals_file.MAX_LOADED_CPU_LOAD:
        raise ValueError('%s: expected 0 to %g runnable threads per CPU '
                         '(0: one pool)'
                         % (threads, residuals_file.MAX_LOADED_CPU_LOAD))
    return threads or None


class Found(dict):
    """{(transport, regime value): [ratio, ...]}; ``shares``: per key,
    the dirty shares of its runs (those known); ``keyed``: (run, key,
    ratio) of the runs :func:`libvirt_residuals` put in; ``host_rates``:
    per QEMU release, the testbed hosts' measured
    :class:`~qslm_nova.testbed.libvirt_runs.HostRates` it estimated them
    with.
    """

    def __init__(self):
        super().__init__()
        self.shares = {}
        self.keyed = []
        self.host_rates = {}

    def add(self, transport, expected, measured, idle=None, outcome=None,
            share=None, total_s=None, race=None):
        """Put measured / expected into its transport's and regime's
        list (:meth:`regimes.Regime.of` of the idle-host pause *idle*,
        default *expected*, the *outcome* the model expected and the
        time *total_s* it expected the migration to take), with the
        run's dirty share when known. A fast run's ratio is of the larger
        of *expected* and *race*, the pause expected had Nova's first
        step landed late (:func:`regimes.base_pause`). Returns the key.
        """
        regime = regimes.Regime.of(
            expected if idle is None else idle, outcome, total_s)
        key = (transport, regime.value)
        base = float(regimes.base_pause(expected, race, regime.code))
        self.setdefault(key, []).append(measured / base)
        if share is not None and math.isfinite(share):
            self.shares.setdefault(key, []).append(share)
        return key

    def share_bounds(self):
        """{(transport, regime value): largest dirty share}."""
        return {k: residuals.share_bound(v) for k, v in self.shares.items()}


def row_share(row):
    """The dirty share of a testbed run (its dirty rate over its shaped
    link's bandwidth).
    """
    return float(residuals.dirty_share(
        model.num(row, 'dirty_rate_mibps'),
        model.num(row, 'bandwidth_mbps') / 1000.0))


def shaped_held_out(rows, fitted):
    """The usable runs over shaped links that the fit did not see."""
    return [r for r in fit.usable(rows)
            if int(model.num(r, 'repeat')) >= fitted.holdout_repeat and
            model.num(r, 'bandwidth_mbps') > 0 and
            r.get('link', 'tc') == 'tc']


def held_out_residuals(rows, fitted):
    """{(transport, regime value): [ratio, ...]} of the held-out runs
    over shaped links with a positive expected pause.
    """
    return residuals_of(shaped_held_out(rows, fitted), fitted)


def residuals_of(rows, fitted):
    """A :class:`Found` of these runs."""
    out = Found()
    for row, est in zip(rows, model.estimate_rows(rows, fitted)):
        expected = est['downtime_ms']
        if expected <= 0:
            continue
        out.add(row['transport'], expected,
                model.measured_downtime(row, fitted.downtime_source),
                outcome=est['outcome'], share=row_share(row))
    return out


def groups_json(found):
    """The JSON form of {(transport, regime value): [ratio, ...]}."""
    return {'%s/%s' % k: [round(r, 4) for r in sorted(v)]
            for k, v in sorted(found.items())}


def build(csv_path, params_path):
    """The residuals document (JSON-ready)."""
    fitted = fit.load(params_path)
    found = held_out_residuals(campaign.read_rows(csv_path), fitted)
    return {
        'what': 'measured end-to-end pause / expected pause of held-out '
                'testbed migrations, per transport/regime',
        'command': 'python -m qslm_nova.risk.learn',
        'campaign': os.path.basename(csv_path),
        'fitted_params': os.path.basename(params_path),
        'holdout_repeat': fitted.holdout_repeat,
        'short_pause_ms': regimes.SHORT_PAUSE_MS,
        'runs': sum(len(v) for v in found.values()),
        'groups': groups_json(found),
        'dirty_share_max': shares_json(found),
    }


def libvirt_residuals(rows, release_fits=libvirt_runs.RELEASE_FITS,
                      loaded_cpu_load=LOADED_CPU_LOAD, machine=None):
    """(:class:`Found`, runs per QEMU release) of Nova-driven libvirt
    runs, each estimated with the shipped constants over its release's
    testbed facts, its hosts' rates per core among them (the migration's
    and TLS's: :func:`libvirt_runs.host_rates` of the *machine*'s runs,
    default every shipped campaign's); the regime is that of the
    idle-host pause, as the engine chooses it; runs from
    *loaded_cpu_load* on (None: none) in their transport's ``@loaded``
    groups.
    """
    found, per_release = Found(), {}
    for qemu, params_path in release_fits:
        host = libvirt_runs.host_rates(qemu, machine)
        found.host_rates[qemu] = host
        fitted = libvirt_runs.shipped_constants(fit.load(params_path), host)
        runs, ests, idle, _left_out = libvirt_runs.paused_runs(
            rows, qemu, fitted)
        for row, est, est_idle in zip(runs, ests, idle):
            transport = residuals.keyed(
                row['transport'], libvirt_model.load_per_cpu(row),
                loaded_cpu_load)
            key = found.add(transport, est['downtime_ms'],
                            libvirt_model.measured_pause(row),
                            idle=est_idle['downtime_ms'],
                            outcome=est['outcome'], share=row_share(row),
                            total_s=est['total_ms'] / 1000.0,
                            race=est['race_downtime_ms'])
            found.keyed.append((row, key, found[key][-1]))
        per_release[qemu] = len(runs)
    return found, per_release


def _rates_json(found, field):
    """{QEMU release: one of its hosts' rates} as the file records it
    (None: unknown, the shipped constant; 'inf': no cost).
    """
    out = {}
    for qemu, rates in sorted(found.host_rates.items()):
        value = getattr(rates, field)
        out[qemu] = (value if value is None else 'inf'
                     if math.isinf(value) else round(value, 3))
    return out


def fallbacks(doc):
    """A line per QEMU release of *doc* and rate of its hosts that the
    campaigns do not time, so that its runs were estimated at the
    shipped constant instead.
    """
    what = (('host_gbps_per_core', 'plain-TCP runs',
             'migration_gbps_per_core'),
            ('host_tls_gbps_per_core', 'TLS runs and as many plain-TCP',
             'crypto_gbps_per_core of the built-in tls mechanism'))
    return ['QEMU %s: fewer than %d %s over one connection time the '
            'receiving thread: its runs were estimated at the shipped %s'
            % (qemu, libvirt_runs.MIN_HOST_RUNS, runs, option)
            for key, runs, option in what
            for qemu, value in sorted(doc.get(key, {}).items())
            if value is None]


def build_libvirt(paths=None, loaded_cpu_load=LOADED_CPU_LOAD):
    """The shipped residuals document (JSON-ready): the Nova-driven
    libvirt campaigns against the shipped constants; the hosts' rates
    per core are read from the same campaigns (another machine's, with
    *paths*).
    """
    paths = sorted(paths or libvirt_runs.default_csvs())
    rows, _goodput = libvirt_runs.read_campaigns(paths)
    return libvirt_document(rows, [os.path.basename(p) for p in paths],
                            loaded_cpu_load, machine=rows)


def libvirt_document(rows, campaigns, loaded_cpu_load=LOADED_CPU_LOAD,
                     machine=None):
    """:func:`build_libvirt`'s document of some campaigns' rows;
    *campaigns* names them; *machine*: the runs the hosts' rates per core
    are read from (default every shipped campaign's).
    """
    found, per_release = libvirt_residuals(
        rows, loaded_cpu_load=loaded_cpu_load, machine=machine)
    doc = {
        'what': 'measured end-to-end pause / expected pause with the '
                'shipped constants (ModelParams defaults, built-in '
                'mechanisms) over the testbed hosts\' facts (links, '
                'migration and TLS rates per core) of Nova-driven libvirt '
                'migrations, per transport/regime',
        'command': 'python -m qslm_nova.risk.learn',
        'campaigns': list(campaigns),
        'runs_per_qemu': per_release,
        'host_gbps_per_core': _rates_json(found, 'gbps_per_core'),
        'host_tls_gbps_per_core': _rates_json(found, 'tls_gbps_per_core'),
        'short_pause_ms': regimes.SHORT_PAUSE_MS,
        'runs': sum(len(v) for v in found.values()),
        'groups': groups_json(found),
        'dirty_share_max': shares_json(found),
    }
    if loaded_cpu_load is not None:
        doc['loaded_cpu_load'] = loaded_cpu_load
    return doc


def shares_json(found):
    """The JSON form of the found groups' largest dirty shares."""
    return {'%s/%s' % k: v for k, v in sorted(found.share_bounds().items())}


def write(doc, path):
    """Check a residuals document and write it atomically to path."""
    residuals_file.from_json(doc, path)   # checks it
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(prog='python -m qslm_nova.risk.learn',
                                description=__doc__.split('\n\n')[0])
    p.add_argument('--csv', metavar='CAMPAIGN',
                   help='a raw-QEMU testbed campaign to learn from '
                        'instead of the libvirt campaigns (with --params)')
    p.add_argument('--params', default=fit.DEFAULT_PARAMS_PATH,
                   help='the constants fitted to --csv\'s campaign')
    p.add_argument('--libvirt', metavar='CSV', nargs='+',
                   help='libvirt campaigns (default: every one of '
                        'data/testbed)')
    p.add_argument('--loaded-cpu-load', type=float,
                   default=LOADED_CPU_LOAD, metavar='THREADS',
                   help='runnable threads per CPU from which libvirt '
                        'runs form groups of their own (0: never; '
                        'default %(default)s)')
    p.add_argument('--out', default=residuals_file.DEFAULT_PATH)
    args = p.parse_args(argv)
    if args.csv and args.libvirt:
        p.error('--csv and --libvirt are two sources: give one')
    try:
        loaded = loaded_split(args.loaded_cpu_load)
    except ValueError as e:
        p.error('--loaded-cpu-load %s' % e)
    try:
        for path in [args.csv, args.params] if args.csv else (
                args.libvirt or []):
            if not os.path.isfile(path):
                raise residuals.RiskDataError('%s: no such file' % path)
        doc = (build(args.csv, args.params) if args.csv
               else build_libvirt(args.libvirt, loaded))
        write(doc, args.out)
        for line in fallbacks(doc):
            print('%s: warning: %s' % (p.prog, line), file=sys.stderr)
    except (OSError, ValueError, residuals.RiskDataError) as e:
        # A missing or foreign campaign, or one without a usable run.
        print('%s: error: %s' % (p.prog, e), file=sys.stderr)
        return 2
    print('%d residuals in %d groups written to %s' % (
        doc['runs'], len(doc['groups']), args.out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
