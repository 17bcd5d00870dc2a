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

"""The step frontier by violations counted, over many draws of the noise.

Part of the frontier of ``python -m bench.bench_quality`` (issue 20). A
run draws each placement's noise once, so at a handful of violations the
counted step frontier mostly compares luck: the informed policy's best
share at 0 violations is that of whichever margin happened to draw none.
The placements do not depend on the draw (every policy decides before
the noise), so the draw can be repeated without running the requests
again, from what each point saved: its share of the oracle and the
violations it risked (per placement the probability that the noise
takes its pause over the limit, summed).

Per draw, each point counts a Poisson number of violations of mean its
risked; the points of one policy are nested, as their placements nearly
are (a larger margin, or a higher confidence, places a subset of what a
smaller one places, on the same destinations with the same noise): a
point's violations are those of every point that risks less plus a
Poisson number of mean the difference. Then, per draw and per count,
each policy's best share at no more violations counted, the margin or
confidence picked after that draw as :func:`bench.frontier.step_gaps`
picks it; the gaps are averaged over the draws. A sum of small
independent Bernoulli draws is near a Poisson one; QSLM's confidences
may change a request's destination, so their nesting is approximate.
"""

import numpy as np

#: Draws of the noise per frontier.
DRAWS = 100000


def nested_counts(risked, draws, rng):
    """Per draw (rows), the violations counted by each point (columns,
    in the order of *risked*): nested Poisson counts of those means.
    """
    risked = np.asarray(risked, dtype=float)
    order = np.argsort(-risked, kind='stable')
    means = np.append(risked[order], 0.0)
    steps = rng.poisson(np.maximum(means[:-1] - means[1:], 0.0),
                        size=(draws, len(order)))
    # The point that risks least counts only its own step; each point
    # that risks more counts its step and every step after it.
    counts = np.cumsum(steps[:, ::-1], axis=1)[:, ::-1]
    out = np.empty_like(counts)
    out[:, order] = counts
    return out


def _best(counts, shares, cap):
    """Per draw, the best share of the points counting at most cap."""
    return np.max(np.where(counts <= cap, shares[None, :], 0.0), axis=1)


def expected_step_gaps(points, informed, caps, draws=DRAWS, seed=0):
    """{cap: (mean over the draws of the informed policy's best share
    minus QSLM's best share at no more than cap violations counted, in
    points; the share of draws where the informed policy leads by more
    than 3 points; the share where QSLM does)}; {} when a point has no
    risked violations saved.
    """
    if not points or not informed or any(
            'expected_violations' not in p for p in points + informed):
        return {}
    rng = np.random.default_rng(seed)
    ours = (nested_counts([p['expected_violations'] for p in points],
                          draws, rng),
            np.array([p['of_oracle'] for p in points]))
    theirs = (nested_counts([p['expected_violations'] for p in informed],
                            draws, rng),
              np.array([p['of_oracle'] for p in informed]))
    out = {}
    for cap in caps:
        gap = 100.0 * (_best(*theirs, cap) - _best(*ours, cap))
        out[cap] = (float(np.mean(gap)), float(np.mean(gap > 3.0)),
                    float(np.mean(gap < -3.0)))
    return out


def format_gaps(gaps):
    """One line's worth of :func:`expected_step_gaps`."""
    return ', '.join('%g: %+.1f (%.0f/%.0f %%)' % (
        cap, mean, 100 * theirs, 100 * ours)
        for cap, (mean, theirs, ours) in sorted(gaps.items()))
