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


"""[qslm] policy defaults: the floor of every instance's policy, and which
downtime estimate is held against the SLA.

Flavor extra specs, image properties and instance metadata may make each
of these stricter for an instance, never looser (qslm_nova.policy).
"""

from oslo_config import cfg

from qslm_nova.conf import groups

policy_opts = [
    cfg.BoolOpt('default_require_trusted_host',
                default=False,
                help="""
Require attested trusted source and destination hosts for every instance.

The flavor extra spec ``qslm:require_trusted_host``, the image property
and the instance metadata of the same name may require it for one
instance; none of them can turn it off when this is set. Requiring trust
everywhere makes every migration depend on the trust providers: when they
cannot answer, no instance can move.

Possible values:

* False (default): only instances that ask for it need trusted hosts.
* True: every instance needs trusted hosts.

Related options:

* ``trust_providers``, ``trust_combination``, ``max_attestation_age``
* ``fail_closed``: never lets such instances through unchecked.
"""),
    cfg.StrOpt('default_min_link_security',
               default='untrusted',
               help="""
Weakest link security level a migration may cross without encryption.

Every link of the topology has a security level. The path search prefers
paths whose every link is at this level or above; when a destination has
none, its path is weak and the migration must use a mechanism that
protects the stream end to end, or one every weak link carries (e.g.
``ipsec`` between two gateways), or that destination is refused. The
flavor extra spec, image property and instance metadata
``qslm:min_link_security`` may raise it for one instance, never lower it.

Possible values:

* A level name from the topology file's ``security_levels``, weakest
  first (default levels: ``untrusted``, ``wan``, ``shared``, ``private``,
  ``isolated``). ``untrusted`` accepts every link.
* A name the topology does not define makes every policy malformed, so
  every migration is refused until it is fixed.

Related options:

* ``default_require_encryption``
* ``default_allowed_mechanisms``
* ``topology_file``: defines the levels.
"""),
    cfg.BoolOpt('default_require_encryption',
                default=False,
                help="""
Require an encrypting mechanism for every live migration.

With this set, a migration must use a mechanism that gives
confidentiality and integrity end to end (e.g. ``tls`` or ``tunnelled``),
whatever the security of the links on its path. Encryption costs
throughput (one core per side does the cryptography), so the downtime
estimates grow and fewer destinations may meet a tight SLA. The flavor
extra spec, image property and instance metadata
``qslm:require_encryption`` may require it for one instance.

Possible values:

* False (default): encryption only where the path's link security asks
  for it.
* True: every migration is encrypted.

Related options:

* ``default_min_link_security``
* ``default_allowed_mechanisms``
"""),
    cfg.ListOpt('default_allowed_mechanisms',
                default=['none', 'tls', 'tunnelled', 'ipsec'],
                help="""
Mechanisms a migration may use unless the instance's policy narrows them.

For every destination the decision estimates each mechanism the source
really migrates with (its compute agent's published profile, else the
topology file), the destination can receive and the policy allows, and
keeps the best (one that completes, then the lowest downtime, then the
shortest migration).
The flavor extra spec, image property and instance metadata
``qslm:allowed_mechanisms`` narrow the list further (the intersection
counts); they cannot add to it.

Possible values:

* A comma-separated list of mechanism names: ``none`` (QEMU's plain TCP
  stream), ``tls`` (QEMU native TLS), ``tunnelled`` (libvirt tunnelling
  over an encrypted libvirtd connection), ``ipsec`` (IPsec tunnel), or
  names the topology file defines. A name no topology defines matches
  nothing. ``ssh`` is deprecated and read as ``tunnelled``.
* An empty list: no mechanism is allowed, so nothing can move.

Related options:

* ``default_require_encryption``
* ``default_min_link_security``
"""),
    cfg.FloatOpt('default_dirty_rate_mibps',
                 default=16.0,
                 min=0.0,
                 deprecated_name='default_dirty_rate_mbps',
                 help="""
Expected rate, in MiB/s, at which an instance dirties its memory.

Used when neither the flavor extra spec, the image property nor the
instance metadata ``qslm:dirty_rate_mibps`` gives a rate; where several
give one, the highest counts. Pre-copy must resend what the guest dirties
while it copies, so a higher rate means more rounds, longer downtime
estimates and fewer destinations that meet a tight SLA; a rate below what
the guests really do makes the estimates optimistic. The worst-case
estimate multiplies it by ``worst_dirty_factor``.

Possible values:

* 0 or a positive rate in MiB/s. (Its old name,
  ``default_dirty_rate_mbps``, is still read, with a deprecation
  warning.)

Related options:

* ``worst_dirty_factor``
* ``sla_estimate``
"""),
    cfg.IntOpt('default_budget_period_days',
               default=30,
               min=1,
               help="""
Length, in days, of the downtime budget period.

A flavor that sets a downtime budget (``qslm:downtime_budget_ms``) lets
its instances spend that much downtime on migrations per period; the
period is ``qslm:budget_period_days`` of the flavor, else this option.
When a period ends, the used downtime starts again from zero. Flavors
without a budget ignore it.

Possible values:

* A positive number of days.

Related options:

* ``[qslm] ledger_writer_roles``: who may record used downtime.
"""),
    cfg.StrOpt('sla_estimate',
               default='worst',
               choices=[('worst', 'Compare the worst-case downtime with the '
                                  'SLA (safe).'),
                        ('expected', 'Compare the expected downtime with '
                                     'the SLA (places more, may violate).')],
               help="""
Which downtime estimate is held against the SLA without a confidence.

Held against the limits when ``sla_confidence`` is empty; with a
confidence (the default), it only picks among a destination's transport
options. Every decision estimates an expected downtime and a worst case
(the guest dirtying faster, less bandwidth, QEMU stopping with more left,
scheduling jitter). Holding the worst case against
``qslm:max_downtime_ms`` and the downtime budget keeps nearly every real
pause within its limit but turns away migrations that would have met it;
the expected estimate allows most of those, at the price of some pauses
over the limit. The operator documentation's downtime model chapter
gives measured numbers for both.

Related options:

* ``sla_confidence``: set (0.95 by default), it decides the pause held.
* ``worst_dirty_factor``, ``worst_bandwidth_factor``,
  ``worst_stop_share``, ``worst_extra_ms``: shape the worst case.
"""),
]


def register_opts(conf):
    conf.register_group(groups.QSLM_GROUP)
    conf.register_opts(policy_opts, group=groups.QSLM_GROUP)


def list_opts():
    return {groups.QSLM_GROUP: policy_opts}
