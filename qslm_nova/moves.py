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

"""Moves that are not live migrations: what is judged, and how.

An evacuation, a cold migration or resize and an unshelve place an
existing instance, with its data, on a new host. What protects it there
is the host: a VM that requires trusted hosts must not land on an
unattested one, however it gets there. So for these moves the decision
is about trust only:

* the destination must be trusted (fresh attestation, the configured
  providers and combination) when the instance's policy requires trust;
* for a cold migration or resize the source must be trusted too, as for
  a live migration: it is up and sends the disks;
* an evacuation's source is down and sends nothing; an unshelve has no
  source (the instance comes from its snapshot image);
* a policy that cannot be read (a malformed value) or a topology that
  cannot be loaded while the policy requires trust refuses every host:
  fail closed.

What is not judged, and why: the downtime ledger and SLA (the estimator
models pre-copy live migration; a cold move stops the instance by
definition); link security and transport mechanisms (Nova copies the
disks of a cold migration with its SSH or rsync-over-SSH transport,
encrypted and authenticated; an evacuation moves nothing over the
network from the failed host; an unshelve reads the image from Glance).

Nothing here imports Nova.
"""

import datetime
import enum

import numpy as np

from qslm_nova import decision
from qslm_nova import exception
from qslm_nova import policy as policy_mod


class MoveKind(enum.Enum):
    """A move of an existing instance that is not a live migration."""

    COLD = 'cold migration/resize'
    EVACUATION = 'evacuation'
    UNSHELVE = 'unshelve'

    @property
    def source_sends(self):
        """Does the source host take part (and so need to be trusted)?"""
        return self is MoveKind.COLD


def _all(candidates, allowed, reasons=(), notes=()):
    def make(i):
        d = decision.Decision(candidates[i], allowed, tuple(reasons),
                              tuple(notes))
        d.score = 0.0 if allowed else -1.0
        return d
    return decision.Decisions.uniform(candidates, make, allowed,
                                      0.0 if allowed else -1.0)


def decide_move(engine, req, kind, candidates, host_info=None):
    """Decisions for a non-live move of ``req``'s instance, per candidate.

    :param engine: the :class:`~qslm_nova.decision.Engine` (its topology,
        trust evaluator and defaults).
    :param req: the instance's :class:`~qslm_nova.decision.MigrationRequest`
        (``source_host`` None when there is none).
    :param kind: a :class:`MoveKind`.
    :returns: :class:`~qslm_nova.decision.Decisions`; allowed hosts score
        0 (no margin to rank), denied ones -1.
    """
    candidates = list(candidates)
    now = req.now or datetime.datetime.now(datetime.timezone.utc)
    defaults = engine.settings.defaults
    try:
        topo = engine.topology_source()
    except exception.TopologyError as e:
        pol = policy_mod.policy_without_topology(
            defaults, req.flavor_extra_specs, req.image_props, req.metadata)
        if pol.errors or pol.require_trusted_host:
            return _all(candidates, False, [
                'topology unavailable (%s); the %s of an instance that '
                'requires trusted hosts cannot be checked' % (
                    e.errors[0], kind.value)])
        return _all(candidates, True)
    pol = policy_mod.effective_policy(
        defaults, topo.levels, topo.mechanisms, req.flavor_extra_specs,
        req.image_props, req.metadata)
    notes = tuple(pol.notes)
    if pol.errors:
        return _all(candidates, False, pol.errors, notes)
    if not pol.require_trusted_host:
        return _all(candidates, True, (), notes)
    source = req.source_host if kind.source_sends else None
    names = ([source] if source else []) + candidates
    verdicts = engine.trust.screen(names, topo, now, host_info,
                                   index=topo.host_positions(names))
    first = 1 if source else 0
    if source and not verdicts.ok[0]:
        return _all(candidates, False, [
            'source host %s is not trusted (%s); the instance requires '
            'trusted hosts' % (source, verdicts.reason(0))], notes)
    allowed = np.array(verdicts.ok[first:], dtype=bool)

    def make(i):
        d = decision.Decision.fresh(candidates[i], notes)
        if allowed[i]:
            d.allowed = True
            d.score = 0.0
        else:
            d.deny('host %s is not trusted (%s); the instance requires '
                   'trusted hosts' % (candidates[i],
                                      verdicts.reason(first + i)))
        return d

    return decision.Decisions(candidates, allowed,
                              np.where(allowed, 0.0, -1.0), make)
