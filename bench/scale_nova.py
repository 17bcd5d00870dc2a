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

"""Nova's scheduler, as the scale benchmark drives it.

Real ``HostState`` objects (:func:`make_hosts`), a fresh ``RequestSpec``
per request with its instance served from memory in place of Nova's
database look-up (:func:`make_instance`, :func:`setup`), and a
:class:`Runner` that times one request through Nova's filter and weight
handlers: QSLM's filter and weigher, Nova's RAMWeigher and two of Nova's
own filters for comparison. :func:`write_topology` replaces a topology
file as an operator's tool would.
"""

import json
import os
import statistics
import time

os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', 'true')

from nova import monkey_patch  # noqa: E402
monkey_patch.patch()

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from nova.compute import task_states  # noqa: E402
from nova import objects  # noqa: E402
from nova.scheduler import filters as nova_filters  # noqa: E402
from nova.scheduler.filters import compute_capabilities_filter  # noqa
from nova.scheduler.filters import image_props_filter  # noqa: E402
from nova.scheduler import host_manager  # noqa: E402
from nova.scheduler import weights as nova_weights  # noqa: E402
from nova.scheduler.weights import ram  # noqa: E402
from oslo_utils import uuidutils  # noqa: E402

from qslm_nova import conf as qslm_conf  # noqa: E402
from qslm_nova.scheduler import filters as qslm_filters  # noqa: E402
from qslm_nova.scheduler import request as qslm_request  # noqa: E402
from qslm_nova.scheduler import weights as qslm_weights  # noqa: E402

CONF = qslm_conf.CONF

CELL = uuidutils.generate_uuid()

# The flavor of the benchmark instance: QSLM keys (which Nova's
# ComputeCapabilitiesFilter skips, being in another namespace) and one
# capabilities key, as an operator pinning the hypervisor would set.
EXTRA_SPECS = {
    'qslm:max_downtime_ms': '800',
    'qslm:min_link_security': 'shared',
    'qslm:require_trusted_host': 'true',
    'qslm:dirty_rate_mibps': '32',
    'capabilities:hypervisor_type': 'QEMU',
}

IMAGE_PROPS = {'hw_architecture': 'x86_64', 'img_hv_type': 'qemu',
               'hw_vm_mode': 'hvm'}

_INSTANCES = {}


def _fake_lookup(spec_obj):
    return _INSTANCES[spec_obj.instance_uuid]


def setup(topology_path):
    objects.register_all()
    CONF.set_override('topology_file', topology_path, group='qslm')
    CONF.set_override('trust_providers', ['static'], group='qslm')
    # 1 year: the generated attestation times stay fresh for the bench.
    CONF.set_override('max_attestation_age', 365 * 86400, group='qslm')
    qslm_request._lookup_instance = _fake_lookup
    qslm_request.ENGINES.reset()


def write_topology(doc, path):
    """Write atomically (temp file + rename), as an operator's tool would.

    JSON when the path ends in .json, else YAML.
    """
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        if path.endswith('.json'):
            json.dump(doc, f)
        else:
            yaml.dump(doc, f, Dumper=getattr(yaml, 'CSafeDumper',
                                             yaml.SafeDumper),
                      default_flow_style=None, sort_keys=False)
    os.replace(tmp, path)


def make_hosts(names):
    hosts = []
    for i, name in enumerate(names):
        hs = host_manager.HostState(name, name, CELL)
        hs.hypervisor_type = 'QEMU'
        hs.hypervisor_version = 8002000
        hs.supported_instances = [('x86_64', 'qemu', 'hvm'),
                                  ('i686', 'qemu', 'hvm')]
        hs.cpu_info = {'arch': 'x86_64', 'vendor': 'AMD'}
        hs.stats = {}
        # Free RAM varies, so that Nova's RAMWeigher has work to do.
        hs.free_ram_mb = 8192 + (i * 7919) % 120000
        hs.total_usable_ram_mb = 131072
        hs.vcpus_total = 64
        hs.vcpus_used = 8
        hosts.append(hs)
    return hosts


def make_flavor():
    return objects.Flavor(name='bench', memory_mb=4096, vcpus=2,
                          root_gb=20, ephemeral_gb=0, swap=0,
                          extra_specs=dict(EXTRA_SPECS))


def make_instance(uuid, source, flavor):
    inst = objects.Instance(uuid=uuid, host=source, node=source,
                            task_state=task_states.MIGRATING,
                            flavor=flavor, metadata={}, system_metadata={})
    _INSTANCES[uuid] = inst
    return inst


def make_spec(uuid, flavor, image):
    return objects.RequestSpec(instance_uuid=uuid, flavor=flavor,
                               image=image, scheduler_hints={},
                               num_instances=1, ignore_hosts=[],
                               force_hosts=[], force_nodes=[])


class Runner:
    """Times one request through Nova's handlers."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.fh = nova_filters.HostFilterHandler()
        self.wh = nova_weights.HostWeightHandler()
        self.qslm_filter = qslm_filters.QSLMFilter()
        self.qslm_weigher = qslm_weights.QSLMWeigher()
        self.ram_weigher = ram.RAMWeigher()
        self.ccf = compute_capabilities_filter.ComputeCapabilitiesFilter()
        self.ipf = image_props_filter.ImagePropertiesFilter()
        self.flavor = make_flavor()
        self.image = objects.ImageMeta.from_dict(
            {'properties': dict(IMAGE_PROPS)})

    def new_request(self, source):
        uuid = uuidutils.generate_uuid()
        make_instance(uuid, source, self.flavor)
        return make_spec(uuid, self.flavor, self.image)

    def qslm(self, spec):
        """(filter ms, weigh ms, passed, best host)."""
        t0 = time.perf_counter()
        passed = self.fh.get_filtered_objects([self.qslm_filter],
                                              self.hosts, spec, 0)
        t1 = time.perf_counter()
        weighed = self.wh.get_weighed_objects([self.qslm_weigher], passed,
                                              spec)
        t2 = time.perf_counter()
        best = weighed[0].obj.host if weighed else None
        return (t1 - t0) * 1e3, (t2 - t1) * 1e3, passed, best

    def ram_weigh(self, passed, spec):
        """ms of Nova's RAMWeigher through the same handler."""
        t0 = time.perf_counter()
        self.wh.get_weighed_objects([self.ram_weigher], passed, spec)
        return (time.perf_counter() - t0) * 1e3

    def nova(self, flt, spec):
        t0 = time.perf_counter()
        passed = self.fh.get_filtered_objects([flt], self.hosts, spec, 0)
        return (time.perf_counter() - t0) * 1e3, passed


def pct(values, q):
    return float(np.percentile(np.asarray(values), q))


def summary(values):
    return {'median_ms': statistics.median(values),
            'p95_ms': pct(values, 95), 'min_ms': min(values),
            'n': len(values)}
