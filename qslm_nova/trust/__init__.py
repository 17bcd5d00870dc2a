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

from oslo_log import log as logging
from stevedore import named

from qslm_nova import exception

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


def load_providers(conf, names):
    """Load the named providers in order; unknown names are an error."""
    failures = []

    def _failed(manager, entrypoint, exc):
        failures.append('%s (%s)' % (entrypoint.name, exc))

    mgr = named.NamedExtensionManager(
        NAMESPACE, names=list(names), name_order=True,
        invoke_on_load=True, invoke_args=(conf,),
        on_load_failure_callback=_failed)
    loaded = [ext.obj for ext in mgr]
    missing = [n for n in names if n not in mgr.names()]
    if missing or failures:
        raise exception.TrustProviderError(
            '[qslm] trust_providers: cannot load %s (namespace %s)' % (
                ', '.join(failures or missing), NAMESPACE))
    return loaded


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
        self._down = set()
        self._lock = threading.Lock()

    def _ask(self, provider, hosts, topology, host_info):
        name = provider.name or type(provider).__name__
        try:
            answer = provider.get_trust(hosts, topology, host_info)
        except exception.TrustProviderError as e:
            with self._lock:
                first = name not in self._down
                self._down.add(name)
            if first:
                LOG.warning('Trust provider %s is failing; hosts count as '
                            'untrusted for instances that require trust: '
                            '%s', name, e)
            return name, {}, str(e)
        with self._lock:
            recovered = name in self._down
            self._down.discard(name)
        if recovered:
            LOG.info('Trust provider %s answers again', name)
        return name, answer, None

    def _judge(self, name, state, now):
        """(verdict, reason): verdict True/False, or None for no answer."""
        if state is None or state.trusted is None:
            why = state.reason if state and state.reason else 'no answer'
            return None, '%s: trust unknown (%s)' % (name, why)
        if not state.trusted:
            return False, '%s: host is not trusted (%s)' % (
                name, state.reason or 'attestation failed')
        if self.max_age_s:
            if state.attested_at is None:
                return False, ('%s: no attestation time, cannot check it is '
                               'younger than max_attestation_age %d s' % (
                                   name, self.max_age_s))
            age = now - state.attested_at
            if age > self.max_age:
                return False, ('%s: attestation is %d s old, older than '
                               'max_attestation_age %d s' % (
                                   name, age.total_seconds(),
                                   self.max_age_s))
        return True, '%s: trusted' % name

    def evaluate(self, hosts, topology, now=None, host_info=None):
        """Return {host: (trusted bool, reason)}; unknown means False."""
        hosts = list(hosts)
        if not self.providers:
            return {h: (False, 'no trust provider configured')
                    for h in hosts}
        now = now or datetime.datetime.now(datetime.timezone.utc)
        answers = [self._ask(p, hosts, topology, host_info)
                   for p in self.providers]
        # Reasons that do not depend on the host are built once: this runs
        # for every candidate of a request (thousands in large clouds).
        down = {name: (None, '%s: unavailable (%s)' % (name, error))
                for name, _answer, error in answers if error is not None}
        all_ok = (True, '; '.join('%s: trusted' % name
                                  for name, _a, _e in answers))
        first = self.combination == 'first'
        result = {}
        for host in hosts:
            verdicts = []
            for name, answer, error in answers:
                verdict = (down[name] if error is not None else
                           self._judge(name, answer.get(host), now))
                if first and verdict[0] is not None:
                    break
                verdicts.append(verdict)
            else:
                if not first and all(v is True for v, _r in verdicts):
                    result[host] = all_ok
                    continue
                result[host] = (False, '; '.join(
                    r for v, r in verdicts if v is not True))
                continue
            result[host] = verdict
        return result
