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

"""Per-request glue between Nova's scheduler objects and the core.

Nova does not mark a RequestSpec as a live migration. The instance tells:
its task state is ``migrating`` while the conductor asks the scheduler
for a live-migration destination, and its ``host`` is the source. Other
moves show the same way (:data:`MOVE_STATES`): ``resize_prep`` for a
cold migration or resize, ``rebuilding`` for an evacuation (an in-place
rebuild, also ``rebuilding``, is marked by Nova's ``_nova_check_type``
hint and skipped), ``unshelving`` for an unshelve; with ``[qslm]
check_non_live_moves`` they get the trust judgement of
:mod:`qslm_nova.moves`. The
decisions for every host of one request are computed once and kept on the
RequestSpec object itself (a private attribute that is never serialised),
so the filter and the weigher of the same request share them and no
global cache is needed.
"""

import bisect
import collections.abc
import itertools
import operator
import threading

from nova.compute import task_states
from nova import context as nova_context
from nova import exception as nova_exc
from nova import objects
from nova.scheduler import utils as sched_utils
from nova import utils as nova_utils
import numpy as np
from oslo_log import log as logging

from qslm_nova import conf as qslm_conf
from qslm_nova import decision
from qslm_nova import moves
from qslm_nova import policy
from qslm_nova.scheduler import host_info as host_info_mod

LOG = logging.getLogger(__name__)
CONF = qslm_conf.CONF

_ATTR = '_qslm_request'
COLD_STATES = (task_states.RESIZE_PREP,)
#: The task state of an instance while the scheduler picks the host of
#: each non-live move.
MOVE_STATES = {task_states.RESIZE_PREP: moves.MoveKind.COLD,
               task_states.REBUILDING: moves.MoveKind.EVACUATION,
               task_states.UNSHELVING: moves.MoveKind.UNSHELVE}


class Decided(collections.abc.Mapping):
    """The decisions of one request by host name.

    The filter and the weigher read only ``allowed`` and ``weight``
    (lists, one entry per decided host, in the order decided); the full
    :class:`~qslm_nova.decision.Decision` of a host is built when looked
    up here (for log lines and the CLI's explanations). The map from host
    name to position is built only when something looks a host up by
    name: the weigher normally gets exactly the hosts that passed the
    filter (see :meth:`passed_weights`).
    """

    def __init__(self):
        self.allowed = []
        self.weight = []       # the score where allowed, else -1
        self._names = []
        self._starts = []
        self._batches = []
        self._position = None
        self._lock = threading.Lock()
        # The last batch's hosts and how many of them are allowed.
        self._last = None

    def add(self, hosts, made, host_states=None):
        """Record the Decisions of these hosts; returns their first position.

        :param host_states: the HostStates decided, in the same order as
            the names in ``hosts`` (for :meth:`passed_weights`).
        """
        start = len(self.allowed)
        allowed = getattr(made, 'allowed', None)
        if allowed is None:
            # A plain list of Decisions (not from Engine.decide).
            allowed = [d.allowed for d in made]
            weight = [d.score if d.allowed else -1.0 for d in made]
            count = sum(allowed)
        else:
            count = int(np.count_nonzero(allowed))
            weight = np.where(allowed, made.score, -1.0).tolist()
            allowed = allowed.tolist()
        with self._lock:
            if self._position is not None:
                self._position.update(zip(hosts, range(start,
                                                       start + len(hosts))))
            self._names.extend(hosts)
            self.allowed.extend(allowed)
            self.weight.extend(weight)
            self._starts.append(start)
            self._batches.append(made)
            self._last = (None if host_states is None else
                          (host_states, start, count))
        return start

    @property
    def position(self):
        """{host name: position in ``allowed``/``weight``}."""
        pos = self._position
        if pos is None:
            with self._lock:
                pos = self._position
                if pos is None:
                    pos = dict(zip(self._names, range(len(self._names))))
                    self._position = pos
        return pos

    def passed_weights(self, host_states):
        """The weights of these hosts if they are exactly those of the last
        batch that were allowed, in order (the filter's result); else None.
        """
        last = self._last
        if last is None:
            return None
        hosts, start, count = last
        if len(host_states) != count:
            return None
        end = start + len(hosts)
        allowed = self.allowed[start:end]
        if not all(map(operator.is_, itertools.compress(hosts, allowed),
                       host_states)):
            return None
        return list(itertools.compress(self.weight[start:end], allowed))

    def lookup(self, host_states):
        """(allowed, weight) lists of these decided hosts, by name."""
        position = self.position
        at = [position[h.host] for h in host_states]
        allowed, weight = self.allowed, self.weight
        return [allowed[i] for i in at], [weight[i] for i in at]

    def __getitem__(self, host):
        at = self.position[host]
        k = bisect.bisect_right(self._starts, at) - 1
        return self._batches[k][at - self._starts[k]]

    def __contains__(self, host):
        return host in self.position

    def __iter__(self):
        return iter(self.position)

    def __len__(self):
        return len(self._names)


class RequestState:
    """What one scheduling request knows: applicable or not, decisions."""

    def __init__(self, instance_uuid, applicable, why, request=None,
                 move=None):
        self.instance_uuid = instance_uuid
        self.applicable = applicable
        self.why = why
        self.request = request
        #: a moves.MoveKind; None for a live migration.
        self.move = move
        self.decisions = Decided()
        self.lock = threading.Lock()
        self.error = None
        self.context = None


def _lookup_instance(spec_obj):
    ctx = getattr(spec_obj, '_context', None) or \
        nova_context.get_admin_context()
    ctx = ctx.elevated() if hasattr(ctx, 'elevated') else ctx
    mapping = objects.InstanceMapping.get_by_instance_uuid(
        ctx, spec_obj.instance_uuid)
    with nova_context.target_cell(ctx, mapping.cell_mapping) as cctx:
        return objects.Instance.get_by_uuid(
            cctx, spec_obj.instance_uuid,
            expected_attrs=['metadata', 'system_metadata', 'flavor'])


def _build(spec_obj):
    uuid = spec_obj.instance_uuid
    if not uuid:
        return RequestState(uuid, False, 'no instance')
    if sched_utils.request_is_rebuild(spec_obj):
        # The instance stays on its host (same task state as evacuate).
        return RequestState(uuid, False, 'rebuild')
    try:
        instance = _lookup_instance(spec_obj)
    except (nova_exc.InstanceNotFound, nova_exc.InstanceMappingNotFound):
        # A boot: the instance is still a build request, not in a cell.
        return RequestState(uuid, False, 'new instance (boot)')
    state = instance.task_state
    move = None
    if state == task_states.MIGRATING:
        kind = 'live migration'
    elif state in COLD_STATES and CONF.qslm.apply_to_cold_migrations:
        kind = 'cold migration/resize'
    elif state in MOVE_STATES and CONF.qslm.check_non_live_moves:
        move = MOVE_STATES[state]
        kind = move.value
    else:
        return RequestState(uuid, False, 'task state %s' % state)
    flavor = spec_obj.flavor if 'flavor' in spec_obj and spec_obj.flavor \
        else instance.flavor
    request = decision.MigrationRequest.for_instance(
        instance, nova_utils.SM_IMAGE_PROP_PREFIX, flavor)
    return RequestState(uuid, True, kind, request, move)


def request_state(spec_obj):
    """Return the RequestState of this RequestSpec, building it once."""
    rs = getattr(spec_obj, _ATTR, None)
    if rs is not None:
        return rs
    try:
        rs = _build(spec_obj)
    except Exception as e:
        # Never let a lookup failure crash the scheduler; the filter
        # applies the fail-closed rule to it.
        LOG.exception('QSLM cannot inspect instance %s',
                      getattr(spec_obj, 'instance_uuid', None))
        rs = RequestState(getattr(spec_obj, 'instance_uuid', None), None,
                          'instance look-up failed: %s' % e)
        rs.error = 'instance look-up failed: %s' % e
    rs.context = getattr(spec_obj, '_context', None)
    setattr(spec_obj, _ATTR, rs)
    return rs


def flavor_demands(spec_obj):
    """True if the request's flavor asks for security or downtime limits.

    Used when the instance cannot be looked up: its requirements may still
    be read from the RequestSpec's flavor, and then the request fails
    closed whatever ``[qslm] fail_closed`` says.
    """
    flavor = getattr(spec_obj, 'flavor', None)
    specs = dict(getattr(flavor, 'extra_specs', None) or {})
    pol = policy.policy_without_topology(
        policy.Defaults.from_conf(CONF.qslm), specs)
    return pol.demanding


class _LazyHostInfo(collections.abc.Mapping):
    """{host: host info} computed only for the hosts a provider reads.

    Most requests need no trust at all, and the static and Keylime
    providers never read it: building it for 10,000 hosts up front cost
    more than the decision.
    """

    def __init__(self, host_states, ctx):
        self._host_states = host_states
        self._by_name = None
        self._ctx = ctx
        self._done = {}
        self._traits = None

    @property
    def _states(self):
        if self._by_name is None:
            self._by_name = {h.host: h for h in self._host_states}
        return self._by_name

    def __getitem__(self, host):
        info = self._done.get(host)
        if info is None:
            if self._traits is None:
                self._traits = host_info_mod.traits_wanted()
            state = self._states.get(host)
            if state is not None:
                info = host_info_mod.for_host_state(state, self._ctx,
                                                    self._traits)
            else:
                # Not a candidate (the source of the move): read it from
                # Nova's databases, as the API pre-check does.
                info = host_info_mod.for_host_names(
                    self._ctx, [host], self._traits)[host]
            self._done[host] = info
        return info

    def __iter__(self):
        return iter(self._states)

    def __len__(self):
        return len(self._states)


_HOST = operator.attrgetter('host')
#: The Engine of this scheduler process, shared by filter and weigher.
ENGINES = decision.EngineCache()


def screen(rs, host_states):
    """(allowed, weight) lists aligned with host_states.

    The decisions are computed once per request and host: the first call
    (the filter) decides all its hosts in one batch, later calls (the
    weigher, on the hosts that passed) only look them up.
    """
    if not host_states:
        return [], []
    with rs.lock:
        decided = rs.decisions
        if decided:
            weight = decided.passed_weights(host_states)
            if weight is not None:
                # The weigher on the hosts that passed the filter.
                return [True] * len(weight), weight
            position = decided.position
            missing = [h for h in host_states if h.host not in position]
            if not missing:
                # All decided before (the weigher after the filter).
                return decided.lookup(host_states)
        else:
            missing = host_states
        names = list(map(_HOST, missing))
        try:
            engine = ENGINES.get(CONF)
            info = _LazyHostInfo(missing, rs.context)
            if rs.move is None:
                made = engine.decide(rs.request, names, info)
            else:
                made = moves.decide_move(engine, rs.request, rs.move, names,
                                         info)
        except Exception as e:
            LOG.exception('QSLM decision failed for instance %s',
                          rs.instance_uuid)
            made = []
            for name in names:
                d = decision.Decision(name)
                d.deny('decision could not be computed: %s' % e)
                made.append(d)
        start = decided.add(names, made, missing)
        if missing is host_states:
            # One batch for exactly these hosts, in this order.
            return decided.allowed[start:], decided.weight[start:]
        return decided.lookup(host_states)


def decide(rs, host_states):
    """The full Decisions of these hosts (built on demand)."""
    screen(rs, host_states)
    decided = rs.decisions
    return [decided[h.host] for h in host_states]
