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

"""The two notifications of the calibration history, and their emitters.

``qslm.migration.estimate`` (publisher ``qslm-scheduler.<host>`` or
``qslm-api.<host>``): the decision's estimate for one destination at
decision time, with every input of the model, so that a later fit can
run the model again with other constants. ``qslm.migration.measured``
(publisher ``qslm-agent.<host>``): what libvirt measured. Both carry
``instance_uuid`` and, where known, Nova's ``migration_id``.

They go out through oslo.messaging's notifier with the service's own
``[oslo_messaging_notifications]`` (driver, topics) and transport: with
no driver configured they cost nothing. Sending never blocks a decision
(:class:`AsyncEmitter` hands payloads to a thread with a bounded queue)
and never raises.
"""

import dataclasses
import datetime
import queue
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

ESTIMATE = 'qslm.migration.estimate'
MEASURED = 'qslm.migration.measured'
SCHEMA_VERSION = 1


def _iso(when):
    if when is None:
        return None
    if isinstance(when, (int, float)):
        when = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc).isoformat()


def estimate_payload(decision, instance_uuid, source_host, decided_at,
                     migration_id=None, where='scheduler'):
    """The payload of one allowed destination's estimate."""
    inputs = getattr(decision, 'inputs', None)
    return {
        'version': SCHEMA_VERSION,
        'instance_uuid': instance_uuid,
        'migration_id': migration_id,
        'source_host': source_host,
        'destination_host': decision.host,
        'decided_at': _iso(decided_at),
        'decided_by': where,
        'mechanism': decision.mechanism,
        'expected_downtime_ms': decision.expected_downtime_ms,
        'worst_downtime_ms': decision.worst_downtime_ms,
        'race_downtime_ms': getattr(decision, 'race_downtime_ms', None),
        'total_time_s': decision.total_time_s,
        'outcome': decision.outcome,
        'score': decision.score,
        'sources': (None if decision.sources is None
                    else dataclasses.asdict(decision.sources)),
        'inputs': None if inputs is None else dataclasses.asdict(inputs),
    }


def measured_payload(measured, settled, host):
    """The payload of one measured migration (agent)."""
    return measured_payload_of(measured, settled.migration_key,
                               settled.to_dict(), host)


def measured_payload_of(measured, migration_key, info, host):
    """The measured payload from its parts (also read back from a spool).

    :param info: how it was settled (``ledger.Settled.to_dict()``).
    """
    figures = dataclasses.asdict(measured.figures)
    return {
        'version': SCHEMA_VERSION,
        'instance_uuid': measured.instance_uuid,
        'migration_id': migration_key,
        'reported_by': host,
        'role': measured.role.value,
        'outcome': measured.outcome.value,
        'ended_at': _iso(measured.ended_at),
        'downtime_ms': measured.downtime_ms,
        'charged_ms': measured.charge_ms,
        'figures': figures,
        'source_host': info['source'],
        'destination_host': info['destination'],
        'nova_status': info['status'],
        'result': info['result'],
    }


class Emitter:
    """Sends notifications with oslo.messaging; never raises.

    :param conf: the service's ConfigOpts (transport_url,
        [oslo_messaging_notifications]).
    """

    def __init__(self, conf, publisher_id, notifier=None):
        self.conf = conf
        self.publisher_id = publisher_id
        self._notifier = notifier
        self._failed = False

    @property
    def notifier(self):
        if self._notifier is None:
            import oslo_messaging
            transport = oslo_messaging.get_notification_transport(self.conf)
            self._notifier = oslo_messaging.Notifier(
                transport, publisher_id=self.publisher_id)
        return self._notifier

    def enabled(self):
        """Whether a notification driver other than ``noop`` is set."""
        try:
            notifier = self.notifier
            drivers = [d for d in self.conf.oslo_messaging_notifications
                       .driver if d != 'noop']
            return bool(drivers) and notifier.is_enabled()
        except Exception as e:   # noqa: no transport: nothing to send
            self._note_failure(e)
            return False

    def emit(self, event_type, payload):
        try:
            self.notifier.info({}, event_type, payload)
            self._failed = False
            return True
        except Exception as e:   # noqa: a notification never breaks work
            self._note_failure(e)
            return False

    def _note_failure(self, e):
        if not self._failed:
            LOG.warning('QSLM cannot send %s notifications: %s',
                        self.publisher_id, e)
        self._failed = True


class AsyncEmitter(Emitter):
    """An Emitter whose sending runs in a thread of its own.

    ``submit(fn)`` queues a callable returning (event type, payload) or
    None, run in the thread (so a look-up it needs is off the request
    path too). A full queue drops the newest and counts it.
    """

    def __init__(self, conf, publisher_id, notifier=None, size=1000):
        super().__init__(conf, publisher_id, notifier)
        self.queue = queue.Queue(size)
        self.dropped = 0
        self._thread = None
        self._lock = threading.Lock()

    def submit(self, make):
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name='qslm-notify', daemon=True)
                    self._thread.start()
        try:
            self.queue.put_nowait(make)
        except queue.Full:
            self.dropped += 1
            if self.dropped in (1, 100, 10000):
                LOG.warning('QSLM dropped %d estimate notification(s): the '
                            'notifier cannot keep up', self.dropped)

    def _run(self):
        while True:
            make = self.queue.get()
            try:
                for event_type, payload in make() or ():
                    self.emit(event_type, payload)
            except Exception:   # noqa: keep the thread alive
                LOG.exception('QSLM could not build a notification')
            finally:
                self.queue.task_done()


_API = []


def emit_forced(decisions, request, host, now):
    """The API pre-check's estimate for a named destination it allows.

    The scheduler publishes the estimates of the moves it places; a move
    to a named host (forced ones bypass the scheduler) is published here.
    Nova has no migration record yet: the history joins it to the
    measured migration by instance, destination and time.
    """
    try:
        _emit_forced(decisions, request, host, now)
    except Exception:   # noqa: a notification never fails a request
        LOG.exception('QSLM could not queue the estimate of instance %s',
                      getattr(request, 'instance_uuid', None))


def _emit_forced(decisions, request, host, now):
    from qslm_nova import conf as qslm_conf
    conf = qslm_conf.CONF
    if not conf.qslm.history_estimates:
        return
    if not _API:
        _API.append(AsyncEmitter(conf, 'qslm-api.%s' % getattr(
            conf, 'host', 'unknown')))
    emitter = _API[0]
    if not emitter.enabled():
        return
    best, _count = decisions.best()
    if best is None or best.host.lower() != host.lower():
        return
    emitter.submit(lambda: [(ESTIMATE, estimate_payload(
        best, request.instance_uuid, request.source_host, now, None,
        'api'))])
