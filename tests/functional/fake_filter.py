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

"""Test-only scheduler filter and paste filter for the functional tests.

``RejectHostsFilter`` is a trivial Nova host filter: it rejects every host
named in ``RejectHostsFilter.rejected_hosts`` and records what it saw, so
the tests can check how Nova calls a filter during a live migration.

``PreferHostsWeigher`` ranks hosts named in its ``preferred`` list first.

``RecordingPasteFilter`` is a pass-through paste filter for the compute API
pipeline: it records each request it sees and hands it on unchanged.
"""

import threading

from nova import context as nova_context
from nova import objects
from nova.scheduler import filters
from nova.scheduler import weights
from oslo_log import log as logging
from oslo_serialization import jsonutils
import webob.dec

LOG = logging.getLogger(__name__)


class RejectHostsFilter(filters.BaseHostFilter):
    """Reject the hosts named in ``rejected_hosts``; record every call."""

    RUN_ON_REBUILD = False

    #: Host names (compute service host) this filter rejects.
    rejected_hosts = set()
    #: One dict per host_passes() call; see _record().
    calls = []
    _lock = threading.Lock()

    @classmethod
    def reset(cls):
        with cls._lock:
            cls.rejected_hosts = set()
            cls.calls = []

    @staticmethod
    def _instance_task_state(spec_obj):
        """Look up the instance's task_state the way a real filter must.

        The scheduler gives filters no context argument; the RequestSpec
        carries the request context in ``_context``. Instances live in the
        cell database, so the context must be targeted at the cell.
        """
        ctxt = getattr(spec_obj, '_context', None)
        if ctxt is None:
            ctxt = nova_context.get_admin_context()
        try:
            mapping = objects.InstanceMapping.get_by_instance_uuid(
                ctxt, spec_obj.instance_uuid)
            with nova_context.target_cell(
                    ctxt, mapping.cell_mapping) as cctxt:
                instance = objects.Instance.get_by_uuid(
                    cctxt, spec_obj.instance_uuid)
            return instance.task_state, instance.host
        except Exception as exc:  # noqa: broad on purpose, test-only
            LOG.debug('RejectHostsFilter: instance lookup failed: %s', exc)
            return None, None

    def host_passes(self, host_state, spec_obj):
        task_state, source = self._instance_task_state(spec_obj)
        dest = spec_obj.obj_attr_is_set('requested_destination') and \
            spec_obj.requested_destination
        ignore = (spec_obj.ignore_hosts
                  if spec_obj.obj_attr_is_set('ignore_hosts') else None)
        passes = host_state.host not in self.rejected_hosts
        record = {
            'host': host_state.host,
            'instance_uuid': spec_obj.instance_uuid,
            'task_state': task_state,
            'source_host': source,
            'requested_host': dest.host if dest and 'host' in dest else None,
            'ignore_hosts': list(ignore) if ignore else [],
            'passes': passes,
        }
        with self._lock:
            self.calls.append(record)
        if not passes:
            LOG.debug('RejectHostsFilter: host %(host)s rejected '
                      '(task_state=%(task_state)s)', record,
                      instance_uuid=spec_obj.instance_uuid)
        return passes


class RecordingPasteFilter(object):
    """Pass-through paste filter that records (method, path, json body)."""

    #: Requests seen, as dicts: method, path, body (decoded json or None),
    #: context_user / context_project from nova.context if already set.
    requests = []
    _lock = threading.Lock()

    def __init__(self, application, conf=None):
        self.application = application
        self.conf = conf or {}

    @classmethod
    def reset(cls):
        with cls._lock:
            cls.requests = []

    @classmethod
    def factory(cls, global_conf, **local_conf):
        conf = dict(global_conf, **local_conf)

        def _filter(app):
            return cls(app, conf)
        return _filter

    @webob.dec.wsgify
    def __call__(self, req):
        body = None
        if req.method in ('POST', 'PUT') and req.content_length:
            # req.body makes the input seekable and rewinds it, so the
            # application still reads the same bytes.
            raw = req.body
            try:
                body = jsonutils.loads(raw)
            except ValueError:
                body = raw
        ctxt = req.environ.get('nova.context')
        with self._lock:
            self.requests.append({
                'method': req.method,
                'path': req.path_info,
                'body': body,
                'context_user': getattr(ctxt, 'user_id', None),
                'context_project': getattr(ctxt, 'project_id', None),
                'is_admin': getattr(ctxt, 'is_admin', None),
            })
        return req.get_response(self.application)


class PreferHostsWeigher(weights.BaseHostWeigher):
    """Weigh hosts in ``preferred`` (in order) above all others."""

    #: Host names, best first.
    preferred = []

    @classmethod
    def reset(cls):
        cls.preferred = []

    def weight_multiplier(self, host_state):
        return 1000.0

    def _weigh_object(self, host_state, weight_properties):
        if host_state.host in self.preferred:
            return float(len(self.preferred) -
                         self.preferred.index(host_state.host))
        return 0.0
