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

"""``qslm-nova-agent``: the daemon beside nova-compute.

It closes the loop of the decision (decide, act, measure, account):

* **host profile**: what this host's Nova does on a live migration (its
  ``[libvirt]`` options: transport, parallel connections, downtime
  steps, timeout), whether it can receive native TLS, its cipher
  throughput (measured once per boot with QEMU's own TLS stream) and its
  CPU load, published as Placement traits (``profile``, ``placement``);
* **measured downtime**: libvirt's domain events and completed-job
  statistics of every migration (``libvirt_conn``, ``tracker``), kept in
  a durable spool (``spool``) and charged once to the instance's ledger
  through the Nova API (``ledger``, ``nova``);
* **observed dirty rate**: QEMU's page-sampling estimate of every
  instance, written to its metadata (``dirtyrate``);
* **history**: every measured migration, kept and published as a
  notification (``qslm_nova.history``).

``service`` runs it all in one loop; ``cmd`` is the console script.
Nothing here imports Nova: it talks to Nova and Placement over their
APIs (python-novaclient, keystoneauth1) and reads nova.conf itself.
"""
