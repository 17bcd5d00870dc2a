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


"""Every option listed once, with Nova-style help; the sample is current.

``help_problems`` is the style check: a one-line summary, a paragraph on
behaviour, "Possible values:" (or choices, which the generator lists) and
"Related options:", each list with at least one item.
"""

import os
import subprocess
import sys
import tempfile

from oslo_config import cfg
from oslotest import base

from qslm_nova import conf
from qslm_nova.conf import estimator
from qslm_nova.conf import opts

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# Trust provider groups: listed through the qslm_nova.trust entry points.
PLUGIN_GROUPS = ('qslm_aggregate', 'qslm_keylime', 'qslm_traits')


def _has_list(paragraphs, title):
    """True if a paragraph is ``title`` and the next one a bullet list."""
    for i, paragraph in enumerate(paragraphs[:-1]):
        if paragraph == title:
            return paragraphs[i + 1].startswith('* ')
    return False


def help_problems(opt):
    """What the help of ``opt`` lacks of Nova's style (empty: nothing)."""
    text = (opt.help or '').strip()
    if not text:
        return ['no help']
    paragraphs = [p.strip() for p in text.split('\n\n')]
    problems = []
    summary = paragraphs[0]
    if '\n' in summary or not summary.endswith('.') or len(summary) > 79:
        problems.append('the summary is not one line ending with "."')
    titles = ('Possible values:', 'Related options:')
    body = [p for p in paragraphs[1:]
            if p not in titles and not p.startswith('* ')]
    if not body:
        problems.append('no paragraph on behaviour after the summary')
    choices = getattr(opt.type, 'choices', None)
    if not choices and not _has_list(paragraphs, 'Possible values:'):
        problems.append('no "Possible values:" list')
    if not _has_list(paragraphs, 'Related options:'):
        problems.append('no "Related options:" list')
    return problems


class TestHelpStyle(base.BaseTestCase):

    def test_every_option_has_nova_style_help(self):
        bad = {}
        for group, group_opts in opts.list_opts():
            for opt in group_opts:
                problems = help_problems(opt)
                if problems:
                    bad['[%s] %s' % (group.name, opt.name)] = problems
        self.assertEqual({}, bad)

    def test_check_finds_what_is_missing(self):
        self.assertEqual(['no help'], help_problems(cfg.StrOpt('x')))
        problems = help_problems(cfg.StrOpt('x', help="""
A summary that goes on
over two lines.

Possible values:
"""))
        self.assertEqual(['the summary is not one line ending with "."',
                          'no paragraph on behaviour after the summary',
                          'no "Possible values:" list',
                          'no "Related options:" list'], problems)

    def test_choices_stand_for_possible_values(self):
        opt = cfg.StrOpt('x', choices=['a', 'b'], help="""
Summary.

Behaviour.

Related options:

* ``y``
""")
        self.assertEqual([], help_problems(opt))

    def test_model_internals_are_advanced(self):
        operator = {'default_host_cpu_load'}
        for opt in estimator.ALL_OPTS:
            self.assertEqual(opt.name not in operator, opt.advanced,
                             opt.name)

    def test_units_in_summary(self):
        # A number's summary names its unit unless it has none.
        dimensionless = {'weight_multiplier', 'worst_dirty_factor',
                         'worst_bandwidth_factor', 'stop_share',
                         'worst_stop_share', 'default_host_cpu_load',
                         'live_migration_downtime_steps',
                         'live_migration_parallel_connections',
                         'precheck_rate_limit', 'max_concurrent_requests',
                         'history_estimates', 'topology_max_depth',
                         'topology_max_values', 'sla_confidence',
                         'postcopy_rate_share',
                         'worst_postcopy_buffer_factor'}
        units = ('milliseconds', 'seconds', 'mib', 'days', 'bytes',
                 'gbit/s')
        for _group, group_opts in opts.list_opts():
            for opt in group_opts:
                if (not isinstance(opt, (cfg.IntOpt, cfg.FloatOpt)) or
                        opt.name in dimensionless):
                    continue
                summary = opt.help.strip().split('\n')[0].lower()
                self.assertTrue(any(u in summary for u in units),
                                '%s: %s' % (opt.name, summary))


class TestListOpts(base.BaseTestCase):

    def test_each_group_once(self):
        names = [group.name for group, _opts in opts.list_opts()]
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(['qslm'] + sorted(PLUGIN_GROUPS),
                         names[:1] + sorted(names[1:]))

    def test_qslm_lists_what_is_registered(self):
        listed = dict((g.name, o) for g, o in opts.list_opts())['qslm']
        names = [o.name for o in listed]
        self.assertEqual(len(names), len(set(names)))
        self.assertEqual(sorted(conf.CONF.qslm), sorted(names))

    def test_modules_share_one_group(self):
        groups = {id(group) for module in conf.MODULES
                  for group in module.list_opts()}
        self.assertEqual(1, len(groups))


class TestConfigSample(base.BaseTestCase):

    def assertCurrent(self, sample, generator):
        committed = os.path.join(TOP, 'etc', 'qslm-nova', sample)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'sample')
            subprocess.run(
                [sys.executable, '-m', 'oslo_config.generator',
                 '--config-file', os.path.join(
                     TOP, 'etc', 'qslm-nova', generator),
                 '--output-file', out], check=True, cwd=TOP)
            with open(out) as f:
                fresh = f.read()
        with open(committed) as f:
            self.assertEqual(fresh, f.read(),
                             'regenerate %s with tox -e genconfig' % sample)

    def test_committed_sample_is_current(self):
        # etc/qslm-nova/qslm-nova.conf.sample is what `tox -e genconfig`
        # writes; a new or changed option must be regenerated into it.
        self.assertCurrent('qslm-nova.conf.sample',
                           'qslm-nova-config-generator.conf')

    def test_committed_agent_sample_is_current(self):
        self.assertCurrent('qslm-nova-agent.conf.sample',
                           'qslm-nova-agent-config-generator.conf')
