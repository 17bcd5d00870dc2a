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


"""Following a live migration: progress, the end, the deadline."""

import testtools

from qslm_nova import exception
from qslm_nova.osc import migrate
from tests.unit.cmd import base


class FakeMigration:
    def __init__(self, mid, status):
        self.id = mid
        self.status = status


class FakeLive:
    """Stands in for cloud.LiveCloud in the wait loop."""

    def __init__(self, states, migrations):
        self.states = list(states)
        self.migs = list(migrations)

    def server_status(self, server_id):
        return self.states.pop(0) if len(self.states) > 1 else \
            self.states[0]

    def migration_progress(self, server_id):
        return (512 * 2 ** 20, 2048 * 2 ** 20)

    def migrations(self, server_id):
        return self.migs.pop(0) if len(self.migs) > 1 else self.migs[0]


def running_then_done():
    return FakeLive(
        [('MIGRATING', 'migrating', 'a'), ('MIGRATING', 'migrating', 'a'),
         ('ACTIVE', None, 'b')],
        [[FakeMigration(3, 'running')], [FakeMigration(3, 'running')],
         [FakeMigration(3, 'completed')]])


class TestWait(testtools.TestCase):

    def test_one_line_per_change_when_piped(self):
        stream = base.Stream(tty=False)
        mig, state, _secs = migrate.wait_for_migration(
            running_then_done(), 'u', 2, 5, 0.001, stream)
        self.assertEqual('completed', mig.status)
        self.assertEqual(('ACTIVE', None, 'b'), state)
        lines = stream.getvalue().splitlines()
        self.assertEqual(2, len(lines), lines)
        self.assertIn('MIGRATING/migrating on a: memory 512/2048 MiB (25%)',
                      lines[0])
        self.assertIn('ACTIVE on b', lines[-1])

    def test_one_overwritten_line_on_a_terminal(self):
        stream = base.Stream(tty=True)
        migrate.wait_for_migration(running_then_done(), 'u', 2, 5, 0.001,
                                   stream)
        text = stream.getvalue()
        self.assertNotIn('\n', text)
        self.assertEqual(3, text.count('\r['))
        self.assertTrue(text.endswith('\r'))

    def test_old_migrations_ignored_and_timeout(self):
        src = FakeLive([('ACTIVE', None, 'a')],
                       [[FakeMigration(2, 'completed')]])
        e = self.assertRaises(exception.QSLMError,
                              migrate.wait_for_migration, src, 'u', 2, 0.05,
                              0.01, base.Stream())
        self.assertIn('timed out after 0.05 s', str(e))
        self.assertIn('last state ACTIVE/None on a, migration not yet '
                      'recorded', str(e))
