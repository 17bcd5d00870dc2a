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

"""What a Keylime verifier's answer says about an agent.

The verifier's REST API (pull mode, API 2.x) answers
``GET /v<version>/agents/<agent_id>`` with::

    {"code": 200, "status": "Success",
     "results": {"operational_state": 3, "attestation_count": 197,
                 "last_received_quote": 1721046078,
                 "last_successful_attestation": 1721046078, ...}}

and ``GET /v<version>/agents/?bulk=true`` with ``results`` keyed by agent
id. ``operational_state`` is a number (keylime/common/states.py); in push
mode it is null and ``attestation_status`` (PASS, FAIL, PENDING, TIMEOUT)
tells. An unknown agent gets 404.

An answer that is not UTF-8 JSON, nests deeper than Python's parser
goes, or has fields of the wrong type is not usable: it raises
:class:`~qslm_nova.trust.keylime_http.VerifierError` (never
``RecursionError``, ``TypeError`` or ``OverflowError``), and values are
never printed in full.
"""

import datetime
import json

from qslm_nova import exception
from qslm_nova.trust import base
from qslm_nova.trust import keylime_http

#: Keylime agent operational states (keylime/common/states.py).
STATES = {
    0: 'Registered',
    1: 'Start',
    2: 'Saved',
    3: 'Get Quote',
    4: 'Get Quote (retry)',
    5: 'Provide V',
    6: 'Provide V (retry)',
    7: 'Failed',
    8: 'Terminated',
    9: 'Invalid Quote',
    10: 'Tenant Quote Failed',
}
UNTRUSTED_STATES = frozenset((7, 8, 9, 10))
STATE_NUMBERS = {v: k for k, v in STATES.items()}


def _unusable(message):
    return keylime_http.VerifierError(message, transport=False)


def _epoch_to_dt(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        if not value > 0:          # also NaN
            return None
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def decode(body, what):
    """The JSON document of an answer body.

    :raises VerifierError: (not transport) if it is not UTF-8 JSON.
    """
    try:
        return json.loads(body.decode('utf-8'))
    except UnicodeDecodeError:
        raise _unusable('Keylime verifier sent a malformed answer to %s '
                        '(not UTF-8)' % what)
    except RecursionError:
        raise _unusable('Keylime verifier sent a malformed answer to %s '
                        '(nested too deeply)' % what)
    except ValueError as e:
        raise _unusable('Keylime verifier sent a malformed answer to %s '
                        '(not JSON: %s)' % (what, str(e)[:80]))


def results(status, body, what):
    """The ``results`` object of a 200 answer.

    :raises VerifierError: a transport error for any other status, not
        transport for a malformed answer.
    """
    if status != 200:
        detail = ''
        try:
            doc = decode(body, what)
        except keylime_http.VerifierError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get('status'), str):
            detail = ': %s' % exception.show_value(doc['status'])
        raise keylime_http.VerifierError(
            'Keylime verifier answered HTTP %d to %s%s' % (status, what,
                                                           detail))
    doc = decode(body, what)
    if not isinstance(doc, dict) or not isinstance(doc.get('results'), dict):
        raise _unusable('Keylime verifier sent a malformed answer to %s '
                        '(not a JSON object with results)' % what)
    return doc['results']


def parse_agent_status(agent_id, results, trusted_states):
    """Map one agent's ``results`` to a TrustState.

    :raises VerifierError: (not transport) if the answer is malformed.
    """
    if not isinstance(results, dict):
        raise _unusable('malformed answer for agent %s: results is not an '
                        'object' % agent_id)
    state = results.get('operational_state')
    count = results.get('attestation_count')
    last_ok = _epoch_to_dt(results.get('last_successful_attestation'))
    last_quote = _epoch_to_dt(results.get('last_received_quote'))
    when = last_ok.isoformat() if last_ok else 'never'
    if state is None:
        status = results.get('attestation_status')
        if not isinstance(status, str):
            raise _unusable('malformed answer for agent %s: no '
                            'operational_state nor attestation_status'
                            % agent_id)
        why = ('Keylime agent %s attestation status %s, last successful '
               'attestation %s' % (agent_id, exception.show_value(status),
                                   when))
        if status == 'PASS':
            return base.TrustState(True, last_ok, why)
        if status == 'FAIL':
            return base.TrustState(False, last_quote or last_ok, why)
        return base.TrustState(None, None, why)
    if isinstance(state, str) and state in STATE_NUMBERS:
        state = STATE_NUMBERS[state]
    if isinstance(state, bool) or not isinstance(state, int):
        raise _unusable('malformed answer for agent %s: operational_state '
                        '%s is not a number' % (
                            agent_id, exception.show_value(state)))
    name = STATES.get(state, 'unknown state')
    why = ('Keylime agent %s is in state %s (%s), %s attestations, last '
           'successful attestation %s' % (
               agent_id, name, exception.show_value(state),
               exception.show_value(count) if isinstance(count, int)
               else '?', when))
    if state in trusted_states:
        return base.TrustState(True, last_ok, why)
    if state in UNTRUSTED_STATES:
        return base.TrustState(False, last_quote or last_ok, why)
    return base.TrustState(None, None, why)
