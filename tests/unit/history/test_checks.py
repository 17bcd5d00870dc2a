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

"""A history pair is checked before it is refitted or learnt from."""

import copy
import datetime
import json
import math

from oslotest import base

from qslm_nova.history import checks
from qslm_nova.history import join
from qslm_nova.history import notifications
from qslm_nova.history import refit
from qslm_nova.risk import from_history
from qslm_nova.testbed import model
from tests.unit import fixtures as fx
from tests.unit.history import test_refit

NOW = datetime.datetime(2026, 12, 6, tzinfo=datetime.timezone.utc)


def published_pair():
    """A pair as the scheduler and an agent publish it."""
    d = fx.decide_one(fx.make_engine(), 'dst')
    estimate = json.loads(json.dumps(notifications.estimate_payload(
        d, 'vm-1', 'src', NOW, migration_id=7)))
    measured = {'migration_id': '7', 'instance_uuid': 'vm-1',
                'destination_host': 'dst', 'role': 'destination',
                'outcome': 'completed', 'downtime_ms': 61.0,
                'figures': {'total_ms': 9000.0}}
    return join.Pair(estimate, measured)


def changed(pair, where, value):
    """A copy of *pair* with the field at *where* (a path) set."""
    pair = join.Pair(copy.deepcopy(pair.estimate),
                     copy.deepcopy(pair.measured))
    side, *keys = where
    node = getattr(pair, side)
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return pair


class TestChecks(base.BaseTestCase):

    def test_published_and_simulated_pairs_are_usable(self):
        pair = published_pair()
        self.assertIsNone(checks.problem(pair))
        # ... and the refit runs on it.
        self.assertEqual(3, len(refit.estimate_pair(pair, model.Fitted())))
        estimates, measured = test_refit.history(6)
        pairs = [join.Pair(e, m) for e, m in zip(estimates, measured)]
        self.assertEqual((pairs, []), checks.usable(pairs))

    def test_every_bad_field_is_named(self):
        pair = published_pair()
        cases = [
            (('estimate', 'expected_downtime_ms'), 10 ** 400,
             'estimate.expected_downtime_ms is too large'),
            (('estimate', 'expected_downtime_ms'), None,
             'estimate.expected_downtime_ms is missing'),
            (('estimate', 'total_time_s'), math.inf,
             'estimate.total_time_s is not finite'),
            (('estimate', 'inputs'), [1, 2],
             'estimate inputs is not a mapping'),
            (('estimate', 'inputs', 'memory_mb'), 'x',
             'estimate inputs.memory_mb is not a number (str)'),
            (('estimate', 'inputs', 'memory_mb'), 0,
             'estimate inputs.memory_mb is not positive'),
            (('estimate', 'inputs', 'bandwidth_gbps'), True,
             'estimate inputs.bandwidth_gbps is not a number (bool)'),
            (('estimate', 'inputs', 'rtt_ms'), -1.0,
             'estimate inputs.rtt_ms is negative'),
            (('estimate', 'inputs', 'cpu_load'), 1e13,
             'estimate inputs.cpu_load is over 1e+12'),
            (('estimate', 'inputs', 'mechanism'), 'tls',
             'estimate inputs.mechanism is not a mapping'),
            (('estimate', 'inputs', 'mechanism', 'name'), {'a': 1},
             'estimate inputs.mechanism.name is not a text'),
            (('estimate', 'inputs', 'mechanism', 'crypto_gbps_per_core'),
             0.0, 'estimate inputs.mechanism.crypto_gbps_per_core is '
             'not positive'),
            (('estimate', 'inputs', 'libvirt', 'downtime_steps'), 2.5,
             'estimate inputs.libvirt.downtime_steps is not an integer'),
            (('estimate', 'inputs', 'libvirt', 'permit_post_copy'), 'yes',
             'estimate inputs.libvirt.permit_post_copy is not true or '
             'false'),
            (('estimate', 'inputs', 'libvirt', 'timeout_action'), 'x' * 300,
             'estimate inputs.libvirt.timeout_action is not a short text'),
            (('estimate', 'inputs', 'libvirt', 'downtime_steps'), 10 ** 15,
             'estimate inputs.libvirt.downtime_steps is not from 1 to '
             '10000'),
            (('estimate', 'inputs', 'libvirt', 'parallel_connections'), 0,
             'estimate inputs.libvirt.parallel_connections is not from 1 '
             'to 1000000000000'),
            (('estimate', 'inputs', 'libvirt', 'timeout_action'), 'explode',
             'estimate inputs.libvirt.timeout_action is not one of abort, '
             'force_complete'),
            (('estimate', 'inputs', 'mechanism', 'buffered_mb'), None,
             'estimate inputs.mechanism.buffered_mb is missing'),
            (('estimate', 'inputs', 'libvirt', 'no_such_option'), 1,
             'estimate inputs.libvirt.no_such_option is not a libvirt '
             'option'),
            (('measured', 'downtime_ms'), math.nan,
             'measured.downtime_ms is not finite'),
            (('measured', 'figures'), 'fast',
             'measured figures is not a mapping'),
            (('measured', 'figures', 'total_ms'), -5,
             'measured figures.total_ms is negative'),
        ]
        for where, value, want in cases:
            bad = changed(pair, where, value)
            self.assertEqual(want, checks.problem(bad), where)
            good, skipped = checks.usable([pair, bad])
            self.assertEqual(([pair], [(bad, want)]), (good, skipped))
            # Learning from it skips it too, never raises.
            from_history.history_residuals([bad])


class TestHostileFiles(base.BaseTestCase):

    def test_join_never_raises_on_what_a_file_may_hold(self):
        estimates, measured = test_refit.history(4)
        e, m = estimates[0], measured[0]
        hostile = [
            dict(e, decided_at='not a time'),
            dict(e, migration_id=True),
            dict(e, destination_host=['cmp-4']),
            dict(e, decided_at=5),
        ]
        # A text that is no time can be matched (it orders first); the
        # others cannot, and a file's line holding one is unreadable.
        self.assertTrue(join.well_formed(hostile[0]))
        for payload in hostile[1:] + ['text', [1], None]:
            self.assertFalse(join.well_formed(payload), payload)
        # A time that is no time orders first and matches nothing.
        history = join.History(
            estimates=[dict(e, decided_at='not a time'), e],
            measured=[dict(m, ended_at='garbage', migration_id=None), m])
        pairs, alone = join.join(history)
        self.assertEqual([e], [p.estimate for p in pairs])
        self.assertEqual(1, len(alone))
