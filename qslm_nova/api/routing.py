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

"""Which Nova controller method a request reaches, decided as Nova does.

The pre-check must judge every request Nova routes to a guarded method,
in every spelling Nova accepts: with or without a project id, ``/v2`` or
``/v2.1``, ``os-volumes_boot`` (an alias of the servers controller up to
microversion 2.102), and with the method overridden by ``?_method=`` in
the query string or a form field, which Routes honours for every request
(``GET /servers/{id}/metadata/{key}?_method=DELETE`` deletes the key).
Own regular expressions would disagree with Nova somewhere, so the
matching is Nova's own: the route table is built from Nova's
``ROUTE_LIST`` with Nova's ``ProjectMapper.create_route`` and matched by
Routes' own ``RoutesMiddleware``, the code Nova's ``APIRouterV21`` runs.
Only the routes of the write methods (and redirects) are built: a route
of another method can never match a request whose effective method is
POST, PUT or DELETE, so the first matching route is the one Nova picks.

The table is built once per process (no controller is instantiated); a
Nova whose route table cannot be read this way fails the filter at
nova-api start, never a request.
"""

import dataclasses
import enum
import re
import threading

from routes import middleware as routes_middleware

#: Methods that may write; others can only reach a guarded method
#: through a ``_method`` override.
WRITE_METHODS = frozenset(('POST', 'PUT', 'DELETE'))


class Target(enum.Enum):
    """A guarded Nova controller method."""

    SERVER_CREATE = 'POST /servers'
    SERVER_ACTION = 'POST /servers/{id}/action'
    METADATA_MERGE = 'POST /servers/{id}/metadata'
    METADATA_REPLACE = 'PUT /servers/{id}/metadata'
    METADATA_ITEM = 'PUT /servers/{id}/metadata/{key}'
    METADATA_DELETE = 'DELETE /servers/{id}/metadata/{key}'

    @property
    def is_metadata(self):
        return self in _METADATA_TARGETS


# A named group of a Routes regexp (several alternatives share names).
_UNNAMED = re.compile(r'\(\?P<[^>]+>')
_METADATA_TARGETS = frozenset((Target.METADATA_MERGE,
                               Target.METADATA_REPLACE,
                               Target.METADATA_ITEM,
                               Target.METADATA_DELETE))
_SERVERS_METHODS = {'create': Target.SERVER_CREATE,
                    'action': Target.SERVER_ACTION}
_METADATA_METHODS = {'create': Target.METADATA_MERGE,
                     'update_all': Target.METADATA_REPLACE,
                     'update': Target.METADATA_ITEM,
                     'delete': Target.METADATA_DELETE}


@dataclasses.dataclass(frozen=True)
class Route:
    """A request routed to a guarded method."""

    target: Target
    #: The server id as Nova's controller receives it (not validated).
    server_id: str
    #: The metadata key of ``/metadata/{key}`` routes, else None.
    key: str = None


def might_write(environ):
    """The cheap test: could this request reach a write method at all?"""
    return (environ.get('REQUEST_METHOD') in WRITE_METHODS or
            '_method' in environ.get('QUERY_STRING', ''))


def _target(controller_factory, action):
    """The Target of one entry of Nova's ROUTE_LIST, or None."""
    from nova.api.openstack.compute import server_metadata
    from nova.api.openstack.compute import servers
    # Nova builds each controller with functools.partial(
    # _create_controller, ControllerClass, [sub-controllers]).
    controller = controller_factory.args[0]
    if issubclass(controller, servers.ServersController):
        return _SERVERS_METHODS.get(action)
    if issubclass(controller, server_metadata.ServerMetadataController):
        return _METADATA_METHODS.get(action)
    return None


def build_mapper():
    """Nova's route table, write methods only, controllers as Target names.
    """
    from nova.api import openstack as nova_openstack
    from nova.api.openstack.compute import routes as nova_routes
    mapper = nova_openstack.ProjectMapper()
    guarded = set()
    for path, methods in nova_routes.ROUTE_LIST:
        if isinstance(methods, str):
            mapper.redirect(path, methods)
            continue
        for method, (factory, action) in methods.items():
            if method not in WRITE_METHODS:
                continue
            target = _target(factory, action)
            if target is not None:
                guarded.add(target)
            # Routes keeps non-callable controllers as text: the name.
            mapper.create_route(path, method,
                                target.name if target else '', action)
    missing = set(Target) - guarded
    if missing:
        raise RuntimeError(
            'QSLM pre-check: Nova has no route for %s; this Nova release '
            'is not supported' % ', '.join(sorted(t.value for t in missing)))
    mapper.create_regs()
    # Routes first tests a path against one regular expression of every
    # route, only to reject unknown paths early; Python hashes that long
    # pattern on each call (half the cost of a match). guarded_paths()
    # rejects earlier here, so match as Routes does when that expression
    # is too large to build: route by route, in the same order.
    mapper._master_regexp = None  # private: Routes has no public switch
    return mapper


def guarded_paths(mapper):
    """One regular expression matching every path of a guarded route.

    A path that matches none of them cannot reach a guarded method,
    whatever route Nova picks: one cheap test spares the full match for
    every other write request.
    """
    regexps = [_UNNAMED.sub('(?:', r.regexp) for r in mapper.matchlist
               if r.defaults.get('controller') in Target.__members__]
    return re.compile('|'.join('(?:%s)' % r for r in regexps))


def _routed(environ, start_response):
    """The application behind our RoutesMiddleware: what was matched."""
    return environ['wsgiorg.routing_args'][1]


def _ignore_start_response(status, headers, exc_info=None):
    return None


class Router:
    """Matches requests to guarded Targets; thread-safe, built lazily."""

    def __init__(self, mapper_factory=build_mapper):
        self._factory = mapper_factory
        self._built = None
        self._lock = threading.Lock()

    def _routes(self):
        """(guarded path regexp, Routes middleware), built once."""
        built = self._built
        if built is None:
            with self._lock:
                built = self._built
                if built is None:
                    mapper = self._factory()
                    # singleton=False: no thread-global request config,
                    # the mapper matches with the request's own environ.
                    built = self._built = (
                        guarded_paths(mapper),
                        routes_middleware.RoutesMiddleware(
                            _routed, mapper, singleton=False))
        return built

    def warm(self):
        """Build the table now (at nova-api start) rather than on first use.
        """
        self._routes()

    def match(self, environ):
        """The Route of a request, or None if it reaches no guarded method.

        Runs Routes' own middleware on the request (method override
        included); it leaves the routing keys in environ, which Nova's
        router overwrites with the same values.
        """
        paths, routes_mw = self._routes()
        if paths.match(environ.get('PATH_INFO', '')) is None:
            return None
        match = routes_mw(environ, _ignore_start_response)
        if not isinstance(match, dict):
            return None  # a redirect: Nova answers it, no controller runs
        target = Target.__members__.get(match.get('controller'))
        if target is None:
            return None
        if target.is_metadata:
            return Route(target, match.get('server_id'), match.get('id'))
        return Route(target, match.get('id'))
