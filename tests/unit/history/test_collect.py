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

"""Notifications through oslo.messaging into the collector's file.

oslo.messaging's in-process ``fake`` transport carries them: the same
Notifier and listener code a RabbitMQ deployment runs.
"""

import json
import os
import time

import fixtures
from oslo_config import cfg
from oslotest import base

from qslm_nova.history import collect
from qslm_nova.history import join
from qslm_nova.history import notifications


class TestCollect(base.BaseTestCase):

    def test_estimates_and_measurements_reach_the_file(self):
        import oslo_messaging
        conf = cfg.ConfigOpts()
        conf([], project='qslm-test')
        oslo_messaging.get_notification_transport(conf)   # its options
        conf.set_override('transport_url', 'fake:/')
        conf.set_override('driver', ['messagingv2'],
                          group='oslo_messaging_notifications')
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'history.jsonl')
        writer = collect.HistoryWriter(path)
        server = collect.listener(conf, writer)
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        sender = notifications.Emitter(conf, 'qslm-agent.cmp-2')
        self.assertTrue(sender.enabled())
        self.assertTrue(sender.emit(notifications.MEASURED,
                                    {'migration_id': '57'}))
        sender.emit('compute.instance.update', {'ignored': True})
        later = notifications.AsyncEmitter(conf, 'qslm-scheduler.s1')
        later.submit(lambda: [(notifications.ESTIMATE,
                               {'migration_id': 57})])
        deadline = time.monotonic() + 20
        while writer.count < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(2, writer.count)
        with open(path) as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual({notifications.MEASURED, notifications.ESTIMATE},
                         {e['event_type'] for e in lines})
        self.assertTrue(all(e['timestamp'] for e in lines))
        h = join.read([path])
        self.assertEqual((1, 1), (len(h.estimates), len(h.measured)))

    def test_no_driver_sends_nothing_and_never_raises(self):
        conf = cfg.ConfigOpts()
        conf([], project='qslm-test')
        sender = notifications.Emitter(conf, 'qslm-agent.cmp-2')
        self.assertFalse(sender.enabled())
        self.assertTrue(sender.emit(notifications.MEASURED, {}))
