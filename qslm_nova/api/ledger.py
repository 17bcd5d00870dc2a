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

"""Who may change the downtime ledger, and whether a request changes it.

The ledger is two keys of the instance metadata
(:data:`qslm_nova.policy.LEDGER_KEYS`). Nova 34 writes instance metadata
on these routes, all guarded here (the paths also with a project id, and
under ``/os-volumes_boot`` up to microversion 2.102):

* ``POST /servers/{id}/metadata`` (merge), ``PUT /servers/{id}/metadata``
  (replace all), ``PUT /servers/{id}/metadata/{key}`` (one key, merged),
  ``DELETE /servers/{id}/metadata/{key}``;
* ``POST /servers`` with ``server.metadata`` (the initial metadata);
* ``POST /servers/{id}/action`` ``rebuild`` with ``metadata``, which
  replaces all metadata (``{}`` erases it).

A request may change the ledger only if one of its roles is in ``[qslm]
ledger_writer_roles`` (default ``admin``). Everyone else is refused when
presetting, changing or dropping a ledger key. Keys are compared the way
a case-insensitive, accent-insensitive database collation with trailing
space padding (MySQL's) may compare them, so ``QSLM:Downtime_Used_ms`` or
``qslm:downtime_used_ms `` count as ledger keys too: such a key may land
on the same row as the real one.
"""

import unicodedata

from qslm_nova import policy as policy_mod


def _fold(key):
    """A key as a lenient database collation sees it (over-approximated).
    """
    text = unicodedata.normalize('NFKD', key)
    text = ''.join(c for c in text if not unicodedata.combining(c))
    return text.casefold().strip()


_LEDGER = frozenset(_fold(k) for k in policy_mod.LEDGER_KEYS)


def is_ledger_key(key):
    """Could the database take this metadata key for a ledger key?"""
    return isinstance(key, str) and _fold(key) in _LEDGER


def entries(metadata):
    """The ledger-like entries of a metadata dict, exactly as written."""
    return {k: v for k, v in metadata.items() if is_ledger_key(k)}


def may_write(roles, writer_roles):
    """Does one of these roles let the caller write the ledger?

    Keystone role names are compared without regard to case.
    """
    writers = {r.lower() for r in writer_roles if isinstance(r, str)}
    return any(isinstance(r, str) and r.lower() in writers
               for r in roles or ())


def after_merge(current, update):
    """The metadata after a merge (``POST /metadata``, ``PUT /{key}``)."""
    after = dict(current)
    after.update(update)
    return after


def changes(before, after):
    """Does the ledger differ between two metadata dicts?

    Any difference in a ledger-like key or its value counts, including a
    key that only changes its spelling.
    """
    return entries(before) != entries(after)


def presets(metadata):
    """The ledger-like keys a new server's metadata would carry."""
    return sorted(k for k in metadata if is_ledger_key(k))
