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
"""Tests of the real-migration testbed."""

import fcntl

# Real migrations measure time: never two at once, even across the
# parallel stestr workers.
LOCK_PATH = '/tmp/qslm-nova-testbed-test.lock'


def hold_testbed_lock(test):
    """Take the testbed lock for the rest of *test* (a TestCase)."""
    lock = open(LOCK_PATH, 'a')
    test.addCleanup(lock.close)
    fcntl.flock(lock, fcntl.LOCK_EX)
    test.addCleanup(fcntl.flock, lock, fcntl.LOCK_UN)
