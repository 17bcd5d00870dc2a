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


"""``topology plot``: what the picture shows, and its errors."""

import os
import re
import sys
from unittest import mock
import xml.etree.ElementTree as ET

import testtools

from qslm_nova import cloudfile
from qslm_nova import plot
from tests.unit.cmd import base

NOTE = ('worst-case downtime 1044 ms exceeds the per-migration maximum of '
        '300 ms (qslm:max_downtime_ms); worst-case downtime 1044 ms '
        'exceeds the remaining SLA budget of 300 ms')


def comments(text):
    """The texts matplotlib writes into an SVG, one comment per line."""
    return re.findall(r'<!-- (.*?) -->', text)


def svg_text(path):
    with open(path) as f:
        text = f.read()
    ET.fromstring(text)         # well-formed
    return text


class TestPlotCommand(base.CLITestCase):

    def plot(self, *args):
        out = os.path.join(self.tmp, 'p.svg')
        rc, stdout, err = self.run_cli('topology', 'plot', '--out', out,
                                       *args)
        self.assertEqual(0, rc, err)
        return svg_text(out)

    def test_png_size(self):
        out = os.path.join(self.tmp, 'topo.png')
        rc, stdout, err = self.run_cli('topology', 'plot', '--out', out,
                                       '--server', 'db-1')
        self.assertEqual(0, rc, err)
        self.assertEqual('wrote %s (png, 1200x800)\n' % out, stdout)
        with open(out, 'rb') as f:
            self.assertEqual((1200, 800), base.png_size(f.read()))
        rc, _o, err = self.run_cli('topology', 'plot', '--out', out,
                                   '--size', '640x480')
        self.assertEqual(0, rc, err)
        with open(out, 'rb') as f:
            self.assertEqual((640, 480), base.png_size(f.read()))

    def test_allowed_and_denied_paths_differ(self):
        allowed = self.plot('--server', 'db-1', '--host', 'compute-a2')
        denied = self.plot('--server', 'batch-1', '--host', 'compute-b1')
        self.assertIn(plot.ALLOWED_COLOUR, allowed)
        self.assertNotIn(plot.DENIED_COLOUR, allowed)
        self.assertIn(plot.DENIED_COLOUR, denied)
        styles = re.findall(r'style="([^"]*)"', denied)
        self.assertTrue(any(plot.DENIED_COLOUR in st and
                            'stroke-dasharray' in st for st in styles))
        self.assertFalse(any(plot.ALLOWED_COLOUR in st and
                             'stroke-dasharray' in st for st in styles))
        self.assertIn('denied path', denied)
        self.assertIn('destination: DENIED', denied)
        self.assertIn('DENIED: migration would not converge', denied)

    def test_trust_as_the_decision_sees_it(self):
        # compute-b2 is "trusted" in the file with a stale attestation.
        texts = comments(self.plot())
        after = {texts[i]: texts[i + 1] for i in range(len(texts) - 1)}
        self.assertEqual('not trusted', after['compute-b2'])
        self.assertEqual('not trusted', after['compute-a3'])
        self.assertNotEqual('not trusted', after['compute-a1'])

    def test_link_security_ipsec_and_latency(self):
        text = self.plot()
        self.assertIn('1 G, 20 ms', text)
        self.assertIn('IPsec', text)
        for level in ('untrusted', 'wan', 'shared', 'private', 'isolated'):
            self.assertIn(level, text)

    def test_no_allowed_destination(self):
        text = self.plot('--server', 'vault-1', '--host', 'compute-b2')
        self.assertIn('vault-1: compute-b1 -&gt; compute-b2', text)
        self.assertIn('DENIED: the instance requires encryption', text)

    def test_errors(self):
        rc, _o, err = self.run_cli('topology', 'plot', '--out',
                                   os.path.join(self.tmp, 'x.gif'))
        self.assertEqual(2, rc)
        self.assertIn("unsupported image format 'gif'", err)
        rc, _o, err = self.run_cli('topology', 'plot', '--out', 'x.png',
                                   '--size', 'big')
        self.assertEqual(2, rc)
        self.assertIn('WIDTHxHEIGHT', err)
        missing = os.path.join(self.tmp, 'no', 'such', 'x.png')
        rc, _o, err = self.run_cli('topology', 'plot', '--out', missing)
        self.assertEqual(2, rc)
        self.assertEqual('error: cannot write %s: the folder %s does not '
                         'exist\n' % (missing, os.path.dirname(missing)),
                         err)
        rc, _o, err = self.run_cli('topology', 'plot', '--out', missing,
                                   '--host', 'compute-a2')
        self.assertEqual(2, rc)

    def test_matplotlib_missing(self):
        # The import system reads the sys.modules dict itself.
        patcher = mock.patch.dict(sys.modules, {'matplotlib': None})
        patcher.start()
        self.addCleanup(patcher.stop)
        rc, _o, err = self.run_cli('topology', 'plot', '--out',
                                   os.path.join(self.tmp, 'x.png'))
        self.assertEqual(2, rc)
        self.assertEqual("error: topology plot needs matplotlib, an optional "
                         "dependency: pip install 'qslm-nova[plot]'\n", err)


class TestPlotHelpers(testtools.TestCase):

    def test_note_wraps_at_words(self):
        for width, height in ((300, 200), (800, 600), (1200, 800)):
            text = plot.wrap_note(NOTE, width, height)
            words = set(NOTE.split()) | {'...'}
            for line in text.split('\n'):
                for word in line.split():
                    self.assertIn(word, words, (width, line))

    def test_link_label(self):
        topo = cloudfile.load(cloudfile.sample_path()).topology
        edges = sorted(topo.graph.edges(data=True),
                       key=lambda e: e[2]['index'])
        self.assertEqual('1 G, 20 ms\nIPsec',
                         plot.link_label(topo, edges[5][2]))
        self.assertEqual('25 G, 0.02 ms',
                         plot.link_label(topo, edges[0][2]))
