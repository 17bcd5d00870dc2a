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

"""Reading the history and pairing each estimate with its measurement.

Sources: JSON-lines files of notifications (``qslm-nova-collect``) and
compute agents' spools (``migrations.sqlite``, the measured side only).
A measured migration joins the estimate for the same Nova migration id
and destination; an estimate without an id (the API pre-check decides
before Nova has a record) joins the latest earlier estimate for the same
instance and destination within a day. Only completed migrations with a
measured downtime and an estimate with its inputs make a pair.
"""

import collections
import dataclasses
import datetime
import json
import sqlite3

from qslm_nova.agent import records
from qslm_nova import exception
from qslm_nova.history import notifications

SQLITE_MAGIC = b'SQLite format 3\x00'
WINDOW = datetime.timedelta(days=1)
#: The fields a record is matched and ordered by: each a text or None.
TEXT_FIELDS = ('instance_uuid', 'destination_host', 'source_host',
               'decided_at', 'ended_at', 'outcome', 'role')


class HistoryError(exception.QSLMError):
    """A history file cannot be read."""


@dataclasses.dataclass(frozen=True)
class Pair:
    estimate: dict
    measured: dict

    @property
    def host_pair(self):
        return '%s -> %s' % (self.measured.get('source_host') or
                             self.estimate.get('source_host'),
                             self.estimate.get('destination_host'))

    @property
    def mechanism(self):
        return self.estimate.get('mechanism') or '?'


@dataclasses.dataclass
class History:
    estimates: list = dataclasses.field(default_factory=list)
    measured: list = dataclasses.field(default_factory=list)
    bad_lines: int = 0


def _time(text):
    """The moment an ISO 8601 text names, or None (none, or not one)."""
    if not text or not isinstance(text, str):
        return None
    try:
        when = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when


def well_formed(payload):
    """Whether a notification's payload can be matched: a mapping whose
    :data:`TEXT_FIELDS` are texts or None and whose migration id is a
    text, an integer or None (what the fields hold is
    :mod:`qslm_nova.history.checks`' to judge).
    """
    if not isinstance(payload, dict):
        return False
    if any(not isinstance(payload.get(k), (str, type(None)))
           for k in TEXT_FIELDS):
        return False
    mid = payload.get('migration_id')
    return not isinstance(mid, bool) and isinstance(
        mid, (str, int, type(None)))


def read(paths):
    """A History of notification files and agent spools."""
    history = History()
    for path in paths:
        try:
            with open(path, 'rb') as f:
                magic = f.read(len(SQLITE_MAGIC))
        except OSError as e:
            raise HistoryError('%s: %s' % (path, e.strerror))
        if magic == SQLITE_MAGIC:
            history.measured.extend(_spool(path))
        else:
            _jsonl(path, history)
    return history


def _jsonl(path, history):
    with open(path, errors='replace') as f:
        for line in f:
            try:
                entry = json.loads(line)
                payload = entry['payload']
                kind = entry['event_type']
            except (ValueError, KeyError, TypeError, RecursionError):
                history.bad_lines += 1
                continue
            if not well_formed(payload):
                history.bad_lines += 1
                continue
            if kind == notifications.ESTIMATE:
                history.estimates.append(payload)
            elif kind == notifications.MEASURED:
                history.measured.append(payload)


def _spool(path):
    """Measured payloads of an agent's spool (settled migrations)."""
    try:
        db = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
        try:
            rows = db.execute("SELECT record, migration_id, result FROM "
                              "migrations WHERE state = 'done'").fetchall()
        finally:
            db.close()
    except sqlite3.Error as e:
        raise HistoryError('%s: not an agent spool (%s)' % (path, e))
    out = []
    for record, mid, result in rows:
        try:
            measured = records.MeasuredMigration.from_json(record)
            info = json.loads(result) if result else {}
            if not isinstance(info, dict):
                info = {'result': info}
            payload = notifications.measured_payload_of(
                measured, mid, dict({'source': None, 'destination': None,
                                     'status': None, 'result': None},
                                    **info), path)
        except (ValueError, KeyError, TypeError, AttributeError,
                RecursionError):
            continue
        if well_formed(payload):
            out.append(payload)
    return out


def _measured_of_migrations(measured):
    """One completed measurement per migration (the destination's first).
    """
    best = {}
    for m in measured:
        if m.get('outcome') != 'completed' or m.get('downtime_ms') is None:
            continue
        key = m.get('migration_id') or id(m)
        rank = 0 if m.get('role') == 'destination' else 1
        if key not in best or rank < best[key][0]:
            best[key] = (rank, m)
    return [m for _r, m in best.values()]


def join(history):
    """(pairs, measured migrations without an estimate)."""
    by_id = {}
    by_instance = collections.defaultdict(list)
    for e in history.estimates:
        if not e.get('inputs'):
            continue
        dest = e.get('destination_host')
        if e.get('migration_id') is not None:
            key = (str(e['migration_id']), dest)
            if key not in by_id or _order(e) > _order(by_id[key]):
                by_id[key] = e
        by_instance[(e.get('instance_uuid'), dest)].append(e)
    pairs, alone = [], []
    for m in _measured_of_migrations(history.measured):
        dest = m.get('destination_host')
        found = by_id.get((str(m.get('migration_id')), dest))
        if found is None:
            found = _nearest(by_instance.get((m.get('instance_uuid'), dest),
                                             ()), _time(m.get('ended_at')))
        if found is None:
            alone.append(m)
        else:
            pairs.append(Pair(found, m))
    return pairs, alone


def _order(estimate):
    """Sort key of estimates by when they were decided (unknown first)."""
    at = _time(estimate.get('decided_at'))
    return (at is not None, at or datetime.datetime.min.replace(
        tzinfo=datetime.timezone.utc))


def _nearest(estimates, ended):
    if ended is None:
        return None
    best = None
    for e in estimates:
        at = _time(e.get('decided_at'))
        if at is None or at > ended or ended - at > WINDOW:
            continue
        if best is None or at > _time(best.get('decided_at')):
            best = e
    return best
