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

"""A compute host's migration profile, as its agent publishes it.

The compute agent (``qslm_nova.agent``) reads what the host's Nova will
do on a live migration (its ``[libvirt]`` options), what the host can
receive (QEMU TLS certificates), how fast one core encrypts and how busy
the host is, and publishes it as ``CUSTOM_QSLM_MIG_*`` traits of the
host's compute node resource provider, where the scheduler and nova-api
read it cheaply and Nova's resource tracker keeps it (it manages only
the traits its driver reports).

The package: ``model`` (:class:`HostProfile`), ``traits`` (the profile
as trait names and back), ``placement`` (reading Placement, in bulk for
destinations and per host for a source), ``store`` (what a decision
reads: the last table and the sources, refreshed off the request path),
``mechanisms`` (a profile as the mechanism sets of the decision, and its
differences from the topology file).
"""

from qslm_nova.profile import model
from qslm_nova.profile import store
from qslm_nova.profile import traits

HostProfile = model.HostProfile
ProfileStore = store.ProfileStore
encode = traits.encode
decode = traits.decode
