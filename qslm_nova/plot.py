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


"""Draw a topology (and a migration's path) with matplotlib, headless.

matplotlib is an extra: ``pip install 'qslm-nova[plot]'``.

Sites are boxes, laid out left to right; inside a site routers and
gateways sit on top, switches in the middle and compute hosts at the
bottom. Links are coloured by security level (weakest red, strongest
green), their width grows with the logarithm of the bandwidth, and each
is labelled with its bandwidth, its latency and the link-level
mechanisms it carries (IPsec). Hosts are blue when the decision trusts
them (provider answers and attestation age at the time of the picture)
and orange, marked "not trusted", when it does not. A migration's path is
drawn over the links: solid blue when the move is allowed, dashed red
with crosses when it is denied. The decision's reasons are wrapped at
word boundaries below the title. The image is exactly ``width`` x
``height`` pixels.
"""

import dataclasses
import math
import os
import textwrap

from qslm_nova import exception

FORMATS = ('png', 'svg')
TIERS = {'router': 0, 'gateway': 0, 'site': 0, 'switch': 1, 'other': 1,
         'host': 2}
ALLOWED_COLOUR = '#1f4fff'
DENIED_COLOUR = '#d62728'
TRUSTED_COLOUR = '#4c72b0'
UNTRUSTED_COLOUR = '#dd8452'
NOTE_LINES = 4
DPI = 100


@dataclasses.dataclass
class Route:
    """A migration path to draw: nodes from source to destination."""

    nodes: list
    allowed: bool


def require_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise exception.QSLMError(
            'topology plot needs matplotlib, an optional dependency: '
            "pip install 'qslm-nova[plot]'")
    matplotlib.use('Agg')
    from matplotlib import pyplot
    return matplotlib, pyplot


def _site_of(topo, node):
    if node in topo.hosts:
        return topo.hosts[node].site
    return topo.graph.nodes[node].get('site')


def _kind_of(topo, node):
    if node in topo.hosts:
        return 'host'
    return topo.graph.nodes[node].get('kind') or 'other'


def layout(topo):
    """Positions {node: (x, y)} and site boxes {site: (x0, x1)}.

    Deterministic: sites sorted by name (nodes without a site form a
    middle column named ``None``), nodes sorted by name inside a tier.
    """
    sites = {}
    for node in topo.graph.nodes:
        sites.setdefault(_site_of(topo, node), []).append(node)
    named = sorted(s for s in sites if s is not None)
    order = named[:len(named) // 2] + (
        [None] if None in sites else []) + named[len(named) // 2:]
    pos = {}
    boxes = {}
    x = 0.0
    for site in order:
        tiers = {}
        for node in sites[site]:
            tiers.setdefault(TIERS.get(_kind_of(topo, node), 1),
                             []).append(node)
        width = max(len(v) for v in tiers.values())
        for tier, nodes in tiers.items():
            nodes.sort()
            step = width / len(nodes)
            for i, node in enumerate(nodes):
                pos[node] = (x + step * (i + 0.5), 2.0 - tier)
        boxes[site] = (x, x + width)
        x += width + 0.6
    return pos, boxes


def link_label(topo, attrs):
    """``25 G, 0.02 ms`` plus the link-level mechanisms (``IPsec``)."""
    text = '%g G, %g ms' % (attrs['bandwidth_gbps'], attrs['latency_ms'])
    mechs = sorted(m for m in attrs['mechanisms'] if m != 'none')
    if mechs:
        text += '\n' + ', '.join('IPsec' if m == 'ipsec' else m
                                 for m in mechs)
    return text


def wrap_note(note, width, height):
    """The note in lines that fit the picture, cut at a word boundary."""
    # 9 pt text at 100 dpi is about 7.5 px a character.
    chars = max(30, int(width / 7.5))
    lines = textwrap.wrap(note, chars, break_long_words=False,
                          break_on_hyphens=False)
    keep = max(1, min(NOTE_LINES, int(height / 200)))
    if len(lines) > keep:
        lines = lines[:keep]
        lines[-1] = textwrap.shorten(lines[-1] + ' ...', chars,
                                     placeholder=' ...')
    return '\n'.join(lines)


def check_output(out):
    """The format of ``out``; a clear error for what cannot be written."""
    fmt = os.path.splitext(out)[1].lower().lstrip('.')
    if fmt not in FORMATS:
        raise exception.QSLMError('%s: unsupported image format %r (use '
                                  '.png or .svg)' % (out, fmt or ''))
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise exception.QSLMError('cannot write %s: the folder %s does not '
                                  'exist' % (out, folder))
    if not os.access(folder, os.W_OK):
        raise exception.QSLMError('cannot write %s: the folder %s is not '
                                  'writable' % (out, folder))
    return fmt


def render(topo, out, trust=None, route=None, title=None, note=None,
           width=1200, height=800):
    """Write the picture to ``out`` (.png or .svg); return the format.

    :param trust: {host: trusted bool} as the decision sees it; default
        the topology file's ``trusted``.
    :param route: a :class:`Route` to draw, or None.
    """
    fmt = check_output(out)
    matplotlib, plt = require_matplotlib()
    if trust is None:
        trust = {n: h.trusted for n, h in topo.hosts.items()}
    fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    try:
        ax = fig.add_axes([0.02, 0.12, 0.96, 0.74])
        ax.set_axis_off()
        pos, boxes = layout(topo)
        _draw_sites(ax, boxes)
        cmap = matplotlib.colormaps['RdYlGn']
        nlev = max(len(topo.levels) - 1, 1)
        _draw_links(ax, topo, pos, cmap, nlev)
        if route is not None and len(route.nodes) > 1:
            _draw_route(ax, pos, route)
        _draw_nodes(ax, topo, pos, trust, route)
        xmax = max([b[1] for b in boxes.values()] + [1.0])
        ax.set_xlim(-0.3, xmax + 0.3)
        ax.set_ylim(-0.75, 2.7)
        _legend(fig, topo, cmap, nlev, route, width)
        fig.suptitle(title or 'Topology %s' % topo.source, fontsize=14)
        if note:
            fig.text(0.5, 0.935, wrap_note(note, width, height),
                     ha='center', va='top', fontsize=9, color='#333333')
        try:
            fig.savefig(out, format=fmt, dpi=DPI)
        except OSError as e:
            raise exception.QSLMError('cannot write %s: %s' % (
                out, e.strerror or e))
    finally:
        plt.close(fig)
    return fmt


def _draw_sites(ax, boxes):
    from matplotlib import patches
    for site, (x0, x1) in boxes.items():
        if site is None:
            continue
        ax.add_patch(patches.FancyBboxPatch(
            (x0 - 0.05, -0.5), x1 - x0 + 0.1, 2.85,
            boxstyle='round,pad=0.05', facecolor='#f2f2f2',
            edgecolor='#999999', zorder=0))
        ax.text((x0 + x1) / 2, 2.42, site, ha='center', va='bottom',
                fontsize=12, fontweight='bold', color='#444444')


def _draw_links(ax, topo, pos, cmap, nlev):
    bws = [a['bandwidth_gbps'] for _u, _v, a in
           topo.graph.edges(data=True)] or [1.0]
    lo, hi = math.log10(min(bws)), math.log10(max(bws))
    for u, v, a in topo.graph.edges(data=True):
        (x0, y0), (x1, y1) = pos[u], pos[v]
        # At least 3 points: the link's colour shows on both sides of a
        # path drawn over it.
        width = 5.0 if hi == lo else \
            3.0 + 6.0 * (math.log10(a['bandwidth_gbps']) - lo) / (hi - lo)
        ax.plot([x0, x1], [y0, y1], color=cmap(a['level'] / nlev),
                linewidth=width, zorder=1, solid_capstyle='round')
        # Nearer the lower end: links fanning out of a switch are
        # further apart there, so their labels do not overlap.
        if y0 < y1:
            (x0, y0), (x1, y1) = (x1, y1), (x0, y0)
        ax.text(x0 + 0.62 * (x1 - x0), y0 + 0.62 * (y1 - y0),
                link_label(topo, a),
                fontsize=7, ha='center', va='center', zorder=4,
                bbox=dict(boxstyle='round,pad=0.15', fc='white', ec='none',
                          alpha=0.8))


def _draw_route(ax, pos, route):
    xs = [pos[n][0] for n in route.nodes]
    ys = [pos[n][1] for n in route.nodes]
    if route.allowed:
        ax.plot(xs, ys, color=ALLOWED_COLOUR, linewidth=2.0, zorder=3,
                linestyle='-', marker='o', markersize=5)
    else:
        ax.plot(xs, ys, color=DENIED_COLOUR, linewidth=2.0, zorder=3,
                linestyle=(0, (4, 3)), marker='x', markersize=9,
                markeredgewidth=2.5)


def _draw_nodes(ax, topo, pos, trust, route):
    styles = {'host': ('s', TRUSTED_COLOUR), 'switch': ('o', '#8c8c8c'),
              'router': ('D', '#555555'), 'gateway': ('D', '#555555')}
    ends = {}
    if route is not None and route.nodes:
        colour = ALLOWED_COLOUR if route.allowed else DENIED_COLOUR
        ends = {route.nodes[0]: ('source', colour),
                route.nodes[-1]: ('destination' if route.allowed else
                                  'destination: DENIED', colour)}
    for node, (x, y) in pos.items():
        kind = _kind_of(topo, node)
        marker, colour = styles.get(kind, ('o', '#aaaaaa'))
        label = node
        if node in topo.hosts and not trust.get(node):
            colour = UNTRUSTED_COLOUR
            label += '\nnot trusted'
        edge, size = 'black', 14 if kind == 'host' else 11
        if node in ends:
            role, edge = ends[node]
            size += 4
            label += '\n(%s)' % role
        ax.plot([x], [y], marker=marker, markersize=size, color=colour,
                markeredgecolor=edge, markeredgewidth=2, zorder=5,
                linestyle='none')
        ax.text(x, y - 0.17, label, ha='center', va='top', fontsize=8,
                zorder=6, color=ends[node][1] if node in ends else 'black')


def _legend(fig, topo, cmap, nlev, route, width):
    from matplotlib import lines as mlines
    handles = [mlines.Line2D([], [], color=cmap(i / nlev), linewidth=4,
                             label=name)
               for i, name in enumerate(topo.levels)]
    handles.append(mlines.Line2D([], [], color=TRUSTED_COLOUR, marker='s',
                                 linestyle='none', label='trusted host'))
    handles.append(mlines.Line2D([], [], color=UNTRUSTED_COLOUR,
                                 marker='s', linestyle='none',
                                 label='not trusted (or stale)'))
    if route is not None:
        handles.append(mlines.Line2D(
            [], [], color=ALLOWED_COLOUR if route.allowed else
            DENIED_COLOUR, linestyle='-' if route.allowed else '--',
            marker=None if route.allowed else 'x', linewidth=3,
            label='allowed path' if route.allowed else 'denied path'))
    fig.legend(handles=handles, loc='lower center',
               ncol=max(2, min(len(handles), width // 125)), fontsize=9,
               frameon=False,
               title='link security (width ~ log bandwidth; label: '
                     'bandwidth, latency, link encryption)')
