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

"""A test CA that issues libvirt and QEMU TLS certificates with openssl.

Each host's private ``/etc/pki`` gets the layout libvirt and QEMU read by
default, so a libvirtd (and a nova-compute beside it) needs no TLS path
in its configuration:

* libvirt: ``CA/cacert.pem``, ``libvirt/servercert.pem``,
  ``libvirt/private/serverkey.pem``, ``libvirt/clientcert.pem``,
  ``libvirt/private/clientkey.pem``;
* QEMU native TLS (``default_tls_x509_cert_dir``): ``qemu/ca-cert.pem``,
  ``qemu/server-cert.pem``, ``qemu/server-key.pem``,
  ``qemu/client-cert.pem``, ``qemu/client-key.pem``.

One host certificate serves as both server and client certificate; its
subject alternative names are the host name and its addresses, so peers
may name it either way in a ``qemu+tls://`` URI.
"""

import os
import shutil
import subprocess

from qslm_nova.testbed import TestbedError

KEY_ALGORITHM = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']


def _openssl(*args, cwd=None):
    path = shutil.which('openssl')
    if not path:
        raise TestbedError('TLS for the libvirt testbed needs openssl '
                           '(Debian package openssl)')
    proc = subprocess.run([path] + list(args), cwd=cwd, capture_output=True,
                          text=True, timeout=60)
    if proc.returncode:
        raise TestbedError('openssl %s failed: %s'
                           % (args[0], proc.stderr.strip()[-500:]))
    return proc.stdout


def _write(path, data, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode),
              'w') as f:
        f.write(data)


class CertificateAuthority(object):
    """A self-signed CA in *directory* (made on first use)."""

    def __init__(self, directory, days=3):
        self.directory = directory
        self.days = days
        self.cert = os.path.join(directory, 'ca-cert.pem')
        self.key = os.path.join(directory, 'ca-key.pem')

    def ensure(self):
        if os.path.exists(self.cert) and os.path.exists(self.key):
            return self
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        _openssl('req', '-x509', *KEY_ALGORITHM, '-nodes',
                 '-keyout', self.key, '-out', self.cert,
                 '-days', str(self.days), '-subj',
                 '/O=qslm-testbed/CN=qslm-testbed CA',
                 '-addext', 'basicConstraints=critical,CA:TRUE',
                 '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
        return self

    def issue(self, pki_dir, host_name, addresses=()):
        """Write a host's certificates into *pki_dir* (its /etc/pki)."""
        self.ensure()
        work = os.path.join(self.directory, 'issue-' + host_name)
        os.makedirs(work, mode=0o700, exist_ok=True)
        key = os.path.join(work, 'key.pem')
        csr = os.path.join(work, 'req.pem')
        cert = os.path.join(work, 'cert.pem')
        ext = os.path.join(work, 'ext.cnf')
        sans = ['DNS:%s' % host_name, 'DNS:localhost', 'IP:127.0.0.1']
        sans += ['IP:%s' % a for a in addresses]
        _write(ext, '\n'.join([
            'basicConstraints=critical,CA:FALSE',
            'keyUsage=critical,digitalSignature,keyEncipherment',
            'extendedKeyUsage=serverAuth,clientAuth',
            'subjectAltName=%s' % ','.join(sans), '']), 0o600)
        _openssl('req', *KEY_ALGORITHM, '-nodes', '-keyout', key,
                 '-out', csr, '-subj',
                 '/O=qslm-testbed/CN=%s' % host_name)
        _openssl('x509', '-req', '-in', csr, '-CA', self.cert,
                 '-CAkey', self.key, '-CAcreateserial', '-out', cert,
                 '-days', str(self.days), '-extfile', ext)
        with open(self.cert) as f:
            ca_pem = f.read()
        with open(cert) as f:
            cert_pem = f.read()
        with open(key) as f:
            key_pem = f.read()
        files = {
            'CA/cacert.pem': (ca_pem, 0o644),
            'libvirt/servercert.pem': (cert_pem, 0o644),
            'libvirt/clientcert.pem': (cert_pem, 0o644),
            'libvirt/private/serverkey.pem': (key_pem, 0o600),
            'libvirt/private/clientkey.pem': (key_pem, 0o600),
            'qemu/ca-cert.pem': (ca_pem, 0o644),
            'qemu/server-cert.pem': (cert_pem, 0o644),
            'qemu/client-cert.pem': (cert_pem, 0o644),
            'qemu/server-key.pem': (key_pem, 0o600),
            'qemu/client-key.pem': (key_pem, 0o600),
        }
        for rel, (data, mode) in files.items():
            _write(os.path.join(pki_dir, rel), data, mode)
        shutil.rmtree(work, ignore_errors=True)
