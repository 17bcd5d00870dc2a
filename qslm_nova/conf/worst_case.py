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


"""[qslm] constants of the downtime model's worst case.

Part of the estimator's options (:mod:`qslm_nova.conf.estimator` lists
and registers them); model internals, marked ``advanced``.
"""

from oslo_config import cfg

#: The help's closing words on where a constant's value comes from.
CALIBRATE = """
The testbed fits it to real migrations (``qslm-nova-testbed campaign``,
then ``fit``; the operator documentation's downtime model chapter)."""

opts = [
    cfg.FloatOpt('worst_dirty_factor',
                 default=2.0, min=1.0, advanced=True,
                 help="""
Factor on the guest's dirty rate in the worst-case estimate.

The worst-case estimate multiplies the instance's dirty rate
(``qslm:dirty_rate_mibps`` or ``default_dirty_rate_mibps``) by this factor.
A larger factor protects against guests that get busier than their flavor
says, at the price of refusing destinations that would have met the SLA.

Possible values:

* A number of 1 or more (1: the worst case assumes the expected rate).

Related options:

* ``default_dirty_rate_mibps``
* ``sla_estimate``: whether the worst case is held against the SLA.
"""),
    cfg.FloatOpt('worst_bandwidth_factor',
                 default=0.7, min=0.01, max=1.0, advanced=True,
                 help="""
Share of the available path bandwidth the worst case assumes.

The worst-case estimate runs the migration over this share of the rate
the expected case uses, for links busier than the topology file's
utilisation says. A smaller share makes the worst case more cautious and
refuses more destinations.

Possible values:

* A share between 0.01 and 1 (1: the full available bandwidth).

Related options:

* ``sla_estimate``
* ``worst_dirty_factor``
"""),
    cfg.FloatOpt('stop_share',
                 default=1.0, min=0.1, advanced=True,
                 help="""
Data left for the stop-and-copy, in rate x downtime limit (expected).

QEMU pauses the guest as soon as what is left to send fits its downtime
limit at the bandwidth it measured; its bandwidth estimate runs high, so
it leaves more than the limit allows and the pause exceeds the limit. The
model's threshold is this multiple of rate x current limit: a larger
value gives longer expected pauses and fewer rounds.
""" + CALIBRATE + """

Possible values:

* A multiple of 0.1 or more.

Related options:

* ``worst_stop_share``: the same multiple for the worst case.
* ``live_migration_downtime``: the limit.
"""),
    cfg.FloatOpt('worst_stop_share',
                 default=1.75, min=0.1, advanced=True,
                 help="""
Data left for the stop-and-copy, in rate x downtime limit (worst case).

The worst-case counterpart of ``stop_share``. It is what keeps the
worst-case estimate above the pauses real migrations show: setting it to
``stop_share`` lets noticeably more migrations through, and more of them
pause longer than their limit.

Possible values:

* A multiple of 0.1 or more; normally at least ``stop_share``.

Related options:

* ``stop_share``
* ``sla_estimate``
"""),
    cfg.FloatOpt('worst_extra_ms',
                 default=50.0, min=0.0, advanced=True,
                 help="""
Milliseconds added to the worst-case pause for host scheduling jitter.

A busy compute node resumes the guest later than an idle one. Lowering it
allows more migrations against tight SLAs; do that only after measuring
the pauses of your own loaded hosts.

Possible values:

* 0 or a positive number of milliseconds.

Related options:

* ``worst_stop_share``
* ``sla_estimate``
"""),
    cfg.FloatOpt('worst_postcopy_buffer_factor',
                 default=5.0, min=1.0, advanced=True,
                 help="""
Multiple of the connections' buffered data at a post-copy switch (worst case).

When Nova switches a migration to post-copy, the destination must take in
what is still in the connections before it can run the guest. On loaded
hosts that can be several times what a pre-copy stop leaves in them: the
libvirt testbed's post-copy switches with 3 busy threads per host paused
up to 3.6 times the expected pause, while the ones on lightly loaded
hosts did not. The worst case of a post-copy switch holds this many times
the mechanism's ``buffered_mb`` per connection, sent at the worst-case
rate; the expected case holds it once. It changes no other outcome. The
default is the testbed's fit on QEMU 10 (the least factor covering its
fitting post-copy runs; QEMU 7.2's: 3).
""" + CALIBRATE + """

Possible values:

* 1 (the worst case buffers as the expected case does) or more.

Related options:

* ``worst_bandwidth_factor``
* ``postcopy_rate_share``
"""),
]
