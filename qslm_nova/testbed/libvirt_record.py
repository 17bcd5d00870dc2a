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

"""What one Nova-driven migration did, as columns of its CSV row.

The guest's pause is split at QEMU's own events, all time-stamped by
QEMU on this host's clock:

* ``switchover_ms``: source ``STOP`` to its ``MIGRATION`` status
  ``device``. libvirt enables QEMU's ``pause-before-switchover``: QEMU
  stops the guest when the rest fits the limit, then waits in
  ``pre-switchover`` until libvirt answers ``migrate-continue``;
* ``transfer_ms``: ``device`` to ``completed`` on the source, QEMU's
  stop-and-copy of what is left and of the device state (what QEMU's
  ``downtime-limit`` and ``expected-downtime`` are about);
* ``dest_load_ms``: source ``completed`` to destination ``completed``
  (may be a few ms below 0: the source reports after its last write);
* ``resume_ms``: the later ``completed`` to the destination's ``RESUME``:
  libvirt's finish phase (the source reports the end, the destination's
  libvirtd resumes the guest).

``qemu_events`` keeps every ``MIGRATION``, ``STOP`` and ``RESUME`` event of
both QEMUs ((side, status, s since Nova's call)); :func:`pause_parts`
reads the parts from it.
"""

import json

PAUSE_PARTS = ('switchover_ms', 'transfer_ms', 'dest_load_ms', 'resume_ms')


def rel(t, t0):
    return '' if t is None else round(t - t0, 3)


def migration_times(watcher, status):
    """QEMU's time stamps of its MIGRATION events with *status*."""
    if watcher is None:
        return []
    out = []
    for ev in list(watcher.events):
        if (ev.get('event') == 'MIGRATION' and
                ev.get('data', {}).get('status') == status):
            ts = ev.get('timestamp', {})
            out.append(ts.get('seconds', 0) + ts.get('microseconds', 0) /
                       1e6)
    return out


def record_monitor(row, result):
    """What Nova's monitor did: steps, downtime calls, timeout action."""
    t0 = result.started
    row['outcome'] = result.outcome
    row['error'] = result.error
    row['flags'] = result.flags
    row['steps'] = json.dumps(result.steps)
    downs = [(round(t - t0, 3), v) for t, what, v in result.events
             if what == 'downtime']
    row['downtime_log'] = json.dumps(downs)
    row['first_downtime_set_s'] = downs[0][0] if downs else ''
    calls = [t for t, what, _ in result.events if what == 'downtime-call']
    row['first_downtime_call_s'] = rel(calls[0] if calls else None, t0)
    failed = [(round(t - t0, 3), v[0]) for t, what, v in result.events
              if what == 'downtime-failed']
    row['downtime_set_failures'] = json.dumps(failed) if failed else ''
    if failed and not row['error']:
        row['error'] = 'setting the downtime failed: %s' % [
            v[1] for _, what, v in result.events
            if what == 'downtime-failed'][0]
    for what in ('postcopy', 'pause', 'abort'):
        row[what + '_at_s'] = rel(result.first(what), t0)
    row['api_total_ms'] = round((result.api_returned - t0) * 1000, 1)


def _event_log(watcher, side, t0):
    out = []
    for ev in list(watcher.events) if watcher is not None else []:
        name = ev.get('event')
        if name not in ('MIGRATION', 'STOP', 'RESUME'):
            continue
        ts = ev.get('timestamp', {})
        t = ts.get('seconds', 0) + ts.get('microseconds', 0) / 1e6
        if t >= t0:
            out.append((side, ev.get('data', {}).get('status', name),
                        round(t - t0, 3)))
    return out


def record_qemu(row, result, swatch, dwatch):
    """QEMU's events: start, the guest's pause and its parts."""
    t0 = result.started
    dest = dwatch.watcher if dwatch is not None else None
    row['qemu_events'] = json.dumps(sorted(
        _event_log(swatch, 'src', t0) + _event_log(dest, 'dst', t0),
        key=lambda e: e[2]))
    for ts in migration_times(swatch, 'setup')[:1]:
        row['qemu_start_s'] = round(ts - t0, 3)
    stops = [t for t in swatch.event_times('STOP') if t >= t0]
    resumes = [t for t in dest.event_times('RESUME') if t >= t0] if (
        dest is not None) else []
    if resumes:
        row['resume_at_ms'] = round((resumes[0] - t0) * 1000, 1)
    if stops and resumes:
        row['downtime_e2e_ms'] = round((resumes[0] - stops[0]) * 1000, 3)
    if not stops:
        row['downtime_e2e_ms'] = 0.0
        return
    # The limit QEMU had when it stopped the guest: the last one Nova
    # set before, else QEMU's default of 300 ms.
    row['stop_at_s'] = round(stops[0] - t0, 3)
    row['limit_at_stop_ms'] = ([300] + [
        v for t, what, v in result.events
        if what == 'downtime' and t <= stops[0]])[-1]
    if result.outcome != 'post-copy':
        row.update(pause_parts(json.loads(row['qemu_events'])))


def pause_parts(events):
    """:data:`PAUSE_PARTS` (ms) from a ``qemu_events`` list; {} when an
    event is missing (post-copy, a failed run).
    """
    def first(side, status, after=0.0):
        times = [t for s, st, t in events if s == side and st == status
                 and t >= after]
        return times[0] if times else None
    stop = first('src', 'STOP')
    if stop is None:
        return {}
    device = first('src', 'device', stop)
    src_done = first('src', 'completed', stop)
    dst_done = first('dst', 'completed', stop)
    resume = first('dst', 'RESUME', stop)
    if None in (device, src_done, dst_done, resume):
        return {}
    ms = (lambda a, b: round((b - a) * 1000.0, 1))
    return {'switchover_ms': ms(stop, device),
            'transfer_ms': ms(device, src_done),
            'dest_load_ms': ms(src_done, dst_done),
            'resume_ms': ms(max(src_done, dst_done), resume)}


def record_stats(row, stats):
    """libvirt's completed-job statistics of the destination."""
    row['libvirt_downtime_ms'] = stats.get('downtime', '')
    row['libvirt_time_elapsed_ms'] = stats.get('time_elapsed', '')
    row['libvirt_setup_ms'] = stats.get('setup_time', '')
    for key in ('memory_processed', 'memory_total', 'memory_iteration',
                'memory_dirty_rate'):
        row[key] = stats.get(key, '')
    row['postcopy_requests'] = stats.get('memory_postcopy_requests', '')
    if row['api_total_ms'] != '' and row['libvirt_time_elapsed_ms'] != '':
        row['handoff_ms'] = round(
            row['api_total_ms'] - row['libvirt_time_elapsed_ms'], 1)
