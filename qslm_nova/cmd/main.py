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


"""``qslm-nova``: the ``openstack qslm`` commands without OpenStackClient.

An osc-lib shell (cliff) over the same command classes, with
OpenStackClient's global options (``--os-cloud``, ``--os-auth-url`` and
the other keystoneauth1 plugin options, ``--debug``, ``-v``,
``--version``...), which may come before or after the command. Without
credentials (no ``--os-cloud``/``OS_CLOUD``, ``--os-auth-url``/
``OS_AUTH_URL``, ``OS_AUTH_TYPE``, ``OS_TOKEN`` or ``OS_ENDPOINT``) the
commands evaluate the embedded sample cloud, or ``--cloud-file FILE``.

Exit status: 0 done (allowed), 1 denied, 2 error.
"""

import logging
import sys

from cliff import commandmanager
from osc_lib.api import auth as osc_auth
from osc_lib import shell
from pbr import version as pbr_version

from qslm_nova.osc import base

COMMANDS = 'qslm_nova.cli'


class QSLMShell(shell.OpenStackShell):
    """qslm-nova's shell: offline on the sample cloud by default."""

    NAME = 'qslm-nova'
    #: Read by source.is_live: no credentials means the sample cloud.
    offline_by_default = True

    def __init__(self):
        super().__init__(
            description='Explain, check and perform QoS-aware secure live '
                        'migrations. Exit status: 0 done or allowed, 1 '
                        'denied, 2 error.',
            version=pbr_version.VersionInfo('qslm-nova').version_string(),
            command_manager=commandmanager.CommandManager(COMMANDS),
            deferred_help=True)

    def build_option_parser(self, description, version,
                            argparse_kwargs=None):
        parser = super().build_option_parser(description, version,
                                             argparse_kwargs)
        # As nova-manage and every oslo.config tool: before the command
        # too. A command's own --config-file wins.
        parser.add_argument(
            '--config-file', metavar='FILE', action='append', default=[],
            dest='config_files',
            help='oslo.config file with the [qslm] options (repeatable), '
                 'for every command.')
        return osc_auth.build_auth_plugins_option_parser(parser)

    def configure_logging(self):
        super().configure_logging()
        if not self.options.debug and self.options.verbose_level <= 1:
            # keystoneauth warns about what the one-line error then says.
            logging.getLogger('keystoneauth').setLevel(logging.ERROR)

    def _final_defaults(self):
        # As OpenStackClient: a token and an endpoint mean admin_token.
        super()._final_defaults()
        if self.options.endpoint and self.options.token:
            self._auth_type = 'admin_token'
        else:
            self._auth_type = 'password'

    # cliff ends with status 1 when the set-up before a command fails
    # (a clouds.yaml that cannot be read, an unknown --os-cloud): an error
    # here is 2, and 1 means "denied".
    def initialize_app(self, argv):
        self.failed = False
        try:
            super().initialize_app(argv)
        except Exception:
            self.failed = True
            raise

    def clean_up(self, cmd, result, err):
        if err is not None:
            self.failed = True
        super().clean_up(cmd, result, err)

    def run(self, argv):
        rc = super().run(argv)
        return base.EXIT_ERROR if getattr(self, 'failed', False) else rc


def main(argv=None):
    return QSLMShell().run(list(sys.argv[1:] if argv is None else argv))


if __name__ == '__main__':
    sys.exit(main())
