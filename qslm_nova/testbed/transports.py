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

"""Migration transports of the testbed: plain TCP, QEMU TLS, SSH tunnel.

Each transport is a context manager. Entered, it has prepared what it
needs (certificates, an sshd and a forwarding ssh client) and tells the
runner which QEMU objects and migration parameters to use and which URI
the source and the destination see. Leaving it tears everything down.
Whatever this machine lacks raises TestbedError naming the missing piece.
"""

import datetime
import getpass
import ipaddress
import os
import shutil
import socket
import subprocess
import time
import types

from oslo_log import log as logging

from qslm_nova.testbed import TestbedError

LOG = logging.getLogger(__name__)

NAMES = ('tcp', 'tls', 'ssh')
DEFAULT_SSH_CIPHER = 'aes128-gcm@openssh.com'


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, proc=None, what='service'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise TestbedError('%s exited with %s before listening on %d'
                               % (what, proc.returncode, port))
        try:
            with socket.create_connection(('127.0.0.1', port), 0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TestbedError('%s did not listen on 127.0.0.1:%d within %.0f s'
                       % (what, port, timeout))


class Transport(object):
    name = None
    # QEMU -object arguments for the source and the destination.
    src_objects = ()
    dst_objects = ()

    def __init__(self, workdir, netns=None):
        self.workdir = workdir
        self.netns = netns
        self.dst_port = None
        self.src_port = None

    def port(self):
        # A namespace of our own has every port free.
        if self.netns is not None:
            self._next_port = getattr(self, '_next_port', 4440) + 1
            return self._next_port
        return free_port()

    def wrap(self, cmd):
        return self.netns.wrap(cmd) if self.netns is not None else cmd

    def wait_port(self, port, proc=None, what='service'):
        if self.netns is not None:
            return self.netns.wait_port(port, proc=proc, what=what)
        return wait_port(port, proc=proc, what=what)

    def __enter__(self):
        self.dst_port = self.port()
        self.src_port = self.dst_port
        self.setup()
        return self

    def __exit__(self, *exc):
        self.teardown()

    @property
    def link_port(self):
        """The TCP port whose traffic crosses the emulated link."""
        return self.dst_port

    def setup(self):
        pass

    def teardown(self):
        pass

    def migrate_parameters(self, side):
        return {}

    @property
    def dst_uri(self):
        return 'tcp:127.0.0.1:%d' % self.dst_port

    @property
    def src_uri(self):
        return 'tcp:127.0.0.1:%d' % self.src_port

    def describe(self):
        return self.name


class TCPTransport(Transport):
    name = 'tcp'


class TLSTransport(Transport):
    """QEMU native TLS with an x509 CA, server and client certificate."""

    name = 'tls'

    def setup(self):
        self.dir_server = os.path.join(self.workdir, 'tls-server')
        self.dir_client = os.path.join(self.workdir, 'tls-client')
        make_tls_certs(self.dir_server, self.dir_client)
        self.dst_objects = ('tls-creds-x509,id=tls0,dir=%s,endpoint=server,'
                            'verify-peer=on' % self.dir_server,)
        self.src_objects = ('tls-creds-x509,id=tls0,dir=%s,endpoint=client,'
                            'verify-peer=on' % self.dir_client,)

    def migrate_parameters(self, side):
        params = {'tls-creds': 'tls0'}
        if side == 'src':
            params['tls-hostname'] = 'localhost'
        return params


def _x509():
    """The cryptography modules the certificates need, as one namespace."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives import serialization
        from cryptography import x509
        from cryptography.x509 import oid
    except ImportError:
        raise TestbedError('the TLS transport needs the python '
                           'cryptography package to make certificates')
    return types.SimpleNamespace(ec=ec, hashes=hashes, x509=x509, oid=oid,
                                 serialization=serialization)


def _name(m, cn):
    return m.x509.Name([
        m.x509.NameAttribute(m.oid.NameOID.ORGANIZATION_NAME,
                             'qslm-testbed'),
        m.x509.NameAttribute(m.oid.NameOID.COMMON_NAME, cn)])


def _certificate(m, cn, issuer, validity, usage=None):
    """(key, certificate) for *cn*, signed by *issuer* ((key, name)) or,
    with no issuer, a self-signed CA; *usage*: the leaf's extended key
    usage.
    """
    key = m.ec.generate_private_key(m.ec.SECP256R1())
    ca = issuer is None
    signer, issuer_name = issuer or (key, _name(m, cn))
    x509 = m.x509
    builder = (x509.CertificateBuilder()
               .subject_name(_name(m, cn)).issuer_name(issuer_name)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(validity[0]).not_valid_after(validity[1])
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                              critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=not ca, content_commitment=False,
                   key_encipherment=not ca, data_encipherment=False,
                   key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                   encipher_only=False, decipher_only=False), critical=True))
    if not ca:
        builder = (builder
                   .add_extension(x509.ExtendedKeyUsage([usage]),
                                  critical=False)
                   .add_extension(x509.SubjectAlternativeName([
                       x509.DNSName('localhost'),
                       x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                       critical=False))
    return key, builder.sign(signer, m.hashes.SHA256())


def make_tls_certs(dir_server, dir_client, days=2):
    """A CA plus server and client certificates as QEMU expects them."""
    m = _x509()
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(hours=1),
                now + datetime.timedelta(days=days))
    ca_key, ca = _certificate(m, 'qslm-testbed CA', None, validity)
    issuer = (ca_key, ca.subject)
    eku = m.oid.ExtendedKeyUsageOID
    skey, scert = _certificate(m, 'localhost', issuer, validity,
                               eku.SERVER_AUTH)
    ckey, ccert = _certificate(m, 'qslm-testbed-client', issuer, validity,
                               eku.CLIENT_AUTH)

    def pem_key(key):
        return key.private_bytes(m.serialization.Encoding.PEM,
                                 m.serialization.PrivateFormat.PKCS8,
                                 m.serialization.NoEncryption())

    def pem_cert(cert):
        return cert.public_bytes(m.serialization.Encoding.PEM)

    files = {
        dir_server: {'ca-cert.pem': pem_cert(ca),
                     'server-cert.pem': pem_cert(scert),
                     'server-key.pem': pem_key(skey)},
        dir_client: {'ca-cert.pem': pem_cert(ca),
                     'client-cert.pem': pem_cert(ccert),
                     'client-key.pem': pem_key(ckey)},
    }
    for d, content in files.items():
        os.makedirs(d, mode=0o700, exist_ok=True)
        for fname, data in content.items():
            path = os.path.join(d, fname)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                              0o600), 'wb') as f:
                f.write(data)


class SSHTransport(Transport):
    """An sshd on 127.0.0.1 and an ``ssh -L`` forward in front of QEMU."""

    name = 'ssh'

    def __init__(self, workdir, netns=None, cipher=DEFAULT_SSH_CIPHER):
        super().__init__(workdir, netns)
        self.cipher = cipher
        self._sshd = None
        self._ssh = None

    def describe(self):
        return 'ssh(%s)' % self.cipher

    @property
    def link_port(self):
        return self.sshd_port

    def _bin(self, name, package):
        for cand in (shutil.which(name), '/usr/sbin/' + name):
            if cand and os.access(cand, os.X_OK):
                return cand
        raise TestbedError('the SSH transport needs %s (Debian package %s)'
                           % (name, package))

    def setup(self):
        sshd = self._bin('sshd', 'openssh-server')
        ssh = self._bin('ssh', 'openssh-client')
        keygen = self._bin('ssh-keygen', 'openssh-client')
        d = os.path.join(self.workdir, 'ssh')
        os.makedirs(d, mode=0o700, exist_ok=True)
        hostkey = os.path.join(d, 'host_ed25519')
        userkey = os.path.join(d, 'client_ed25519')
        for key in (hostkey, userkey):
            subprocess.run([keygen, '-q', '-t', 'ed25519', '-N', '',
                            '-C', 'qslm-testbed', '-f', key],
                           check=True, capture_output=True)
        shutil.copy(userkey + '.pub', os.path.join(d, 'authorized_keys'))
        sshd_port = self.sshd_port = self.port()
        with open(hostkey + '.pub') as f:
            hostpub = ' '.join(f.read().split()[:2])
        known = os.path.join(d, 'known_hosts')
        with open(known, 'w') as f:
            f.write('[127.0.0.1]:%d %s\n' % (sshd_port, hostpub))
        if os.geteuid() == 0:
            # Privilege separation directory that sshd insists on.
            os.makedirs('/run/sshd', mode=0o755, exist_ok=True)
        conf = os.path.join(d, 'sshd_config')
        with open(conf, 'w') as f:
            f.write('\n'.join([
                'Port %d' % sshd_port,
                'ListenAddress 127.0.0.1',
                'HostKey %s' % hostkey,
                'PidFile %s' % os.path.join(d, 'sshd.pid'),
                'AuthorizedKeysFile %s' % os.path.join(d, 'authorized_keys'),
                'PubkeyAuthentication yes',
                'PasswordAuthentication no',
                'KbdInteractiveAuthentication no',
                'PermitRootLogin prohibit-password',
                'StrictModes no',
                'UsePAM no',
                'AllowTcpForwarding local',
                'PermitTTY no',
                'X11Forwarding no',
                'Ciphers %s' % self.cipher,
                'LogLevel ERROR',
                '']))
        self._sshd_log = open(os.path.join(d, 'sshd.log'), 'w')
        self._sshd = subprocess.Popen(self.wrap([sshd, '-D', '-e', '-f',
                                                 conf]),
                                      stdout=self._sshd_log,
                                      stderr=subprocess.STDOUT)
        try:
            self.wait_port(sshd_port, proc=self._sshd, what='sshd')
        except TestbedError as e:
            raise TestbedError('%s; log: %s' % (e, self._log_text('sshd')))
        self.src_port = self.port()
        self._ssh_log = open(os.path.join(d, 'ssh.log'), 'w')
        self._ssh = subprocess.Popen(self.wrap(
            [ssh, '-N', '-T', '-p', str(sshd_port), '-i', userkey,
             '-c', self.cipher,
             '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes',
             '-o', 'StrictHostKeyChecking=yes',
             '-o', 'UserKnownHostsFile=%s' % known,
             '-o', 'Compression=no',
             '-L', '127.0.0.1:%d:127.0.0.1:%d' % (
                 self.src_port, self.dst_port),
             '%s@127.0.0.1' % getpass.getuser()]),
            stdin=subprocess.DEVNULL, stdout=self._ssh_log,
            stderr=subprocess.STDOUT)
        # Probing the forward is harmless: the destination QEMU does not
        # listen yet, so the forwarded connection is refused and closed.
        try:
            self.wait_port(self.src_port, proc=self._ssh,
                           what='ssh tunnel')
        except TestbedError as e:
            raise TestbedError('%s; ssh log: %s; sshd log: %s' % (
                e, self._log_text('ssh'), self._log_text('sshd')))

    def _log_text(self, which):
        path = os.path.join(self.workdir, 'ssh', which + '.log')
        try:
            with open(path) as f:
                return f.read().strip()[-2000:]
        except OSError:
            return ''

    def teardown(self):
        for proc in (self._ssh, self._sshd):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for attr in ('_ssh_log', '_sshd_log'):
            f = getattr(self, attr, None)
            if f is not None:
                f.close()


def get(name, workdir, netns=None, **kwargs):
    if name == 'tcp':
        return TCPTransport(workdir, netns)
    if name == 'tls':
        return TLSTransport(workdir, netns)
    if name == 'ssh':
        return SSHTransport(workdir, netns, **kwargs)
    raise TestbedError('unknown transport %r (known: %s)'
                       % (name, ', '.join(NAMES)))
