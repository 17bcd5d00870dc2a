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


"""OpenStackClient plugin: ``openstack qslm ...``.

python-openstackclient finds this module through the
``openstack.cli.extension`` entry point ``qslm`` and loads the commands of
the ``openstack.qslm.v1`` group. The commands reach Nova themselves
(:mod:`qslm_nova.osc.source`) with the session of OpenStackClient's
options; :func:`make_client` gives ``client_manager.qslm`` to other
code: a python-novaclient client at the Compute API microversion the
commands use.
"""

from osc_lib import utils

from qslm_nova import cloud

API_NAME = 'qslm'
API_VERSION_OPTION = 'os_qslm_api_version'
DEFAULT_API_VERSION = '1'
API_VERSIONS = ('1',)


def make_client(instance):
    """python-novaclient client of an authenticated ClientManager."""
    instance.setup_auth()
    return cloud.nova_client(instance.session, instance.region_name,
                             instance.interface)


def build_option_parser(parser):
    """The qslm API version option (one version so far)."""
    parser.add_argument(
        '--os-qslm-api-version', metavar='<qslm-api-version>',
        default=utils.env('OS_QSLM_API_VERSION',
                          default=DEFAULT_API_VERSION),
        help='qslm command set version, default=%s (Env: '
             'OS_QSLM_API_VERSION)' % DEFAULT_API_VERSION)
    return parser
