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

"""Requests an attacker writes to nova-api, as hypothesis strategies.

JSON text is generated from :class:`Obj` trees (objects as lists of
pairs, so keys may repeat) and spelled in one of the many legal ways:
every character of a string possibly escaped, odd whitespace; then
sometimes mangled (byte order mark, UTF-16, truncation, deep nesting,
padding up to Nova's body limit). Names come close to the real ones
(case, blanks, accents) or are hostile text.
"""

import json
import random
import unicodedata

from hypothesis import strategies as st

from tests.fuzz import strategies as hostile

UUID = '6f1c2b8e-8f8a-4f59-9a55-0f4d3cf0e0a1'
PROJECT = '0123456789abcdef0123456789abcdef'
TRUSTED, UNTRUSTED = 'a', 'b'
USED, START = 'qslm:downtime_used_ms', 'qslm:budget_period_start'
#: Nova's default [oslo_middleware] max_request_body_size.
MAX_BODY = 114688

#: A seeded Random per example: as replayable as hypothesis' own
#: ``randoms()``, without a draw per call (thousands per body).
RANDOMS = st.integers(0, 2 ** 32 - 1).map(random.Random)


class Obj(list):
    """A JSON object as a list of (key, value) pairs: keys may repeat."""


def _flip_case(rnd, text):
    return ''.join(c.swapcase() if rnd.random() < 0.3 else c for c in text)


@st.composite
def spellings(draw, name, others=()):
    """``name`` as written, or nearly: case, blanks, accents, others."""
    rnd = draw(RANDOMS)
    how = draw(st.integers(0, 7))
    if how == 0:
        return _flip_case(rnd, name)
    if how == 1:
        return draw(st.sampled_from((name + ' ', ' ' + name, name + '\n',
                                     name + '  ', name + '\t')))
    if how == 2:
        at = rnd.randrange(len(name))
        return name[:at] + unicodedata.normalize(
            'NFD', {'o': 'ó', 'e': 'é', 'a': 'á', 's': 'ś'}.get(
                name[at], name[at])) + name[at + 1:]
    if how == 3 and others:
        return draw(st.sampled_from(others))
    if how == 4:
        return draw(hostile.hostile_text())
    return name


_B_NAMES = st.sampled_from((UNTRUSTED, 'B', 'b ', 'B  '))
_OTHER_NAMES = st.sampled_from((TRUSTED, '', None, 'c', ' b', 'b\n'))


@st.composite
def hosts(draw):
    """Half of them name the untrusted host as the database sees it."""
    how = draw(st.integers(0, 9))
    if how < 5:
        return draw(_B_NAMES)
    if how < 7:
        return draw(_OTHER_NAMES)
    if how < 8:
        return draw(spellings(UNTRUSTED))
    return draw(hostile.hostile_scalars())


@st.composite
def move_args(draw):
    """An action argument naming a host, perhaps more than once."""
    extra = draw(st.lists(st.tuples(
        st.sampled_from(('block_migration', 'force', 'disk_over_commit',
                         'onSharedStorage', 'adminPass', 'x', 'host')),
        st.one_of(hosts(), st.sampled_from(
            (True, False, 'auto', 'true', 'False', None)))), max_size=4))
    pairs = extra + [('host', draw(hosts()))]
    draw(RANDOMS).shuffle(pairs)
    return Obj(pairs)


def _json_values():
    return st.recursive(
        hostile.hostile_scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.lists(st.tuples(st.text(max_size=6), children),
                     max_size=3).map(Obj)),
        max_leaves=8)


ACTIONS = ('os-migrateLive', 'evacuate', 'rebuild', 'os-stop', 'migrate')


@st.composite
def action_bodies(draw):
    """Action bodies: mostly one action (its key maybe repeated: the
    last wins), sometimes several, sometimes no object at all.
    """
    how = draw(st.integers(0, 9))
    if how == 0:
        return draw(_json_values())
    name = st.one_of(st.sampled_from(ACTIONS[:2]), st.sampled_from(ACTIONS),
                     spellings('os-migrateLive', ACTIONS),
                     spellings('evacuate', ACTIONS))
    args = st.one_of(move_args(), move_args(), move_args(), _json_values())
    first = draw(name)
    pairs = [(first, draw(args))]
    if how == 1:  # several actions
        pairs += draw(st.lists(st.tuples(name, args), min_size=1,
                               max_size=2))
    elif how in (2, 3):  # the same action again, earlier
        pairs.insert(0, (first, draw(args)))
    return Obj(pairs)


def _string(rnd, text, ensure_ascii):
    out = []
    for c in text:
        if rnd.random() < 0.15:
            if ord(c) > 0xffff:
                code = ord(c) - 0x10000
                out.append('\\u%04x\\u%04x' % (0xd800 + (code >> 10),
                                               0xdc00 + (code & 0x3ff)))
            else:
                out.append('\\u%04x' % ord(c) if rnd.random() < 0.5
                           else '\\u%04X' % ord(c))
        else:
            out.append(json.dumps(c, ensure_ascii=ensure_ascii)[1:-1])
    return '"%s"' % ''.join(out)


def emit(rnd, node, ensure_ascii=False):
    """JSON text of a node, spelled in one of the many legal ways."""
    blank = rnd.choice(('', '', ' ', '\n\t', '\r\n  '))
    if isinstance(node, Obj):
        parts = ['%s%s%s:%s%s' % (blank, _string(rnd, str(k), ensure_ascii),
                                  blank, blank, emit(rnd, v, ensure_ascii))
                 for k, v in node]
        return '{%s%s}' % (','.join(parts), blank)
    if isinstance(node, list):
        return '[%s]' % ','.join(emit(rnd, v, ensure_ascii) for v in node)
    if isinstance(node, str):
        return _string(rnd, node, ensure_ascii)
    if isinstance(node, float) and node != node:
        return 'NaN'
    return json.dumps(node)


@st.composite
def raw_bodies(draw, documents):
    """Bytes of a generated document, sometimes mangled or padded."""
    rnd = draw(RANDOMS)
    text = emit(rnd, draw(documents), ensure_ascii=draw(st.booleans()))
    how = draw(st.integers(0, 19))
    if how == 0:
        return b'\xef\xbb\xbf' + text.encode('utf-8', 'surrogatepass')
    if how == 1:
        return text.encode('utf-16', 'surrogatepass')
    if how == 2:
        data = text.encode('utf-8', 'surrogatepass')
        return data[:rnd.randrange(len(data) + 1)]
    if how == 3:
        depth = draw(st.integers(1, 60000))
        return (text[:-1] + ', "deep": ' + '[' * depth + ']' * depth +
                '}').encode('utf-8', 'surrogatepass')
    if how == 4:
        # Large: padding up to around Nova's body size limit.
        pad = ' ' * draw(st.integers(0, MAX_BODY))
        return (pad + text + pad).encode('utf-8', 'surrogatepass')
    return text.encode('utf-8', 'surrogatepass')


def metadata_docs():
    key = st.one_of(spellings(USED), spellings(START),
                    st.sampled_from((USED, START, 'c', 'x', 'x y')),
                    st.text(alphabet='abcxyz:_-. ', min_size=1,
                            max_size=8))
    value = st.one_of(st.sampled_from(('100', '2026-11-01', '0', 'd', '')),
                      hostile.hostile_scalars())
    return st.lists(st.tuples(key, value), max_size=4).map(Obj)


ROUTES = ('merge', 'replace', 'item', 'delete', 'create', 'rebuild')


@st.composite
def metadata_requests(draw):
    """(route, method, path, document, path key) of a metadata write."""
    route = draw(st.sampled_from(ROUTES))
    meta = draw(metadata_docs())
    base_path = '/servers/%s' % UUID
    if route == 'merge':
        return route, 'POST', base_path + '/metadata', Obj(
            [('metadata', meta)]), None
    if route == 'replace':
        return route, 'PUT', base_path + '/metadata', Obj(
            [('metadata', meta)]), None
    if route in ('item', 'delete'):
        key = draw(st.one_of(spellings(USED), st.sampled_from(
            (USED, START, 'c', 'x'))).filter(lambda k: k and '/' not in k))
        # What a WSGI server puts in PATH_INFO for it (PEP 3333), and so
        # what Nova's router hands the controller.
        key = key.encode('utf-8', 'surrogatepass').decode('latin-1')
        if route == 'delete':
            return route, 'DELETE', '%s/metadata/%s' % (base_path, key), \
                None, key
        item = Obj([(key, draw(st.sampled_from(('0', '100', 'v'))))])
        return route, 'PUT', '%s/metadata/%s' % (base_path, key), Obj(
            [('meta', draw(st.sampled_from((item, meta))))]), key
    if route == 'create':
        return route, 'POST', '/servers', Obj([('server', Obj(
            [('name', 'n'), ('imageRef', 'i'), ('flavorRef', '1'),
             ('metadata', meta)]))]), None
    keep = draw(st.booleans())
    args = [('imageRef', 'i')] + ([] if keep else [('metadata', meta)])
    return route, 'POST', base_path + '/action', Obj(
        [('rebuild', Obj(args))]), None


def paths():
    segment = st.sampled_from(
        ('servers', 'servers', 'SERVERS', 'os-volumes_boot', UUID, UUID,
         'action', 'action', 'metadata', 'metadata', USED, 'detail', '',
         '.', PROJECT, 'p1', '%61ction', 'action.json', 'tags', 'x'))
    return st.lists(segment, min_size=1, max_size=6).map(
        lambda parts: '/' + '/'.join(parts))


def queries():
    value = st.one_of(st.sampled_from(('POST', 'PUT', 'DELETE', 'delete',
                                       'GET', 'Post', '')),
                      st.text(st.characters(max_codepoint=255),
                              max_size=5))
    # PEP 3333: environ strings hold latin-1 code points only.
    return st.one_of(st.just(''), value.map(lambda v: '_method=' + v),
                     st.tuples(value, value).map(
                         lambda vs: '_method=%s&_method=%s' % vs))
