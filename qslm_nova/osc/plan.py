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


"""``plan`` and ``check``: what the decision says, and why."""

import time

from qslm_nova import exception
from qslm_nova.osc import base
from qslm_nova.osc import decisions as rows_mod
from qslm_nova.osc import source


def add_long(parser):
    parser.add_argument(
        '--long', action='store_true',
        help='Also the path, bottleneck, round-trip time, transfer rate, '
             'data sent, outcomes, limit, the paper\'s bound and the score.')


def check_hosts(src, hosts):
    """Refuse destination hosts the cloud does not have (exit 2)."""
    unknown = [h for h in hosts if not src.known_host(h)]
    if unknown:
        raise exception.QSLMError(
            'unknown host%s %s: not %s' % (
                's' if len(unknown) > 1 else '',
                ', '.join(repr(h) for h in unknown),
                'a nova-compute host of the cloud' if src.live else
                'a host of the cloud file (known: %s)' % ', '.join(
                    src.compute_hosts())))


class Plan(base.Lister):
    """Every candidate destination of each server: allowed or not, and why.

    Offline (``--cloud-file``, or qslm-nova without credentials: the
    embedded sample cloud) the servers of the cloud file; live, the named
    servers or every ACTIVE server. Exit status 0, or 2 on error.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            'servers', nargs='*', metavar='SERVER',
            help='Server names or IDs (default: every server of the cloud '
                 'file; live: every ACTIVE server).')
        parser.add_argument(
            '--host', action='append', default=[], metavar='HOST',
            help='Only this destination host (repeatable).')
        parser.add_argument(
            '--allowed-only', action='store_true',
            help='Only the allowed destinations.')
        parser.add_argument(
            '--best', type=base.number(int, 1), metavar='N',
            help='Only the N best allowed destinations of each server, '
                 'best first (highest score, then shortest worst case).')
        add_long(parser)
        source.add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        src, conf = self.open_source(parsed_args)
        engine = self.engine(conf, src.topology)
        check_hosts(src, parsed_args.host)
        refs = parsed_args.servers or src.server_names()
        now = source.now(src)
        progress = base.Progress(self.app.stderr)
        start = time.monotonic()
        rows, decided = [], 0
        try:
            for i, ref in enumerate(refs):
                progress.update('plan: server %d of %d (%s), %d decisions, '
                                '%.0f s' % (i + 1, len(refs), ref, decided,
                                            time.monotonic() - start))
                server = src.server(ref)
                hosts = [h for h in parsed_args.host if h != server.host]
                found = rows_mod.decide(src, engine, server, now,
                                        hosts if parsed_args.host else None)
                decided += len(found)
                rows.extend(rows_mod.row(server.name, d, parsed_args.long)
                            for d in self.select(found, parsed_args))
        finally:
            progress.done()
        self.show_warnings(src)
        return rows_mod.column_names(parsed_args.long), rows

    @staticmethod
    def select(found, parsed_args):
        if parsed_args.best:
            return found.best(parsed_args.best)
        if parsed_args.allowed_only:
            return found.allowed_only()
        return found.all()


class Check(base.Lister):
    """One decision: may SERVER live-migrate to HOST?

    Exit status 0 allowed, 1 denied, 2 error (unknown server or host
    included).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('server', metavar='SERVER',
                            help='Server name or ID.')
        parser.add_argument('--host', required=True, metavar='HOST',
                            help='Destination host.')
        add_long(parser)
        source.add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        src, conf = self.open_source(parsed_args)
        engine = self.engine(conf, src.topology)
        server = src.server(parsed_args.server)
        check_hosts(src, [parsed_args.host])
        d = rows_mod.decide(src, engine, server, source.now(src),
                            [parsed_args.host]).all()[0]
        if not d.allowed:
            self.exit_status = base.EXIT_DENIED
        self.show_warnings(src)
        return (rows_mod.column_names(parsed_args.long),
                [rows_mod.row(server.name, d, parsed_args.long)])
