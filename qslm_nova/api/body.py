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

"""A request body exactly as Nova's ``wsgi.Resource`` will read it.

Nova (nova/api/openstack/wsgi.py, 34.0.0) takes the Content-Type header
through ``Request.get_content_type`` (415 unless JSON, text/plain or
absent), the bytes through WebOb's ``Request.body`` (Content-Length, or
for a chunked request without one whatever WebOb reads when the server or
oslo.middleware's sizelimit filter marks the input as terminated), and
the value through ``oslo_serialization.jsonutils.loads`` (strict UTF-8,
no charset parameter honoured, a byte order mark refused, the last of
duplicate keys wins, ``NaN`` accepted). An action body must be an object
with exactly one key (``action_peek``), which names the action.

The pre-check uses the very same functions on the very same bytes, so
there is nothing Nova reads that the pre-check reads differently: JSON
escapes, duplicate keys and odd charsets come out the same on both sides.
Whatever the pre-check cannot read (or Nova would refuse to read) on a
guarded route is refused with a :class:`BodyError`, never passed on
unjudged.
"""

import io

from oslo_serialization import jsonutils
import webob.exc


class BodyError(Exception):
    """A guarded request whose body is not what Nova would act on."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


#: Content-Type headers Nova reads as JSON without a second look.
_PLAIN_TYPES = frozenset(('', 'text/plain', 'application/json',
                          'application/vnd.openstack.compute+json'))


def check_content_type(environ):
    """Refuse (415) what Nova's Resource refuses before any controller.
    """
    if environ.get('CONTENT_TYPE', '') in _PLAIN_TYPES:
        return  # the common case, without building Nova's Request
    from nova.api.openstack import wsgi as nova_wsgi
    from nova import exception as nova_exception
    try:
        nova_wsgi.Request(environ).get_content_type()
    except nova_exception.InvalidContentType as e:
        raise BodyError(415, 'Unsupported Content-Type (%s); Nova accepts '
                        'only application/json.' % e.format_message())


def read(environ):
    """The body bytes, read the way Nova reads them (and left for it).

    WebOb copies the input into a seekable buffer and records its length,
    so Nova's own read afterwards returns the same bytes.
    """
    length = environ.get('CONTENT_LENGTH')
    try:
        if (isinstance(length, str) and length.isascii() and
                length.isdigit() and
                not environ.get('webob.is_body_seekable')):
            return _read_length(environ, int(length))
        return webob.Request(environ).body
    except BodyError:
        raise
    except webob.exc.HTTPException as e:
        # oslo.middleware's sizelimit: a chunked body over the limit.
        raise BodyError(e.code, e.explanation or e.title)
    except Exception as e:  # noqa: a client that went away, a broken input
        raise BodyError(400, 'The request body could not be read (%s).'
                        % e)


def _read_length(environ, length):
    """What WebOb's ``Request.body`` does with a plain Content-Length.

    Reads exactly ``length`` bytes (a short input is a client that went
    away) and leaves them as a seekable input of that length, the state
    WebOb leaves for Nova's own read.
    """
    stream = environ['wsgi.input']
    chunks = []
    todo = length
    while todo > 0:
        data = stream.read(min(todo, 65536))
        if not data:
            raise BodyError(400, 'The request body ended %d bytes before '
                            'its Content-Length.' % todo)
        chunks.append(data)
        todo -= len(data)
    raw = b''.join(chunks)
    environ['wsgi.input'] = io.BytesIO(raw)
    environ['CONTENT_LENGTH'] = str(length)
    environ['webob.is_body_seekable'] = True
    return raw


def decode(raw):
    """The JSON value of the body, as ``jsonutils.loads`` gives it to Nova.
    """
    if not raw:
        raise BodyError(400, 'The request has no body; Nova needs one here.')
    try:
        return jsonutils.loads(raw)
    except RecursionError:
        raise BodyError(400, 'The request body is nested too deeply to be '
                        'read.')
    except (ValueError, TypeError) as e:
        # ValueError covers JSON syntax, UTF-8 decoding and integers too
        # long to convert; Nova answers all of them "Malformed request
        # body".
        raise BodyError(400, 'Malformed request body: %s.' % e)


def action_of(value):
    """(action name, its argument) of a server action body.

    Nova's ``action_peek``: an object with exactly one key, the action.
    """
    if not isinstance(value, dict):
        raise BodyError(400, 'A server action body must be a JSON object, '
                        'not %s.' % type(value).__name__)
    if len(value) != 1:
        raise BodyError(400, 'A server action body must have exactly one '
                        'key, the action; it has %d.' % len(value))
    ((name, args),) = value.items()
    return name, args


def member(value, key, what):
    """value[key] that must be a JSON object; ``what`` names it for errors.
    """
    if not isinstance(value, dict):
        raise BodyError(400, '%s must be a JSON object, not %s.' % (
            what, type(value).__name__))
    found = value.get(key)
    if not isinstance(found, dict):
        raise BodyError(400, '%s must have a JSON object %r, not %s.' % (
            what, key, type(found).__name__))
    return found


#: The most characters of one request value a log line carries.
LOG_VALUE_LIMIT = 200


def loggable(value, limit=LOG_VALUE_LIMIT):
    """A value from the request as a log line may show it.

    The caller writes it, so it must not forge lines of its own: a
    character that is not printable (a newline, NUL, an escape sequence,
    a Unicode line separator) is shown escaped, as Python writes it in a
    string, and text past *limit* characters is cut. A value that is not
    a string is shown as Python writes it.
    """
    text = value if isinstance(value, str) else repr(value)
    if not text.isprintable():
        text = ''.join(c if c.isprintable() else
                       c.encode('unicode_escape').decode('ascii')
                       for c in text)
    if len(text) > limit:
        text = '%s... (%d characters)' % (text[:limit], len(text))
    return text
