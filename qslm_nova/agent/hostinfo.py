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

"""What this host's libvirt and QEMU are, and whether they can take TLS."""

import dataclasses
import os
import re

DEFAULT_CERT_DIR = '/etc/pki/qemu'
#: The files QEMU's TLS server needs (libvirt's qemu.conf documentation).
SERVER_FILES = ('ca-cert.pem', 'server-cert.pem', 'server-key.pem')
_SETTING = re.compile(r'^\s*([a-z_0-9]+)\s*=\s*"([^"]*)"\s*(#.*)?$')


@dataclasses.dataclass(frozen=True)
class HostFacts:
    node: str
    cores: int
    libvirt_version: int
    qemu_version: int
    accepts_tls: bool
    tls_dir: str


def qemu_tls_dir(qemu_conf):
    """Where QEMU looks for its migration TLS certificates."""
    settings = {}
    try:
        with open(qemu_conf, errors='replace') as f:
            for line in f:
                m = _SETTING.match(line)
                if m:
                    settings[m.group(1)] = m.group(2)
    except OSError:
        pass
    return (settings.get('migrate_tls_x509_cert_dir') or
            settings.get('default_tls_x509_cert_dir') or DEFAULT_CERT_DIR)


def tls_ready(cert_dir):
    """QEMU's TLS server files are there and readable."""
    return all(os.access(os.path.join(cert_dir, name), os.R_OK)
               for name in SERVER_FILES)


def read(conn, qemu_conf, node_name=None):
    """HostFacts from an open libvirt connection.

    :param node_name: overrides libvirt's host name (the resource
        provider name Nova uses is libvirt's ``getHostname()``).
    """
    tls_dir = qemu_tls_dir(qemu_conf)
    return HostFacts(
        node=node_name or conn.getHostname(),
        cores=int(conn.getInfo()[2]),
        libvirt_version=int(conn.getLibVersion()),
        qemu_version=int(conn.getVersion()),
        accepts_tls=tls_ready(tls_dir), tls_dir=tls_dir)
