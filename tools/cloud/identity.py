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

"""Keystone: configured, bootstrapped, with the cloud's users and catalog.

Accounts (all in domain Default, passwords in ``cloud.json`` and
``clouds.yaml``):

* ``admin`` (project admin, role admin): keystone-manage bootstrap.
* Service users ``nova``, ``placement``, ``glance``, ``neutron`` in
  project ``service`` with roles admin and service, as devstack does.
  The compute agents run as ``nova``: Nova lets only admin change
  another project's server metadata (the ledger).
* ``demo``: role member in project ``demo``: the tenant.
* ``ledger``: roles member and service in project ``demo``: a service
  account whose ``service`` role is in ``[qslm] ledger_writer_roles``.
  Nova's own policy only lets users of the instance's project (or
  admins) change its metadata, so the account needs the member role
  there; QSLM's pre-check then tells it apart from the tenant by the
  ``service`` role.
"""

import os

import yaml

import infra

REGION = 'RegionOne'
ADMIN_PASSWORD = 'qslm-admin-secret'
SERVICE_PASSWORD = 'qslm-service-secret'
SERVICE_USERS = ('nova', 'placement', 'glance', 'neutron')
#: clouds.yaml name -> (user, password, project, roles in that project)
ACCOUNTS = {
    'qslm-admin': ('admin', ADMIN_PASSWORD, 'admin', ('admin',)),
    'qslm-member': ('demo', 'qslm-demo-secret', 'demo', ('member',)),
    'qslm-ledger': ('ledger', 'qslm-ledger-secret', 'demo',
                    ('member', 'service')),
}


def keystone_conf(state, db):
    etc = os.path.join(state.dir, 'etc', 'keystone')
    infra.write_ini(os.path.join(etc, 'keystone.conf'), {
        'DEFAULT': {'debug': False},
        'database': {'connection': db.url('keystone')},
        'token': {'provider': 'fernet', 'expiration': 14400},
        'fernet_tokens': {'key_repository': os.path.join(etc, 'fernet')},
        'fernet_receipts': {'key_repository': os.path.join(etc, 'receipts')},
        'credential': {'key_repository': os.path.join(etc, 'credential')},
    })
    return etc


def prepare_keystone(sup, state, db):
    """Database, keys and the bootstrap admin: no service needed yet."""
    etc = keystone_conf(state, db)
    manage = [os.path.join(state.venv, 'bin', 'keystone-manage'),
              '--config-file', os.path.join(etc, 'keystone.conf')]
    sup.run('keystone-manage', manage + ['db_sync'])
    for what in ('fernet_setup', 'credential_setup'):
        sup.run('keystone-manage', manage + [
            what, '--keystone-user', 'root', '--keystone-group', 'root'])
    sup.run('keystone-manage', manage + [
        'bootstrap', '--bootstrap-password', ADMIN_PASSWORD,
        '--bootstrap-admin-url', state.url('keystone') + '/v3',
        '--bootstrap-public-url', state.url('keystone') + '/v3',
        '--bootstrap-internal-url', state.url('keystone') + '/v3',
        '--bootstrap-region-id', REGION])


def start_keystone(sup, state):
    etc = os.path.join(state.dir, 'etc', 'keystone')
    sup.spawn('keystone', infra.uwsgi_argv(
        state.venv, state.ports['keystone'], 'keystone.wsgi.api:application',
        processes=2, threads=2), env={'OS_KEYSTONE_CONFIG_DIR': etc})
    sup.wait_http('keystone', state.url('keystone') + '/v3', timeout=180)


def admin_client(state):
    from keystoneauth1.identity import v3
    from keystoneauth1 import session
    from keystoneclient.v3 import client
    auth = v3.Password(auth_url=state.url('keystone') + '/v3',
                       username='admin', password=ADMIN_PASSWORD,
                       project_name='admin', user_domain_id='default',
                       project_domain_id='default')
    return client.Client(session=session.Session(auth=auth, timeout=60),
                         region_name=REGION)


def _role(ks, name):
    found = ks.roles.list(name=name)
    return found[0] if found else ks.roles.create(name)


def populate(state):
    """Projects, users, roles and the service catalog."""
    ks = admin_client(state)
    service_project = ks.projects.create('service', 'default')
    demo = ks.projects.create('demo', 'default')
    projects = {'service': service_project, 'demo': demo}
    admin = _role(ks, 'admin')
    service = _role(ks, 'service')
    for name in SERVICE_USERS:
        user = ks.users.create(name, domain='default',
                               password=SERVICE_PASSWORD)
        ks.roles.grant(admin, user=user, project=service_project)
        ks.roles.grant(service, user=user, project=service_project)
    for user, password, project, roles in ACCOUNTS.values():
        if user == 'admin':
            continue
        created = ks.users.create(user, domain='default', password=password)
        for role in roles:
            ks.roles.grant(_role(ks, role), user=created,
                           project=projects[project])
    catalog = {
        'compute': ('nova', state.url('nova_api') + '/v2.1'),
        'placement': ('placement', state.url('placement')),
        'image': ('glance', state.url('glance')),
        'network': ('neutron', state.url('network')),
    }
    for kind, (name, url) in catalog.items():
        svc = ks.services.create(name, type=kind)
        for interface in ('public', 'internal'):
            ks.endpoints.create(svc, url, interface=interface,
                                region=REGION)


def write_clouds_yaml(state):
    clouds = {}
    for name, (user, password, project, _roles) in ACCOUNTS.items():
        clouds[name] = {
            'auth': {'auth_url': state.url('keystone') + '/v3',
                     'username': user, 'password': password,
                     'project_name': project,
                     'user_domain_name': 'Default',
                     'project_domain_name': 'Default'},
            'region_name': REGION,
            'identity_api_version': 3,
        }
    path = os.path.join(state.dir, 'clouds.yaml')
    with open(path, 'w') as f:
        yaml.safe_dump({'clouds': clouds}, f, default_flow_style=False)
    return path


def authtoken(state, user):
    """[keystone_authtoken] (and similar) options of a service user."""
    return {
        'www_authenticate_uri': state.url('keystone'),
        'auth_url': state.url('keystone'),
        'auth_type': 'password',
        'username': user, 'password': SERVICE_PASSWORD,
        'project_name': 'service', 'user_domain_name': 'Default',
        'project_domain_name': 'Default', 'region_name': REGION,
    }
