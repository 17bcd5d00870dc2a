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

"""What the decision is asked: one live migration of one instance."""

import dataclasses
import datetime

from qslm_nova import policy as policy_mod


@dataclasses.dataclass
class MigrationRequest:
    """What the decision needs to know about one live migration."""

    instance_uuid: str
    source_host: str
    memory_mb: int
    flavor_extra_specs: dict = dataclasses.field(default_factory=dict)
    image_props: dict = dataclasses.field(default_factory=dict)
    metadata: dict = dataclasses.field(default_factory=dict)
    touched_mb: float = None
    disk_gb: float = 0.0
    now: datetime.datetime = None
    # The source's compute node (resource provider) name, where its
    # published profile lives; default: source_host.
    source_node: str = None

    @classmethod
    def for_instance(cls, instance, image_prop_prefix, flavor=None,
                     disk_gb=0.0):
        """The request of a Nova instance object (read by attribute).

        :param image_prop_prefix: Nova's prefix of image properties in
            system metadata (``nova.utils.SM_IMAGE_PROP_PREFIX``).
        :param flavor: the flavor to judge; default the instance's.
        """
        flavor = flavor or instance.flavor
        return cls(
            instance_uuid=instance.uuid,
            source_host=instance.host,
            memory_mb=flavor.memory_mb,
            flavor_extra_specs=dict(flavor.extra_specs or {}),
            image_props=policy_mod.image_properties(
                instance.system_metadata, image_prop_prefix),
            metadata=dict(instance.metadata or {}),
            disk_gb=disk_gb,
            source_node=_node(instance))


def _node(instance):
    """The instance's compute node name, if loaded (never lazy-loads)."""
    is_set = getattr(instance, 'obj_attr_is_set', None)
    if is_set is not None and not is_set('node'):
        return None
    return getattr(instance, 'node', None)
