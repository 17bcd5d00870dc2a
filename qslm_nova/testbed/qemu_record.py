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

"""What one raw-QEMU migration did, as columns of its CSV row.

The source's ``query-migrate`` figures, QEMU's own dirty-rate view, the
guest's write rate from its progress lines, and whether (and how fast)
the destination took over: its RESUME against the source's STOP.
"""

import time

from oslo_log import log as logging

from qslm_nova.testbed import guest as guest_mod
from qslm_nova.testbed import qmp

LOG = logging.getLogger(__name__)


def guest_rate(points, hz, since_ticks=0):
    pts = [p for p in points if p[0] >= since_ticks]
    if len(pts) < 2 or pts[-1][0] == pts[0][0]:
        return 0.0
    writes = pts[-1][1] - pts[0][1]
    secs = (pts[-1][0] - pts[0][0]) / float(hz)
    return writes * guest_mod.PAGE_BYTES / float(1 << 20) / secs


def measure_dirty_rate(vm, calc_time=1):
    """QEMU's own view of the guest's dirty rate, in MiB/s."""
    # Page sampling: the dirty-bitmap mode crashes QEMU 7.2 under TCG.
    for args in ({'sample-pages': 4096}, {}):
        try:
            vm.qmp.execute('calc-dirty-rate', **dict(args,
                                                     **{'calc-time':
                                                        calc_time}))
            break
        except qmp.QMPError as e:
            LOG.debug('calc-dirty-rate %s refused: %s', args, e)
    else:
        return None
    deadline = time.monotonic() + calc_time + 10
    while time.monotonic() < deadline:
        time.sleep(0.2)
        info = vm.qmp.execute('query-dirty-rate')
        if info.get('status') == 'measured':
            return float(info.get('dirty-rate', 0))
    return None


def record_query_migrate(row, info):
    ram = info.get('ram', {})
    row['status'] = info.get('status')
    row['total_time_ms'] = info.get('total-time', '')
    row['downtime_ms'] = info.get('downtime', '')
    row['setup_time_ms'] = info.get('setup-time', '')
    row['expected_downtime_ms'] = info.get('expected-downtime', '')
    for key in ('transferred', 'total', 'duplicate', 'normal',
                'normal-bytes', 'remaining', 'downtime-bytes',
                'precopy-bytes', 'postcopy-requests'):
        col = ('postcopy_requests' if key == 'postcopy-requests'
               else 'ram_' + key.replace('-', '_'))
        row[col] = ram.get(key, '')
    row['dirty_pages_rate'] = ram.get('dirty-pages-rate', '')
    row['dirty_sync_count'] = ram.get('dirty-sync-count', '')
    row['ram_mbps'] = ram.get('mbps', '')


def event_time(events, name):
    for ev in events:
        if ev.get('event') == name:
            ts = ev.get('timestamp', {})
            return ts.get('seconds', 0) + ts.get('microseconds', 0) / 1e6
    return None


def check_destination(dst, row, src=None, settle=5.0, timeout=30.0):
    """Wait for the destination to run; measure the guest's real pause.

    QEMU's own ``downtime`` ends when the source has written the last
    byte into its socket; data still buffered in a tunnel is not in it.
    The end-to-end pause runs from the source's STOP event to the
    destination's RESUME event (both stamped with this host's clock).
    """
    deadline = time.monotonic() + timeout
    while True:
        status = dst.qmp.execute('query-status')
        if status.get('running') or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    row['dest_running'] = int(bool(status.get('running')))
    if src is not None:
        stop = event_time(src.qmp.events, 'STOP')
        resume = event_time(dst.qmp.events, 'RESUME')
        if stop is not None and resume is not None:
            row['downtime_e2e_ms'] = round((resume - stop) * 1000.0, 3)
    # Wait for a new progress line for up to *settle* seconds: on a
    # loaded host the resumed TCG guest runs slower than real time and
    # its first line (every 250 guest ticks) can take over a second; the
    # 0.6 s window used before reported 46 live guests as dead.
    before = len(guest_mod.parse_progress(dst.debugcon())[1])
    deadline = time.monotonic() + settle
    after = before
    while after <= before and time.monotonic() < deadline:
        time.sleep(0.05)
        after = len(guest_mod.parse_progress(dst.debugcon())[1])
    row['guest_alive_on_dest'] = int(after > before)
    if not row['guest_alive_on_dest']:
        # QEMU completed, but the guest does not run: not a completed
        # migration (the report and the fit leave it out).
        row['status'] = 'guest-not-running'
        row['error'] = ('no new progress line on the destination within '
                        '%.0f s' % settle)
