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

"""The examples and numbers in the operator documentation are real.

Every ``.. code-block:: console`` block of doc/source/*.rst whose lines
start with ``$ qslm-nova`` or ``$ openstack qslm`` is run (from the
repository root, ``COLUMNS=100``, no credentials: the embedded sample
cloud) and its output must be the block's, to the character. When the
commands or the model change, regenerate them::

    python -m tests.devstack.test_docs_examples --update

doc/source/decision.rst also works an example through in prose; the
numbers it quotes are checked against ``qslm-nova plan -f json --long``.
"""

import json
import os
import shlex
import subprocess
import sys
import tempfile

from oslotest import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, 'doc', 'source')
DOC = os.path.join(DOCS, 'decision.rst')
BIN = os.path.dirname(sys.executable)
PROMPTS = ('$ qslm-nova ', '$ openstack qslm ')
INDENT = '    '
#: Terminal width the examples are shown at.
COLUMNS = '100'


def blocks(lines):
    """(first, end) line indexes of each console block's content."""
    i = 0
    while i < len(lines):
        if lines[i].strip() == '.. code-block:: console':
            first = i + 1
            while first < len(lines) and not lines[first].strip():
                first += 1
            end = first
            while end < len(lines) and (not lines[end].strip() or
                                        lines[end].startswith(INDENT)):
                end += 1
            while end > first and not lines[end - 1].strip():
                end -= 1
            yield first, end
            i = end
        i += 1


def examples(lines):
    """(first, end, command, expected output) of every checked example."""
    for first, end in blocks(lines):
        body = [line[len(INDENT):] for line in lines[first:end]]
        if not body or not body[0].startswith(PROMPTS):
            continue
        starts = [k for k, line in enumerate(body) if line.startswith('$ ')]
        for a, b in zip(starts, starts[1:] + [len(body)]):
            yield (first + a, first + b, body[a][2:],
                   '\n'.join(body[a + 1:b]).rstrip('\n'))


def run(command, home):
    argv = shlex.split(command)
    argv[0] = os.path.join(BIN, argv[0])
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('OS_', 'CLIFF_'))}
    env.update(COLUMNS=COLUMNS, HOME=home,
               OS_CLIENT_CONFIG_FILE=os.path.join(home, 'clouds.yaml'))
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    return proc.stdout.rstrip('\n')


def documents():
    return sorted(os.path.join(DOCS, n) for n in os.listdir(DOCS)
                  if n.endswith('.rst'))


def check(update=False):
    """{(file, line): (expected, got)} of the examples that differ."""
    stale = {}
    with tempfile.TemporaryDirectory() as home:
        for path in documents():
            with open(path, encoding='utf-8') as f:
                lines = f.read().split('\n')
            found = list(examples(lines))
            for first, end, command, expected in reversed(found):
                got = run(command, home)
                if got == expected:
                    continue
                stale[os.path.relpath(path, ROOT), first + 1] = (
                    expected, got)
                lines[first + 1:end] = [
                    (INDENT + line).rstrip() for line in got.split('\n')]
            if update and found:
                with open(path, 'w', encoding='utf-8') as f:
                    f.write('\n'.join(lines))
    return stale


def plan(*servers):
    exe = os.path.join(BIN, 'qslm-nova')
    out = subprocess.run([exe, 'plan', '-f', 'json', '--long'] +
                         list(servers), capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return {(d['Server'], d['Host']): d for d in json.loads(out)}


class TestExamples(base.BaseTestCase):

    def test_console_examples_are_real_output(self):
        stale = check()
        self.assertEqual(
            {}, {place: got for place, (_exp, got) in stale.items()},
            'documentation examples differ from the commands\' output; '
            'regenerate them: python -m tests.devstack.test_docs_examples '
            '--update')

    def test_there_are_examples(self):
        count = 0
        for path in documents():
            with open(path, encoding='utf-8') as f:
                count += len(list(examples(f.read().split('\n'))))
        self.assertGreater(count, 10)


class TestWorkedExample(base.BaseTestCase):

    def test_numbers_in_decision_rst(self):
        with open(DOC, encoding='utf-8') as f:
            raw = f.read()
        # Line breaks in the prose do not matter.
        text = ' '.join(raw.split())
        rows = plan('db-1', 'web-1')
        a2 = rows['db-1', 'compute-a2']
        b1 = rows['db-1', 'compute-b1']
        b2 = rows['web-1', 'compute-b2']
        quoted = {
            'db-1 to compute-a2 mechanism': '``none`` is chosen',
            'db-1 to compute-a2 rate': '%.1f MiB/s' % a2['Rate MiB/s'],
            'db-1 to compute-a2 expected': '**%.1f ms**' % a2[
                'Downtime ms'],
            'db-1 to compute-a2 worst': '**%.1f ms**' % a2['Worst ms'],
            'db-1 to compute-a2 total': '**%.1f s**' % a2['Total s'],
            'db-1 to compute-a2 score': '**%.3f**' % a2['Score'],
            'db-1 to compute-a2 paper bound': '%.1f ms' % a2[
                'Paper bound ms'],
            'db-1 to compute-b1 mechanism': 'With ``%s``' % b1['Mechanism'],
            'db-1 to compute-b1 expected': '**%.1f ms**' % b1[
                'Downtime ms'],
            'db-1 to compute-b1 total': '**%.1f s**' % b1['Total s'],
            'db-1 to compute-b1 worst': '**%.1f ms**' % b1['Worst ms'],
            'web-1 to compute-b2 mechanism': '``%s``' % b2['Mechanism'],
            'web-1 to compute-b2 estimate': '%.1f ms expected and %.1f ms' % (
                b2['Downtime ms'], b2['Worst ms']),
        }
        # compute-b1: its guest dirties 76.7 % of the WAN, inside the
        # measured tls/long runs' shares, so their bound is held (under
        # the limit), with a note that the worst case would not converge.
        self.assertTrue(a2['Allowed'] and b2['Allowed'] and b1['Allowed'])
        self.assertEqual(2, len(b1['Reasons']), b1['Reasons'])
        self.assertIn('may not converge', b1['Reasons'][0])
        self.assertIn('tls/long', b1['Reasons'][1])
        self.assertIn('76.7 %', text)
        self.assertEqual('aborted', b1['Worst outcome'])
        held = b1['Limit ms'] - b1['Left ms']
        quoted['db-1 to compute-b1 held'] = '= %.1f ms <= 300 ms' % held
        quoted['db-1 to compute-b1 score'] = 'score of %.3f' % b1['Score']
        quoted['db-1 to compute-a2 held'] = '= %.1f ms <= 300 ms' % (
            a2['Limit ms'] - a2['Left ms'])
        stale = {what: value for what, value in quoted.items()
                 if value not in text}
        self.assertEqual({}, stale, 'doc/source/decision.rst quotes numbers '
                         'the engine no longer gives; update them')


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    stale = check(update='--update' in argv)
    for (path, line), (expected, got) in sorted(stale.items()):
        print('%s:%d: %s' % (path, line, 'updated' if '--update' in argv
                             else 'differs'))
    return 1 if stale and '--update' not in argv else 0


if __name__ == '__main__':
    sys.exit(main())
