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

"""Print what a real-cloud run measured.

    python report.py STATE_DIR

Start-up time of the cloud (and of each step), every scenario's time,
and for every live migration QSLM's estimate at decision time beside
what was measured (libvirt's downtime and total time where the driver
reports them, Nova's wall-clock time always), and the compute agents'
ledger charges (libvirt's downtime, time from the end of the migration to
the charge in Nova).
"""

import json
import os
import sys


def _load(state_dir):
    with open(os.path.join(state_dir, 'cloud.json')) as f:
        info = json.load(f)
    entries = []
    path = os.path.join(state_dir, 'measurements.jsonl')
    if os.path.exists(path):
        with open(path) as f:
            entries = [json.loads(line) for line in f if line.strip()]
    return info, entries


def _fmt(value, unit=''):
    if value is None:
        return 'n/a'
    if isinstance(value, float):
        return '%.1f%s' % (value, unit)
    return '%s%s' % (value, unit)


def report(state_dir, out=sys.stdout):
    info, entries = _load(state_dir)
    w = out.write
    w('\nreal cloud: started in %.1f s (%s computes, %s driver)\n' % (
        info['startup_s'], len(info['hosts']), info['virt_driver']))
    for name, seconds in info.get('timings', []):
        w('  %-28s %7.1f s\n' % (name, seconds))
    scenarios = [e for e in entries if e['kind'] == 'scenario']
    if scenarios:
        w('scenarios:\n')
        for e in scenarios:
            w('  %-68s %7.1f s\n' % (e['test'], e['seconds']))
    migrations = [e for e in entries if e['kind'] == 'migration']
    if migrations:
        w('live migrations (QSLM estimate at decision time vs measured):\n')
        w('  %-12s %-6s %-5s %21s %14s %10s %11s %9s\n' % (
            'route', 'driver', 'mech', 'est. downtime exp/wc',
            'meas. downtime', 'est. total', 'meas. total', 'nova wall'))
        for e in migrations:
            est = e.get('estimate') or {}
            w('  %-12s %-6s %-5s %21s %14s %10s %11s %9s\n' % (
                '%s>%s' % (e['source'], e['dest']), e['driver'],
                _fmt(est.get('mechanism')),
                '%s / %s' % (_fmt(est.get('expected_downtime_ms'), ' ms'),
                             _fmt(est.get('worst_downtime_ms'), ' ms')),
                _fmt(e.get('downtime_ms'), ' ms'),
                _fmt(est.get('total_time_s'), ' s'),
                _fmt(e.get('total_s'), ' s'),
                _fmt(e.get('nova_seconds'), ' s')))
    charges = [e for e in entries if e['kind'] == 'agent-charge']
    if charges:
        w('agent ledger charges (libvirt downtime; destination resume to '
          'charge in Nova):\n')
        for e in charges:
            w('  %-12s %14s %14s\n' % (
                e['dest'], _fmt(e.get('downtime_ms'), ' ms'),
                _fmt(e.get('end_to_charge_ms'), ' ms')))
    for e in (e for e in entries if e['kind'] == 'agent-load'):
        figures = (e['source_load'], e['dest_load'], _fmt(e.get('loadavg')),
                   e.get('cpus'), e['load_in_decision'], e['rate_mibps'])
        w('agent load under CPU hogs: published %s and %s runnable threads '
          'per CPU (load average %s on %s CPUs); the decision used %s '
          '(%s MiB/s)\n' % figures)
    for e in (e for e in entries if e['kind'] == 'risk'):
        w('risk of a priced flavor at 0.99 confidence: expected pause %s, '
          'P(pause > %s) %.4f, left of the limit %s, expected loss %s\n'
          % (_fmt(e.get('expected_ms'), ' ms'),
             _fmt(e.get('limit_ms'), ' ms'), e['p_exceed'],
             _fmt(e.get('left_ms'), ' ms'), _fmt(e.get('expected_loss'))))
    return 0


if __name__ == '__main__':
    sys.exit(report(sys.argv[1]))
