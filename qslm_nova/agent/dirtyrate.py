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

"""Each instance's dirty rate, from QEMU's page-sampling calculation.

``virDomainStartDirtyRateCalc`` (QEMU ``calc-dirty-rate``, page-sampling
mode) hashes a sample of each GiB's pages (512 by default) at the start
and the end of the period and counts those whose hash changed; libvirt's
domain statistics (``VIR_DOMAIN_STATS_DIRTYRATE``) then give the rate in
MiB/s. All instances are started together and read with one statistics
call, so a round costs the agent a handful of libvirt calls whatever the
number of instances.

The measured limit of page sampling: a guest that writes bytes a page
already holds leaves its hash unchanged and looks clean, while a
migration still has to send the page again (the migration's dirty
bitmap counts writes, not changes). tests/agent/ shows it with the
testbed guest, whose working set of a multiple of 128 pages rewrites the
same byte values every pass. The hint (flavor, image, metadata) still
matters for such workloads.
"""

import dataclasses

from oslo_log import log as logging

LOG = logging.getLogger(__name__)
MEASURED = 2        # VIR_DOMAIN_DIRTYRATE_MEASURED


@dataclasses.dataclass(frozen=True)
class Sample:
    uuid: str
    mibps: float
    wall: float


class DirtyRateSampler:
    """One sampling round at a time over the running domains.

    :param watcher: the agent's :class:`libvirt_conn.LibvirtWatcher`.
    """

    def __init__(self, watcher, calc_seconds=1):
        self.watcher = watcher
        self.calc_seconds = calc_seconds
        self._started = {}      # uuid -> calc_start_time seen before
        self.due = None          # monotonic time the round can be read

    def start(self, mono):
        """Start the calculation on every running domain not migrating.

        :returns: how many were started.
        """
        import libvirt
        started = {}
        previous = self._last_starts()
        for uuid, dom in self.watcher.running_domains():
            try:
                if dom.jobInfo()[0] != libvirt.VIR_DOMAIN_JOB_NONE:
                    continue    # migrating: leave its QEMU alone
                dom.startDirtyRateCalc(
                    self.calc_seconds,
                    libvirt.VIR_DOMAIN_DIRTYRATE_MODE_PAGE_SAMPLING)
            except libvirt.libvirtError as e:
                # Vanished since it was listed, or a calculation runs.
                LOG.debug('No dirty-rate sample of %s this round: %s',
                          uuid, e)
                continue
            started[uuid] = previous.get(uuid)
        self._started = started
        self.due = mono + self.calc_seconds + 0.5
        return len(started)

    def _last_starts(self):
        return {uuid: stats.get('dirtyrate.calc_start_time')
                for uuid, stats in self._stats()}

    def _stats(self):
        import libvirt
        if not self.watcher.ensure():
            return []
        try:
            found = self.watcher.conn.getAllDomainStats(
                libvirt.VIR_DOMAIN_STATS_DIRTYRATE,
                libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING)
        except libvirt.libvirtError as e:
            LOG.warning('Cannot read dirty rates: %s', e)
            return []
        out = []
        for dom, stats in found:
            try:
                out.append((dom.UUIDString(), stats))
            except libvirt.libvirtError:
                continue
        return out

    def collect(self, mono, wall):
        """The samples of the round once due ([] before, or if none)."""
        if self.due is None or mono < self.due:
            return []
        self.due = None
        samples = []
        for uuid, stats in self._stats():
            if uuid not in self._started:
                continue
            if stats.get('dirtyrate.calc_status') != MEASURED:
                LOG.debug('Dirty rate of %s not measured in time', uuid)
                continue
            if stats.get('dirtyrate.calc_start_time') == \
                    self._started[uuid]:
                continue    # a previous round's value: ours did not run
            rate = stats.get('dirtyrate.megabytes_per_second')
            if rate is None or rate < 0:
                continue
            samples.append(Sample(uuid, float(rate), wall))
        # Domains started but absent now vanished meanwhile: no sample.
        self._started = {}
        return samples


class Publisher:
    """Which samples to write to Nova: changed enough, or getting old."""

    def __init__(self, change=0.25, refresh_s=450.0):
        self.change = change
        self.refresh_s = refresh_s
        self._last = {}     # uuid -> (mibps, wall)

    def wanted(self, sample):
        last = self._last.get(sample.uuid)
        if last is None or sample.wall - last[1] >= self.refresh_s:
            return True
        base = max(last[0], 1.0)
        return abs(sample.mibps - last[0]) / base > self.change

    def published(self, sample):
        self._last[sample.uuid] = (sample.mibps, sample.wall)

    def forget_except(self, uuids):
        for uuid in list(self._last):
            if uuid not in uuids:
                del self._last[uuid]
