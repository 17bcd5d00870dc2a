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

"""Draw a topology (and a chosen migration path) with matplotlib, headless.

Sites are boxes, laid out left to right; inside a site routers and
gateways sit on top, switches in the middle and compute hosts at the
bottom. Links are coloured by security level (weakest red, strongest
green) and their width grows with the logarithm of the bandwidth. A
highlighted path is drawn over them in blue with its source and
destination marked. The image size is exactly ``width`` x ``height``
pixels (no tight bounding box).
"""

import math
import os

from qslm_nova import exception

FORMATS = ('png', 'svg')
TIERS = {'router': 0, 'gateway': 0, 'site': 0, 'switch': 1, 'other': 1,
         'host': 2}
PATH_COLOUR = '#1f4fff'


def _matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise exception.QSLMError('topology plot needs matplotlib '
                                  '(pip install matplotlib)')
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


def render(topo, out, path=None, title=None, width=1200, height=800,
           note=None):
    """Write the picture to ``out`` (.png or .svg).

    :param path: node names of a path to highlight, source first.
    :returns: the format written.
    """
    fmt = os.path.splitext(out)[1].lower().lstrip('.')
    if fmt not in FORMATS:
        raise exception.QSLMError('%s: unsupported image format %r (use '
                                  '.png or .svg)' % (out, fmt or ''))
    matplotlib, plt = _matplotlib()
    from matplotlib import lines as mlines
    from matplotlib import patches

    dpi = 100
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    try:
        ax = fig.add_axes([0.02, 0.12, 0.96, 0.8])
        ax.set_axis_off()
        pos, boxes = layout(topo)
        for site, (x0, x1) in boxes.items():
            if site is None:
                continue
            ax.add_patch(patches.FancyBboxPatch(
                (x0 - 0.05, -0.35), x1 - x0 + 0.1, 2.7,
                boxstyle='round,pad=0.05', facecolor='#f2f2f2',
                edgecolor='#999999', zorder=0))
            ax.text((x0 + x1) / 2, 2.42, site, ha='center', va='bottom',
                    fontsize=12, fontweight='bold', color='#444444')
        cmap = matplotlib.colormaps['RdYlGn']
        nlev = max(len(topo.levels) - 1, 1)
        bws = [a['bandwidth_gbps'] for _u, _v, a in
               topo.graph.edges(data=True)] or [1.0]
        lo, hi = math.log10(min(bws)), math.log10(max(bws))

        def lw(bw):
            if hi == lo:
                return 3.0
            return 1.0 + 6.0 * (math.log10(bw) - lo) / (hi - lo)

        for u, v, a in topo.graph.edges(data=True):
            (x0, y0), (x1, y1) = pos[u], pos[v]
            ax.plot([x0, x1], [y0, y1], color=cmap(a['level'] / nlev),
                    linewidth=lw(a['bandwidth_gbps']), zorder=1,
                    solid_capstyle='round')
            ax.text((x0 + x1) / 2, (y0 + y1) / 2,
                    '%g G' % a['bandwidth_gbps'], fontsize=7,
                    ha='center', va='center', zorder=4,
                    bbox=dict(boxstyle='round,pad=0.1', fc='white',
                              ec='none', alpha=0.7))
        if path and len(path) > 1:
            xs = [pos[n][0] for n in path]
            ys = [pos[n][1] for n in path]
            ax.plot(xs, ys, color=PATH_COLOUR, linewidth=3.0, zorder=3,
                    linestyle='--', marker='o', markersize=4)
        styles = {'host': ('s', '#4c72b0'), 'switch': ('o', '#8c8c8c'),
                  'router': ('D', '#555555'), 'gateway': ('D', '#555555')}
        for node, (x, y) in pos.items():
            kind = _kind_of(topo, node)
            marker, colour = styles.get(kind, ('o', '#aaaaaa'))
            edge = 'black'
            if node in topo.hosts and not topo.hosts[node].trusted:
                colour = '#dd8452'
            size = 14 if kind == 'host' else 11
            if path and node in (path[0], path[-1]):
                edge = PATH_COLOUR
                size += 4
            ax.plot([x], [y], marker=marker, markersize=size,
                    color=colour, markeredgecolor=edge, markeredgewidth=2,
                    zorder=5, linestyle='none')
            label = node
            if path and node == path[0]:
                label += '\n(source)'
            elif path and node == path[-1]:
                label += '\n(destination)'
            ax.text(x, y - 0.17, label, ha='center', va='top', fontsize=8,
                    zorder=6)
        xmax = max([b[1] for b in boxes.values()] + [1.0])
        ax.set_xlim(-0.3, xmax + 0.3)
        ax.set_ylim(-0.6, 2.7)
        handles = [mlines.Line2D([], [], color=cmap(i / nlev), linewidth=4,
                                 label=name)
                   for i, name in enumerate(topo.levels)]
        handles.append(mlines.Line2D([], [], color='#4c72b0', marker='s',
                                     linestyle='none', label='trusted host'))
        handles.append(mlines.Line2D([], [], color='#dd8452', marker='s',
                                     linestyle='none',
                                     label='untrusted host'))
        if path:
            handles.append(mlines.Line2D([], [], color=PATH_COLOUR,
                                         linestyle='--', linewidth=3,
                                         label='chosen path'))
        fig.legend(handles=handles, loc='lower center',
                   ncol=min(len(handles), 8), fontsize=9, frameon=False,
                   title='link security (width ~ log bandwidth)')
        fig.suptitle(title or 'Topology %s' % topo.source, fontsize=14)
        if note:
            fig.text(0.5, 0.925, note, ha='center', fontsize=9,
                     color='#333333')
        fig.savefig(out, format=fmt, dpi=dpi)
    finally:
        plt.close(fig)
    return fmt
