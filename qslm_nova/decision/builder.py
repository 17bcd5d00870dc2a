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

"""A Decision for one candidate, built from the request's computation.

The engine decides every candidate with arrays; the full
:class:`result.Decision` of a candidate (path, estimates, reasons,
notes, where each figure came from, the inputs of its estimate) is
built by :class:`DecisionBuilder` only when someone asks for it.
"""

import dataclasses

import numpy as np

from qslm_nova.decision import hostfacts
from qslm_nova.decision import options as options_mod
from qslm_nova.decision import result
from qslm_nova.decision import screen as screen_mod
from qslm_nova import estimator
from qslm_nova.risk import notes as risk_notes

Decision = result.Decision
Stage = screen_mod.Stage


class DecisionBuilder:
    """Builds the Decision of candidate i of a request when asked."""

    def __init__(self, engine, topo, pol, src, remaining, notes,
                 candidates, found, chosen, verdicts, request=None,
                 risk=None):
        self.engine = engine
        self.topo = topo
        self.pol = pol
        self.src = src
        self.remaining = remaining
        self.notes = notes
        self.candidates = candidates
        self.found = found
        self.chosen = chosen
        self.verdicts = verdicts
        self.request = request
        self.risk = risk

    def notes_for(self, host):
        """The request's notes, and a difference between the topology
        file and the host's published profile.
        """
        facts = self.found.facts
        note = None if facts is None else facts.destination_note(host)
        return self.notes if note is None else self.notes + (note,)

    def __call__(self, i):
        host = self.candidates[i]
        found = self.found
        stage = found.stage[i]
        if stage == Stage.PLANNED:
            return self.planned(i, host)
        d = Decision.fresh(host, self.notes_for(host))
        if stage == Stage.UNKNOWN_HOST:
            self.engine.mark_unchecked(
                d, 'host %s is not in the topology file' % host, self.pol)
        elif stage == Stage.SOURCE_HOST:
            d.deny('host %s is the source host' % host)
        elif stage == Stage.UNTRUSTED:
            d.deny('host %s is not trusted (%s); the instance requires '
                   'trusted hosts' % (host, found.trust.reason(
                       int(found.trust_row[i]))))
        elif stage == Stage.NO_PATH:
            d.deny('no path from %s to %s in the topology' % (
                self.src.name, host))
        else:   # Stage.NO_OPTION
            self.set_path(d, i, host)
            facts = found.facts
            sends = receives = None
            if facts is not None:
                sends = facts.send
                receives = facts.receives(host)
            d.deny(options_mod.no_option_reason(
                self.pol, self.src, self.topo.hosts[host],
                not found.from_secure[i], found.required_level,
                sends=sends, receives=receives,
                profiled=(facts is not None and
                          facts.transport_source == hostfacts.PROFILE)))
        return d

    def set_path(self, d, i, host):
        found = self.found
        search = found.secure if found.from_secure[i] else found.any_level
        path = self.topo.path_to(search, host)
        d.path = path.nodes
        d.weakest_link = self.topo.level_name(path.weakest_level)
        d.bottleneck_gbps = path.bottleneck_gbps
        d.rtt_ms = path.rtt_ms

    def planned(self, i, host):
        """The Decision of an estimated candidate, judged."""
        j = int(self.found.planned_row[i])
        chosen = self.chosen
        d = Decision.fresh(host, self.notes_for(host))
        self.set_path(d, i, host)
        option = chosen.options[chosen.option[j]]
        d.mechanism = option.label
        d.sources = self.sources(option, j)
        d.inputs = self.inputs(option, j)
        d.expected_downtime_ms = float(chosen.expected_downtime_ms[j])
        d.worst_downtime_ms = float(chosen.worst_downtime_ms[j])
        if chosen.race_downtime_ms is not None:
            d.race_downtime_ms = float(chosen.race_downtime_ms[j])
        d.total_time_s = float(chosen.total_time_s[j])
        d.bytes_sent = float(chosen.bytes_sent[j])
        d.rate_mibps = float(chosen.rate_mibps[j])
        d.outcome = estimator.Outcome(chosen.outcome[j]).label
        d.worst_outcome = estimator.Outcome(chosen.worst_outcome[j]).label
        d.paper_worst_ms = float(chosen.paper_worst_ms[j])
        d.remaining_budget_ms = self.remaining
        self.engine.explain(d, self.verdicts, j)
        if self.risk is not None:
            risk_notes.explain(d, self.risk, j,
                               float(self.verdicts.held_ms[j]))
        return d

    def inputs(self, option, j):
        """The EstimateInputs of planned candidate j (or None)."""
        paths = getattr(self.chosen, 'paths', None)
        req = self.request
        facts = self.found.facts
        if paths is None or req is None or facts is None:
            return None
        mech = option.mechanism
        crypto = paths.host_crypto(option, np.array([j]))
        crypto = (mech.crypto_gbps_per_core if crypto is None
                  else float(crypto[0]))
        return result.EstimateInputs(
            memory_mb=float(req.memory_mb),
            touched_mb=(None if req.touched_mb is None
                        else float(req.touched_mb)),
            disk_gb=float(req.disk_gb),
            dirty_rate_mibps=float(self.pol.dirty_rate_mibps),
            working_set_mb=(None if self.pol.working_set_mb is None
                            else float(self.pol.working_set_mb)),
            fixed_pause_ms=float(self.chosen.fixed_pause_ms),
            bandwidth_gbps=float(paths.bandwidth_gbps[j]),
            rtt_ms=float(paths.rtt_ms[j]),
            cpu_load=float(paths.cpu_load[j]),
            streams=(1.0 if paths.streams is None
                     else float(paths.streams[j])),
            mechanism={
                'name': option.label,
                'crypto_gbps_per_core': (crypto if np.isfinite(crypto)
                                         else None),
                'overhead_bytes_per_packet': mech.overhead_bytes_per_packet,
                'handshake_rtts': mech.handshake_rtts,
                'buffered_mb': mech.buffered_mb},
            libvirt=dataclasses.asdict(facts.libvirt))

    def sources(self, option, j):
        """Where the figures of planned candidate j came from."""
        facts = self.found.facts
        chosen = self.chosen
        if facts is None:
            return None
        cipher = '-'
        if np.isfinite(option.mechanism.crypto_gbps_per_core):
            cipher = hostfacts.TOPOLOGY
            paths = getattr(chosen, 'paths', None)
            if paths is not None and option.end_to_end is not None and \
                    np.isfinite(option.end_to_end.crypto_gbps_per_core) and \
                    paths.dst_cipher is not None and (
                        not np.isnan(paths.src_cipher) or
                        not np.isnan(paths.dst_cipher[j])):
                cipher = hostfacts.PROFILE
        load = getattr(chosen, 'load_source', None)
        return hostfacts.FigureSources(
            transport=facts.transport_source,
            libvirt=facts.libvirt_source, cipher=cipher,
            cpu_load=('-' if load is None else
                      hostfacts.LOAD_SOURCES[int(load[j])]),
            dirty_rate=getattr(facts, 'dirty_rate_source', hostfacts.POLICY))
