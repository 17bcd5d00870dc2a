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

"""YAML into plain data, within limits, without expanding aliases.

PyYAML's composer recurses once per nesting level (in C with libyaml: a
file of 50,000 nested ``[`` overflows the C stack and kills the process)
and shares an anchored value among all its aliases, so that a few
hundred bytes of nested aliases ("billion laughs") stand for billions of
values that a validator walks or an error message prints. This module
builds the document from the parser's events in one loop instead: the
nesting depth is checked before a collection is entered, and every alias
counts as the values it stands for against a budget. libyaml's parser
itself keeps its own stack and does not recurse.

Scalars are resolved and constructed by PyYAML's safe resolver and
constructors, so a file reads as ``yaml.safe_load`` reads it, with these
differences: duplicate keys, complex keys (a list or mapping as a key),
recursive aliases, non-standard tags (also ``!!set``, ``!!omap``,
``!!pairs``) and numbers longer than 100 characters are refused; a
merge key (``<<``) is applied as YAML specifies, with the mapping's own
keys winning.
"""

import yaml
from yaml import events

# libyaml's parser when PyYAML has it (about ten times faster), with the
# safe resolver and constructors.
_Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
_MAP_TAGS = (None, '!', 'tag:yaml.org,2002:map')
_SEQ_TAGS = (None, '!', 'tag:yaml.org,2002:seq')
_MERGE = 'tag:yaml.org,2002:merge'
# Kept as the text: strings, a merge key, and "=" (a "value" key).
_TEXT_TAGS = ('tag:yaml.org,2002:str', _MERGE, 'tag:yaml.org,2002:value')
_NUMBER_TAGS = ('tag:yaml.org,2002:int', 'tag:yaml.org,2002:float')
# A number this long is no bandwidth: refused before Python's int()
# works on it (a sexagesimal "1:0:0:..." costs quadratic time).
MAX_NUMBER_CHARS = 100


class ReadError(Exception):
    """A problem at one place of the text."""

    def __init__(self, place, message):
        super().__init__('%s: %s' % (place, message))
        self.place = place
        self.message = message


# No key is waiting for its value (None is a key: "~: x").
_NO_KEY = object()


def _at(mark):
    return 'line %d, column %d' % (mark.line + 1, mark.column + 1)


class _Collection:
    """A mapping or sequence being built."""

    __slots__ = ('value', 'anchor', 'mark', 'first', 'key', 'lines',
                 'merge_next', 'merges')

    def __init__(self, value, anchor, mark, first):
        self.value = value
        self.anchor = anchor
        self.mark = mark
        # The value count when it began: its size counts its aliases.
        self.first = first
        self.key = _NO_KEY
        self.lines = {} if isinstance(value, dict) else None
        self.merge_next = False
        self.merges = []


class _Builder:
    """Builds one document from parser events."""

    def __init__(self, loader, max_depth, max_values):
        self.loader = loader
        self.max_depth = max_depth
        self.max_values = max_values
        self.count = 0
        self.anchors = {}
        self.stack = []
        self.root = None
        self.scalars = {}

    def build(self):
        get = self.loader.get_event
        stack = self.stack
        documents = 0
        while True:
            ev = get()
            cls = type(ev)
            if cls is events.ScalarEvent:
                self.count += 1
                value, tag = self.scalar(ev)
                if ev.anchor is not None:
                    self.anchors[ev.anchor] = (value, 1)
                self.add(value, ev.start_mark, tag)
            elif (cls is events.MappingStartEvent or
                  cls is events.SequenceStartEvent):
                self.begin(ev, cls is events.MappingStartEvent)
            elif (cls is events.MappingEndEvent or
                  cls is events.SequenceEndEvent):
                done = stack.pop()
                value = done.value
                if done.merges:
                    value = self.merged(done)
                if done.anchor is not None:
                    self.anchors[done.anchor] = (
                        value, self.count - done.first + 1)
                self.add(value, done.mark)
            elif cls is events.AliasEvent:
                self.alias(ev)
            elif cls is events.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise ReadError(_at(ev.start_mark), 'expected a single '
                                    'document, found another')
            elif cls is events.StreamEndEvent:
                return self.root
            if self.count > self.max_values:
                raise ReadError(_at(ev.start_mark), 'more than %d values '
                                '([qslm] topology_max_values; an alias '
                                'counts as the values it stands for)'
                                % self.max_values)

    def begin(self, ev, is_map):
        if len(self.stack) >= self.max_depth:
            raise ReadError(_at(ev.start_mark), 'nested deeper than %d '
                            'levels ([qslm] topology_max_depth)'
                            % self.max_depth)
        if ev.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
            raise ReadError(_at(ev.start_mark), 'tag %s is not allowed in '
                            'a topology file' % ev.tag)
        top = self.stack[-1] if self.stack else None
        if top is not None and top.lines is not None and \
                top.key is _NO_KEY:
            raise ReadError(_at(ev.start_mark), 'a mapping key must be a '
                            'plain value, not a %s'
                            % ('mapping' if is_map else 'list'))
        self.count += 1
        self.stack.append(_Collection({} if is_map else [], ev.anchor,
                                      ev.start_mark, self.count))

    def alias(self, ev):
        target = self.anchors.get(ev.anchor)
        if target is None:
            problem = ('is recursive' if any(
                c.anchor == ev.anchor for c in self.stack) else
                'is not defined')
            raise ReadError(_at(ev.start_mark), 'alias *%s %s'
                            % (ev.anchor, problem))
        value, size = target
        self.count += size
        self.add(value, ev.start_mark)

    def scalar(self, ev):
        """(value, resolved tag) of a scalar event; equal scalars are
        resolved and constructed once (all their values are immutable).
        """
        key = (ev.value, ev.implicit, ev.tag)
        hit = self.scalars.get(key)
        if hit is not None:
            return hit
        tag = ev.tag
        if tag is None or tag == '!':
            tag = self.loader.resolve(yaml.ScalarNode, ev.value,
                                      ev.implicit)
        if tag in _TEXT_TAGS:
            value = ev.value
        else:
            value = self.construct(ev, tag)
        hit = self.scalars[key] = (value, tag)
        return hit

    def construct(self, ev, tag):
        constructor = self.loader.yaml_constructors.get(tag)
        if constructor is None or not tag.startswith('tag:yaml.org,2002:'):
            raise ReadError(_at(ev.start_mark), 'tag %s is not allowed in '
                            'a topology file' % tag)
        if tag in _NUMBER_TAGS and len(ev.value) > MAX_NUMBER_CHARS:
            raise ReadError(_at(ev.start_mark), 'a number of more than %d '
                            'characters' % MAX_NUMBER_CHARS)
        node = yaml.ScalarNode(tag, ev.value, ev.start_mark, ev.end_mark,
                               ev.style)
        try:
            return constructor(self.loader, node)
        except (ValueError, OverflowError, TypeError,
                yaml.YAMLError) as e:
            raise ReadError(_at(ev.start_mark), 'cannot read %s as %s: %s'
                            % (_short(ev.value), tag.rsplit(':', 1)[-1], e))

    def add(self, value, mark, tag=None):
        """Put a finished value into the collection being built.

        tag: the resolved tag of a scalar (a merge key is told apart from
        the string "<<" by it).
        """
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if top.lines is None:
            top.value.append(value)
        elif top.key is _NO_KEY:
            self.add_key(top, value, mark, tag)
        elif top.merge_next:
            top.merge_next = False
            top.key = _NO_KEY
            top.merges.append((value, mark))
        else:
            top.value[top.key] = value
            top.key = _NO_KEY

    def add_key(self, top, key, mark, tag):
        line = mark.line + 1
        if tag == _MERGE:
            top.merge_next = True
            top.key = _MERGE
            return
        try:
            first = top.lines.get(key)
        except TypeError:
            raise ReadError(_at(mark), 'a mapping key must be a '
                            'plain value, not %s' % type(key).__name__)
        if first is not None:
            raise ReadError('line %d' % line, 'duplicate key %s (first at '
                            'line %d)' % (_short(key), first))
        top.lines[key] = line
        top.key = key

    def merged(self, done):
        """The mapping with its merge keys applied: own keys win, then
        the earlier of the merged mappings.
        """
        pairs = []
        for value, mark in done.merges:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, dict) for s in sources):
                raise ReadError(_at(mark), 'a merge key (<<) '
                                'takes a mapping or a list of mappings')
            for source in reversed(sources):
                pairs.extend(source.items())
        value = dict(pairs)
        value.update(done.value)
        return value


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + '...'


def load(text, max_depth, max_values):
    """The single YAML document in text, as plain data.

    :raises ReadError: a limit exceeded, a refused construct.
    :raises yaml.YAMLError: the text is not YAML.
    """
    loader = _Loader(text)
    try:
        return _Builder(loader, max_depth, max_values).build()
    finally:
        loader.dispose()
