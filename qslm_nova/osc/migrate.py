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


"""``migrate``: decide, then ask Nova for the live migration only if
allowed, and follow it to its end."""

import time

from openstack import exceptions as sdk_exc
from openstack import utils as sdk_utils

from qslm_nova import cloud as cloud_mod
from qslm_nova import decision
from qslm_nova import exception
from qslm_nova.osc import base
from qslm_nova.osc import decisions as rows_mod
from qslm_nova.osc import plan
from qslm_nova.osc import source

RESULT_COLUMNS = ('Server', 'Source', 'Destination', 'Status', 'Host now',
                  'Seconds', 'Mechanism', 'Downtime ms', 'Worst ms',
                  'Succeeded')


def progress_text(elapsed, state, progress):
    status, task, host = state
    text = '[%6.1fs] %s' % (elapsed, status)
    if task:
        text += '/%s' % task
    text += ' on %s' % (host or '?')
    if progress:
        done, total = progress
        text += ': memory %.0f/%.0f MiB (%.0f%%)' % (
            done / 2.0 ** 20, total / 2.0 ** 20,
            100.0 * done / total if total else 0.0)
    return text


def wait_for_migration(src, server_id, after_id, timeout, interval,
                       stream):
    """Poll the server and its migration until the migration ends.

    On a terminal the state is one self-overwriting line; elsewhere one
    line per change of state.

    :returns: (migration or None, (status, task_state, host), seconds).
    :raises QSLMError: after ``timeout`` seconds, with the last state.
    """
    progress = base.Progress(stream)
    start = time.monotonic()
    state, mig, last = None, None, None
    try:
        for _ in sdk_utils.iterate_timeout(timeout, 'timeout', interval):
            state = src.server_status(server_id)
            done = src.migration_progress(server_id) if state[1] else None
            text = progress_text(time.monotonic() - start, state, done)
            key = text.split('] ', 1)[1]
            if progress.enabled:
                progress.update(text, force=True)
            elif key != last:
                stream.write(text + '\n')
            last = key
            migs = [m for m in src.migrations(server_id) if m.id > after_id]
            mig = migs[-1] if migs else None
            if (mig is not None and mig.status in cloud_mod.MIGRATION_FINAL
                    and not state[1]):
                return mig, state, time.monotonic() - start
    except sdk_exc.ResourceTimeout:
        raise exception.QSLMError(
            'timed out after %g s waiting for the live migration of %s '
            '(last state %s/%s on %s, migration %s)' % (
                timeout, server_id, state[0], state[1], state[2],
                mig.status if mig else 'not yet recorded')
            if state else 'timed out after %g s before the first poll of '
            '%s' % (timeout, server_id))
    finally:
        progress.done()


class Migrate(base.Lister):
    """Decide; if allowed, live-migrate and wait, showing progress.

    The request to Nova is never forced: the scheduler checks the host
    again. Without --host the allowed host ranked best is chosen. With
    --dry-run only the decisions, with the columns of ``plan`` and
    ``check``, best first. Exit status 0 migrated (with --dry-run:
    allowed), 1 denied, 2 error or failed migration.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('server', metavar='SERVER',
                            help='Server name or ID.')
        parser.add_argument(
            '--host', metavar='HOST',
            help='Destination host (default: the allowed host ranked '
                 'best).')
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Only decide and tell what would be done.')
        parser.add_argument(
            '--timeout', type=base.number(float, 0, above=True),
            default=600.0, metavar='SECONDS',
            help='Seconds to wait for the migration to end (> 0, default '
                 '600).')
        parser.add_argument(
            '--poll-interval', type=base.number(float, 0.05),
            default=2.0, metavar='SECONDS',
            help='Seconds between two polls of the server (>= 0.05, '
                 'default 2).')
        plan.add_long(parser)
        source.add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        src, conf = self.open_source(parsed_args)
        if not src.live and not parsed_args.dry_run:
            raise exception.QSLMError(
                'migrate needs a live cloud; a cloud file can only be '
                'decided on (--dry-run)')
        engine = self.engine(conf, src.topology)
        server = src.server(parsed_args.server)
        hosts = None
        if parsed_args.host:
            plan.check_hosts(src, [parsed_args.host])
            hosts = [parsed_args.host]
        found = rows_mod.decide(src, engine, server, source.now(src), hosts)
        chosen = found.best()
        found = sorted(found.all(), key=decision.rank_key)
        self.show_warnings(src)
        if not chosen:
            self.exit_status = base.EXIT_DENIED
            self.say(parsed_args, 'refused: %s' % (
                '%s may not live-migrate to %s' % (server.name,
                                                   parsed_args.host)
                if parsed_args.host else
                'no allowed destination for %s' % server.name))
            return self.decision_rows(server, found, parsed_args)
        chosen = chosen[0]
        downtime = '%s / %s ms' % (
            rows_mod.Number(chosen.expected_downtime_ms).human_readable(),
            rows_mod.Number(chosen.worst_downtime_ms).human_readable())
        if parsed_args.dry_run:
            self.say(parsed_args, 'dry run: would live-migrate %s from %s '
                     'to %s via %s (downtime %s expected / worst)' % (
                         server.name, server.host, chosen.host,
                         chosen.mechanism, downtime))
            return self.decision_rows(server, found, parsed_args)
        return self.migrate(src, server, chosen, downtime, parsed_args)

    def say(self, parsed_args, text):
        """A sentence after the table; on stderr for machine formats."""
        if parsed_args.formatter == 'table':
            self.after_table = text
        else:
            self.app.stderr.write(text + '\n')

    def decision_rows(self, server, found, parsed_args):
        return (rows_mod.column_names(parsed_args.long),
                [rows_mod.row(server.name, d, parsed_args.long)
                 for d in found])

    def produce_output(self, parsed_args, column_names, data):
        rc = super().produce_output(parsed_args, column_names, data)
        text = getattr(self, 'after_table', None)
        if text:
            self.app.stdout.write(text + '\n')
        return rc

    def migrate(self, src, server, chosen, downtime, parsed_args):
        before = src.migrations(server.uuid)
        after_id = before[-1].id if before else 0
        self.app.stderr.write(
            'live-migrating %s from %s to %s (expected mechanism %s, '
            'downtime %s expected / worst)\n' % (
                server.name, server.host, chosen.host, chosen.mechanism,
                downtime))
        src.live_migrate(server.uuid, chosen.host)
        mig, state, secs = wait_for_migration(
            src, server.uuid, after_id, parsed_args.timeout,
            parsed_args.poll_interval, self.app.stderr)
        status = mig.status if mig is not None else 'unknown'
        ok = status == 'completed' and state[2] == chosen.host
        if not ok:
            self.error('live migration of %s ended %s; the server is on %s'
                       % (server.name, status, state[2]))
            self.exit_status = base.EXIT_ERROR
        return RESULT_COLUMNS, [(
            server.name, server.host, chosen.host, status, state[2],
            rows_mod.Number(secs), chosen.mechanism,
            rows_mod.Number(chosen.expected_downtime_ms),
            rows_mod.Number(chosen.worst_downtime_ms), ok)]
