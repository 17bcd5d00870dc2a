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


"""``calibrate``: the figures for the topology file's mechanisms."""

import math
import os
import shutil

from qslm_nova import exception
from qslm_nova import mechanisms as mech_mod
from qslm_nova.osc import base
from qslm_nova.osc import decisions as rows_mod
from qslm_nova.osc import history
from qslm_nova.osc import throughput

COLUMNS = ('Mechanism', 'Measured as', 'Cipher', 'Seconds',
           'Stream Gbit/s', 'Gbit/s per core', 'crypto_gbps_per_core')
MECHANISMS = ('tls', 'ssh', 'none')
SSH_CIPHER = 'aes128-gcm@openssh.com'
#: Raw cipher of each mechanism for ``--method cipher``.
MECHANISM_CIPHER = {'tls': 'aes-256-gcm', 'ssh': 'aes-128-gcm',
                    'ipsec': 'aes-128-gcm'}


def figure(gbps):
    """Rounded down to two significant digits: a figure that holds."""
    if gbps <= 0 or not math.isfinite(gbps):
        return None
    scale = 10 ** (math.floor(math.log10(gbps)) - 1)
    # 8.7 / 0.1 is 86.99999999999999 in binary floating point: a rate
    # that is already a two-digit figure must stay that figure.
    return round(math.floor(gbps / scale + 1e-9) * scale, 6)


def hint(rows):
    lines = ['crypto_gbps_per_core is a field of the mechanisms in the '
             'topology file (not a [qslm] option), in Gbit/s (10^9 bit/s) '
             'of one core; the estimator lowers it by the busier host\'s '
             'cpu_load. For this host:', '', 'mechanisms:']
    for mech, value in rows:
        # The ssh stream stands for tunnelled (libvirt over qemu+ssh).
        lines.append('  %s: {crypto_gbps_per_core: %g}' % (
            mech_mod.DEPRECATED.get(mech, mech), value))
    return '\n'.join(lines)


class Calibrate(base.Lister):
    """Measure the transports on this host: the crypto_gbps_per_core to use.

    Measured the way QEMU carries a live migration: one stream on one
    connection, encrypted on one core and decrypted on one core (tls: a
    TLS 1.3 stream with the cipher suite QEMU's GnuTLS negotiates; ssh: a
    stream through an OpenSSH tunnel; none: plain TCP, for comparison).
    Per core is the payload over the CPU time of the busier side, so a
    busy host lowers the stream rate but not that figure. Run it on an
    idle compute host of each hardware kind.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--mechanism', action='append', choices=MECHANISMS + ('ipsec',),
            metavar='MECHANISM',
            help='Measure this mechanism (repeatable; tls, ssh, none, and '
                 'ipsec with --method cipher only). Default: tls, ssh '
                 '(when ssh and sshd are installed) and none.')
        parser.add_argument(
            '--seconds', type=base.number(float, 0.5, high=600.0),
            default=3.0, metavar='SECONDS',
            help='Seconds to stream per mechanism (0.5 to 600, default 3).')
        parser.add_argument(
            '--method', choices=('stream', 'cipher'), default='stream',
            help='stream (default): the transport as QEMU uses it. cipher: '
                 'the raw single-core AEAD speed from openssl speed, an '
                 'upper bound several times too high for the topology '
                 'file.')
        parser.add_argument(
            '--ssh-cipher', default=SSH_CIPHER, metavar='CIPHER',
            help='OpenSSH cipher of the ssh stream (default %s; use what '
                 'your computes\' ssh negotiates).' % SSH_CIPHER)
        history.add_arguments(parser)
        return parser

    def take_action(self, parsed_args):
        self.figures = []
        self.history_hint = None
        history.check_arguments(parsed_args)
        if parsed_args.from_history:
            return history.calibrate(self, parsed_args)
        mechs = self.mechanisms(parsed_args)
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
        if load > 0.5:
            self.warn('this host is busy (load average %.1f per CPU): the '
                      'stream rates will be low; the per-core figures count '
                      'CPU time and hold better' % load)
        if parsed_args.method == 'cipher':
            rows = self.ciphers(mechs, parsed_args.seconds)
        else:
            rows = [self.row(m) for m in self.streams(mechs, parsed_args)]
        self.figures = [(r[0], r[-1]) for r in rows
                        if r[0] != 'none' and r[-1] is not None and
                        parsed_args.method == 'stream']
        return COLUMNS, rows

    def mechanisms(self, parsed_args):
        chosen = parsed_args.mechanism or list(MECHANISMS)
        if 'ipsec' in chosen and parsed_args.method == 'stream':
            raise exception.QSLMError(
                'ipsec cannot be measured as a stream here (it needs kernel '
                'IPsec between two hosts); use --method cipher for its '
                'cipher\'s upper bound')
        has_ssh = shutil.which('ssh') and (
            shutil.which('sshd') or os.access('/usr/sbin/sshd', os.X_OK))
        if 'ssh' in chosen and parsed_args.method == 'stream' and \
                not has_ssh:
            if parsed_args.mechanism:
                raise exception.QSLMError(
                    'ssh needs ssh and sshd (Debian: openssh-client, '
                    'openssh-server)')
            self.warn('ssh not measured: ssh or sshd is not installed')
            chosen = [m for m in chosen if m != 'ssh']
        return list(dict.fromkeys(chosen))

    def streams(self, mechs, parsed_args):
        seconds = parsed_args.seconds
        progress = base.Progress(self.app.stderr)
        try:
            for i, mech in enumerate(mechs):
                def tick(elapsed, mech=mech, i=i):
                    progress.update('calibrate: %s (%d of %d) %.1f / %g s'
                                    % (mech, i + 1, len(mechs), elapsed,
                                       seconds))
                tick(0.0)
                if mech == 'tls':
                    yield throughput.tls_stream(seconds, tick)
                elif mech == 'ssh':
                    yield throughput.ssh_stream(
                        seconds, parsed_args.ssh_cipher, tick)
                else:
                    yield throughput.tcp_stream(seconds, tick)
        finally:
            progress.done()

    @staticmethod
    def row(m):
        return (m.mechanism, m.method, m.cipher, rows_mod.Number(m.seconds),
                rows_mod.Hundredths(m.stream_gbps),
                rows_mod.Hundredths(m.per_core_gbps),
                None if m.mechanism == 'none' else figure(m.per_core_gbps))

    def ciphers(self, mechs, seconds):
        from qslm_nova.testbed import calibrate as cipher_speed
        wanted = [m for m in mechs if m in MECHANISM_CIPHER]
        if not wanted:
            raise exception.QSLMError('--method cipher measures tls, ssh '
                                      'and ipsec ciphers, not none')
        try:
            result = cipher_speed.measure_cipher_throughput(
                seconds=max(1, int(math.ceil(seconds))), method='auto')
        except (RuntimeError, ImportError) as e:
            raise exception.QSLMError('cannot measure the ciphers: %s' % e)
        return [(m, 'cipher only (%s)' % result['method'],
                 MECHANISM_CIPHER[m], rows_mod.Number(seconds),
                 None, rows_mod.Hundredths(result['ciphers'][
                     MECHANISM_CIPHER[m]]), None) for m in wanted]

    def produce_output(self, parsed_args, column_names, data):
        rc = super().produce_output(parsed_args, column_names, data)
        if self.history_hint:
            out = (self.app.stdout if parsed_args.formatter == 'table'
                   else self.app.stderr)
            out.write('\n' + self.history_hint + '\n')
        elif self.figures:
            out = (self.app.stdout if parsed_args.formatter == 'table'
                   else self.app.stderr)
            out.write('\n' + hint(self.figures) + '\n')
        elif parsed_args.method == 'cipher':
            self.app.stderr.write(
                'raw cipher speeds are upper bounds, not figures for the '
                'topology file: measure with --method stream\n')
        return rc
