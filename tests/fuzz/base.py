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

"""The fuzz suite's settings, example budget and test case (see README
in ``tests/fuzz/__init__.py``)."""

import dataclasses
import functools
import os
import random
import sys
import time

import hypothesis
import hypothesis.errors
from oslotest import base
from testtools import content

SEED_ENV = 'QSLM_FUZZ_SEED'
SCALE_ENV = 'QSLM_FUZZ_SCALE'
VERBOSE_ENV = 'QSLM_FUZZ_VERBOSE'
#: Generated inputs the whole suite must run per CI run (issue 15).
MIN_TOTAL_EXAMPLES = 10000
#: One example running longer than this many seconds counts as a hang.
HANG_S = 10.0


def _seed():
    text = os.environ.get(SEED_ENV, '').strip()
    if text:
        return int(text)
    return random.SystemRandom().randrange(2 ** 32)


def _scale():
    text = os.environ.get(SCALE_ENV, '').strip()
    return float(text) if text else 1.0


#: The seed of this run (one per process; tools/run-tests.sh sets one for
#: all workers).
SEED = _seed()
SCALE = _scale()

#: The settings every fuzz property starts from: no per-example deadline
#: (the hang guard below measures instead, without hypothesis' flaky
#: re-runs on a loaded machine), no example database (a run depends on
#: the seed and the code only), health checks that trip on slow shared
#: machines off.
PROFILE = hypothesis.settings(
    deadline=None,
    database=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.data_too_large,
                           hypothesis.HealthCheck.large_base_example],
)


@dataclasses.dataclass
class Declared:
    """What one fuzz property states it runs."""

    examples: int     # as written in the module
    scaled: int       # after QSLM_FUZZ_SCALE
    budget_s: float


#: 'module.Class.test' -> Declared, filled when the modules are imported.
REGISTRY = {}


def scaled(examples):
    return max(1, int(round(examples * SCALE)))


def given(examples, *args, budget_s=60.0, **kwargs):
    """``hypothesis.given`` with this suite's settings and budget.

    :param examples: how many examples the property runs.
    :param budget_s: the longest the whole property may take.
    """
    def decorate(test):
        runs = scaled(examples)
        name = '%s.%s' % (test.__module__, test.__qualname__)
        # More examples get proportionally more time, fewer not less.
        REGISTRY[name] = Declared(examples, runs,
                                  budget_s * max(SCALE, 1.0))

        @functools.wraps(test)
        def timed(self, *a, **kw):
            start = time.monotonic()
            try:
                return test(self, *a, **kw)
            except hypothesis.errors.UnsatisfiedAssumption:
                raise
            except BaseException:
                self.fuzz_stats.failed = True
                raise
            finally:
                self.fuzz_stats.count(time.monotonic() - start)

        wrapped = hypothesis.given(*args, **kwargs)(timed)
        wrapped = hypothesis.settings(PROFILE, max_examples=runs)(wrapped)
        wrapped = hypothesis.seed(SEED)(wrapped)
        wrapped.fuzz_declared = REGISTRY[name]
        return wrapped
    return decorate


class Stats:
    """Examples run by one property and the slowest of them."""

    def __init__(self):
        self.examples = 0
        self.failed = False      # an example failed: hypothesis reports
        self.slowest_s = 0.0
        self.started = time.monotonic()

    def count(self, seconds):
        self.examples += 1
        self.slowest_s = max(self.slowest_s, seconds)


class FuzzTestCase(base.BaseTestCase):
    """A test case whose ``given`` properties are counted and timed."""

    def setUp(self):
        super().setUp()
        self.fuzz_stats = Stats()
        declared = getattr(getattr(self, self._testMethodName, None),
                           'fuzz_declared', None)
        if declared is not None:
            self.addCleanup(self._check_budget, declared)

    def _check_budget(self, declared):
        stats = self.fuzz_stats
        took = time.monotonic() - stats.started
        summary = ('seed %d (repeat with %s=%d), %d of %d examples, '
                   'slowest example %.3f s, %.1f s in all (budget %.0f s)'
                   % (SEED, SEED_ENV, SEED, stats.examples, declared.scaled,
                      stats.slowest_s, took, declared.budget_s))
        self.addDetail('fuzz', content.text_content(summary))
        if os.environ.get(VERBOSE_ENV):
            sys.stderr.write('%s: %s\n' % (self.id(), summary))
        if stats.failed:
            return
        if stats.examples < declared.scaled:
            self.fail('the property ran only %s: its strategies cannot '
                      'produce that many inputs, or too many are filtered'
                      % summary)
        if stats.slowest_s > HANG_S:
            self.fail('an example took %.1f s, more than the hang guard '
                      'of %.0f s: %s' % (stats.slowest_s, HANG_S, summary))
        if took > declared.budget_s:
            self.fail('the property took longer than its budget: %s'
                      % summary)
