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


"""``topology plot``: the topology, and the path of a migration."""

import argparse

from qslm_nova import exception
from qslm_nova.osc import base
from qslm_nova.osc import decisions as rows_mod
from qslm_nova.osc import plan
from qslm_nova.osc import source
from qslm_nova.osc import topo as topo_cmds


def parse_size(text):
    try:
        w, h = (int(x) for x in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError('must be WIDTHxHEIGHT in pixels, '
                                         'e.g. 1200x800')
    if not (100 <= w <= 10000 and 100 <= h <= 10000):
        raise argparse.ArgumentTypeError('width and height must be within '
                                         '100..10000 pixels')
    return w, h


def route_of(server, decisions, host):
    """(Route or None, title, note) for a server's decisions."""
    from qslm_nova import plot
    if host:
        chosen = decisions.all()[0]
    else:
        best = decisions.best()
        chosen = best[0] if best else None
    if chosen is None:
        reasons = sorted({r for d in decisions.all() for r in d.reasons})
        return (None, '%s on %s: no allowed destination' % (
            server.name, server.host),
            'DENIED for all %d candidates: %s' % (
                len(decisions), '; '.join(reasons)))
    title = '%s: %s -> %s via %s' % (server.name, server.host, chosen.host,
                                     chosen.mechanism or '-')
    downtime = 'downtime %s / %s ms (expected / worst)' % (
        rows_mod.Number(chosen.expected_downtime_ms).human_readable(),
        rows_mod.Number(chosen.worst_downtime_ms).human_readable())
    if chosen.allowed:
        note = 'allowed; %s' % downtime
        if chosen.notes:
            note += '; ' + '; '.join(chosen.notes)
    else:
        note = 'DENIED: %s' % '; '.join(chosen.reasons)
        if chosen.expected_downtime_ms is not None:
            note += '; ' + downtime
    route = (plot.Route(list(chosen.path), chosen.allowed)
             if chosen.path else None)
    return route, title, note


class TopologyPlot(base.Command):
    """Draw the topology (PNG or SVG), optionally with a server's path.

    Needs matplotlib: pip install 'qslm-nova[plot]'.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--out', required=True, metavar='FILE',
                            help='Output file, .png or .svg (its folder '
                                 'must exist).')
        parser.add_argument(
            '--server', metavar='SERVER',
            help='Draw the path of this server to the allowed host ranked '
                 'best (the cloud file\'s server, or a live one).')
        parser.add_argument(
            '--host', metavar='HOST',
            help='With --server: the path to this host instead, allowed or '
                 'denied.')
        parser.add_argument(
            '--size', type=parse_size, default=(1200, 800), metavar='WxH',
            help='Image size in pixels (default 1200x800).')
        source.add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        from qslm_nova import plot
        plot.check_output(parsed_args.out)
        plot.require_matplotlib()
        if parsed_args.host and not parsed_args.server:
            raise exception.QSLMError('--host needs --server')
        if parsed_args.server and parsed_args.topology and not \
                source.is_live(self.app, parsed_args):
            raise exception.QSLMError(
                '--server with --topology needs a live cloud; offline, give '
                'a cloud file (--cloud-file) that has the server')
        topo, src, conf = topo_cmds.topology_source(self, parsed_args)
        trust = {h: verdict[0] for h, verdict in
                 topo_cmds.trust_of(self, conf, topo, src).items()}
        route = title = note = None
        if parsed_args.server:
            server = src.server(parsed_args.server)
            hosts = None
            if parsed_args.host:
                plan.check_hosts(src, [parsed_args.host])
                hosts = [parsed_args.host]
            decisions = rows_mod.decide(src, self.engine(conf, topo),
                                        server, source.now(src), hosts)
            route, title, note = route_of(server, decisions,
                                          parsed_args.host)
        width, height = parsed_args.size
        fmt = plot.render(topo, parsed_args.out, trust=trust, route=route,
                          title=title, note=note, width=width,
                          height=height)
        if src is not None:
            self.show_warnings(src)
        self.app.stdout.write('wrote %s (%s, %dx%d)\n' % (
            parsed_args.out, fmt, width, height))
        return base.EXIT_OK
