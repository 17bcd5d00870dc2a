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

"""The agent's durable record of measured migrations.

Every migration the agent measures goes into ``migrations.sqlite`` (WAL,
``synchronous = FULL``: each commit is on disk before it returns) as
*pending*, and becomes *done* once Nova's record of it is found and its
charge, if any, is in the instance's ledger. Done rows are the agent's
history for calibration. Beside it, ``migrations.journal`` gets every
change as a JSON line, written and fsync'd first: on start the journal is
replayed into the database (so a crash between the two loses nothing), and
a database that SQLite finds corrupt is moved aside and rebuilt from the
journal. A torn last journal line (a crash while appending) is skipped.
Replaying can only make a done row pending again; the charge is then
tried again, and Nova's record of charged migrations makes that a no-op.
"""

import json
import os
import sqlite3
import time

from oslo_log import log as logging

from qslm_nova.agent import records

LOG = logging.getLogger(__name__)

DB_NAME = 'migrations.sqlite'
JOURNAL_NAME = 'migrations.journal'
SCHEMA = """
CREATE TABLE IF NOT EXISTS migrations (
    key TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    migration_id TEXT,
    result TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    added_at REAL NOT NULL,
    done_at REAL
);
CREATE INDEX IF NOT EXISTS migrations_state ON migrations (state);
"""


class Spool:
    """Pending and done measured migrations of this host.

    Used by the agent's main thread only.
    """

    def __init__(self, state_path, clock=time.time):
        os.makedirs(state_path, exist_ok=True)
        self.db_path = os.path.join(state_path, DB_NAME)
        self.journal_path = os.path.join(state_path, JOURNAL_NAME)
        self.clock = clock
        self.db = None
        self._open()

    # -- opening, checking, rebuilding ------------------------------------
    def _open(self):
        try:
            self.db = self._connect()
        except sqlite3.DatabaseError as e:
            self._set_aside(e)
            self.db = self._connect()
        self._replay()

    def _connect(self):
        db = sqlite3.connect(self.db_path, isolation_level=None)
        try:
            db.execute('PRAGMA journal_mode=WAL')
            db.execute('PRAGMA synchronous=FULL')
            check = db.execute('PRAGMA quick_check').fetchone()[0]
            if check != 'ok':
                raise sqlite3.DatabaseError('quick_check: %s' % check)
            db.executescript(SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _set_aside(self, error):
        stamp = time.strftime('%Y%m%dT%H%M%S')
        LOG.error('The spool %s is corrupt (%s): moved aside as '
                  '%s.corrupt-%s and rebuilt from its journal %s',
                  self.db_path, error, self.db_path, stamp,
                  self.journal_path)
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
            self.db = None
        for suffix in ('', '-wal', '-shm'):
            path = self.db_path + suffix
            if os.path.exists(path):
                os.replace(path, '%s.corrupt-%s' % (path, stamp))

    def _replay(self):
        """Apply the journal to the database (idempotent)."""
        lines = bad = 0
        try:
            f = open(self.journal_path, errors='replace')
        except FileNotFoundError:
            return
        with f, self._transaction():
            for line in f:
                lines += 1
                try:
                    entry = json.loads(line)
                    self._apply(entry)
                except (ValueError, KeyError, TypeError):
                    bad += 1
        if bad:
            LOG.warning('Skipped %d unreadable line(s) of the spool journal '
                        '%s (a write torn by a crash)', bad,
                        self.journal_path)

    def _apply(self, entry):
        if entry['op'] == 'add':
            self.db.execute(
                'INSERT OR IGNORE INTO migrations (key, record, added_at) '
                'VALUES (?, ?, ?)', (entry['key'], entry['record'],
                                     entry['at']))
        elif entry['op'] == 'done':
            self.db.execute(
                "UPDATE migrations SET state = 'done', migration_id = ?, "
                'result = ?, done_at = ? WHERE key = ?',
                (entry['migration_id'], entry['result'], entry['at'],
                 entry['key']))

    def _transaction(self):
        spool = self

        class _Tx:
            def __enter__(self):
                spool.db.execute('BEGIN IMMEDIATE')

            def __exit__(self, exc_type, *rest):
                spool.db.execute('ROLLBACK' if exc_type else 'COMMIT')
        return _Tx()

    def _journal(self, entry):
        line = json.dumps(entry, sort_keys=True) + '\n'
        with open(self.journal_path, 'a') as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def _write(self, sql, args):
        """Run one statement; rebuild the database if SQLite says corrupt.
        """
        try:
            return self.db.execute(sql, args)
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.IntegrityError):
                raise
            self._set_aside(e)
            self._open()
            return self.db.execute(sql, args)

    # -- the agent's use ----------------------------------------------------
    def add(self, measured):
        """Keep a MeasuredMigration; False if its key is already here."""
        found = self._write('SELECT 1 FROM migrations WHERE key = ?',
                            (measured.key,)).fetchone()
        if found:
            return False
        entry = {'op': 'add', 'key': measured.key,
                 'record': measured.to_json(), 'at': self.clock()}
        self._journal(entry)
        self._write('INSERT OR IGNORE INTO migrations (key, record, '
                    'added_at) VALUES (?, ?, ?)',
                    (entry['key'], entry['record'], entry['at']))
        return True

    def pending(self):
        """[(key, MeasuredMigration, attempts)], oldest first."""
        rows = self._write("SELECT key, record, attempts FROM migrations "
                           "WHERE state = 'pending' ORDER BY added_at",
                           ()).fetchall()
        return [(key, records.MeasuredMigration.from_json(rec), attempts)
                for key, rec, attempts in rows]

    def done(self, key, migration_id, result):
        """Settled: Nova's migration id and how (a dict, kept as JSON)."""
        if not isinstance(result, str):
            result = json.dumps(result, sort_keys=True)
        at = self.clock()
        self._write("UPDATE migrations SET state = 'done', migration_id = "
                    "?, result = ?, done_at = ? WHERE key = ?",
                    (migration_id, result, at, key))
        self._journal({'op': 'done', 'key': key, 'at': at,
                       'migration_id': migration_id, 'result': result})

    def failed(self, key, error):
        """Count a failed try (kept in the database only)."""
        self._write('UPDATE migrations SET attempts = attempts + 1, '
                    'last_error = ? WHERE key = ?', (str(error)[:500], key))

    def history(self):
        """[(MeasuredMigration, Nova migration id, result, done_at)]."""
        rows = self._write("SELECT record, migration_id, result, done_at "
                           "FROM migrations WHERE state = 'done' ORDER BY "
                           "done_at", ()).fetchall()
        return [(records.MeasuredMigration.from_json(rec), mid, result, at)
                for rec, mid, result, at in rows]

    def counts(self):
        return dict(self._write('SELECT state, count(*) FROM migrations '
                                'GROUP BY state', ()).fetchall())

    def prune(self, before):
        """Forget done rows finished before ``before`` (epoch seconds).

        The journal is rewritten from what remains (atomically).
        """
        gone = self._write("DELETE FROM migrations WHERE state = 'done' "
                           "AND done_at < ?", (before,)).rowcount
        if gone:
            self.compact()
        return gone

    def compact(self):
        rows = self._write('SELECT key, record, state, migration_id, result,'
                           ' added_at, done_at FROM migrations', ()).fetchall()
        tmp = self.journal_path + '.tmp'
        with open(tmp, 'w') as f:
            for key, rec, state, mid, result, added, done_at in rows:
                f.write(json.dumps({'op': 'add', 'key': key, 'record': rec,
                                    'at': added}, sort_keys=True) + '\n')
                if state == 'done':
                    f.write(json.dumps({'op': 'done', 'key': key,
                                        'migration_id': mid,
                                        'result': result, 'at': done_at},
                                       sort_keys=True) + '\n')
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.journal_path)

    def close(self):
        if self.db is not None:
            self.db.close()
            self.db = None
