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

"""Whether a history pair can be refitted and learnt from.

The history comes off the message bus and out of files an operator
collected: a record may be from another release, damaged, or made up.
Before the refit runs the model again on an estimate's inputs, and
before its ratio joins the residuals, every field either reads is
checked here; a pair that fails is skipped, with the field named.
"""

import dataclasses
import math

from qslm_nova.estimator import settings

#: No figure of a migration is this large (ms, MiB, Gbit/s...).
LARGEST = 1e12
#: Longest text a libvirt option may hold.
LONGEST_TEXT = 255

#: The estimate's inputs: (field, must be above 0 (else >= 0), may be
#: absent).
INPUTS = (('memory_mb', True, False), ('touched_mb', False, True),
          ('disk_gb', False, True), ('dirty_rate_mibps', False, False),
          ('bandwidth_gbps', True, False), ('rtt_ms', False, False),
          ('cpu_load', False, False), ('streams', True, True),
          ('working_set_mb', True, True), ('fixed_pause_ms', False, True))
#: The estimate's own figures: (field, may be absent).
ESTIMATE = (('expected_downtime_ms', False), ('worst_downtime_ms', True),
            ('race_downtime_ms', True), ('total_time_s', True))
#: The mechanism's cost fields, each absent or a number >= 0.
MECHANISM = ('overhead_bytes_per_packet', 'handshake_rtts', 'buffered_mb')
_LIBVIRT = {f.name: type(f.default)
            for f in dataclasses.fields(settings.LibvirtSettings)}
#: Integer libvirt options: (smallest, largest).
INTEGER_RANGES = {'downtime_steps': (1, settings.MAX_DOWNTIME_STEPS),
                  'parallel_connections': (1, int(LARGEST))}


def _number(value, positive=False):
    """None if *value* is a finite number in range, else what it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 'not a number (%s)' % type(value).__name__
    try:
        number = float(value)
    except OverflowError:
        return 'too large'
    if not math.isfinite(number):
        return 'not finite'
    if number < 0 or (positive and number == 0):
        return 'not positive' if positive else 'negative'
    if number > LARGEST:
        return 'over %g' % LARGEST
    return None


def _integer(value, smallest, largest):
    """None if *value* is an integer from smallest to largest."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 'not an integer'
    if not smallest <= value <= largest:
        return 'not from %d to %d' % (smallest, largest)
    return None


def _field(mapping, key, where, optional, positive=False):
    """The problem of ``mapping[key]``, naming it as *where*.key."""
    if mapping.get(key) is None:
        return None if optional else '%s.%s is missing' % (where, key)
    wrong = _number(mapping[key], positive)
    return None if wrong is None else '%s.%s is %s' % (where, key, wrong)


def _libvirt(options):
    if not isinstance(options, dict):
        return 'estimate inputs.libvirt is not a mapping'
    for key, value in options.items():
        kind = _LIBVIRT.get(key)
        where = 'estimate inputs.libvirt.%s' % key
        if kind is None:
            return '%s is not a libvirt option' % where
        if kind is bool:
            wrong = None if isinstance(value, bool) else 'not true or false'
        elif kind is str:
            wrong = (None if isinstance(value, str) and
                     len(value) <= LONGEST_TEXT else 'not a short text')
            if wrong is None and key == 'timeout_action' and (
                    value not in settings.TIMEOUT_ACTIONS):
                wrong = 'not one of %s' % ', '.join(settings.TIMEOUT_ACTIONS)
        elif kind is int:
            wrong = _integer(value, *INTEGER_RANGES.get(key, (0, LARGEST)))
        else:
            wrong = _number(value)
        if wrong:
            return '%s is %s' % (where, wrong)
    return None


def _mechanism(mechanism):
    where = 'estimate inputs.mechanism'
    if not isinstance(mechanism, dict):
        return '%s is not a mapping' % where
    if not isinstance(mechanism.get('name', 'none'), (str, type(None))):
        return '%s.name is not a text' % where
    problems = [_field(mechanism, 'crypto_gbps_per_core', where, True,
                       positive=True)]
    # The refit reads these as numbers when they are there at all.
    problems += [_field(mechanism, key, where, key not in mechanism)
                 for key in MECHANISM]
    return next((p for p in problems if p), None)


def _estimate(estimate):
    problems = [_field(estimate, key, 'estimate', optional)
                for key, optional in ESTIMATE]
    inputs = estimate.get('inputs')
    if not isinstance(inputs, dict):
        return next((p for p in problems if p),
                    'estimate inputs is not a mapping')
    problems += [_field(inputs, key, 'estimate inputs', optional, positive)
                 for key, positive, optional in INPUTS]
    problems += [_mechanism(inputs.get('mechanism')),
                 _libvirt(inputs.get('libvirt'))]
    return next((p for p in problems if p), None)


def _measured(measured):
    wrong = _field(measured, 'downtime_ms', 'measured', False)
    if wrong:
        return wrong
    figures = measured.get('figures')
    if figures is None:
        return None
    if not isinstance(figures, dict):
        return 'measured figures is not a mapping'
    return _field(figures, 'total_ms', 'measured figures', True)


def problem(pair):
    """What makes *pair* unusable (a phrase naming the field), or None.
    """
    return _estimate(pair.estimate) or _measured(pair.measured)


def usable(pairs):
    """(the pairs without a problem, [(pair, its problem), ...])."""
    good, skipped = [], []
    for pair in pairs:
        wrong = problem(pair)
        if wrong is None:
            good.append(pair)
        else:
            skipped.append((pair, wrong))
    return good, skipped
