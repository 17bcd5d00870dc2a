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

"""Measure cipher throughput of this host, per core and per mechanism.

Operators run this (``qslm-nova calibrate``) on their compute hosts to fill
``crypto_gbps_per_core`` of the mechanisms in the topology file. The
figure is the raw AEAD throughput of one core; the mechanisms' real
throughput inside QEMU or sshd is lower, which the testbed fit measures.
"""

import os
import platform
import re
import shutil
import subprocess
import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# Cipher each mechanism uses by default on a current Linux host:
# GnuTLS negotiates TLS 1.3 with AES-256-GCM for QEMU, OpenSSH prefers
# chacha20-poly1305 (the testbed pins aes128-gcm for its runs).
CIPHERS = ('aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305')
MECHANISM_CIPHER = {
    'tls': 'aes-256-gcm',
    'ssh': 'aes-128-gcm',
    'ipsec': 'aes-128-gcm',
}
BLOCK_BYTES = 16384


def openssl_speed(cipher, seconds):
    exe = shutil.which('openssl')
    if not exe:
        return None
    try:
        out = subprocess.run(
            [exe, 'speed', '-evp', cipher, '-seconds', str(int(seconds)),
             '-bytes', str(BLOCK_BYTES)],
            capture_output=True, text=True, timeout=seconds * 10 + 30)
    except (OSError, subprocess.TimeoutExpired) as e:
        LOG.warning('openssl speed %s failed: %s', cipher, e)
        return None
    if out.returncode:
        return None
    for line in out.stdout.splitlines():
        m = re.match(r'^\s*%s\s+([0-9.]+)k\s*$' % re.escape(cipher), line,
                     re.IGNORECASE)
        if m:
            return float(m.group(1)) * 1000.0 * 8 / 1e9
    return None


def _python_speed(cipher, seconds):
    from cryptography.hazmat.primitives.ciphers import aead

    if cipher == 'chacha20-poly1305':
        algo = aead.ChaCha20Poly1305(aead.ChaCha20Poly1305.generate_key())
    else:
        bits = 128 if cipher == 'aes-128-gcm' else 256
        algo = aead.AESGCM(aead.AESGCM.generate_key(bit_length=bits))
    data = os.urandom(BLOCK_BYTES)
    nonce = bytes(12)
    done = 0
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _ in range(64):
            algo.encrypt(nonce, data, None)
        done += 64 * BLOCK_BYTES
    return done * 8 / (time.perf_counter() - start) / 1e9


def measure_cipher_throughput(seconds=1, method='auto'):
    """Return Gbit/s per core of each cipher and of each mechanism.

    :param seconds: time spent per cipher.
    :param method: 'openssl' (``openssl speed -evp``), 'python' (the
        cryptography package) or 'auto' (openssl, else python).
    :returns: dict with 'ciphers' {cipher: Gbit/s}, 'mechanisms'
        {mechanism: Gbit/s}, 'method' and 'cpu'.
    """
    ciphers = {}
    used = set()
    for cipher in CIPHERS:
        value = None
        if method in ('auto', 'openssl'):
            value = openssl_speed(cipher, seconds)
            if value is not None:
                used.add('openssl speed')
        if value is None and method in ('auto', 'python'):
            value = _python_speed(cipher, seconds)
            used.add('python cryptography')
        if value is None:
            raise RuntimeError('cannot measure %s with method %s'
                               % (cipher, method))
        ciphers[cipher] = round(value, 3)
    mechanisms = {mech: ciphers[c] for mech, c in MECHANISM_CIPHER.items()}
    return {'ciphers': ciphers, 'mechanisms': mechanisms,
            'method': ', '.join(sorted(used)), 'cpu': cpu_model(),
            'block_bytes': BLOCK_BYTES}


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'
