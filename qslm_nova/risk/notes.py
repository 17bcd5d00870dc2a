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

"""What a decision says of its risk: the note on how the pause held
against its limit was found, and the fields the engine's builder writes
(:func:`explain`), from an :class:`~qslm_nova.risk.assess.Assessment`.
"""

import numpy as np

from qslm_nova.risk import conformal
from qslm_nova.risk import regimes as regimes_mod


def describe(risk, j):
    """A note on how candidate j's held pause was found (*risk*: its
    :class:`~qslm_nova.risk.assess.Assessment`).
    """
    text = _own(risk, j)
    if risk.error is None:
        text += _race(risk, j)
    return text


def _race(risk, j):
    """How candidate j's race pause is held too, or ''."""
    g = risk.race_member[j]
    if g < 0 or not risk.calibrates:
        return ''
    group, bound = risk.groups[g], risk.bounds[g]
    held = risk.race_held_ms()[j]
    how = ('x %.2f (bound of %d measured %s runs)' % (
        bound, group.runs, group.name) if np.isfinite(bound) else
        'past what the %d measured %s runs show, the worst case' % (
            group.runs, group.name))
    return ('; expected to end %.2f s in, it may still stop before '
            "Nova's late first step: %.1f ms, its pause if it does, "
            '%s = %.1f ms%s' % (
                risk.total_s[j], risk.race_ms[j], how, held,
                ', held' if held >= risk.held_ms()[j] else ''))


def _own(risk, j):
    """How candidate j's own group holds its pause."""
    if risk.error is not None:
        return ('residuals unavailable (%s): the worst case is held'
                % risk.error)
    group = risk.groups[risk.member[j]]
    if risk.outside[j]:
        near = risk.near[risk.member[j]]
        return ('the guest dirties %.1f %% of its path\'s bandwidth, '
                'more than any of the %d measured %s runs (at most '
                '%.1f %%): outside the data, the worst case is held'
                % (100.0 * risk.share[j], near.runs, near.name,
                   100.0 * near.share_max))
    if risk.beyond_data(j) and (risk.post_copy[j] or risk.forced[j]):
        what = (('a post-copy switch', 'switches',
                 regimes_mod.POST_COPY_POOL) if risk.post_copy[j] else
                ("Nova's forced pause", 'forced pauses',
                 regimes_mod.FORCED_PAUSE_POOL))
        own = risk.table().groups.get(what[2])
        return ('%s: sla_confidence %g needs %d measured %s, %d are '
                'known: the worst case is held' % (
                    what[0], risk.confidence,
                    conformal.runs_needed(risk.confidence), what[1],
                    own.runs if own else 0))
    if risk.beyond_data(j):
        return ('sla_confidence %g needs %d measured runs, %d %s runs '
                'are known: the worst case is held' % (
                    risk.confidence,
                    conformal.runs_needed(risk.confidence),
                    group.runs, group.name))
    bound = risk.bounds[risk.member[j]]
    floor = risk.floors[risk.member[j]]
    base = ('expected' if not risk.raced[j] else
            "%.1f ms, its pause if it stops before Nova's first "
            'downtime step lands,' % risk.expected_ms[j])
    if floor is not None:
        # A finer group's own runs hold more than the pool's bound.
        return ('pause held at %g confidence: %s x %.2f (%s of '
                '%d measured %s runs, over the bound of %d %s runs%s)'
                % (risk.confidence, base, bound,
                   'largest' if bound == floor.ratios[-1] else 'bound',
                   floor.runs, floor.name, group.runs, group.name,
                   _load(risk, j)))
    return ('pause held at %g confidence: %s x %.2f (bound of '
            '%d measured %s runs%s)' % (
                risk.confidence, base, bound, group.runs, group.name,
                _load(risk, j)))


def _load(risk, j):
    """Why candidate j is in the groups of loaded hosts, or ''."""
    table = risk.table()
    if not table.loaded(risk.cpu_load[j]):
        return ''
    return ('; the busier host runs %.2f threads per CPU, loaded '
            'from %g' % (risk.cpu_load[j], table.loaded_cpu_load))


def explain(d, risk, j, held_ms):
    """Write candidate j's risk into its Decision d (the engine's
    builder calls it after the verdict).
    """
    p = float(risk.exceed_probability()[j])
    if risk.max_downtime_ms is not None and not np.isnan(p):
        d.exceed_probability = p
    if d.limit_ms is not None:
        d.budget_left_ms = d.limit_ms - held_ms
    if d.allowed and risk.terms.priced:
        d.expected_loss = float(risk.expected_loss()[j])
    if risk.calibrates and (d.allowed or d.limit_ms is not None):
        d.note(risk.describe_bound(j))
    elif risk.error is not None:
        d.note('no breach probability: residuals unavailable (%s)'
               % risk.error)
