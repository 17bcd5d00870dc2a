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


"""What every qslm command shares: exit status, errors, cloud, progress.

Exit status: 0 done (allowed), 1 denied, 2 error. cliff turns an
exception into status 1, which here means "denied"; so a command turns
every failure into one ``error: ...`` line on stderr (a traceback too
with ``--debug``) and status 2 itself.
"""

import argparse
import math
import sys
import time

from openstack import exceptions as sdk_exc
from osc_lib.command import command
from osc_lib import exceptions as osc_exc
from oslo_config import cfg

from qslm_nova import cloud as cloud_mod
from qslm_nova import decision
from qslm_nova import exception
from qslm_nova.osc import profiles
from qslm_nova.osc import source

EXIT_OK, EXIT_DENIED, EXIT_ERROR = 0, 1, 2

FORMATTERS_LIST = 'qslm_nova.formatter.list'
FORMATTERS_SHOW = 'qslm_nova.formatter.show'


def one_line(text):
    return ' '.join(str(text).split())


class QSLMCommand:
    """Mixed into cliff's command classes: status, errors, the cloud."""

    # Offline commands need no credentials; live mode authenticates in
    # source.live_region when the command first needs the cloud.
    auth_required = False
    #: Status for a command that ran: EXIT_DENIED when the answer is no.
    exit_status = EXIT_OK

    def run(self, parsed_args):
        self.exit_status = EXIT_OK
        try:
            with cloud_mod.translate_errors():
                rc = super().run(parsed_args)
        except exception.TopologyError as e:
            for line in e.errors:
                self.error(line)
            return EXIT_ERROR
        except (exception.QSLMError, cfg.Error, osc_exc.CommandError,
                sdk_exc.SDKException) as e:
            self.error(one_line(e))
            return EXIT_ERROR
        except Exception as e:
            if self.app.options.debug:
                self.log.exception('unexpected error')
            self.error('unexpected %s: %s%s' % (
                type(e).__name__, one_line(e),
                '' if self.app.options.debug else
                ' (run with --debug for a traceback)'))
            return EXIT_ERROR
        return rc or self.exit_status

    def error(self, text):
        self.app.stderr.write('error: %s\n' % text)

    def warn(self, text):
        self.app.stderr.write('warning: %s\n' % text)

    # -- the cloud --------------------------------------------------------
    def open_source(self, parsed_args, offline_topology_ok=False):
        """(source, conf): an OfflineCloud or a cloud.LiveCloud."""
        live = source.is_live(self.app, parsed_args)
        conf = source.load_conf(parsed_args, live, self.warn,
                                source.app_config_files(self.app))
        if not live:
            if getattr(parsed_args, 'topology', None) and \
                    not offline_topology_ok:
                raise exception.QSLMError(
                    '--topology is for a live cloud; a cloud file holds its '
                    'own topology')
            return source.offline_cloud(parsed_args), conf
        # Credentials first: without them the topology does not matter.
        region = source.live_region(self.app)
        topo = source.live_topology(parsed_args, conf)
        src = source.live_cloud(region, topo)
        if conf.qslm.host_profiles:
            self.profiles = profiles.store_for(src)
        return src, conf

    def show_warnings(self, src):
        for text in getattr(src, 'warnings', ()):
            self.warn(text)

    #: The live cloud's published host profiles (profiles.store_for).
    profiles = None

    def engine(self, conf, topo):
        return decision.engine_from_conf(conf, lambda: topo,
                                         profiles=self.profiles)


class Command(QSLMCommand, command.Command):
    pass


class Lister(QSLMCommand, command.Lister):

    @property
    def formatter_namespace(self):
        return FORMATTERS_LIST


class ShowOne(QSLMCommand, command.ShowOne):

    @property
    def formatter_namespace(self):
        return FORMATTERS_SHOW


def number(kind, low, above=False, high=None):
    """An argparse type: a finite number >= low (> low if ``above``).

    With ``high``, also <= high.
    """

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError('%r is not a %s' % (
                text, 'whole number' if kind is int else 'number'))
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError('%r is not finite' % text)
        if value < low or (above and value == low):
            raise argparse.ArgumentTypeError('must be %s %s, got %s' % (
                '>' if above else '>=', low, text))
        if high is not None and value > high:
            raise argparse.ArgumentTypeError('must be <= %s, got %s' % (
                high, text))
        return value
    return parse


class Progress:
    """One self-overwriting status line on a terminal, nothing elsewhere.

    Updated at most five times a second; cleared when done.
    """

    INTERVAL = 0.2

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, 'isatty', None)
        self.enabled = bool(isatty is not None and isatty())
        self._last = 0.0
        self._width = 0

    def update(self, text, force=False):
        if not self.enabled:
            return
        t = time.monotonic()
        if not force and t - self._last < self.INTERVAL:
            return
        self._last = t
        self.stream.write('\r' + text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def done(self):
        if self.enabled and self._width:
            self.stream.write('\r' + ' ' * self._width + '\r')
            self.stream.flush()
            self._width = 0
