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

"""Fuzzing every qslm: key in flavors, images and instance metadata.

Properties (issue 15): no value raises anything but the policy's own
error, every error names its key in a short message, Nova's flavor API
refuses exactly what the policy refuses, the decision engine never
raises, no image property or metadata value makes a host allowed that
the flavor-only policy denies, and the ledger's arithmetic stays within
its bounds whatever the dates, periods and amounts.
"""

import datetime

from hypothesis import strategies as st
from nova.api.validation.extra_specs import validators
from nova import exception as nova_exc

from qslm_nova import exception
from qslm_nova import policy
from qslm_nova import policy_values as limits
from tests.fuzz import base
from tests.fuzz import strategies as hostile
from tests.unit import fixtures as fx

MECHANISMS = ('none', 'tls', 'ssh', 'ipsec')
BOOL_WORDS = ('true', 'false', 'True', 'NO', 'yes', 'on', 'off', '1', '0',
              't', 'F')
ALL_KEYS = policy.FLAVOR_KEYS + policy.LEDGER_KEYS
HOSTS = tuple(fx.cloud_doc()['hosts'])
# A message may list the known keys (a fixed text); beyond that list it
# must stay short whatever the input.
MAX_MESSAGE = 250 + len(', '.join(policy.FLAVOR_KEYS))


def _ints(low, high):
    return st.one_of(st.integers(low, high), st.sampled_from((low, high)))


def _valid(key):
    """Values of ``key`` that the policy accepts (mostly)."""
    if key in (policy.MAX_DOWNTIME, policy.BUDGET):
        return hostile.padded(_ints(0, limits.MAX_MS).map(str))
    if key == policy.PERIOD_DAYS:
        return _ints(1, limits.MAX_PERIOD_DAYS).map(str)
    if key in (policy.REQUIRE_TRUSTED, policy.REQUIRE_ENCRYPTION):
        return st.sampled_from(BOOL_WORDS)
    if key == policy.MIN_LINK_SECURITY:
        return st.sampled_from(policy.DEFAULT_LEVELS + ('secret',))
    if key == policy.ALLOWED_MECHANISMS:
        return st.lists(st.sampled_from(MECHANISMS), min_size=1,
                        max_size=4).map(','.join)
    if key == policy.DIRTY_RATE:
        return st.one_of(
            st.floats(0, limits.MAX_DIRTY_RATE).map(lambda f: '%.3f' % f),
            _ints(0, 4096).map(str))
    if key == policy.LEDGER_USED:
        return _ints(0, limits.MAX_LEDGER_MS).map(str)
    return st.dates().map(datetime.date.isoformat)     # LEDGER_START


#: Valid and hostile values of each key (built once: building
#: strategies costs more than drawing from them).
VALUES = {key: st.one_of(_valid(key), _valid(key), hostile.hostile_scalars())
          for key in ALL_KEYS}
#: The same as Nova's flavor API hands them to a validator: text (JSON
#: numbers become str(number)) of at most 255 characters.
API_VALUES = {key: VALUES[key].map(
    lambda v: v if isinstance(v, str) else str(v)).filter(
        lambda v: len(v) <= limits.MAX_VALUE_CHARS)
    for key in policy.FLAVOR_KEYS}
_KNOWN = st.sampled_from(ALL_KEYS)
#: The qslm keys, misspelt ones and strangers.
KEYS = st.one_of(
    _KNOWN, _KNOWN, _KNOWN.map(str.upper), _KNOWN.map(lambda k: ' ' + k),
    _KNOWN.map(lambda k: k + '\u00a0'),
    st.text(max_size=12).map(lambda t: policy.PREFIX + t),
    st.text(max_size=12))


def _entry(key_set):
    """(key, value) pairs: mostly keys of key_set, some of KEYS."""
    key = st.one_of(st.sampled_from(key_set), st.sampled_from(key_set), KEYS)
    return key.flatmap(lambda k: st.tuples(
        st.just(k), VALUES.get(k, hostile.hostile_scalars())))


def specs(key_set=ALL_KEYS, max_size=4):
    """A dict of qslm keys (and others) with valid and hostile values."""
    return st.lists(_entry(key_set), max_size=max_size).map(dict)


class TestFuzzPolicyValues(base.FuzzTestCase):

    def assertShortMessage(self, text, key=None):
        self.assertLess(len(text), MAX_MESSAGE, text)
        if key is not None and isinstance(key, str) and len(key) < 80:
            self.assertIn(key, text)

    @base.given(3000, key=st.sampled_from(ALL_KEYS), data=st.data(),
                budget_s=90)
    def test_parsers_bound_or_refuse(self, key, data):
        value = data.draw(VALUES[key])
        try:
            if key in policy.SYNTAX:
                parsed = policy.SYNTAX[key](key, value)
            else:
                ledger = policy.parse_ledger({key: value})
                for error in ledger.errors:
                    self.assertShortMessage(error, key)
                parsed = (ledger.used_ms if key == policy.LEDGER_USED
                          else ledger.period_start)
        except exception.PolicyValueError as e:
            self.assertShortMessage(str(e), key)
            return
        if isinstance(parsed, (int, float)) and not isinstance(parsed,
                                                               bool):
            self.assertGreaterEqual(parsed, 0)
            self.assertLessEqual(parsed, limits.MAX_LEDGER_MS)
            self.assertEqual(parsed, parsed)      # not NaN

    @base.given(2000, flavor=specs(), image=specs(), metadata=specs(),
                budget_s=180)
    def test_effective_policy_never_raises(self, flavor, image, metadata):
        for levels in (policy.DEFAULT_LEVELS, ('a',)):
            pol = policy.effective_policy(
                policy.Defaults(), levels, MECHANISMS, flavor, image,
                metadata)
            for text in pol.errors + pol.notes:
                self.assertShortMessage(text)
            self.assertLessEqual(pol.min_link_security, len(levels) - 1)
            self.assertLessEqual(pol.dirty_rate_mibps, limits.MAX_DIRTY_RATE)

    @base.given(1500, key=st.sampled_from(policy.FLAVOR_KEYS),
                data=st.data(), budget_s=90)
    def test_nova_validator_agrees_with_policy(self, key, data):
        # Nova hands the validator text: JSON numbers become str(number).
        value = data.draw(API_VALUES[key])
        try:
            policy.SYNTAX[key](key, value)
            ours = None
        except exception.PolicyValueError as e:
            ours = e
        try:
            validators.validate(key, value)
        except nova_exc.ValidationError as e:
            self.assertIn(key, str(e))
            self.assertShortMessage(str(e))
            return
        self.assertIsNone(ours, 'Nova accepts %s=%r, the policy refuses '
                                'it' % (key, value))


class TestFuzzDecisions(base.FuzzTestCase):

    engine = fx.make_engine()

    def decide(self, flavor, image, metadata):
        req = fx.request(flavor=flavor, image=image, metadata=metadata)
        decisions = self.engine.decide(req, HOSTS)
        out = {}
        for d in decisions:
            for text in d.reasons + d.notes:
                self.assertLess(len(text), 2000, text)
            if not d.allowed:
                self.assertTrue(d.reasons, d)
            out[d.host] = d.allowed
        return out

    @base.given(2000, flavor=specs(policy.FLAVOR_KEYS, 5), image=specs(),
                metadata=specs(), ledger=specs(policy.LEDGER_KEYS, 2),
                budget_s=180)
    def test_never_raises_never_loosens(self, flavor, image, metadata,
                                        ledger):
        metadata = dict(metadata, **ledger)
        flavor_only = self.decide(flavor, {}, ledger)
        full = self.decide(flavor, image, metadata)
        loosened = [h for h in HOSTS if full[h] and not flavor_only[h]]
        self.assertEqual([], loosened, 'image %r / metadata %r allow '
                         'hosts the flavor-only policy denies' % (
                             image, metadata))


class TestFuzzLedger(base.FuzzTestCase):

    @base.given(1500, used=_ints(0, limits.MAX_LEDGER_MS),
                start=st.none() | st.dates(), today=st.dates(),
                days=_ints(1, limits.MAX_PERIOD_DAYS) | st.integers(1),
                budget=_ints(0, limits.MAX_MS),
                downtime=st.floats(0, limits.MAX_LEDGER_MS) |
                _ints(0, limits.MAX_LEDGER_MS))
    def test_arithmetic_in_bounds(self, used, start, today, days, budget,
                                  downtime):
        ledger = policy.Ledger(used, start)
        remaining = ledger.remaining_ms(budget, days, today)
        self.assertTrue(0 <= remaining <= budget, remaining)
        meta = ledger.record(downtime, days, today)
        after = policy.parse_ledger(meta)
        self.assertEqual([], after.errors, meta)
        self.assertLessEqual(after.used_ms, limits.MAX_LEDGER_MS)
        # Recording never frees budget for the same day.
        self.assertLessEqual(after.remaining_ms(budget, days, today),
                             remaining)
