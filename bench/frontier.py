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

"""The frontier of decision quality: SLA violations against placements.

Part of ``python -m bench.bench_quality`` (issue 20, item 3). Two
policies trace the trade-off between placing what the oracle places and
pausing longer than the limit:

* ``qslm@c``: the shipped engine with ``[qslm] sla_confidence = c``
  for each c of ``CONFIDENCES``, best host by the weigher's rule;
* ``informed xm``: a policy that knows every destination's actual dirty
  rate and bandwidth but not the run's noise, and places on the shortest
  pause before noise when that pause times a margin m meets the limit,
  for every m of ``MARGINS``.

For each QSLM point the table shows the realised violation rate against
the nominal one (1 - c) and the informed policy's best share of the
oracle at no more violations (the gap in percentage points).

The QSLM points come twice: with the residuals shipped (the testbed's
real migrations, which know nothing of how wrong a declared dirty rate or
a link's bandwidth may be) and with residuals learned from a simulated
history of the same cloud (``qslm@c/history``): an earlier stream of
migrations placed by the expected pause and measured, turned into a
residuals file by the code of ``qslm-nova calibrate --from-history
--residuals-out``, as an operator running the agents would. Besides the
violations per placement, each point shows the share of placed
migrations whose true pause exceeded the pause held (``beyond``): the
calibration of the bound against 1 - c.

A run counts a handful of violations per point, mostly the luck of the
noise draws; so every point also sums, over its placements, the
probability that the noise takes the pause before noise over the limit
(the violations it *risked*), and each QSLM point is set against the
informed policy's best share at no more risked.
``python -m bench.bench_quality --frontier-only`` runs the frontier
alone.

Judged by real migrations too, out of sample: the testbed's held-out runs
are split by repeat; each half is judged with residuals learned from the
other half only, under the limits of ``bench.real_runs.TESTBED_LIMITS``.
"""

import numpy as np

from bench import redraws
from qslm_nova.risk import assess
from qslm_nova.risk import learn
from qslm_nova.risk import regimes as regimes_mod
from qslm_nova.risk import residuals as residuals_mod

CONFIDENCES = (0.9, 0.95, 0.97, 0.98, 0.99, 0.992, 0.993, 0.994, 0.995,
               0.996, 0.997, 0.998, 0.999)
NAMES = tuple('qslm@%g' % c for c in CONFIDENCES)
HISTORY_NAMES = tuple(n + '/history' for n in NAMES)
MARGINS = tuple(float(m) for m in
                np.round(np.arange(1.0, 5.0001, 0.05), 2))


def engines(topo, make_engine, residuals_file=None, names=NAMES):
    """(policy name, engine) of every confidence, reading
    *residuals_file* (None: the shipped one); *names*: theirs.
    """
    return [(name, make_engine(topo, risk=assess.RiskSettings(
        sla_confidence=c, residuals_file=residuals_file)))
        for name, c in zip(names, CONFIDENCES)]


def exceedance(ratios, before, limit):
    """The probability that a pause of *before* ms before noise ends over
    *limit* ms: the share of the noise's ratios (sorted, each drawn with
    the same chance) above ``limit / before``; 0 without a limit or a
    pause.
    """
    if limit is None or not before > 0:
        return 0.0
    beyond = len(ratios) - np.searchsorted(ratios, limit / before,
                                           side='right')
    return beyond / float(len(ratios))


class Informed:
    """Placements and violations of the informed policy per margin.

    Each margin also sums the probability of a violation over its
    placements (``expected``), the violations it risks without the luck
    of the draws: with the ratios each placement's noise is drawn from.
    """

    def __init__(self):
        self.placed = np.zeros(len(MARGINS), dtype=int)
        self.violations = np.zeros(len(MARGINS), dtype=int)
        self.expected = np.zeros(len(MARGINS))
        self.margins = np.array(MARGINS)

    def add(self, known, limit):
        """:param known: (shortest pause before noise, its true pause,
            the sorted ratios its noise was drawn from).
        """
        before, actual, ratios = known
        if not np.isfinite(before):
            return
        place = (np.ones(len(MARGINS), dtype=bool) if limit is None
                 else before * self.margins <= limit)
        self.placed += place
        if len(ratios):
            self.expected += place * exceedance(ratios, before, limit)
        if limit is not None and actual > limit:
            self.violations += place


def trace(res, informed):
    """The frontier of one run (JSON-ready)."""
    oracle = float(res['policies']['oracle']['placed']) or 1.0

    def points(names):
        out = []
        for name, c in zip(names, CONFIDENCES):
            r = res['policies'][name]
            viol, placed = r['sla_violations'], r['placed']
            risked = r.get('expected_violations', 0.0)
            best = [p / oracle for p, v in zip(informed.placed,
                                               informed.violations)
                    if v <= viol]
            # At no more violations risked (a tolerance for the sums'
            # rounding).
            best_risked = [p / oracle for p, e in zip(informed.placed,
                                                      informed.expected)
                           if e <= risked + 1e-9]
            out.append({
                'name': name, 'confidence': c, 'placed': placed,
                'of_oracle': placed / oracle, 'sla_violations': viol,
                'realised_rate': viol / float(placed) if placed else 0.0,
                'beyond_held': (r['beyond_held'] / float(placed)
                                if placed else 0.0),
                'nominal_rate': 1.0 - c,
                'informed_of_oracle': max(best) if best else None,
                'expected_violations': risked,
                'informed_risked_of_oracle': (max(best_risked)
                                              if best_risked else None)})
        return out
    return {'qslm': points(NAMES), 'qslm_history': (
        points(HISTORY_NAMES) if HISTORY_NAMES[0] in res['policies']
        else []), 'informed': [
        {'margin': float(m), 'placed': int(p), 'of_oracle': p / oracle,
         'sla_violations': int(v), 'expected_violations': float(e)}
        for m, p, v, e in zip(MARGINS, informed.placed, informed.violations,
                              informed.expected)]}


def informed_best(points):
    """{violations: (best share of the oracle, its margin)} of the
    informed policy's points: its frontier.
    """
    best = {}
    for p in points:
        v = p['sla_violations']
        if p['of_oracle'] > best.get(v, (-1, 0))[0]:
            best[v] = (p['of_oracle'], p['margin'])
    return best


def format_best(best, count=12):
    """The first *count* points of :func:`informed_best`, one line."""
    return ', '.join('%d: %.1f%% (x%.2f)' % (v, 100 * s, m)
                     for v, (s, m) in sorted(best.items())[:count])


def format_trace(res):
    front = res['frontier']
    lines = ['Frontier%s: QSLM at each sla_confidence against the informed '
             'policy (knows actual dirty rates and bandwidth, not the '
             'noise) at no more SLA violations' % (
                 ' (STRESS)' if res['stress'] else ''),
             '  %-19s %6s %7s %5s %9s %7s %8s %9s %7s' % (
                 'policy', 'placed', '/oracle', 'viol', 'realised',
                 'beyond', 'nominal', 'informed', 'gap pp')]
    for p in front['qslm'] + front.get('qslm_history', []):
        inf = p['informed_of_oracle']
        default = p['confidence'] == assess.DEFAULT_CONFIDENCE
        lines.append('  %-19s %6d %6.1f%% %5d %8.2f%% %6.2f%% %7.2f%% %8s '
                     '%7s' % (
                         p['name'] + ('*' if default else ''), p['placed'],
                         100 * p['of_oracle'],
                         p['sla_violations'], 100 * p['realised_rate'],
                         100 * p['beyond_held'], 100 * p['nominal_rate'],
                         '-' if inf is None else '%.1f%%' % (100 * inf),
                         '-' if inf is None else '%.1f' % (
                             100 * (inf - p['of_oracle']))))
    best = informed_best(front['informed'])
    lines.append('  informed, best share of the oracle per violation '
                 'count (margin): ' + format_best(best))
    lines.extend(_steps(front, 'sla_violations', COUNTS, 'counted'))
    lines.extend(_redrawn(front))
    lines.extend(_zero_violations(res, best))
    lines.extend(_risked(res))
    hist = res.get('history_residuals')
    if hist:
        lines.append('  (*: the default sla_confidence; realised: SLA '
                     'violations per placement; beyond: '
                     'placements whose true pause exceeded the pause held. '
                     '/history: residuals of %d simulated earlier '
                     'migrations (%s), %d left out)' % (
                         hist['runs'], ', '.join(
                             '%s %d' % kv for kv in sorted(
                                 hist['groups'].items())),
                         hist['left_out']))
    return '\n'.join(lines)


#: Violations risked at which the informed policy's best share is shown.
RISKED = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0)


def _risked(res):
    """Lines comparing the policies by the violations they risk: per
    placement, the probability that the noise takes its pause over the
    limit, summed. A count of a few violations in a run is mostly the
    luck of the draws (a Poisson count of mean 3 is 0 one time in 20);
    the sum is what a policy chose, and so is the fair comparison.
    """
    front = res['frontier']
    points = front['qslm'] + front.get('qslm_history', [])
    if not points or 'expected_violations' not in front['informed'][0]:
        return []
    lines = ['  by violations risked (per placement the probability that '
             'the noise takes its pause over the limit, summed; the '
             'informed policy\'s best share at no more risked):',
             '  %-19s %6s %7s %5s %7s %9s %7s' % (
                 'policy', 'placed', '/oracle', 'viol', 'risked',
                 'informed', 'gap pp')]
    for p in points:
        inf = p['informed_risked_of_oracle']
        lines.append('  %-19s %6d %6.1f%% %5d %7.2f %8s %7s' % (
            p['name'], p['placed'], 100 * p['of_oracle'],
            p['sla_violations'], p['expected_violations'],
            '-' if inf is None else '%.1f%%' % (100 * inf),
            '-' if inf is None else '%.1f' % (100 * (inf - p['of_oracle']))))
    best = []
    for cap in RISKED:
        found = [(i['of_oracle'], i['margin'], i['expected_violations'])
                 for i in front['informed']
                 if i['expected_violations'] <= cap]
        if found:
            share, margin, risked = max(found)
            best.append('%g: %.1f%% (x%.2f, %.2f risked)' % (
                cap, 100 * share, margin, risked))
    lines.append('  informed, best share of the oracle at no more '
                 'violations risked (margin): ' + ', '.join(best))
    lines.extend(_steps(front, 'expected_violations', RISKED, 'risked'))
    return lines


#: Violation counts at which the step frontiers are compared.
COUNTS = tuple(range(11))
#: (key of a QSLM policy's points in a frontier, its residuals' name).
FAMILIES = (('qslm', 'shipped'), ('qslm_history', 'history'))


def step_gaps(points, informed, key, caps):
    """{cap: informed's best share minus QSLM's best share (points)} at
    no more than cap violations (*key*: counted or risked), QSLM's best
    taken over all its confidences: the two frontiers compared as
    steps, not only at the points QSLM's confidences land on.
    """
    out = {}
    for cap in caps:
        ours = [p['of_oracle'] for p in points if p[key] <= cap + 1e-9]
        theirs = [p['of_oracle'] for p in informed if p[key] <= cap + 1e-9]
        if theirs:
            out[cap] = 100 * (max(theirs) - max(ours, default=0.0))
    return out


def _steps(front, key, caps, label):
    lines = []
    for name, title in FAMILIES:
        if front.get(name):
            gaps = step_gaps(front[name], front['informed'], key, caps)
            lines.append('  step frontier by violations %s, %s residuals '
                         '(informed minus QSLM\'s best over its '
                         'confidences at no more, points): %s' % (
                             label, title, ', '.join(
                                 '%g: %+.1f' % kv
                                 for kv in sorted(gaps.items()))))
    return lines


def _redrawn(front):
    """Lines of the counted step frontier over many draws of the noise
    (:mod:`bench.redraws`).
    """
    lines = []
    for name, title in FAMILIES:
        gaps = redraws.expected_step_gaps(front.get(name) or [],
                                          front['informed'], COUNTS[:6])
        if gaps:
            lines.append(
                '  the same over %d draws of the noise (each point counts '
                'its risked violations, nested Poisson; mean gap, and the '
                'share of draws where informed / QSLM leads by over 3 '
                'points), %s residuals: %s' % (
                    redraws.DRAWS, title, redraws.format_gaps(gaps)))
    return lines


def _zero_violations(res, best):
    """Lines on the 0-violation point: QSLM's best share there against
    the informed policy's, whose margin is picked in hindsight, and
    against the informed policy that covers the largest measured ratio
    (a margin fixed before the run).
    """
    front = res['frontier']
    out = []
    for key, title in FAMILIES:
        zero = [p['of_oracle'] for p in front.get(key, [])
                if p['sla_violations'] == 0]
        if zero:
            out.append('%s residuals %.1f%%' % (title, 100 * max(zero)))
    cover = max(res.get('known_rates') or (), default=None,
                key=lambda k: k['margin'])
    if not out or 0 not in best or cover is None:
        return []
    risked = [p.get('expected_violations') for p in front['informed']
              if p['margin'] == best[0][1]]
    return ['  at 0 violations: QSLM with %s; informed %.1f%% with its '
            'margin picked after the run (x%.2f%s), %.1f%% with a margin '
            'covering the largest measured ratio (x%.2f, %d violations)' % (
                ' and '.join(out), 100 * best[0][0], best[0][1],
                '' if risked[0] is None else
                ', %.2f violations risked' % risked[0],
                100 * (cover['of_oracle'] or 0), cover['margin'],
                cover['sla_violations'])]


def held_pause(table, transport, expected, worst, confidence,
               outcome=None, share=None, idle=None, total_s=None,
               race=None):
    """The pause qslm@confidence holds (ms): the expected pause times the
    table's bound, past what its runs can show (or for a guest that
    dirties a larger *share* of its path than they did) the worst case
    (never under the largest ratio measured), as the engine holds it.
    The regime is :meth:`regimes.Regime.of` *idle* (the expected pause
    on idle hosts, default *expected*), *outcome* (how the model expects
    the migration to end) and *total_s* (the expected migration time,
    s); *race*: the pause expected had Nova's first step landed late,
    which a fast migration's ratios are of (:func:`regimes.base_pause`)
    and the fast runs' bound also holds for a stop that may still race
    (:func:`regimes.may_race`).
    """
    regime = regimes_mod.Regime.of(
        expected if idle is None else idle, outcome, total_s)
    held = _held(table, transport, regime, worst, confidence, share,
                 float(regimes_mod.base_pause(expected, race, regime.code)))
    if bool(regimes_mod.may_race(regime.code, expected, race)):
        # A stop that may still race Nova's late first step: the fast
        # runs' bound of its race pause too, the larger.
        held = max(held, _held(table, transport, regimes_mod.Regime.FAST,
                               worst, confidence, None, float(race)))
    return held


def _held(table, transport, regime, worst, confidence, share, pause):
    bound = table.bound(transport, regime, confidence)
    if np.isfinite(bound.ratio) and not (
            share is not None and table.outside(transport, regime, share)):
        return pause * bound.ratio
    return max(worst, pause * bound.group.ratios[-1])


def testbed_frontier(testbed, limits):
    """QSLM's calibrated bound judged by real migrations it did not
    learn from: two folds of the held-out runs, split by repeat.
    """
    from qslm_nova.testbed import model
    fitted = testbed.fitted
    rows = learn.shaped_held_out(testbed.rows, fitted)
    repeats = sorted({int(model.num(r, 'repeat')) for r in rows})
    est = model.estimate_rows(rows, fitted)
    measured = np.array([model.measured_downtime(r, fitted.downtime_source)
                         for r in rows])
    folds = []
    for rep in repeats:
        learn_rows = [r for r in rows if int(model.num(r, 'repeat')) != rep]
        found = learn.residuals_of(learn_rows, fitted)
        folds.append((rep, residuals_mod.ResidualTable(
            {k: np.array(v) for k, v in found.items()},
            shares=found.share_bounds())))
    share = [learn.row_share(r) for r in rows]
    met = np.concatenate([measured <= lim for lim in limits])
    out = {'runs': len(rows), 'oracle': int(np.sum(met)), 'points': []}
    for c in CONFIDENCES:
        bound = np.empty(len(rows))
        for rep, table in folds:
            for i, (r, e) in enumerate(zip(rows, est)):
                if int(model.num(r, 'repeat')) == rep:
                    bound[i] = held_pause(table, r['transport'],
                                          e['downtime_ms'],
                                          e['worst_downtime_ms'], c,
                                          share=share[i])
        allowed = np.concatenate([bound <= lim for lim in limits])
        out['points'].append({
            'confidence': c, 'allowed': int(np.sum(allowed)),
            # Calibration: the share of real pauses over the bound held,
            # against 1 - c.
            'beyond_bound': float(np.mean(measured > bound)),
            'sla_violations': int(np.sum(allowed & ~met)),
            'realised_rate': float(np.sum(allowed & ~met)) / max(
                int(np.sum(allowed)), 1),
            'of_oracle': float(np.sum(allowed & met)) / max(
                out['oracle'], 1)})
    return out


def format_testbed_frontier(res, limits):
    lines = ['Calibrated bound judged by real migrations out of sample '
             '(%d held-out testbed runs, each judged with residuals of the '
             'other repeat) x %d limits; the real pause met the limit in '
             '%d' % (res['runs'], len(limits), res['oracle']),
             '  %-11s %7s %5s %9s %8s %8s %7s' % (
                 'policy', 'allowed', 'viol', 'realised', 'nominal',
                 '/oracle', 'beyond')]
    for p in res['points']:
        lines.append('  %-11s %7d %5d %8.2f%% %7.2f%% %7.1f%% %6.2f%%' % (
            'qslm@%g' % p['confidence'], p['allowed'], p['sla_violations'],
            100 * p['realised_rate'], 100 * (1 - p['confidence']),
            100 * p['of_oracle'], 100 * p['beyond_bound']))
    lines.append('  (realised: SLA violations per allowed request; beyond: '
                 'share of the runs whose real pause exceeded the bound '
                 'held, the calibration against 1 - c)')
    return '\n'.join(lines)
