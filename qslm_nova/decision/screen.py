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

"""Screen every candidate before the estimate, as numpy arrays.

Each candidate leaves the running at its first failing check
(:class:`Stage`): not in the topology, the source itself, not trusted
(when the policy requires trust), no path, no acceptable transport. The
rest are planned: estimated, judged and scored together. Reasons are
only formatted when a Decision is built.
"""

import dataclasses
import enum

import numpy as np

from qslm_nova.decision import options as options_mod


class Stage(enum.IntEnum):
    """Where a candidate left the running (PLANNED: it did not)."""

    PLANNED = 0
    UNKNOWN_HOST = 1
    SOURCE_HOST = 2
    UNTRUSTED = 3
    NO_PATH = 4
    NO_OPTION = 5


class SourceUntrusted(Exception):
    """The source host fails the trust check: every candidate is denied.
    """

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass
class Screening:
    """What screening found, as arrays over the candidates.

    ``planned`` are the candidates' numbers that go on to the estimate;
    the ``planned_*`` arrays are aligned with it.
    """

    stage: np.ndarray
    known: np.ndarray
    from_secure: np.ndarray      # the path comes from the secure search
    secure: object               # search over links >= the required level
    any_level: object            # search over every link
    required_level: str
    trust: object = None         # trust verdicts (source first), or None
    trust_row: np.ndarray = None  # each candidate's row in ``trust``
    planned: np.ndarray = None
    planned_row: np.ndarray = None   # candidate -> row in planned, or -1
    planned_hosts: np.ndarray = None  # topology host numbers
    planned_on_secure: np.ndarray = None
    planned_option_key: np.ndarray = None
    key_options: list = None
    facts: object = None         # hostfacts.RequestFacts, or None


def screen(candidates, topo, pol, src, trust, now, host_info, memo,
           facts=None):
    """Screen the candidates of one request.

    :param src: the source Host of the topology.
    :param trust: the TrustEvaluator, asked only when the policy requires
        trust.
    :param memo: the engine's :class:`options.OptionsMemo`.
    :param facts: the request's :class:`hostfacts.RequestFacts` (what the
        source sends and each candidate receives); None: the topology
        file's lists.
    :raises SourceUntrusted: the source fails the trust check.
    """
    n = len(candidates)
    pos = topo.host_positions(candidates)
    stage = np.full(n, Stage.PLANNED, dtype=np.int8)
    known = pos >= 0
    stage[~known] = Stage.UNKNOWN_HOST
    src_i = topo.host_index[src.name]
    is_src = known & (pos == src_i)
    stage[is_src] = Stage.SOURCE_HOST
    live = known & ~is_src
    trust_verdicts = trust_row = None
    if pol.require_trusted_host:
        trust_verdicts, trust_row, live = _trust(
            candidates, topo, src, src_i, pos, known, live, stage, trust,
            now, host_info)
    secure = topo.widest_paths(src.name, pol.min_link_security)
    any_level = (secure if pol.min_link_security == 0 else
                 topo.widest_paths(src.name, 0))
    found = Screening(stage, known, np.zeros(n, dtype=bool), secure,
                      any_level, topo.level_name(pol.min_link_security),
                      trust_verdicts, trust_row)
    found.facts = facts
    _paths_and_options(found, topo, pol, src, pos, live, memo, facts)
    return found


def _trust(candidates, topo, src, src_i, pos, known, live, stage, trust,
           now, host_info):
    """Ask the trust providers about the source and the known candidates.

    :returns: (verdicts, each candidate's row in them, live candidates
        left)
    """
    n = len(candidates)
    at = np.nonzero(known)[0]
    names = [src.name] + (candidates if len(at) == n else
                          [candidates[i] for i in at.tolist()])
    verdicts = trust.screen(
        names, topo, now, host_info,
        index=np.concatenate(([src_i], pos[at])).astype(np.intp))
    if not verdicts.ok[0]:
        raise SourceUntrusted(verdicts.reason(0))
    row = np.full(n, -1, dtype=np.intp)
    row[at] = np.arange(1, len(at) + 1)
    trusted = np.zeros(n, dtype=bool)
    trusted[at] = verdicts.ok[1:]
    stage[live & ~trusted] = Stage.UNTRUSTED
    return verdicts, row, live & trusted


def _paths_and_options(found, topo, pol, src, pos, live, memo, facts):
    """The path of every live candidate (the secure one if any, else the
    weak one, else none) and its transport options.
    """
    stage = found.stage
    rows = np.nonzero(live)[0]
    hosts = pos[rows]
    on_secure = found.secure.reach[hosts]
    weak = ~on_secure & found.any_level.reach[hosts]
    stage[rows[~on_secure & ~weak]] = Stage.NO_PATH
    keep = on_secure | weak
    rows, hosts = rows[keep], hosts[keep]
    on_secure, weak = on_secure[keep], weak[keep]
    found.from_secure[rows] = on_secure
    # Transport options depend only on the destination's mechanisms and,
    # on a weak path, on the levels and link mechanisms of its links (the
    # search's pattern): one list per distinct pair. (The topology's
    # pattern list only grows; this search's numbers are all below its
    # length.)
    npat = len(found.any_level.patterns) + 1
    if facts is None:
        mset, sets = topo.host_mechanism_set[hosts], topo.mechanism_sets
        sends = src.mechanisms
    else:
        mset, sets = facts.mechanism_sets(hosts)
        sends = facts.send
    weak_pattern = np.where(weak, found.any_level.pattern[hosts], -1)
    key = mset * npat + weak_pattern + 1
    _keys, first, key_of = np.unique(key, return_index=True,
                                     return_inverse=True)
    seen = memo.for_topology(topo)
    rules = (sends, pol.allowed_mechanisms, pol.require_encryption,
             pol.min_link_security)
    key_options = []
    for m, p in zip(mset[first].tolist(), weak_pattern[first].tolist()):
        # Keyed by the set itself: a request's published profiles may add
        # sets the topology does not number.
        k = (rules, sets[m], p)
        options = seen.get(k)
        if options is None:
            options = seen[k] = tuple(options_mod.transport_options(
                topo.mechanisms, pol, sends, sets[m],
                None if p < 0 else found.any_level.patterns[p]))
        key_options.append(options)
    none = np.array([not o for o in key_options], dtype=bool)[key_of]
    stage[rows[none]] = Stage.NO_OPTION
    plan = ~none
    found.planned = rows[plan]
    found.planned_row = np.full(len(stage), -1, dtype=np.intp)
    found.planned_row[found.planned] = np.arange(len(found.planned))
    found.planned_hosts = hosts[plan]
    found.planned_on_secure = on_secure[plan]
    found.planned_option_key = key_of[plan]
    found.key_options = key_options
