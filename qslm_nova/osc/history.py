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


"""``calibrate --from-history``: refit the model from past migrations."""

from qslm_nova import exception
from qslm_nova.history import checks
from qslm_nova.history import join
from qslm_nova.history import refit
from qslm_nova.osc import decisions as rows_mod
from qslm_nova.risk import from_history
from qslm_nova.risk import learn
from qslm_nova.risk import residuals

COLUMNS = ('Host pair', 'Transport', 'Migrations', 'Held out',
           'Downtime error then %', 'Downtime error refit %',
           'Total error then %', 'Total error refit %',
           'Worst case covers then', 'Worst case covers refit')


def add_arguments(parser):
    parser.add_argument(
        '--from-history', nargs='+', metavar='FILE',
        help='Refit the model\'s constants from past migrations instead of '
             'measuring: JSON-lines files of qslm-nova-collect (the '
             'estimates at decision time and the measured migrations) and '
             'compute agents\' spools (migrations.sqlite). Reports the '
             'median error by host pair and transport at decision time '
             'and after the refit (a third of the migrations held out), '
             'and the [qslm] options that set the refit constants.')
    parser.add_argument(
        '--residuals-out', metavar='PATH',
        help='With --from-history: also write the measured / expected '
             'pause of every paired migration, per transport and regime, '
             'to this residuals file for [qslm] residuals_file (the '
             'sla_confidence bounds and breach probabilities then come '
             'from this cloud\'s own migrations, for the model in force '
             'when they were decided).')
    parser.add_argument(
        '--loaded-cpu-load', type=float, metavar='THREADS',
        help='With --residuals-out: migrations whose estimate used a '
             'busier host at this many runnable threads per CPU or more '
             'form groups of their own, as in the shipped residuals; '
             'their bounds are never under the idle hosts\'. 0 keeps '
             'every migration in one pool per transport. Default: '
             '%g.' % learn.LOADED_CPU_LOAD)


def check_arguments(parsed_args):
    """Raise QSLMError for history options without what they need."""
    if parsed_args.residuals_out and not parsed_args.from_history:
        raise exception.QSLMError('--residuals-out needs --from-history')
    if (getattr(parsed_args, 'loaded_cpu_load', None) is not None and
            not parsed_args.residuals_out):
        raise exception.QSLMError('--loaded-cpu-load needs --residuals-out')
    loaded_split(parsed_args)


def loaded_split(parsed_args):
    """The ``loaded_cpu_load`` of the residuals to write (None: no split;
    the shipped residuals' without --loaded-cpu-load); QSLMError naming
    the option when it is out of range.
    """
    loaded = getattr(parsed_args, 'loaded_cpu_load', None)
    if loaded is None:
        return learn.LOADED_CPU_LOAD
    try:
        return learn.loaded_split(loaded)
    except ValueError as e:
        raise exception.QSLMError('--loaded-cpu-load %s' % e)


def calibrate(cmd, parsed_args):
    """(columns, rows) of the refit; sets cmd.history_hint."""
    try:
        history = join.read(parsed_args.from_history)
    except join.HistoryError as e:
        raise exception.QSLMError(str(e))
    if history.bad_lines:
        cmd.warn('%d unreadable line(s) skipped' % history.bad_lines)
    pairs, alone = join.join(history)
    pairs, skipped = checks.usable(pairs)
    if skipped:
        cmd.warn('%d estimate/measurement pair(s) skipped: %s' % (
            len(skipped), '; '.join(
                '%s (migration %s): %s' % (pair.host_pair,
                                           pair.measured.get('migration_id'),
                                           wrong)
                for pair, wrong in skipped[:3]) +
            ('; ...' if len(skipped) > 3 else '')))
    if alone:
        cmd.warn('%d measured migration(s) have no estimate in these files '
                 '(the decision that let them through published none, or '
                 'its file is missing)' % len(alone))
    if not pairs:
        raise exception.QSLMError(
            'no measured migration in %s has its estimate: collect both '
            'the decision side\'s and the agents\' notifications '
            '(qslm-nova-collect)' % ', '.join(parsed_args.from_history))
    written = None
    if parsed_args.residuals_out:
        written = write_residuals(cmd, pairs, parsed_args)
    fitted = refit.refit(pairs)
    rows = [(r.host_pair, r.mechanism, r.migrations, r.held_out,
             rows_mod.Number(r.downtime_error_then),
             rows_mod.Number(r.downtime_error_refit),
             rows_mod.Number(r.total_error_then),
             rows_mod.Number(r.total_error_refit),
             rows_mod.Hundredths(r.worst_covered_then),
             rows_mod.Hundredths(r.worst_covered_refit))
            for r in refit.report(pairs, fitted)]
    cmd.history_hint = hint(fitted, len(pairs))
    if written:
        cmd.history_hint += '\n\n' + written
    return COLUMNS, rows


def write_residuals(cmd, pairs, parsed_args):
    """Write the history's residuals file; what to tell the operator."""
    path = parsed_args.residuals_out
    try:
        doc, skipped = from_history.history_document(
            pairs, parsed_args.from_history, loaded_split(parsed_args))
        learn.write(doc, path)
    except residuals.RiskDataError as e:
        raise exception.QSLMError('--residuals-out %s: %s' % (path, e))
    except OSError as e:
        raise exception.QSLMError('--residuals-out %s: cannot write it: %s'
                                  % (path, e))
    if skipped:
        cmd.warn('%d migration(s) left out of the residuals (not a '
                 'built-in mechanism end to end, or no positive expected '
                 'pause)' % skipped)
    shares = doc['dirty_share_max']
    groups = ', '.join(
        '%s %d%s' % (name, len(ratios), '' if name not in shares else
                     ' dirtying at most %.1f %%' % (100 * shares[name]))
        for name, ratios in sorted(doc['groups'].items()))
    return ('Residuals of %d migrations (%s) written to %s. To use them, in '
            'nova.conf of the scheduler and nova-api:\n\n[qslm]\n'
            'residuals_file = %s' % (doc['runs'], groups, path, path))


def hint(fitted, count):
    values, buffered = refit.option_values(fitted)
    lines = ['Refit on %d migrations (objective %.2f, worst case covers '
             '%.0f %% of them). To use it, in nova.conf of the scheduler '
             'and nova-api:' % (fitted.fit_runs, fitted.objective,
                                fitted.fit_worst_coverage * 100), '',
             '[qslm]']
    lines += ['%s = %s' % (k, v) for k, v in sorted(values.items())]
    if buffered:
        lines += ['', 'and in the topology file:', '', 'mechanisms:']
        lines += ['  %s: {buffered_mb: %s}' % (k, v)
                  for k, v in sorted(buffered.items())]
    return '\n'.join(lines)
