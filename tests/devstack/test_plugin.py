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

"""The devstack plugin, run phase by phase in a stand-in devstack.

``functions-stub.sh`` provides the devstack functions the plugin calls;
the files are a devstack-like nova.conf, a nova.conf generated from
Nova's own options, and the api-paste.ini shipped with Nova. What the
plugin writes is then loaded by Nova itself, in a subprocess: nova.conf
with Nova's options, the filter and weigher through Nova's loaders, the
osapi_compute application through paste.deploy.
"""

import configparser
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap

import fixtures
from oslotest import base
import yaml

from qslm_nova import mechanisms
from qslm_nova import topology
from qslm_nova.topology import seal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PLUGIN = os.path.join(ROOT, 'devstack', 'plugin.sh')
STUB = os.path.join(ROOT, 'tests', 'devstack', 'functions-stub.sh')
TOPOLOGY_SAMPLE = os.path.join(ROOT, 'etc', 'qslm-nova',
                               'topology.yaml.sample')
PASTE_SNIPPET = os.path.join(ROOT, 'etc', 'qslm-nova',
                             'api-paste.ini.snippet')
FLAVORS_SAMPLE = os.path.join(ROOT, 'etc', 'qslm-nova',
                              'flavors.yaml.sample')
BIN = os.path.dirname(sys.executable)

# nova.conf as devstack writes it: enabled_filters set, available_filters
# and weight_classes left at Nova's defaults.
DEVSTACK_NOVA_CONF = textwrap.dedent("""\
    [DEFAULT]
    debug = True
    transport_url = fake:/

    [filter_scheduler]
    enabled_filters = ComputeFilter,ComputeCapabilitiesFilter,\
ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,SameHostFilter,\
DifferentHostFilter
    track_instance_changes = False

    [libvirt]
    virt_type = qemu
    live_migration_downtime = 400
    live_migration_completion_timeout = 600

    [api]
    auth_strategy = keystone
    """)

# Runs in a fresh interpreter: Nova loads what the plugin wrote.
CHECK = textwrap.dedent("""\
    import json
    import sys

    import nova.conf
    from nova import objects
    from nova import rpc
    from nova.scheduler import filters
    from nova.scheduler import weights
    from paste import deploy

    from qslm_nova import conf as qslm_conf  # noqa: registers [qslm]

    nova_conf, paste_ini, overlay = sys.argv[1:4]
    CONF = nova.conf.CONF
    CONF(['--config-file', nova_conf, '--config-file', overlay],
         project='nova')
    fs = CONF.filter_scheduler
    out = {
        'available_filters': list(fs.available_filters),
        'enabled_filters': list(fs.enabled_filters),
        'weight_classes': list(fs.weight_classes),
        'filters': sorted(c.__module__ + '.' + c.__name__ for c in
                          filters.HostFilterHandler().get_matching_classes(
                              fs.available_filters)),
        'weighers': sorted(c.__module__ + '.' + c.__name__ for c in
                           weights.HostWeightHandler().get_matching_classes(
                               fs.weight_classes)),
        # Reading every option checks its type and choices.
        'qslm': {name: CONF.qslm[name] for name in CONF.qslm},
        'libvirt_downtime': CONF.libvirt.live_migration_downtime,
    }
    objects.register_all()
    rpc.init(CONF)
    app = deploy.loadapp('config:' + paste_ini, name='osapi_compute')
    chains = {}
    for (_domain, url), sub in app.applications:
        chain = []
        while sub is not None and len(chain) < 50:
            chain.append(type(sub).__module__ + '.' + type(sub).__name__)
            for attr in ('application', 'app', '_app'):
                nxt = getattr(sub, attr, None)
                if nxt is not None:
                    break
            sub = nxt
        chains[url] = chain
    out['pipelines'] = chains
    print('RESULT ' + json.dumps(out, default=str))
    """)

QSLM_FILTER = 'qslm_nova.scheduler.filters.QSLMFilter'
QSLM_WEIGHER = 'qslm_nova.scheduler.weights.QSLMWeigher'
PRECHECK = 'qslm_nova.api.precheck.PreCheck'
CONTEXT = 'nova.api.auth.NovaKeystoneContext'


def nova_api_paste():
    """The api-paste.ini installed with Nova."""
    path = os.path.join(sys.prefix, 'etc', 'nova', 'api-paste.ini')
    if not os.path.exists(path):
        raise AssertionError('Nova\'s api-paste.ini is not at %s: install '
                             'nova (test-requirements.txt)' % path)
    return path


def sections(path):
    # DEFAULT is an ordinary section here, not inherited by the others.
    parser = configparser.RawConfigParser(
        strict=False, interpolation=None, default_section='\x00')
    parser.optionxform = str
    with open(path, encoding='utf-8') as f:
        parser.read_file(f)
    return {s: dict(parser.items(s)) for s in parser.sections()}


class DevstackEnv(object):
    """A temporary directory that looks enough like devstack."""

    def __init__(self, testcase, nova_conf_text=None, env=None):
        self.tc = testcase
        self.dir = testcase.useFixture(
            fixtures.TempDir()).path
        self.nova_conf = os.path.join(self.dir, 'nova.conf')
        self.paste = os.path.join(self.dir, 'api-paste.ini')
        self.conf_dir = os.path.join(self.dir, 'etc', 'qslm-nova')
        self.log = os.path.join(self.dir, 'stub.log')
        self.overlay = os.path.join(self.dir, 'overlay.conf')
        with open(self.overlay, 'w') as f:
            f.write('[DEFAULT]\ntransport_url = fake:/\n')
        if nova_conf_text is None:
            nova_conf_text = DEVSTACK_NOVA_CONF
        with open(self.nova_conf, 'w') as f:
            f.write(nova_conf_text)
        shutil.copy(nova_api_paste(), self.paste)
        self.original = {p: self.read(p) for p in (self.nova_conf,
                                                   self.paste)}
        self.env = {
            'PATH': BIN + os.pathsep + os.environ.get('PATH', ''),
            'HOME': self.dir,
            'LANG': 'C.UTF-8',
            'STUB_LOG': self.log,
            'NOVA_CONF': self.nova_conf,
            'NOVA_API_PASTE_INI': self.paste,
            'STACK_USER': getpass.getuser(),
            'DEST': self.dir,
            'QSLM_DIR': ROOT,
            'QSLM_CONF_DIR': self.conf_dir,
            'QSLM_STATE_FILE': os.path.join(self.dir, 'data', 'state'),
            'PYTHON': sys.executable,
            'ENABLED_SERVICES': 'n-api,n-sch,n-cond,n-cpu',
            'OS_NOVA_DISABLE_EVENTLET_PATCHING': 'true',
        }
        self.env.update(env or {})

    @staticmethod
    def read(path):
        with open(path, 'rb') as f:
            return f.read()

    def phase(self, *args, prelude=''):
        """Run ``source plugin.sh ARGS`` in bash; return its output."""
        script = 'set -eu -o pipefail\nsource "%s"\n%s\nsource "%s" %s\n' % (
            STUB, prelude, PLUGIN, ' '.join(args))
        proc = subprocess.run(['bash', '-c', script], env=self.env,
                              capture_output=True, text=True, timeout=120)
        if proc.returncode:
            raise AssertionError('plugin.sh %s failed (%d):\n%s\n%s' % (
                ' '.join(args), proc.returncode, proc.stdout, proc.stderr))
        return proc.stdout

    def nova_check(self):
        proc = subprocess.run(
            [sys.executable, '-c', CHECK, self.nova_conf, self.paste,
             self.overlay], env=dict(os.environ,
                                     OS_NOVA_DISABLE_EVENTLET_PATCHING='true'),
            capture_output=True, text=True, timeout=300)
        for line in proc.stdout.splitlines():
            if line.startswith('RESULT '):
                return json.loads(line[len('RESULT '):])
        raise AssertionError('Nova could not load the edited files '
                             '(%d):\n%s\n%s' % (proc.returncode,
                                                proc.stdout, proc.stderr))


class TestPostConfig(base.BaseTestCase):

    def _post_config_twice(self, denv):
        denv.phase('stack', 'post-config')
        first = {p: denv.read(p) for p in denv.original}
        topo = os.path.join(denv.conf_dir, 'topology.yaml')
        first[topo] = denv.read(topo)
        denv.phase('stack', 'post-config')
        for path, content in first.items():
            self.assertEqual(content, denv.read(path),
                             'the second post-config changed %s' % path)
        return first

    def _assert_loaded(self, denv, enabled_before):
        result = denv.nova_check()
        self.assertIn(QSLM_FILTER, result['filters'])
        # Nova's own filters are still available.
        self.assertIn('nova.scheduler.filters.compute_filter.ComputeFilter',
                      result['filters'])
        names = {c.rsplit('.', 1)[1] for c in result['filters']}
        for name in result['enabled_filters']:
            self.assertIn(name, names, 'enabled filter %s is not available'
                          % name)
        self.assertEqual(enabled_before + ['QSLMFilter'],
                         result['enabled_filters'])
        self.assertIn(QSLM_WEIGHER, result['weighers'])
        self.assertIn('nova.scheduler.weights.ram.RAMWeigher',
                      result['weighers'])
        qslm = result['qslm']
        self.assertEqual(os.path.join(denv.conf_dir, 'topology.yaml'),
                         qslm['topology_file'])
        self.assertEqual(['static'], qslm['trust_providers'])
        self.assertTrue(qslm['fail_closed'])
        for url in ('/v2.1/+', '/v2/+'):
            chain = result['pipelines'][url]
            self.assertIn(PRECHECK, chain, url)
            self.assertEqual(chain.index(CONTEXT) + 1,
                             chain.index(PRECHECK), url)
        for url in ('', '/v2.1', '/v2'):
            self.assertNotIn(PRECHECK, result['pipelines'][url])
        return result

    def test_devstack_nova_conf(self):
        denv = DevstackEnv(self)
        self._post_config_twice(denv)
        self.assertEqual(
            ['topology_file', 'trust_providers', 'max_attestation_age',
             'fail_closed', 'sla_estimate', 'weight_multiplier',
             'apply_to_cold_migrations', 'default_dirty_rate_mibps',
             'live_migration_downtime', 'live_migration_completion_timeout'],
            list(sections(denv.nova_conf)['qslm']))
        result = self._assert_loaded(denv, [
            'ComputeFilter', 'ComputeCapabilitiesFilter',
            'ImagePropertiesFilter',
            'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter',
            'SameHostFilter', 'DifferentHostFilter'])
        # Nova's default weighers stay; the [libvirt] values are mirrored.
        self.assertEqual(['nova.scheduler.weights.all_weighers',
                          QSLM_WEIGHER], result['weight_classes'])
        self.assertEqual(['nova.scheduler.filters.all_filters',
                          QSLM_FILTER], result['available_filters'])
        self.assertEqual(400, result['qslm']['live_migration_downtime'])
        self.assertEqual(
            600, result['qslm']['live_migration_completion_timeout'])
        # The topology is this node's compute host, not the sample's
        # hosts; no TLS, as nova.conf does not enable it. Sealed, and
        # nothing staged left in the directory.
        topo = topology.load(os.path.join(denv.conf_dir, 'topology.yaml'),
                             require_seal=True)
        self.assertEqual([socket.gethostname()], list(topo.hosts))
        self.assertEqual(frozenset(['none']),
                         topo.hosts[socket.gethostname()].mechanisms)
        self.assertEqual([], [n for n in os.listdir(denv.conf_dir)
                              if n.startswith('.topology')])

    def test_generated_nova_conf(self):
        # Every option commented out, as oslo-config-generator writes it.
        out = os.path.join(self.useFixture(
            fixtures.TempDir()).path, 'nova.conf')
        proc = subprocess.run(
            [os.path.join(BIN, 'oslo-config-generator'), '--namespace',
             'nova.conf', '--output-file', out], capture_output=True,
            text=True, timeout=300)
        self.assertEqual(0, proc.returncode, proc.stderr)
        with open(out) as f:
            denv = DevstackEnv(self, f.read())
        self._post_config_twice(denv)
        from nova.conf import scheduler  # noqa: defaults from Nova itself
        default = [o.default for o in scheduler.filter_scheduler_opts
                   if o.name == 'enabled_filters'][0]
        result = self._assert_loaded(denv, list(default))
        self.assertEqual(['nova.scheduler.weights.all_weighers',
                          QSLM_WEIGHER], result['weight_classes'])

    def test_operator_values_kept(self):
        conf = DEVSTACK_NOVA_CONF.replace(
            '[filter_scheduler]\n',
            '[filter_scheduler]\n'
            'available_filters = nova.scheduler.filters.all_filters\n'
            'available_filters = %s\n'
            'weight_classes = nova.scheduler.weights.ram.RAMWeigher\n'
            % QSLM_FILTER)
        denv = DevstackEnv(self, conf, env={
            'QSLM_EXTRA_OPTS': 'default_require_encryption=True '
                               'precheck_rate_limit=5 sla_estimate=expected',
            'QSLM_FAIL_CLOSED': 'False',
            'QSLM_MIRROR_LIBVIRT': 'False'})
        self._post_config_twice(denv)
        values = sections(denv.nova_conf)
        self.assertEqual(
            'nova.scheduler.weights.ram.RAMWeigher,' + QSLM_WEIGHER,
            values['filter_scheduler']['weight_classes'])
        result = denv.nova_check()
        self.assertEqual(['nova.scheduler.filters.all_filters',
                          QSLM_FILTER], result['available_filters'])
        self.assertTrue(result['qslm']['default_require_encryption'])
        self.assertEqual(5, result['qslm']['precheck_rate_limit'])
        # QSLM_EXTRA_OPTS wins over the dedicated variable.
        self.assertEqual('expected', result['qslm']['sla_estimate'])
        self.assertFalse(result['qslm']['fail_closed'])
        self.assertEqual(500, result['qslm']['live_migration_downtime'])
        # Undo leaves the operator's own values alone.
        denv.phase('unstack')
        self.assertEqual(denv.original[denv.nova_conf],
                         denv.read(denv.nova_conf))

    def test_paste_snippet_matches_plugin(self):
        # The documented snippet is what the plugin does to Nova's file.
        denv = DevstackEnv(self)
        denv.phase('stack', 'post-config')
        edited = sections(denv.paste)
        snippet = sections(PASTE_SNIPPET)
        self.assertEqual(3, len(snippet))
        for name, values in snippet.items():
            self.assertEqual(values, edited[name], name)

    def test_disabled_pieces(self):
        denv = DevstackEnv(self, env={'QSLM_ENABLE_PRECHECK': 'False',
                                      'QSLM_ENABLE_WEIGHER': 'False'})
        denv.phase('stack', 'post-config')
        self.assertEqual(denv.original[denv.paste], denv.read(denv.paste))
        self.assertNotIn('weight_classes',
                         sections(denv.nova_conf)['filter_scheduler'])

    def test_generated_topology(self):
        conf = DEVSTACK_NOVA_CONF.replace(
            '[libvirt]\n', '[libvirt]\nlive_migration_with_native_tls = '
            'True\n')
        denv = DevstackEnv(self, conf, env={
            'QSLM_TOPOLOGY_HOSTS': 'devstack-1 devstack-2'})
        denv.phase('stack', 'post-config')
        topo = topology.load(os.path.join(denv.conf_dir, 'topology.yaml'),
                             require_seal=True)
        self.assertEqual(['devstack-1', 'devstack-2'], sorted(topo.hosts))
        self.assertTrue(topo.hosts['devstack-1'].trusted)
        # TLS only because nova.conf enables native TLS.
        self.assertEqual(frozenset(['none', 'tls']),
                         topo.hosts['devstack-2'].mechanisms)
        search = topo.widest_paths('devstack-1')
        self.assertEqual(10.0, topo.path_to(search,
                                            'devstack-2').bottleneck_gbps)

    def test_local_host_from_nova_conf(self):
        conf = DEVSTACK_NOVA_CONF.replace('[DEFAULT]\n',
                                          '[DEFAULT]\nhost = cmp-7\n')
        denv = DevstackEnv(self, conf)
        denv.phase('stack', 'post-config')
        topo = topology.load(os.path.join(denv.conf_dir, 'topology.yaml'))
        self.assertEqual(['cmp-7'], list(topo.hosts))

    def test_no_compute_here_no_topology(self):
        denv = DevstackEnv(self, env={'ENABLED_SERVICES': 'n-api,n-sch'})
        denv.phase('stack', 'post-config')
        self.assertFalse(os.path.exists(os.path.join(denv.conf_dir,
                                                     'topology.yaml')))

    def test_topology_source_validated(self):
        denv = DevstackEnv(self, env={'QSLM_TOPOLOGY_SOURCE':
                                      TOPOLOGY_SAMPLE})
        denv.phase('stack', 'post-config')
        with open(os.path.join(denv.conf_dir, 'topology.yaml'), 'rb') as f:
            with open(TOPOLOGY_SAMPLE, 'rb') as g:
                self.assertEqual(seal.seal(g.read()), f.read())
        lonely = os.path.join(denv.dir, 'lonely.yaml')
        with open(lonely, 'w') as f:
            f.write('version: 1\nhosts: {a: {}, b: {}, c: {}}\n'
                    'links: [{between: [a, b], bandwidth_gbps: 1, '
                    'security: private}]\n')
        denv = DevstackEnv(self, env={'QSLM_TOPOLOGY_SOURCE': lonely})
        e = self.assertRaises(AssertionError, denv.phase, 'stack',
                              'post-config')
        self.assertIn('is invalid', str(e))
        self.assertIn('hosts.c: has no links', str(e))
        self.assertFalse(os.path.exists(os.path.join(denv.conf_dir,
                                                     'topology.yaml')))
        # A cloud file is not a topology file for the services.
        denv = DevstackEnv(self, env={'QSLM_TOPOLOGY_SOURCE': os.path.join(
            ROOT, 'etc', 'qslm-nova', 'sample-cloud.yaml')})
        e = self.assertRaises(AssertionError, denv.phase, 'stack',
                              'post-config')
        self.assertIn('clock: unknown key', str(e))

    def test_keylime_options(self):
        denv = DevstackEnv(self, env={
            'QSLM_TRUST_PROVIDERS': 'keylime',
            'QSLM_KEYLIME_OPTS': 'verifier_url=https://192.0.2.10:8881 '
                                 'agent_id_fallback=hostname '
                                 'cache_ttl=10'})
        self._post_config_twice(denv)
        values = sections(denv.nova_conf)['qslm_keylime']
        self.assertEqual(['verifier_url', 'agent_id_fallback', 'cache_ttl'],
                         list(values))
        # Nova's oslo.config with the provider's options reads them typed.
        proc = subprocess.run([sys.executable, '-c', textwrap.dedent("""\
            import sys
            from oslo_config import cfg
            from qslm_nova import trust
            conf = cfg.ConfigOpts()
            for group, options in trust.list_provider_opts():
                conf.register_opts(options, group=group)
            conf(['--config-file', sys.argv[1]])
            k = conf.qslm_keylime
            print(k.verifier_url, k.agent_id_fallback, k.cache_ttl + 1)
            """), denv.nova_conf], capture_output=True, text=True,
                              timeout=120)
        self.assertEqual('https://192.0.2.10:8881 hostname 11',
                         proc.stdout.strip(), proc.stderr)
        denv.phase('unstack')
        self.assertEqual(denv.original[denv.nova_conf],
                         denv.read(denv.nova_conf))
        denv = DevstackEnv(self, env={'QSLM_KEYLIME_OPTS': 'oops'})
        e = self.assertRaises(AssertionError, denv.phase, 'stack',
                              'post-config')
        self.assertIn("QSLM_KEYLIME_OPTS: 'oops' is not name=value", str(e))

    def test_bad_topology_dies_and_keeps_the_old_file(self):
        denv = DevstackEnv(self)
        denv.phase('stack', 'post-config')
        path = os.path.join(denv.conf_dir, 'topology.yaml')
        before = denv.read(path)
        bad = os.path.join(denv.conf_dir, 'bad.yaml')
        with open(bad, 'w') as f:
            f.write('version: 2\n')
        denv.env['QSLM_TOPOLOGY_SOURCE'] = bad
        e = self.assertRaises(AssertionError, denv.phase, 'stack',
                              'post-config')
        self.assertIn('the topology for %s is invalid' % path, str(e))
        self.assertIn('bad.yaml: version: must be 1, got 2', str(e))
        self.assertEqual(before, denv.read(path))

    def test_bad_extra_opt_dies(self):
        denv = DevstackEnv(self, env={'QSLM_EXTRA_OPTS': 'nonsense'})
        e = self.assertRaises(AssertionError, denv.phase, 'stack',
                              'post-config')
        self.assertIn("QSLM_EXTRA_OPTS: 'nonsense' is not name=value",
                      str(e))


class TestUndo(base.BaseTestCase):

    def test_unstack_and_clean_restore(self):
        for phase in ('unstack', 'clean'):
            denv = DevstackEnv(self)
            denv.phase('stack', 'post-config')
            denv.phase('stack', 'post-config')
            denv.phase(phase)
            for path, content in denv.original.items():
                self.assertEqual(content, denv.read(path),
                                 '%s did not restore %s' % (phase, path))
            self.assertFalse(os.path.exists(denv.conf_dir))
            self.assertFalse(os.path.exists(denv.env['QSLM_STATE_FILE']))
            # Undoing twice is harmless.
            denv.phase(phase)
            self.assertEqual(denv.original[denv.nova_conf],
                             denv.read(denv.nova_conf))

    def test_undo_restores_options_nova_had_by_default(self):
        # No [filter_scheduler] at all: the plugin wrote Nova's defaults
        # and takes them away again.
        denv = DevstackEnv(self, '[DEFAULT]\ndebug = True\n')
        denv.phase('stack', 'post-config')
        values = sections(denv.nova_conf)['filter_scheduler']
        self.assertIn('QSLMFilter', values['enabled_filters'])
        denv.phase('clean')
        self.assertEqual({'DEFAULT': {'debug': 'True'}},
                         {k: v for k, v in
                          sections(denv.nova_conf).items() if v})

    def test_unstack_keeps_what_it_did_not_add(self):
        conf = DEVSTACK_NOVA_CONF + textwrap.dedent("""\

            [qslm]
            precheck_rate_limit = 7
            sla_estimate = expected
            """)
        denv = DevstackEnv(self, conf)
        topo = os.path.join(denv.conf_dir, 'topology.yaml')
        os.makedirs(denv.conf_dir)
        mine = 'version: 1\nhosts: {x: {}}\nlinks: []\n'
        with open(topo, 'w') as f:
            f.write(mine)
        denv.phase('stack', 'post-config')
        values = sections(denv.nova_conf)['qslm']
        self.assertEqual('worst', values['sla_estimate'])
        self.assertEqual('7', values['precheck_rate_limit'])
        denv.phase('stack', 'post-config')
        denv.phase('unstack')
        # The operator's options and their values are back, the section
        # stays; the operator's topology file was neither replaced nor
        # removed.
        self.assertEqual({'precheck_rate_limit': '7',
                          'sla_estimate': 'expected'},
                         sections(denv.nova_conf)['qslm'])
        self.assertEqual(denv.original[denv.nova_conf],
                         denv.read(denv.nova_conf))
        with open(topo) as f:
            self.assertEqual(mine, f.read())

    def test_undo_without_stack(self):
        denv = DevstackEnv(self)
        denv.phase('unstack')
        for path, content in denv.original.items():
            self.assertEqual(content, denv.read(path))


class TestInstallAndExtra(base.BaseTestCase):

    def test_install_uses_setup_develop(self):
        denv = DevstackEnv(self)
        denv.phase('stack', 'install')
        with open(denv.log) as f:
            self.assertIn('setup_develop %s\n' % ROOT, f.read())

    # The openstack client, recorded; "flavor show" finds qslm.silver;
    # two compute services are registered.
    OPENSTACK = textwrap.dedent("""\
        function openstack {
            [[ "$1 $2" == "--os-cloud devstack-admin" ]] || return 9
            shift 2
            echo "openstack $*" >> "$STUB_LOG"
            [[ "$1 $2 $3" == "flavor show qslm.silver" ]] && return 0
            [[ "$1 $2" == "flavor show" ]] && return 1
            if [[ "$1 $2 $3 $4 $5" == \\
                    "compute service list --service nova-compute" ]]; then
                printf 'node-2\\nnode-1\\n'
            fi
            return 0
        }
        """)

    def test_extra_writes_the_registered_hosts(self):
        denv = DevstackEnv(self)
        denv.phase('stack', 'post-config')
        denv.phase('stack', 'extra', prelude=self.OPENSTACK)
        path = os.path.join(denv.conf_dir, 'topology.yaml')
        self.assertEqual(['node-1', 'node-2'],
                         sorted(topology.load(path).hosts))
        # The operator's choice of hosts is kept.
        denv = DevstackEnv(self, env={'QSLM_TOPOLOGY_HOSTS': 'a b'})
        denv.phase('stack', 'post-config')
        denv.phase('stack', 'extra', prelude=self.OPENSTACK)
        self.assertEqual(['a', 'b'], sorted(topology.load(os.path.join(
            denv.conf_dir, 'topology.yaml')).hosts))
        denv.phase('unstack')
        self.assertFalse(os.path.exists(denv.conf_dir))

    def _calls(self, denv):
        if not os.path.exists(denv.log):
            return []
        with open(denv.log) as f:
            return [line.split()[1:] for line in f
                    if line.startswith('openstack flavor create')]

    def test_extra_creates_missing_flavors(self):
        denv = DevstackEnv(self)
        denv.phase('stack', 'extra', prelude=self.OPENSTACK)
        calls = self._calls(denv)
        self.assertEqual(['qslm.gold', 'qslm.bronze'],
                         [c[2] for c in calls])
        gold = calls[0]
        self.assertEqual(['--ram', '4096', '--vcpus', '2', '--disk', '20'],
                         gold[3:9])
        props = [gold[i + 1] for i, a in enumerate(gold) if a == '--property']
        self.assertIn('qslm:max_downtime_ms=300', props)
        self.assertIn('qslm:require_trusted_host=true', props)

    def test_extra_honours_switches(self):
        denv = DevstackEnv(self, env={'QSLM_CREATE_FLAVORS': 'False'})
        denv.phase('stack', 'extra', prelude=self.OPENSTACK)
        self.assertEqual([], self._calls(denv))
        denv = DevstackEnv(self, env={'ENABLED_SERVICES': 'n-cpu'})
        denv.phase('stack', 'extra', prelude=self.OPENSTACK)
        self.assertEqual([], self._calls(denv))


class TestSamples(base.BaseTestCase):

    def test_topology_sample_loads(self):
        topo = topology.load(TOPOLOGY_SAMPLE)
        self.assertEqual(5, len(topo.hosts))
        self.assertEqual({'east', 'west'},
                         {h.site for h in topo.hosts.values()})
        self.assertIn('wireguard', topo.mechanisms)
        self.assertEqual(4.0, topo.mechanisms['ipsec'].crypto_gbps_per_core)
        trusted = {h.name for h in topo.hosts.values() if h.trusted}
        self.assertNotIn('east-cmp-3', trusted)
        wan = [e for e in topo.graph.edges(data=True)
               if e[2]['mechanisms'] == frozenset(['ipsec'])]
        self.assertEqual(1, len(wan))
        # A private-only path cannot cross the WAN.
        self.assertIsNone(topo.path_to(topo.widest_paths('east-cmp-1', 3),
                                       'west-cmp-1'))
        path = topo.path_to(topo.widest_paths('east-cmp-1'), 'west-cmp-1')
        self.assertAlmostEqual(0.7, path.bottleneck_gbps)

    def test_topology_sample_documents_every_field(self):
        with open(TOPOLOGY_SAMPLE) as f:
            text = f.read()
        fields = (topology.TOP_KEYS + topology.HOST_KEYS +
                  topology.NODE_KEYS + topology.LINK_KEYS +
                  tuple(mechanisms.FIELDS))
        comments = '\n'.join(line for line in text.splitlines()
                             if line.lstrip().startswith('#'))
        for field in fields:
            self.assertIn(field, comments, 'field %s is not described'
                          % field)

    def test_flavor_sample_extra_specs_validate(self):
        from nova.api.validation.extra_specs import validators
        with open(FLAVORS_SAMPLE) as f:
            flavors = yaml.safe_load(f)
        self.assertEqual(['qslm.gold', 'qslm.silver', 'qslm.bronze'],
                         list(flavors))
        for name, flavor in flavors.items():
            for key, value in flavor['extra_specs'].items():
                validators.validate(key, value)


class TestShellcheck(base.BaseTestCase):

    def test_shellcheck_clean(self):
        exe = shutil.which('shellcheck')
        if exe is None:
            self.fail('shellcheck is missing: install it (apt-get install '
                      'shellcheck; tools/run-tests.sh APT_PACKAGES)')
        proc = subprocess.run(
            [exe, '-x', '-s', 'bash', 'devstack/plugin.sh',
             'devstack/settings', 'tests/devstack/functions-stub.sh'],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stdout + proc.stderr)
