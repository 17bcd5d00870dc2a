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

"""Host trust: providers loaded with stevedore and their combination."""

import datetime
import threading

import numpy as np
from oslo_log import log as logging
from stevedore import extension
from stevedore import named

from qslm_nova import exception
from qslm_nova.trust import base

LOG = logging.getLogger(__name__)
NAMESPACE = 'qslm_nova.trust'


def merge_aggregate_metadata(metadatas):
    """Merge the metadata dicts of a host's aggregates for the providers.

    Each key maps to the set of values the aggregates give it, so that
    aggregates that disagree (trusted in one, not in another) stay
    visible instead of the last one winning.
    """
    merged = {}
    for metadata in metadatas:
        for key, value in (metadata or {}).items():
            merged.setdefault(key, set()).add(value)
    return merged


def register_provider_opts(conf, provider_cls):
    """Register a provider's own options on ``conf``, under its group."""
    opts = provider_cls.get_config_opts()
    if not opts:
        return
    group = provider_cls.get_config_group()
    if group is None:
        raise TypeError('%s declares options but no option group' %
                        provider_cls.__name__)
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_provider_opts():
    """[(group, options)] of every installed provider that has options.

    For ``qslm_nova.conf.opts.list_opts``: the providers are found through
    their entry points, so a provider of another package is listed too.
    """
    manager = extension.ExtensionManager(NAMESPACE, invoke_on_load=False)
    listed = []
    for ext in sorted(manager, key=lambda e: e.name):
        opts = ext.plugin.get_config_opts()
        if opts:
            listed.append((ext.plugin.get_config_group(), list(opts)))
    return listed


def load_providers(conf, names):
    """Load the named providers in order; unknown names are an error.

    Each provider's options are registered on ``conf`` before it is
    constructed.
    """
    failures = []

    def _failed(manager, entrypoint, exc):
        failures.append('%s (%s)' % (entrypoint.name, exc))

    mgr = named.NamedExtensionManager(
        NAMESPACE, names=list(names), name_order=True,
        on_load_failure_callback=_failed)
    loaded = []
    for ext in mgr:
        try:
            register_provider_opts(conf, ext.plugin)
            loaded.append(ext.plugin(conf))
        except Exception as e:  # noqa: any plugin failure, named below
            failures.append('%s (%s)' % (ext.name, e))
    missing = [n for n in names if n not in mgr.names()]
    if missing or failures:
        raise exception.TrustProviderError(
            '[qslm] trust_providers: cannot load %s (namespace %s)' % (
                ', '.join(failures or missing), NAMESPACE))
    return loaded


# What one provider's answer means for one host, judged vectorised.
TRUSTED, UNTRUSTED, NO_TIME, STALE, UNKNOWN, DOWN = range(6)


class TrustVerdicts:
    """The trust verdicts for a list of hosts.

    ``ok``: numpy bool array, True where the host is trusted;
    ``reason(j)`` / ``verdict(j)``: the text operators see for host j,
    formatted only when asked for (thousands of hosts per request).
    """

    def __init__(self, evaluator, ok, answers, codes, chosen, now):
        self.ok = ok
        self._evaluator = evaluator
        self._answers = answers   # (name, TrustTable or None, error)
        self._codes = codes       # per provider: code array
        self._chosen = chosen     # 'first': deciding provider, -1 none
        self._now = now

    def _reason(self, p, j):
        name, table, error = self._answers[p]
        return self._evaluator.describe(
            name, int(self._codes[p][j]),
            None if table is None else table.state(j), error, self._now)

    def reason(self, j):
        answers = self._answers
        if not answers:
            return 'no trust provider configured'
        if self._chosen is not None:
            p = int(self._chosen[j])
            if p >= 0:
                return self._reason(p, j)
            # No provider knows the host: every "unknown" counts.
            return '; '.join(self._reason(q, j) for q in range(len(answers)))
        if self.ok[j]:
            return '; '.join('%s: trusted' % name for name, _t, _e in answers)
        return '; '.join(self._reason(q, j) for q in range(len(answers))
                         if self._codes[q][j] != TRUSTED)

    def verdict(self, j):
        """(trusted, reason) of host j."""
        return bool(self.ok[j]), self.reason(j)


class TrustEvaluator:
    """Asks the providers and applies the combination and freshness rules.

    * ``all``: a host is trusted only if every provider says trusted, each
      with a fresh attestation.
    * ``first``: the first provider with an answer (trusted True/False)
      for the host decides; its attestation must be fresh.

    A provider error counts as "no answer" (fail closed under ``all``,
    next provider under ``first``); one WARNING is logged when a provider
    starts failing and one INFO when it recovers.
    """

    def __init__(self, providers, combination='all', max_age_s=86400):
        self.providers = list(providers)
        self.combination = combination
        self.max_age = datetime.timedelta(seconds=max_age_s)
        self.max_age_s = max_age_s
        self._max_age_us = self.max_age // datetime.timedelta(microseconds=1)
        self._down = set()
        self._lock = threading.Lock()

    def _ask(self, provider, hosts, topology, host_info, index):
        name = provider.name or type(provider).__name__
        try:
            # TrustProvider.trust_table asks get_trust() unless the
            # provider answers with arrays itself.
            table = provider.trust_table(hosts, topology, host_info, index)
        except Exception as e:
            # Any failure of a provider, even a bug, fails closed: its
            # hosts count as untrusted, the decision goes on.
            expected = isinstance(e, exception.TrustProviderError)
            error = str(e) if expected else 'unexpected %s: %s' % (
                type(e).__name__, exception.show_value(str(e)))
            with self._lock:
                first = name not in self._down
                self._down.add(name)
            if first:
                LOG.warning('Trust provider %s is failing; hosts count as '
                            'untrusted for instances that require trust: '
                            '%s', name, error, exc_info=not expected)
            return name, None, error
        with self._lock:
            recovered = name in self._down
            self._down.discard(name)
        if recovered:
            LOG.info('Trust provider %s answers again', name)
        return name, table, None

    def _codes(self, table, n, now):
        """One code per host for one provider's answer."""
        if table is None:
            return np.full(n, DOWN, dtype=np.int8)
        trusted = table.trusted
        codes = np.where(trusted == 1, TRUSTED,
                         np.where(trusted == 0, UNTRUSTED,
                                  UNKNOWN)).astype(np.int8)
        if self.max_age_s:
            yes = codes == TRUSTED
            codes[yes & ~table.has_time] = NO_TIME
            timed = yes & table.has_time
            if timed.any():
                now_us = base.microseconds(now)
                stale = timed & (now_us - table.attested_us >
                                 self._max_age_us)
                codes[stale] = STALE
        return codes

    def describe(self, name, code, state, error, now):
        """The reason of one provider's answer for one host.

        *code* is the screen's code of the answer; the text is what
        decisions and logs show.
        """
        if code == DOWN:
            return '%s: unavailable (%s)' % (name, error)
        if code == UNKNOWN:
            why = state.reason if state and state.reason else 'no answer'
            return '%s: trust unknown (%s)' % (name, why)
        if code == UNTRUSTED:
            return '%s: host is not trusted (%s)' % (
                name, state.reason or 'attestation failed')
        if code == NO_TIME:
            return ('%s: no attestation time, cannot check it is younger '
                    'than max_attestation_age %d s' % (name,
                                                       self.max_age_s))
        if code == STALE:
            age = now - state.attested_at
            return ('%s: attestation is %d s old, older than '
                    'max_attestation_age %d s' % (
                        name, age.total_seconds(), self.max_age_s))
        return '%s: trusted' % name

    def screen(self, hosts, topology, now=None, host_info=None, index=None):
        """Judge every host at once; returns :class:`TrustVerdicts`.

        :param index: optional positions of ``hosts`` in
            ``topology.host_names`` (-1: not in the topology), for
            providers that answer from per-topology arrays.
        """
        hosts = list(hosts)
        n = len(hosts)
        if not self.providers:
            return TrustVerdicts(self, np.zeros(n, dtype=bool), (), (),
                                 None, now)
        now = now or datetime.datetime.now(datetime.timezone.utc)
        answers = [self._ask(p, hosts, topology, host_info, index)
                   for p in self.providers]
        codes = [self._codes(table, n, now) for _n, table, _e in answers]
        if self.combination == 'first':
            # The first provider with an answer (trusted or not) decides.
            ok = np.zeros(n, dtype=bool)
            chosen = np.full(n, -1, dtype=np.intp)
            for p, c in enumerate(codes):
                answered = (chosen < 0) & (c != UNKNOWN) & (c != DOWN)
                ok[answered] = c[answered] == TRUSTED
                chosen[answered] = p
            return TrustVerdicts(self, ok, answers, codes, chosen, now)
        ok = np.ones(n, dtype=bool)
        for c in codes:
            ok &= c == TRUSTED
        return TrustVerdicts(self, ok, answers, codes, None, now)

    def evaluate(self, hosts, topology, now=None, host_info=None):
        """Return {host: (trusted bool, reason)}; unknown means False."""
        hosts = list(hosts)
        verdicts = self.screen(hosts, topology, now, host_info)
        return {h: verdicts.verdict(j) for j, h in enumerate(hosts)}
