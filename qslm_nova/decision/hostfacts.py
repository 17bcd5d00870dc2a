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

"""What one request knows about its hosts, and where each figure came from.

Each figure has an order of sources: a host's profile published by its
compute agent (``profile``) first, then the topology file (``topology``),
then the ``[qslm]`` options (``[qslm]`` for the mirrored ``[libvirt]``
options, ``default`` for ``default_host_cpu_load``). The source's profile
says how the migration travels (its Nova's transport) and how Nova runs
it (its ``[libvirt]`` options); a destination's says what it can receive,
its cipher and its load. The dirty rate is the agent's observation when
fresh (``observed``), else the policy's hint (``policy``).
"""

import dataclasses
import time

import numpy as np
from oslo_log import log as logging

from qslm_nova.profile import mechanisms as profile_mechs

LOG = logging.getLogger(__name__)

PROFILE = 'profile'
TOPOLOGY = 'topology'
QSLM_OPTIONS = '[qslm]'
DEFAULT = 'default'
OBSERVED = 'observed'
POLICY = 'policy'
#: Where a CPU load came from, by the codes :meth:`RequestFacts.cpu_load`
#: returns.
LOAD_SOURCES = (DEFAULT, TOPOLOGY, PROFILE)

_logged = set()


def log_once(text):
    """Log a difference between the topology file and a profile once."""
    if text in _logged:
        return
    if len(_logged) > 10000:
        _logged.clear()
    _logged.add(text)
    LOG.warning('QSLM: %s; the decision uses the published profile', text)


@dataclasses.dataclass(frozen=True)
class FigureSources:
    """Where the figures of one decision came from.

    The field ``Decision.sources`` holds one; ``qslm-nova plan`` shows it
    (``str()`` gives ``transport=profile libvirt=[qslm] ...``). Values:
    ``profile`` (a compute agent's published profile), ``topology`` (the
    topology file), ``[qslm]`` (the [qslm] mirror options), ``default``
    (``[qslm] default_host_cpu_load``), ``observed`` (the agent's
    observed dirty rate), ``policy`` (the flavor, image, metadata or
    default dirty-rate hint).
    """

    transport: str
    libvirt: str
    cipher: str
    cpu_load: str
    dirty_rate: str

    def __str__(self):
        return ' '.join('%s=%s' % (f.name, getattr(self, f.name))
                        for f in dataclasses.fields(self))


class RequestFacts:
    """The hosts of one request as the estimate sees them.

    :param src: the source Host of the topology.
    :param store: a :class:`qslm_nova.profile.ProfileStore`, or None.
    :param node: the source's compute node name (default its host name).
    """

    def __init__(self, topo, src, settings, store=None, node=None,
                 now_epoch=None):
        self.topo = topo
        self.src = src
        self.settings = settings
        self.now_epoch = time.time() if now_epoch is None else now_epoch
        self.notes = []
        self.profile = None
        self.arrays = None
        if store is not None:
            self.profile, error = store.source(node or src.name)
            if error:
                self.notes.append(error)
            table = store.destinations()
            if len(table):
                self.arrays = table.arrays_for(topo)
        self._source_figures()

    def _source_figures(self):
        profile, src = self.profile, self.src
        send = profile_mechs.sends(profile, src.mechanisms)
        self.transport_source = TOPOLOGY
        self.send = src.mechanisms
        if send is not None:
            self.send = send
            self.transport_source = PROFILE
            mismatch = profile_mechs.source_mismatch(src.name,
                                                     src.mechanisms, profile)
            if mismatch:
                log_once(mismatch)
                self.notes.append(mismatch)
        if profile is not None and profile.errors:
            self.notes.append('published profile of %s is partly '
                              'unreadable: %s' % (src.name,
                                                  '; '.join(profile.errors)))
        self.libvirt_source = QSLM_OPTIONS
        self.libvirt = self.settings.libvirt
        if profile is not None and profile.libvirt is not None:
            self.libvirt = profile.libvirt
            self.libvirt_source = PROFILE
        self.src_fresh = bool(self.fresh(np.array(
            [np.nan if profile is None or profile.seen_at is None
             else float(profile.seen_at)]))[0])
        if profile is not None and not self.src_fresh:
            age = profile.age_s(self.now_epoch)
            self.notes.append('published profile of %s is %s: its CPU load '
                              'is not used' % (
                                  src.name, 'undated' if age is None else
                                  '%.0f min old' % (age / 60.0)))

    @property
    def request_settings(self):
        """The engine's settings with the source's [libvirt] options."""
        if self.libvirt is self.settings.libvirt:
            return self.settings
        return dataclasses.replace(self.settings, libvirt=self.libvirt)

    # -- per candidate (topology host numbers) ------------------------------
    def mechanism_sets(self, hosts):
        """(set number per host, the list of sets) of what each receives.
        """
        topo = self.topo
        ids = topo.host_mechanism_set[hosts]
        if self.arrays is None:
            return ids, topo.mechanism_sets
        sets = list(topo.mechanism_sets)
        index = {s: k for k, s in enumerate(sets)}
        out = ids.copy()
        profiled = self.arrays.profiled[hosts]
        tls = self.arrays.accepts_tls[hosts]
        # Few distinct (topology set, takes TLS) pairs serve every host.
        for m, t in set(zip(ids[profiled].tolist(), tls[profiled].tolist())):
            got = profile_mechs.receives(t, topo.mechanism_sets[m])
            k = index.get(got)
            if k is None:
                k = index[got] = len(sets)
                sets.append(got)
            out[profiled & (ids == m) & (tls == t)] = k
        return out, sets

    def fresh(self, seen_at):
        """Per host: published within [qslm] host_profile_max_age."""
        max_age = self.settings.host_profile_max_age
        known = ~np.isnan(seen_at)
        if not max_age:
            return known
        with np.errstate(invalid='ignore'):
            return known & (self.now_epoch - seen_at <= max_age)

    def cpu_load(self, hosts):
        """(load of the busier side, its source code) per candidate.

        Codes index :data:`LOAD_SOURCES`.
        """
        topo = self.topo
        default = self.settings.default_host_cpu_load
        loads = topo.host_cpu_load[hosts]
        code = np.where(np.isnan(loads), 0, 1).astype(np.int8)
        loads = np.where(np.isnan(loads), default, loads)
        if self.arrays is not None:
            a = self.arrays
            use = (a.profiled[hosts] & self.fresh(a.seen_at[hosts]) &
                   ~np.isnan(a.cpu_load[hosts]))
            loads = np.where(use, a.cpu_load[hosts], loads)
            code[use] = 2
        src_load, src_code = self.source_load()
        code[src_load >= loads] = src_code
        return np.maximum(src_load, loads), code

    def source_load(self):
        """(the source's load, its source code)."""
        p = self.profile
        if p is not None and self.src_fresh and p.cpu_load is not None:
            return p.cpu_load, 2
        if self.src.cpu_load is not None:
            return self.src.cpu_load, 1
        return self.settings.default_host_cpu_load, 0

    def ciphers(self, hosts):
        """(source's measured cipher, destinations' ones) in Gbit/s per
        core, NaN where none is published; None without any.
        """
        src = np.nan
        if self.profile is not None and \
                self.profile.cipher_gbps_per_core is not None:
            src = self.profile.cipher_gbps_per_core
        dst = (np.full(len(hosts), np.nan) if self.arrays is None
               else self.arrays.cipher_gbps[hosts])
        if np.isnan(src) and np.isnan(dst).all():
            return None
        return src, dst

    def streams(self, hosts):
        """Connections per candidate (parallel connections, no more than
        the fewer cores); None for one connection everywhere.
        """
        wanted = self.libvirt.parallel_connections
        if wanted <= 1:
            return None
        cap = np.full(len(hosts), float(wanted))
        if self.profile is not None and self.profile.cores:
            cap = np.minimum(cap, self.profile.cores)
        if self.arrays is not None:
            cores = self.arrays.cores[hosts]
            cap = np.where(np.isnan(cores), cap, np.minimum(cap, cores))
        return np.maximum(cap, 1.0)

    def receives(self, host):
        """What the destination ``host`` (of the topology) can receive."""
        i = self.topo.host_index[host]
        ids, sets = self.mechanism_sets(np.array([i], dtype=np.intp))
        return sets[int(ids[0])]

    def destination_note(self, host):
        """A difference between the topology file and host's profile."""
        if self.arrays is None:
            return None
        i = self.topo.host_index.get(host)
        if i is None or not self.arrays.profiled[i]:
            return None
        text = profile_mechs.destination_mismatch(
            host, self.topo.hosts[host].mechanisms,
            bool(self.arrays.accepts_tls[i]))
        if text:
            log_once(text)
        return text
