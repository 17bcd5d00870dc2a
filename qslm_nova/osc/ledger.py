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


"""``ledger show`` and ``ledger record``: the downtime budget of a server.

The ledger lives in the instance metadata (``qslm:downtime_used_ms``,
``qslm:budget_period_start``); only an admin may write it.
"""

import datetime

from qslm_nova import exception
from qslm_nova.osc import base
from qslm_nova.osc import decisions as rows_mod
from qslm_nova.osc import source
from qslm_nova import policy as policy_mod

COLUMNS = ('Server', 'ID', 'Used ms', 'Period start', 'Period end',
           'Period days', 'Budget ms', 'Remaining ms', 'Problems')


def ledger_view(conf, topo, server):
    pol = policy_mod.effective_policy(
        policy_mod.Defaults.from_conf(conf.qslm), topo.levels,
        topo.mechanisms, server.flavor.extra_specs, server.image_properties,
        server.metadata)
    return pol, policy_mod.parse_ledger(server.metadata)


def ledger_values(server, pol, ledger, today):
    """The row of COLUMNS: an expired period counts as none."""
    start = ledger.period_start
    end = None
    if start is not None:
        end = start + datetime.timedelta(days=pol.budget_period_days)
        if today >= end:
            start, end = None, None
    remaining = ledger.remaining_ms(pol.downtime_budget_ms,
                                    pol.budget_period_days, today)
    return (server.name, server.uuid,
            ledger.used_ms if start is not None else 0,
            start.isoformat() if start else None,
            end.isoformat() if end else None,
            pol.budget_period_days, pol.downtime_budget_ms, remaining,
            rows_mod.Lines(list(ledger.errors) + list(pol.errors)))


class LedgerShow(base.ShowOne):
    """Downtime used and left in the server's current budget period."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('server', metavar='SERVER',
                            help='Server name or ID.')
        source.add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        src, conf = self.open_source(parsed_args)
        server = src.server(parsed_args.server)
        pol, ledger = ledger_view(conf, src.topology, server)
        self.show_warnings(src)
        return COLUMNS, ledger_values(server, pol, ledger,
                                      source.now(src).date())


class LedgerRecord(base.ShowOne):
    """(admin) Add the downtime of one migration to the server's ledger.

    An expired period is rolled over first. Live cloud only.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('server', metavar='SERVER',
                            help='Server name or ID.')
        parser.add_argument(
            '--downtime-ms', type=base.number(int, 0), required=True,
            metavar='MS', help='Measured downtime of the migration, '
                               'milliseconds (>= 0).')
        source.add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        src, conf = self.open_source(parsed_args)
        if not src.live:
            raise exception.QSLMError(
                'ledger record needs a live cloud: the ledger lives in the '
                'instance metadata')
        server = src.server(parsed_args.server)
        today = source.now(src).date()
        pol, ledger = ledger_view(conf, src.topology, server)
        if ledger.errors:
            raise exception.QSLMError(
                'the ledger of %s is malformed (%s); fix or delete the keys '
                'first' % (server.name, '; '.join(ledger.errors)))
        update = ledger.record(parsed_args.downtime_ms,
                               pol.budget_period_days, today)
        src.set_metadata(server.uuid, update)
        server.metadata.update(update)
        pol, ledger = ledger_view(conf, src.topology, server)
        self.show_warnings(src)
        return COLUMNS, ledger_values(server, pol, ledger, today)
