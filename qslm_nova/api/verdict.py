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

"""The outcome of one pre-check and its answer in Nova's fault format."""

import webob.exc

_EXCEPTIONS = {
    400: webob.exc.HTTPBadRequest,
    403: webob.exc.HTTPForbidden,
    409: webob.exc.HTTPConflict,
    413: webob.exc.HTTPRequestEntityTooLarge,
    415: webob.exc.HTTPUnsupportedMediaType,
    429: webob.exc.HTTPTooManyRequests,
}


class Verdict:
    """Pass on, or answer with a fault (``status`` set)."""

    PASS = 'pass'

    def __init__(self, outcome, message=None, status=None, reasons=(),
                 retry_after=None):
        self.outcome = outcome
        self.message = message
        self.status = status
        self.reasons = list(reasons)
        self.retry_after = retry_after

    @property
    def refused(self):
        return self.status is not None

    @classmethod
    def refuse(cls, status, message, outcome='refused', reasons=()):
        return cls(outcome, message=message, status=status, reasons=reasons)


def fault(verdict):
    """A WSGI application answering the refusal like Nova would."""
    from nova.api.openstack import wsgi as nova_wsgi
    kind = _EXCEPTIONS.get(verdict.status, webob.exc.HTTPBadRequest)
    headers = None
    if verdict.status == 429:
        headers = {'Retry-After': str(verdict.retry_after or 1)}
    return nova_wsgi.Fault(kind(explanation=verdict.message,
                                headers=headers))
