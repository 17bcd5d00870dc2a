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

"""What the libvirt campaigns measured about Nova, libvirt and the host.

The lines of the report before its accuracy tables: Nova's monitor (how
late its downtime calls land), libvirt's hand-offs, the parts of the
guest's pause, the migration rate against the host's load, and whether
the guest ran on the destination. Each figure is a median, 95th
percentile and count over the campaigns' usable runs.
"""

import collections
import json

import numpy as np

from qslm_nova.testbed import libvirt_model as lm
from qslm_nova.testbed import libvirt_parts
from qslm_nova.testbed import libvirt_record
from qslm_nova.testbed import libvirt_repeats
from qslm_nova.testbed import threadshare

num = lm.num


def _med(xs):
    xs = [x for x in xs if x is not None and np.isfinite(x)]
    if not xs:
        return '-'
    return '%.3g / %.3g (n=%d)' % (float(np.median(xs)),
                                   float(np.percentile(xs, 95)), len(xs))


def _has(row, key):
    return row.get(key) not in ('', None)


def monitor(rows, out):
    """How late Nova's first migrateSetMaxDowntime lands."""
    for loop, name in (('', 'without libvirt\'s event loop (campaign 1)'),
                       ('1', 'with it, as nova-compute runs')):
        part = [r for r in rows if (r.get('event_loop') or '') == loop]
        if not part:
            continue
        late = [num(r, 'first_downtime_set_s') -
                num(r, 'first_downtime_call_s') for r in part
                if _has(r, 'first_downtime_set_s') and
                _has(r, 'first_downtime_call_s')]
        lost = [r for r in part if lm.monitor_blocked(r)]
        default = [r for r in part if r.get('limit_at_stop_ms') == '300'
                   and json.loads(r.get('steps') or '[[0, 300]]')[0][1]
                   != 300]
        out.append('  Nova\'s first downtime call %s: %d runs; it landed '
                   'after %s s (> 1 s late in %d); it waited until the job '
                   'ended in %d runs; QEMU stopped the guest under its own '
                   '300 ms in %d runs' % (
                       name, len(part), _med(late),
                       sum(1 for x in late if x > 1.0), len(lost),
                       len(default)))


def handoffs(rows, out):
    """libvirt's prepare and finish, and the parts of the pause."""
    ok = [r for r in rows if lm.unusable(r) is None]
    out.append('  libvirt prepare, Nova\'s call to QEMU\'s start (s): %s; '
               'per (1 + load per CPU): %s' % (
                   _med([num(r, 'qemu_start_s') for r in ok
                         if _has(r, 'qemu_start_s')]),
                   _med([num(r, 'qemu_start_s') / (1 + lm.load_per_cpu(r))
                         for r in ok if _has(r, 'qemu_start_s')])))
    out.append('  libvirt finish/confirm after the guest resumed (ms): %s'
               % _med([num(r, 'handoff_ms') for r in ok
                       if _has(r, 'handoff_ms')]))
    done = [r for r in ok if r['outcome'] == 'completed']
    parts = []
    for r in done:
        p = {k: num(r, k) for k in libvirt_record.PAUSE_PARTS
             if _has(r, k)}
        if len(p) < 4 and _has(r, 'qemu_events'):
            p = libvirt_record.pause_parts(json.loads(r['qemu_events']))
        if len(p) == 4:
            parts.append((r, p))
    if not parts:
        return
    out.append('  the pause of %d completed runs, by part (ms): %s' % (
        len(parts), '; '.join('%s %s' % (k, _med([p[k] for _, p in parts]))
                              for k in libvirt_record.PAUSE_PARTS)))
    out.append('  transfer / limit in force: %s; switchover + resume '
               '(libvirt) per (1 + load): %s ms' % (
                   _med([p['transfer_ms'] / max(num(r, 'limit_at_stop_ms'),
                                                1) for r, p in parts]),
                   _med([(p['switchover_ms'] + p['resume_ms']) /
                         (1 + lm.load_per_cpu(r)) for r, p in parts])))


def rates(rows, out):
    """Pre-copy rate against the host's load, per transport."""
    ok = [r for r in rows if lm.unusable(r) is None and
          r['outcome'] == 'completed' and _has(r, 'memory_processed')]
    by = collections.defaultdict(list)
    for r in ok:
        span = num(r, 'stop_at_s') - num(r, 'qemu_start_s')
        if span <= 0:
            continue
        rate = num(r, 'memory_processed') * 8e-6 / span
        link = num(r, 'link_goodput_mbps', 0.0) or num(r, 'bandwidth_mbps')
        by['%s-p%s' % (r['transport'], r['parallel'])].append(
            (rate, link, lm.load_per_cpu(r)))
    per_core = {k: _med([rate * (1 + load) for rate, link, load in v
                         if rate < 0.9 * link]) for k, v in by.items()}
    out.append('  pre-copy Mbit/s x (1 + load) where the link does not '
               'bind (the thread\'s throughput per core), by transport: %s'
               % ', '.join('%s %s' % kv for kv in sorted(per_core.items())))


def receiving(rows, out):
    """The destination's receiving thread per CPU second, and the
    cipher's throughput its medians give (:mod:`.libvirt_parts`).
    """
    ok = [r for r in rows if lm.unusable(r) is None]
    got = libvirt_parts.receive_samples(ok)
    cipher = libvirt_parts.cipher_gbps(ok)
    out.append('  Gbit per CPU second of the destination\'s receiving '
               'thread, one connection: tcp %s, tls %s; TLS\'s own Gbit/s '
               'per core from these medians: %s (the fit takes its own '
               'runs\' medians)' % (
                   _med(got['tcp']), _med(got['tls']),
                   '-' if cipher is None else '%.3g' % cipher))


def alive(rows, out):
    """Did the guest run on the destination, and what if not."""
    ok = [r for r in rows if r.get('status') in ('ok', 'guest-not-running')
          and r['outcome'] in lm.PAUSED_OUTCOMES]
    seen = collections.Counter(
        (r.get('guest_alive_on_dest'), bool(r.get('event_loop')),
         lm.unusable(r) is None) for r in ok)
    out.append('  guest seen running on the destination (alive, event '
               'loop, usable): %s' % dict(sorted(seen.items(),
                                                 key=str)))
    first = collections.defaultdict(list)
    for r in ok:
        if _has(r, 'dest_progress_s'):
            first[r['label']].append(num(r, 'dest_progress_s'))
    out.append('  first progress line on the destination after the check '
               'began (s), by label: %s' % '; '.join(
                   '%s %s' % (k, _med(v)) for k, v in sorted(first.items())))
    for r in ok:
        if r.get('guest_alive_on_dest') == '0' and r.get('dest_state'):
            out.append('    not seen in 10 s: %s state %s, first line after '
                       '%s s, console ...%s' % (
                           r['run_id'], r['dest_state'],
                           r.get('dest_progress_s') or '-',
                           r.get('dest_console_tail', '')[-60:]))


#: A guest that prints every 250 ticks shows on the destination within
#: this many seconds when its memory came over whole: QEMU 10's 660 runs
#: all did (the slowest 0.51 s), QEMU 7.2's runs whose tick counter was
#: read current 68 of 70 times.
LATE_FIRST_LINE_S = 0.6


def lost_write(row):
    """Did the run's migration lose a write of the guest's? True, False,
    or None when nothing tells.

    Read where the runner read it: the guest's tick counter in the
    destination's memory behind its last line on the source (post-copy
    runs are not read). Else, for a run that did not switch to post-copy,
    from when the guest's first line came on the destination: later
    than :data:`LATE_FIRST_LINE_S` (36 of QEMU 7.2's 39 read runs that
    lost one, 2 of its 70 that did not).
    """
    behind = ticks_behind(row)
    if behind is not None:
        return behind > 0
    timed = _has(row, 'dest_progress_s')
    if row.get('outcome') == 'post-copy' or not timed:
        return None
    return num(row, 'dest_progress_s') > LATE_FIRST_LINE_S


def ticks_behind(row):
    """How many ticks the guest's counter in the destination's memory
    was behind its last line on the source (above 0: a lost write), or
    None when the run did not read them (runs from before the check,
    post-copy switches).
    """
    if not (_has(row, 'dest_ticks_in_memory') and
            _has(row, 'src_last_ticks')):
        return None
    return num(row, 'src_last_ticks') - num(row, 'dest_ticks_in_memory')


def stale_memory(rows, out):
    """Runs whose destination held an older tick counter than the
    guest's last line on the source (a write the migration lost), by
    QEMU release and label. Runs from before this check have neither
    column.
    """
    by = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in rows:
        behind = ticks_behind(r)
        if behind is not None:
            by[r.get('qemu', '?')][r['label']].append(behind)
    for qemu, labels in sorted(by.items()):
        parts = []
        for label, gaps in sorted(labels.items()):
            behind = [b for b in gaps if b > 0]
            parts.append('%s %d of %d (by %s ticks)' % (
                label, len(behind), len(gaps), _med(behind)))
        out.append(
            "  the guest's tick counter in the destination's memory at "
            "the check, behind its last line on the source, QEMU %s, by "
            "label: %s" % (qemu, '; '.join(parts)))


def threads(rows, out):
    """The CPU share the migration's threads got while runnable
    (:mod:`.threadshare`) against the model's 1 / (1 + load per CPU),
    and the run queue over the run against the load average. Runs from
    before the samplers have none and print nothing.
    """
    ok = [r for r in rows if lm.unusable(r) is None]
    for role, name in (('dst_recv', "destination QEMU's main thread "
                                    '(receives)'),
                       ('src_send', "source's migration thread"),
                       ('dst_multifd', "destination's multifd threads"),
                       ('src_multifd', "source's multifd threads")):
        got = [(threadshare.share(r[role + '_run_s'], r[role + '_wait_s']),
                lm.load_per_cpu(r)) for r in ok if _has(r, role + '_run_s')]
        got = [(s, load) for s, load in got if s is not None]
        if got:
            out.append('  %s, share of a CPU while runnable: %s; the '
                       'model\'s 1 / (1 + load per CPU): %s' % (
                           name, _med([s for s, _ in got]),
                           _med([1.0 / (1.0 + load) for _, load in got])))
    queued = [r for r in ok if _has(r, 'runnable_per_cpu')]
    if queued:
        out.append('  runnable threads per CPU over the run (the run '
                   'queue, sampled): %s; the load average / CPUs: %s' % (
                       _med([lm.num(r, 'runnable_per_cpu')
                             for r in queued]),
                       _med([lm.load_per_cpu(r) for r in queued])))


def qemu_pairs(rows, out):
    """Configurations run on two QEMU releases: the later release's
    median pause and total time over the earlier one's, per
    configuration (usable runs only), by label.
    """
    runs = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in rows:
        if lm.unusable(r) is None and lm.release(r):
            runs[libvirt_repeats.settings(r)][lm.release(r)].append(r)
    by_label = collections.defaultdict(lambda: ([], []))
    names = set()
    for by_release in runs.values():
        if len(by_release) < 2:
            continue
        releases = sorted(by_release)
        old, new = releases[0], releases[-1]
        names.add(('.'.join(map(str, old)), '.'.join(map(str, new))))
        label = by_release[new][0]['label']
        for i, measure in enumerate((lm.measured_pause, lm.measured_total)):
            a = [measure(r) for r in by_release[old] if measure(r) > 0]
            b = [measure(r) for r in by_release[new] if measure(r) > 0]
            if a and b:
                by_label[label][i].append(
                    float(np.median(b)) / float(np.median(a)))
    if not by_label:
        return
    parts = ['%s pause %s, total %s' % (label, _med(p), _med(t))
             for label, (p, t) in sorted(by_label.items())]
    out.append('  one configuration on two QEMUs (%s), the later\'s median '
               'over the earlier\'s, per configuration, by label: %s' % (
                   ', '.join('%s -> %s' % n for n in sorted(names)),
                   '; '.join(parts)))


def report(rows, out, every=None):
    """The facts of *rows*; QEMU's lost writes and the pairs of QEMU
    releases over *every* run (default *rows*).
    """
    every = rows if every is None else every
    out.append('facts measured in these runs (median / p95 (n)):')
    monitor(rows, out)
    handoffs(rows, out)
    rates(rows, out)
    receiving(rows, out)
    threads(rows, out)
    alive(rows, out)
    stale_memory(every, out)
    qemu_pairs(every, out)
    excluded = collections.Counter(lm.unusable(r) for r in rows
                                   if lm.unusable(r))
    out.append('  left out of the accuracy tables: %s' % dict(excluded))
