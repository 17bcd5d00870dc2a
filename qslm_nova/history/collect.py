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

"""``qslm-nova-collect``: keep the calibration history off the bus.

    qslm-nova-collect --config-file /etc/qslm-nova/collect.conf \\
        --out /var/lib/qslm-nova/history.jsonl

Listens (oslo.messaging notification listener, pool ``qslm-history``,
so it takes its own copy beside Ceilometer or any other consumer) on
the ``[oslo_messaging_notifications] topics`` of ``transport_url`` and
appends every ``qslm.migration.estimate`` and ``qslm.migration.measured``
notification to a JSON-lines file, one object per line with
``event_type``, ``publisher_id``, ``timestamp`` and ``payload``.
``qslm-nova calibrate --from-history FILE`` reads it. Runs until SIGTERM.
"""

import json
import os
import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from qslm_nova.history import notifications

LOG = logging.getLogger(__name__)
POOL = 'qslm-history'
EVENTS = (notifications.ESTIMATE, notifications.MEASURED)

cli_opts = [
    cfg.StrOpt('out', required=True,
               help='JSON-lines file the notifications are appended to.'),
]


class HistoryWriter:
    """A notification endpoint appending QSLM's events to a file."""

    filter_rule = None

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self.count = 0

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        if event_type not in EVENTS:
            return None
        line = json.dumps({'event_type': event_type,
                           'publisher_id': publisher_id,
                           'timestamp': (metadata or {}).get('timestamp'),
                           'payload': payload}, sort_keys=True)
        with self._lock:
            with open(self.path, 'a') as f:
                f.write(line + '\n')
                f.flush()
                os.fsync(f.fileno())
            self.count += 1
        return None


def listener(conf, writer):
    """An oslo.messaging notification listener feeding ``writer``."""
    import oslo_messaging
    transport = oslo_messaging.get_notification_transport(conf)
    topics = conf.oslo_messaging_notifications.topics
    targets = [oslo_messaging.Target(topic=t) for t in topics]
    return oslo_messaging.get_notification_listener(
        transport, targets, [writer], executor='threading', pool=POOL)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(cli_opts)
    logging.register_options(conf)
    conf(argv, project='qslm-nova', prog='qslm-nova-collect')
    logging.setup(conf, 'qslm-nova-collect')
    writer = HistoryWriter(conf.out)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    server = listener(conf, writer)
    server.start()
    LOG.info('Collecting %s notifications into %s', ', '.join(EVENTS),
             conf.out)
    stop.wait()
    server.stop()
    server.wait()
    LOG.info('Collected %d notifications', writer.count)
    return 0


if __name__ == '__main__':
    sys.exit(main())
