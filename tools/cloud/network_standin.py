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

"""A stand-in for the network (Neutron) API of a cloud without networks.

The real cloud boots its servers with ``networks: none``. Nova still
talks to the network endpoint of the catalog while it builds, moves and
deletes such a server: it lists the server's ports, the networks and the
API extensions. This stand-in answers exactly that: a network API with
no networks, no ports and no extensions. It is not Neutron: every other
request (any write, any other resource) is answered 501 and logged, so a
scenario that needs real networking fails loudly instead of passing on a
fake answer.

    python network_standin.py PORT
"""

import http.server
import json
import sys
import urllib.parse

#: The collections a server without networks reads, all empty.
EMPTY = ('ports', 'networks', 'extensions', 'subnets', 'security-groups',
         'floatingips')

VERSIONS = {'versions': [{'id': 'v2.0', 'status': 'CURRENT', 'links': [
    {'rel': 'self', 'href': '%(base)s/v2.0/'}]}]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'

    def _reply(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path.rstrip('/')
        base = 'http://%s' % self.headers.get('Host', '127.0.0.1')
        if path == '':
            text = json.dumps(VERSIONS) % {'base': base}
            return self._reply(200, json.loads(text))
        if path == '/v2.0':
            return self._reply(200, {'resources': []})
        parts = path.split('/')
        if len(parts) == 3 and parts[1] == 'v2.0':
            name = parts[2][:-5] if parts[2].endswith('.json') else parts[2]
            if name in EMPTY:
                return self._reply(200, {name.replace('-', '_'): []})
        return self._unsupported()

    def _unsupported(self):
        self._reply(501, {'NeutronError': {
            'type': 'NotImplemented',
            'message': 'the qslm-nova real cloud has no network service; '
                       'this stand-in answers only empty reads of %s'
                       % ', '.join(EMPTY), 'detail': ''}})

    do_POST = do_PUT = do_DELETE = do_PATCH = _unsupported


def main():
    port = int(sys.argv[1])
    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler)
    server.serve_forever()


if __name__ == '__main__':
    main()
