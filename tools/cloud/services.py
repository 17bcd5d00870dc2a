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

"""Placement, Glance and the network stand-in, configured and started."""

import os
import shutil
import sys

import identity
import infra


def prepare_placement(sup, state, db):
    etc = os.path.join(state.dir, 'etc', 'placement')
    infra.write_ini(os.path.join(etc, 'placement.conf'), {
        'DEFAULT': {'debug': False},
        'api': {'auth_strategy': 'keystone'},
        'placement_database': {'connection': db.url('placement')},
        'keystone_authtoken': identity.authtoken(state, 'placement'),
    })
    sup.run('placement-manage', [
        os.path.join(state.venv, 'bin', 'placement-manage'),
        '--config-dir', etc, 'db', 'sync'])


def start_placement(sup, state):
    etc = os.path.join(state.dir, 'etc', 'placement')
    sup.spawn('placement', infra.uwsgi_argv(
        state.venv, state.ports['placement'],
        'placement.wsgi.api:application'),
        env={'OS_PLACEMENT_CONFIG_DIR': etc})


def prepare_glance(sup, state, db):
    etc = os.path.join(state.dir, 'etc', 'glance')
    data = os.path.join(state.dir, 'data', 'glance')
    stores = {name: os.path.join(data, name) for name in
              ('images', 'staging', 'tasks')}
    for path in stores.values():
        os.makedirs(path, exist_ok=True)
    infra.write_ini(os.path.join(etc, 'glance-api.conf'), {
        'DEFAULT': {
            'debug': False,
            'enabled_backends': 'fs:file',
            'worker_self_reference_url': state.url('glance'),
            'image_cache_dir': os.path.join(data, 'cache'),
        },
        'database': {'connection': db.url('glance')},
        'glance_store': {'default_backend': 'fs'},
        'fs': {'filesystem_store_datadir': stores['images']},
        'os_glance_staging_store': {
            'filesystem_store_datadir': stores['staging']},
        'os_glance_tasks_store': {
            'filesystem_store_datadir': stores['tasks']},
        'paste_deploy': {'flavor': 'keystone'},
        'keystone_authtoken': identity.authtoken(state, 'glance'),
        'oslo_concurrency': {'lock_path': os.path.join(data, 'locks')},
    })
    shutil.copy(os.path.join(state.venv, 'etc', 'glance',
                             'glance-api-paste.ini'), etc)
    sup.run('glance-manage', [
        os.path.join(state.venv, 'bin', 'glance-manage'),
        '--config-file', os.path.join(etc, 'glance-api.conf'), 'db_sync'])


def start_glance(sup, state):
    etc = os.path.join(state.dir, 'etc', 'glance')
    sup.spawn('glance', infra.uwsgi_argv(
        state.venv, state.ports['glance'], 'glance.wsgi.api:application'),
        env={'OS_GLANCE_CONFIG_DIR': etc})


def start_network_standin(sup, state):
    here = os.path.dirname(os.path.abspath(__file__))
    sup.spawn('network', [sys.executable,
                          os.path.join(here, 'network_standin.py'),
                          str(state.ports['network'])])


def wait_apis(sup, state):
    for name in ('placement', 'glance', 'network'):
        sup.wait_http(name, state.url(name), timeout=240)


def _glance(state):
    from keystoneauth1 import adapter

    sess = identity.admin_client(state).session
    return adapter.Adapter(sess, service_type='image',
                           region_name=identity.REGION)


def upload_image(state, driver):
    """The guest image(s) the driver boots; returns {name: id}."""
    glance = _glance(state)
    ids = {}
    for image in driver.images(state):
        doc = dict(image.properties, name=image.name,
                   disk_format=image.disk_format,
                   container_format=image.container_format,
                   visibility='public')
        for key, ref in image.references.items():
            doc[key] = ids[ref]
        created = glance.post('/v2/images', json=doc).json()
        with open(image.path, 'rb') as f:
            glance.put('/v2/images/%s/file' % created['id'], data=f.read(),
                       headers={'Content-Type': 'application/octet-stream'})
        ids[image.name] = created['id']
    return ids
