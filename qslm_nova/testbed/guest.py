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

"""Build the testbed guest (a multiboot ELF) and describe its workload."""

import dataclasses
import functools
import hashlib
import os
import shutil
import subprocess

from qslm_nova.testbed import TestbedError

SRC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'guest')
SOURCES = ('boot.S', 'guest.c', 'guest.ld')
PAGE_BYTES = 4096
# The guest dirties pages from 4 MiB up; below lies its kernel and BIOS.
BASE_MIB = 4

CFLAGS = ['-m32', '-ffreestanding', '-fno-pic', '-fno-pie',
          '-fno-stack-protector', '-fno-asynchronous-unwind-tables',
          '-nostdlib', '-O2', '-Wall']


@dataclasses.dataclass(frozen=True)
class Workload(object):
    """What the guest does while it is migrated.

    dirty_rate_mibps: MiB of pages written per second (one byte per page),
    0 for an idle guest. wss_mib: the working set the writes cycle over.
    fill_pct: percent of memory above 4 MiB made non-zero at boot.
    burst_on_ms, burst_off_ms: a bursty writer writes at the rate for
    burst_on_ms, then idles for burst_off_ms (off 0: a steady writer).
    """

    dirty_rate_mibps: float = 0.0
    wss_mib: float = 16.0
    fill_pct: int = 100
    hz: int = 1000
    burst_on_ms: int = 0
    burst_off_ms: int = 0

    @property
    def bursty(self):
        return self.burst_on_ms > 0 and self.burst_off_ms > 0

    @property
    def mean_rate_mibps(self):
        """Dirty rate averaged over bursts and pauses."""
        if not self.bursty:
            return self.dirty_rate_mibps
        return self.dirty_rate_mibps * self.burst_on_ms / float(
            self.burst_on_ms + self.burst_off_ms)

    @property
    def rate_pages(self):
        return int(round(self.dirty_rate_mibps * (1 << 20) / PAGE_BYTES))

    @property
    def wss_pages(self):
        return max(1, int(self.wss_mib * (1 << 20) / PAGE_BYTES))

    def cmdline(self):
        line = 'fillpct=%d wss=%d rate=%d hz=%d report=%d' % (
            self.fill_pct, self.wss_pages, self.rate_pages, self.hz,
            max(1, self.hz // 4))
        if self.bursty:
            ticks = self.hz / 1000.0
            line += ' on=%d off=%d' % (
                max(1, round(self.burst_on_ms * ticks)),
                max(1, round(self.burst_off_ms * ticks)))
        return line

    def touched_mib(self, memory_mib):
        """MiB of guest memory that holds non-zero data."""
        above = max(0.0, memory_mib - BASE_MIB)
        return min(memory_mib, above * self.fill_pct / 100.0 + BASE_MIB)


def _tool(name):
    path = shutil.which(name)
    if not path:
        raise TestbedError(
            'building the testbed guest needs %r (Debian: gcc, binutils)'
            % name)
    return path


def build(cache_dir):
    """Compile the guest; returns the path of the ELF (cached by hash)."""
    digest = hashlib.sha256()
    for name in SOURCES:
        with open(os.path.join(SRC_DIR, name), 'rb') as f:
            digest.update(f.read())
    os.makedirs(cache_dir, exist_ok=True)
    elf = os.path.join(cache_dir, 'guest-%s.elf' % digest.hexdigest()[:12])
    if os.path.exists(elf):
        return elf
    gcc = _tool('gcc')
    ld = _tool('ld')
    objs = []
    for src in ('boot.S', 'guest.c'):
        obj = os.path.join(cache_dir, src + '.o')
        _run([gcc] + CFLAGS + ['-c', os.path.join(SRC_DIR, src), '-o', obj])
        objs.append(obj)
    tmp = elf + '.tmp'
    _run([ld, '-m', 'elf_i386', '-nostdlib', '-T',
          os.path.join(SRC_DIR, 'guest.ld'), '-o', tmp] + objs)
    os.rename(tmp, elf)
    return elf


@functools.lru_cache(maxsize=16)
def symbol_address(elf, name):
    """Address of the guest's global *name* in *elf* (``nm``), or None.

    Read once per ELF and name: a campaign asks it after every run, and
    its ELF (named by the sources' hash) never changes.
    """
    proc = subprocess.run([_tool('nm'), elf], capture_output=True,
                          text=True, timeout=30)
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    return None


def _run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise TestbedError('building the testbed guest failed: %s\n%s'
                           % (' '.join(cmd), proc.stderr.strip()))


def parse_progress(text):
    """Parse the guest's debug console: (ready_line, [(ticks, writes)])."""
    ready = None
    points = []
    for line in text.splitlines():
        if line.startswith('READY'):
            ready = line
        elif line.startswith('ERROR'):
            raise TestbedError('guest: %s' % line)
        elif line.startswith('T '):
            parts = line.split()
            if len(parts) == 4 and parts[2] == 'W':
                try:
                    points.append((int(parts[1]), int(parts[3])))
                except ValueError:
                    pass
    return ready, points
