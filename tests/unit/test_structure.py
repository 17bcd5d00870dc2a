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

"""A newcomer's yardstick for the package, checked on every run.

* no module of ``qslm_nova/`` over 400 lines;
* no function over 80 lines, unless a comment line ``# long: <why>``
  stands right above its ``def`` (the estimator's vectorised steps may
  need one);
* no import cycle between the package's modules;
* no private member of another module used (``mod._name`` where ``mod``
  is an imported qslm_nova module, or ``obj._name`` on anything but
  ``self``, ``cls`` and ``super()``), unless the line says why with a
  comment ``# private: <why>`` or ``# nova-private: <why>`` (a library's
  internals read on purpose, such as Nova's libvirt driver in the
  testbed).
"""

import ast
import os

from oslotest import base

import qslm_nova

ROOT = os.path.dirname(qslm_nova.__file__)
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def _modules():
    """(dotted name, path, source, tree) of every module of the package."""
    for folder, _dirs, files in os.walk(ROOT):
        for name in sorted(files):
            if not name.endswith('.py'):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3]
            dotted = rel.replace(os.sep, '.')
            if dotted.endswith('.__init__'):
                dotted = dotted[:-len('.__init__')]
            with open(path, encoding='utf-8') as f:
                source = f.read()
            yield dotted, path, source, ast.parse(source, path)


def _imports(dotted, tree, known):
    """The package's modules this module imports at module level."""
    out = set()
    package = dotted if dotted in known and any(
        k.startswith(dotted + '.') for k in known) else dotted.rpartition(
            '.')[0]
    for node in tree.body:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ''
            if node.level:
                base_pkg = package
                for _ in range(node.level - 1):
                    base_pkg = base_pkg.rpartition('.')[0]
                mod = base_pkg + ('.' + mod if mod else '')
            for alias in node.names:
                full = mod + '.' + alias.name
                if full in known:
                    out.add(full)
                elif mod in known:
                    out.add(mod)
    out.discard(dotted)
    return out


def long_functions(source, tree):
    """'line name: size lines' of every function over the limit."""
    lines = source.split('\n')
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        size = node.end_lineno - node.lineno + 1
        above = lines[first - 2].strip() if first > 1 else ''
        if size > MAX_FUNCTION_LINES and not above.startswith('# long:'):
            yield '%d %s: %d lines' % (node.lineno, node.name, size)


def private_uses(source, tree):
    """'line .name' of every private member used on another object."""
    lines = source.split('\n')
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith('_') or name.startswith('__'):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in ('self', 'cls'):
            continue
        if (isinstance(owner, ast.Call) and
                isinstance(owner.func, ast.Name) and
                owner.func.id == 'super'):
            continue
        line = lines[node.lineno - 1]
        if '# private:' in line or '# nova-private:' in line:
            continue
        yield '%d .%s' % (node.lineno, name)


class TestStructure(base.BaseTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.modules = list(_modules())

    def test_module_size(self):
        big = ['%s: %d lines' % (os.path.relpath(path, ROOT),
                                 source.count('\n'))
               for _d, path, source, _t in self.modules
               if source.count('\n') > MAX_MODULE_LINES]
        self.assertEqual([], big)

    def test_function_size(self):
        long_ = []
        for _dotted, path, source, tree in self.modules:
            long_.extend('%s:%s' % (os.path.relpath(path, ROOT), found)
                         for found in long_functions(source, tree))
        self.assertEqual([], long_)

    def test_no_import_cycle(self):
        known = {d for d, _p, _s, _t in self.modules}
        graph = {d: _imports(d, t, known) for d, _p, _s, t in self.modules}
        cycles = []
        state = {}

        def visit(node, stack):
            state[node] = 'open'
            stack.append(node)
            for nxt in sorted(graph[node]):
                # A package importing its own submodules is no cycle.
                if nxt.startswith(node + '.'):
                    continue
                if state.get(nxt) == 'open':
                    cycles.append(' -> '.join(stack[stack.index(nxt):] +
                                              [nxt]))
                elif nxt not in state:
                    visit(nxt, stack)
            stack.pop()
            state[node] = 'done'

        for node in sorted(graph):
            if node not in state:
                visit(node, [])
        self.assertEqual([], cycles)

    def test_no_private_member_of_another_module(self):
        found = []
        for _dotted, path, source, tree in self.modules:
            found.extend('%s:%s' % (os.path.relpath(path, ROOT), use)
                         for use in private_uses(source, tree))
        self.assertEqual([], found)


class TestYardstick(base.BaseTestCase):
    """The checks themselves find what they are meant to find."""

    def check(self, finder, source):
        return sorted(finder(source, ast.parse(source)))

    def test_long_function(self):
        body = ''.join('    x = %d\n' % i for i in range(80))
        self.assertEqual(['1 f: 81 lines'],
                         self.check(long_functions, 'def f():\n' + body))
        self.assertEqual([], self.check(
            long_functions, '# long: vectorised\ndef f():\n' + body))
        self.assertEqual([], self.check(
            long_functions, 'def f():\n' + body[:-len('    x = 79\n')]))

    def test_private_member(self):
        self.assertEqual(['1 ._b', '2 ._c'], self.check(
            private_uses, 'a._b()\nx = obj._c\n'))
        self.assertEqual([], self.check(private_uses, (
            'self._a\ncls._b\nsuper()._c()\nx.__class__\n'
            'lib._d  # private: no public way\n')))
