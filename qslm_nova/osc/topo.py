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


"""``topology validate``, ``seal``, ``show`` and ``plot``."""

import os

from qslm_nova import cloudfile
from qslm_nova import exception
from qslm_nova.osc import base
from qslm_nova.osc import decisions as rows_mod
from qslm_nova.osc import profiles
from qslm_nova.osc import source
from qslm_nova.profile import placement
from qslm_nova import topology as topology_mod

VALIDATE_COLUMNS = ('File', 'Kind', 'Valid', 'Hosts', 'Other nodes',
                    'Links', 'Flavors', 'Servers', 'Problems')
HOST_COLUMNS = ('Host', 'Site', 'Trusted', 'Trust', 'Attested at',
                'Mechanisms', 'CPU load', 'Links')
NODE_COLUMNS = ('Node', 'Kind', 'Site', 'Links')
LINK_COLUMNS = ('#', 'Between', 'Gbit/s', 'Available Gbit/s', 'Latency ms',
                'Security', 'Link mechanisms')


def lint(topo):
    """Problems the loader accepts but no migration survives."""
    fname = topo.source
    return ['%s: hosts.%s: has no links: no migration can reach or leave '
            'it' % (fname, name)
            for name in sorted(topo.hosts) if topo.graph.degree(name) == 0]


def validate(path, kind='auto'):
    """(kind, topology or None, cloud or None, problems) of a file.

    A cloud file (a topology plus ``clock``, ``flavors`` and ``servers``,
    like the embedded sample) is checked completely, as ``--cloud-file``
    reads it; a topology file as the services read ``[qslm]
    topology_file``, where those sections are errors. ``kind`` 'auto'
    tells them apart by the sections.
    """
    try:
        doc, _fname = cloudfile.read_document(path)
    except exception.TopologyError as e:
        return 'unreadable', None, None, list(e.errors)
    is_cloud = kind == 'cloud' or (kind == 'auto' and isinstance(doc, dict)
                                   and any(key in doc for key in
                                           cloudfile.EXTRA_KEYS))
    try:
        if is_cloud:
            cloud = cloudfile.load(path)
            return 'cloud file', cloud.topology, cloud, lint(cloud.topology)
        topo = topology_mod.parse(doc, path)
        return 'topology', topo, None, lint(topo)
    except exception.TopologyError as e:
        return 'cloud file' if is_cloud else 'topology', None, None, \
            list(e.errors)


class TopologyValidate(base.ShowOne):
    """Check a topology or cloud file; list every problem with its place.

    Accepts what the services and --cloud-file accept, and refuses also a
    host without links. Exit status 0 valid, 1 problems found, 2 the file
    cannot be read.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('file', metavar='FILE',
                            help='Topology file or cloud file.')
        parser.add_argument(
            '--kind', choices=('auto', 'topology', 'cloud'),
            default='auto',
            help='topology: check the file as the services read [qslm] '
                 'topology_file (cloud file sections are errors); cloud: '
                 'as --cloud-file reads it; auto (default): a file with '
                 'clock, flavors or servers is a cloud file.')
        parser.add_argument(
            '--live', action='store_true',
            help='Also compare each host with the profile its compute agent '
                 'publishes in Placement (credentials as for live mode): '
                 'a host whose Nova migrates otherwise than its mechanisms '
                 'say, or that lists tls without QEMU\'s TLS certificates, '
                 'is a problem.')
        return parser

    def take_action(self, parsed_args):
        path = os.path.abspath(parsed_args.file)
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise exception.QSLMError('%s: cannot read the file (%s)' % (
                path, 'not readable' if os.path.exists(path)
                else 'no such file'))
        kind, topo, cloud, problems = validate(path, parsed_args.kind)
        if parsed_args.live and topo is not None:
            problems = problems + _live_problems(self, topo)
        if problems:
            self.exit_status = base.EXIT_DENIED
            for line in problems:
                self.error(line)
        counts = (None,) * 3
        if topo is not None:
            counts = (len(topo.hosts),
                      topo.graph.number_of_nodes() - len(topo.hosts),
                      topo.graph.number_of_edges())
        return VALIDATE_COLUMNS, (
            (path, kind, rows_mod.YesNo(not problems)) + counts +
            (len(cloud.flavors) if cloud else None,
             len(cloud.servers) if cloud else None,
             rows_mod.Lines(problems)))


def _live_problems(cmd, topo):
    """Differences between the file and the agents' published profiles."""
    region = source.live_region(cmd.app)
    reader = profiles.reader_for(region.get_session(),
                                 region.get_region_name('placement'),
                                 region.get_interface('placement'))
    try:
        found, profiled = profiles.mismatches(topo, reader)
    except placement.PlacementError as e:
        raise exception.QSLMError('cannot read the published host profiles '
                                  'from Placement: %s' % e)
    cmd.warn('%d of %d hosts publish a profile (qslm-nova-agent)' % (
        profiled, len(topo.hosts)))
    return found


class TopologySeal(base.ShowOne):
    """Validate a topology file and end it with a seal line.

    The seal (``# qslm-nova-seal: sha256=...``, replacing an old one) lets
    the services refuse a torn or half-written copy ([qslm]
    topology_seal). The file is written atomically: a new file in the
    same folder, then renamed over the old one. Exit status 0 sealed (or
    already sealed), 2 the file is invalid or cannot be written (it is
    left untouched).
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('file', metavar='FILE', help='Topology file.')
        parser.add_argument(
            '--output', metavar='OUT',
            help='Write the sealed file here (default: FILE, in place).')
        return parser

    def take_action(self, parsed_args):
        path = os.path.abspath(parsed_args.file)
        out = os.path.abspath(parsed_args.output or parsed_args.file)
        topo, written = topology_mod.seal_file(path, out)
        return ('File', 'Sealed', 'Hosts', 'Links'), (
            out, 'sealed' if written else 'already sealed',
            len(topo.hosts), topo.graph.number_of_edges())


def topology_source(cmd, parsed_args):
    """(topology, source or None, conf) for show and plot.

    ``--topology FILE`` offline draws any topology file; otherwise the
    command's cloud (live, or a cloud file).
    """
    if parsed_args.topology and not source.is_live(cmd.app, parsed_args):
        conf = source.load_conf(parsed_args, False, cmd.warn,
                                source.app_config_files(cmd.app))
        path = os.path.abspath(parsed_args.topology)
        return (topology_mod.load(path, extra_keys=cloudfile.EXTRA_KEYS),
                None, conf)
    src, conf = cmd.open_source(parsed_args)
    return src.topology, src, conf


def trust_of(cmd, conf, topo, src):
    """{host: (trusted, reason)} as the decision sees it now."""
    engine = cmd.engine(conf, topo)
    now = source.now(src) if src is not None else None
    return engine.trust.evaluate(sorted(topo.hosts), topo, now,
                                 src.host_info() if src else None)


class TopologyShow(base.Lister):
    """The hosts (default), nodes or links of the topology in use.

    Trust is the decision's: provider answers and attestation age at the
    cloud's time.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        which = parser.add_mutually_exclusive_group()
        which.add_argument('--nodes', action='store_true',
                           help='The network nodes instead of the hosts.')
        which.add_argument('--links', action='store_true',
                           help='The links instead of the hosts.')
        source.add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        topo, src, conf = topology_source(self, parsed_args)
        graph = topo.graph
        if parsed_args.links:
            edges = sorted(graph.edges(data=True),
                           key=lambda e: e[2]['index'])
            return LINK_COLUMNS, [
                (a['index'], rows_mod.Between((u, v)), a['bandwidth_gbps'],
                 rows_mod.Hundredths(a['avail_gbps']), a['latency_ms'],
                 topo.level_name(a['level']),
                 rows_mod.Commas(sorted(a['mechanisms'])))
                for u, v, a in edges]
        if parsed_args.nodes:
            return NODE_COLUMNS, [
                (n, a.get('kind'), a.get('site'), graph.degree(n))
                for n, a in sorted(graph.nodes(data=True))
                if n not in topo.hosts]
        trust = trust_of(self, conf, topo, src)
        rows = []
        for name in sorted(topo.hosts):
            h = topo.hosts[name]
            trusted, reason = trust[name]
            rows.append((name, h.site, rows_mod.YesNo(trusted), reason,
                         h.attested_at.isoformat() if h.attested_at
                         else None,
                         rows_mod.Commas(sorted(h.mechanisms)),
                         rows_mod.Hundredths(h.cpu_load),
                         graph.degree(name)))
        if src is not None:
            self.show_warnings(src)
        return HOST_COLUMNS, rows
