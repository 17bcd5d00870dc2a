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


"""[qslm] options of the nova-api pre-check (the ``qslm_precheck`` paste
filter, qslm_nova.api.precheck).

The failure rule the pre-check applies to decisions it cannot compute is
``[qslm] fail_closed`` (qslm_nova.conf.core).
"""

from oslo_config import cfg

from qslm_nova.conf import groups

precheck_opts = [
    cfg.ListOpt('ledger_writer_roles',
                default=['admin'],
                help="""
Roles that may write the downtime ledger metadata keys.

The ledger keys ``qslm:downtime_used_ms`` and ``qslm:budget_period_start``
in instance metadata count the downtime an instance has used in its budget
period; ``qslm:charged_migrations`` (the migrations already charged) and
``qslm:observed_dirty_rate`` are written with them by the compute agent,
whose service user therefore needs one of these roles. The API pre-check
refuses (403) every request that would preset, change or drop them
unless the caller holds one of these roles: the server metadata APIs,
server create with ``metadata`` and rebuild with ``metadata`` (which
replaces all metadata), in any spelling of the keys a case-insensitive
database would take for them. Only roles count, not Nova's ``is_admin``
flag: remove ``admin`` to keep administrators from resetting budgets and
leave the ledger to a service account. Role names are compared without
regard to case.

Possible values:

* A list of Keystone role names. The default, ``admin``, lets
  administrators (and ``qslm-nova ledger record`` run as one) write it.
  The compute agent writes the metadata of other projects' servers, which
  Nova's own policy allows only to ``admin``: give the agent's user the
  ``admin`` role (as Nova's service user has) and keep ``admin`` here; a
  user with only ``service`` is refused by Nova before this list matters.
  Empty: nobody may change the ledger through the API.

Related options:

* ``default_budget_period_days``
* ``fail_closed``
"""),
    cfg.IntOpt('precheck_rate_limit',
               default=0,
               min=0,
               help="""
Maximum live-migration requests per instance in ``precheck_rate_window``.

Requests beyond the limit get 429 (overLimit) with a Retry-After header
before any decision is computed: a guard against migration floods that
would eat an instance's downtime budget or load the scheduler. The count
is kept per nova-api worker process, in memory, so with N workers an
instance may get up to N times the limit, and a restart forgets it.

Possible values:

* 0: no limit (default).
* A positive number of requests.

Related options:

* ``precheck_rate_window``
"""),
    cfg.IntOpt('precheck_rate_window',
               default=3600,
               min=1,
               help="""
Length, in seconds, of the sliding window of ``precheck_rate_limit``.

A request counts against the limit for this long after it was made. A
longer window spreads the same number of requests over more time; it has
no effect while ``precheck_rate_limit`` is 0.

Possible values:

* A positive number of seconds (default: one hour).

Related options:

* ``precheck_rate_limit``
"""),
]


def register_opts(conf):
    conf.register_group(groups.QSLM_GROUP)
    conf.register_opts(precheck_opts, group=groups.QSLM_GROUP)


def list_opts():
    return {groups.QSLM_GROUP: precheck_opts}
