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


"""The ``openstack qslm ...`` commands (an OpenStackClient plugin).

The command classes are cliff commands built on osc-lib. The same classes
serve two front ends:

* ``openstack qslm ...``: python-openstackclient loads them through the
  ``openstack.cli.extension`` entry point (:mod:`qslm_nova.osc.plugin`)
  and the ``openstack.qslm.v1`` command group; they use the live cloud
  OpenStackClient is configured for, unless ``--cloud-file`` names a
  cloud file;
* ``qslm-nova ...`` (:mod:`qslm_nova.cmd.main`): an osc-lib shell for
  hosts without OpenStackClient, whose default is the embedded sample
  cloud when no credentials are given.

Exit status of every command: 0 done (allowed), 1 denied (``check``,
``migrate``; ``topology validate``: the file has problems), 2 error.
"""
