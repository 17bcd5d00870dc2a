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

"""The effective QSLM policy of an instance.

Sources, in the order they are read:

* ``[qslm] default_*`` options (the floor);
* flavor extra specs (operator): security and SLA keys;
* image properties (image owner): security keys only;
* instance metadata (tenant): security keys only, and only to tighten.

For every security key the strictest value wins: a requirement set
anywhere holds, the highest minimum link security holds, the allowed
mechanisms are the intersection, the highest dirty rate is assumed. SLA
keys come from the flavor only. A malformed value never raises: it
becomes an error of the policy, which the decision turns into a denial
with the key, the source and the reason.
"""

import dataclasses
import datetime

from qslm_nova import conf_fields
from qslm_nova import exception
from qslm_nova import mechanisms as mech_mod
from qslm_nova import policy_values
from qslm_nova.risk import keys as risk_keys

PREFIX = 'qslm:'
MAX_DOWNTIME = PREFIX + 'max_downtime_ms'
BUDGET = PREFIX + 'downtime_budget_ms'
PERIOD_DAYS = PREFIX + 'budget_period_days'
REQUIRE_TRUSTED = PREFIX + 'require_trusted_host'
MIN_LINK_SECURITY = PREFIX + 'min_link_security'
REQUIRE_ENCRYPTION = PREFIX + 'require_encryption'
ALLOWED_MECHANISMS = PREFIX + 'allowed_mechanisms'
DIRTY_RATE = PREFIX + 'dirty_rate_mibps'
#: Deprecated alias of DIRTY_RATE: it holds MiB/s despite its name.
DIRTY_RATE_MBPS = PREFIX + 'dirty_rate_mbps'
#: The memory the guest keeps writing, MiB. Flavor only: it lowers the
#: estimates of forced pauses and post-copy, so no one else may set it.
WORKING_SET = PREFIX + 'working_set_mb'
LEDGER_USED = PREFIX + 'downtime_used_ms'
LEDGER_START = PREFIX + 'budget_period_start'
# Written by the compute agent (qslm_nova.agent): the Nova migrations
# already charged to the ledger, and the instance's observed dirty rate.
LEDGER_CHARGED = PREFIX + 'charged_migrations'
OBSERVED_DIRTY_RATE = PREFIX + 'observed_dirty_rate'

# Risk and money (qslm_nova.risk.keys) and the working set: SLA keys the
# decision reads from the flavor itself.
SLA_KEYS = (MAX_DOWNTIME, BUDGET, PERIOD_DAYS, WORKING_SET) + risk_keys.NAMES
SECURITY_KEYS = (REQUIRE_TRUSTED, MIN_LINK_SECURITY, REQUIRE_ENCRYPTION,
                 ALLOWED_MECHANISMS, DIRTY_RATE, DIRTY_RATE_MBPS)
#: Keys only admins and [qslm] ledger_writer_roles may write.
LEDGER_KEYS = (LEDGER_USED, LEDGER_START, LEDGER_CHARGED,
               OBSERVED_DIRTY_RATE)
FLAVOR_KEYS = SLA_KEYS + SECURITY_KEYS

# Syntax checks shared with the Nova extra-spec validators.
SYNTAX = {
    MAX_DOWNTIME: lambda k, v: policy_values.parse_int(k, v, 1),
    BUDGET: lambda k, v: policy_values.parse_int(k, v, 0),
    PERIOD_DAYS: lambda k, v: policy_values.parse_int(
        k, v, 1, policy_values.MAX_PERIOD_DAYS),
    REQUIRE_TRUSTED: policy_values.parse_bool,
    REQUIRE_ENCRYPTION: policy_values.parse_bool,
    MIN_LINK_SECURITY: policy_values.parse_name,
    ALLOWED_MECHANISMS: policy_values.parse_name_list,
    DIRTY_RATE: lambda k, v: policy_values.parse_float(k, v, 0.0),
    DIRTY_RATE_MBPS: lambda k, v: policy_values.parse_float(k, v, 0.0),
    WORKING_SET: lambda k, v: policy_values.parse_float(
        k, v, 1.0, policy_values.MAX_MEMORY_MB),
}
SYNTAX.update(risk_keys.SYNTAX)


@dataclasses.dataclass
class Defaults:
    """The ``[qslm] default_*`` options: the floor of every policy.

    Each field names the option it comes from (qslm_nova.conf.policy).
    """

    require_trusted_host: bool = conf_fields.option(
        'default_require_trusted_host', False)
    min_link_security: str = conf_fields.option(
        'default_min_link_security', 'untrusted')
    require_encryption: bool = conf_fields.option(
        'default_require_encryption', False)
    allowed_mechanisms: tuple = conf_fields.option(
        'default_allowed_mechanisms', ('none', 'tls', 'tunnelled', 'ipsec'),
        convert=mech_mod.default_names)
    dirty_rate_mibps: float = conf_fields.option(
        'default_dirty_rate_mibps', 16.0)
    budget_period_days: int = conf_fields.option(
        'default_budget_period_days', 30)

    @classmethod
    def from_conf(cls, group):
        return conf_fields.from_group(cls, group)


@dataclasses.dataclass
class Policy:
    require_trusted_host: bool
    min_link_security: int
    require_encryption: bool
    allowed_mechanisms: frozenset
    dirty_rate_mibps: float
    max_downtime_ms: int = None
    downtime_budget_ms: int = None
    working_set_mb: float = None
    budget_period_days: int = 30
    errors: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def needs_protection(self):
        """True if the policy asks for trust or encryption."""
        return (self.require_trusted_host or self.require_encryption or
                self.min_link_security > 0)

    @property
    def demanding(self):
        """True if the policy is malformed or sets any requirement.

        Such an instance is never let through unchecked, whatever
        ``[qslm] fail_closed`` says.
        """
        return bool(self.errors or self.needs_protection or
                    self.max_downtime_ms is not None or
                    self.downtime_budget_ms is not None)


def effective_policy(defaults, levels, mechanisms, flavor_specs=None,
                     image_props=None, metadata=None):
    """Combine the sources into one Policy; never raises on bad values.

    :param levels: security level names, weakest first.
    :param mechanisms: names of known mechanisms.
    """
    level_index = {n: i for i, n in enumerate(levels)}
    errors = []
    notes = []
    if defaults.min_link_security in level_index:
        min_level = level_index[defaults.min_link_security]
    else:
        errors.append('[qslm] default_min_link_security: unknown security '
                      'level %r (levels: %s)' % (
                          defaults.min_link_security, ', '.join(levels)))
        min_level = len(levels) - 1
    pol = Policy(require_trusted_host=defaults.require_trusted_host,
                 min_link_security=min_level,
                 require_encryption=defaults.require_encryption,
                 allowed_mechanisms=frozenset(defaults.allowed_mechanisms),
                 dirty_rate_mibps=defaults.dirty_rate_mibps,
                 budget_period_days=defaults.budget_period_days,
                 errors=errors, notes=notes)
    sources = (('flavor extra spec', flavor_specs or {}, True),
               ('image property', image_props or {}, False),
               ('instance metadata', metadata or {}, False))
    for label, values, sla_allowed in sources:
        for key, raw in values.items():
            _read(pol, label, key, raw, sla_allowed, level_index, mechanisms)
    return pol


def _read(pol, label, key, raw, sla_allowed, level_index, mechanisms):
    """Apply one key of one source to the policy (or note its error)."""
    if not isinstance(key, str):
        return
    if not key.startswith(PREFIX):
        # 'QSLM:...' or ' qslm:...' is a wish written wrongly, not
        # someone else's key: refusing it beats silently ignoring it.
        if key[:16].strip(policy_values.BLANKS).lower().startswith(PREFIX):
            pol.errors.append('%s %s: qslm keys are written in lower case '
                              'without blanks' % (
                                  label, exception.show_name(key)))
        return
    if key in LEDGER_KEYS:
        return
    if key in SLA_KEYS and not sla_allowed:
        pol.notes.append('%s %s ignored: SLA keys come from the flavor '
                         'only' % (label, key))
        return
    if key not in SYNTAX:
        pol.errors.append('%s %s: unknown qslm key (known: %s)' % (
            label, exception.show_name(key), ', '.join(
                k for k in FLAVOR_KEYS if k != DIRTY_RATE_MBPS)))
        return
    try:
        value = SYNTAX[key](key, raw)
        _apply(pol, key, value, level_index, mechanisms)
    except exception.PolicyValueError as e:
        pol.errors.append('%s %s' % (label, e))


def image_properties(system_metadata, prefix):
    """The qslm: image properties Nova copied into system metadata.

    :param prefix: Nova's prefix of image properties there
        (``nova.utils.SM_IMAGE_PROP_PREFIX``).
    """
    start = prefix + PREFIX
    return {k[len(prefix):]: v for k, v in (system_metadata or {}).items()
            if k.startswith(start)}


# Levels and mechanisms assumed when no topology can be read.
DEFAULT_LEVELS = ('untrusted', 'wan', 'shared', 'private', 'isolated')
BUILTIN_MECHANISMS = frozenset(mech_mod.BUILTIN)


def policy_without_topology(defaults, flavor_specs=None, image_props=None,
                            metadata=None, extra_mechanisms=()):
    """The effective policy judged against the default levels.

    For deciding what to do when the topology (or the whole decision) is
    unavailable: whether the instance asks for anything. Mechanism names
    other than the built-in ones (and ``extra_mechanisms``) are errors.
    """
    return effective_policy(
        defaults, DEFAULT_LEVELS,
        BUILTIN_MECHANISMS | frozenset(extra_mechanisms),
        flavor_specs, image_props, metadata)


def _apply(pol, key, value, level_index, mechanisms):
    if key == MAX_DOWNTIME:
        pol.max_downtime_ms = value
    elif key == BUDGET:
        pol.downtime_budget_ms = value
    elif key == PERIOD_DAYS:
        pol.budget_period_days = value
    elif key == WORKING_SET:
        pol.working_set_mb = value
    elif key == REQUIRE_TRUSTED:
        pol.require_trusted_host = pol.require_trusted_host or value
    elif key == REQUIRE_ENCRYPTION:
        pol.require_encryption = pol.require_encryption or value
    elif key == MIN_LINK_SECURITY:
        if value not in level_index:
            raise exception.PolicyValueError(
                key, value, 'unknown security level (levels: %s)'
                % ', '.join(level_index))
        pol.min_link_security = max(pol.min_link_security,
                                    level_index[value])
    elif key == ALLOWED_MECHANISMS:
        value = [mech_mod.canonical_name(n, key) for n in value]
        unknown = [n for n in value if n not in mechanisms]
        if unknown:
            raise exception.PolicyValueError(
                key, ','.join(value), 'unknown mechanism(s) %s (known: %s)'
                % (', '.join(unknown), ', '.join(sorted(mechanisms))))
        pol.allowed_mechanisms = pol.allowed_mechanisms & frozenset(value)
    elif key in (DIRTY_RATE, DIRTY_RATE_MBPS):
        if key == DIRTY_RATE_MBPS:
            pol.notes.append('%s is deprecated: it is read as %s (MiB/s)'
                             % (DIRTY_RATE_MBPS, DIRTY_RATE))
        pol.dirty_rate_mibps = max(pol.dirty_rate_mibps, value)


@dataclasses.dataclass
class Ledger:
    """Downtime used in the current budget period of one instance.

    Periods are counted in whole days with integer day numbers, so no
    start date (0001-01-01, 9999-12-31) and no period length can
    overflow. Downtime used without a recorded start counts as used in a
    period that starts today: a missing key never frees budget.
    """

    used_ms: int = 0
    period_start: datetime.date = None
    errors: list = dataclasses.field(default_factory=list)

    def _period_over(self, period_days, today):
        if self.period_start is None:
            return not self.used_ms
        # A start in the future (clock skew, hand-written) is a running
        # period: the stricter reading.
        return (today.toordinal() - self.period_start.toordinal() >=
                period_days)

    def remaining_ms(self, budget_ms, period_days, today):
        """Budget left today, rolling the period over when it expired."""
        if budget_ms is None:
            return None
        if self._period_over(period_days, today):
            return budget_ms
        return max(budget_ms - self.used_ms, 0)

    def record(self, downtime_ms, period_days, today):
        """Return the metadata that records one more migration.

        :raises PolicyValueError: if downtime_ms is not a number from 0
            to policy_values.MAX_LEDGER_MS.
        """
        if (isinstance(downtime_ms, bool) or
                not isinstance(downtime_ms, (int, float)) or
                not 0 <= downtime_ms <= policy_values.MAX_LEDGER_MS):
            raise exception.PolicyValueError(
                'downtime_ms', downtime_ms,
                'must be a number from 0 to %d' % policy_values.MAX_LEDGER_MS)
        if self._period_over(period_days, today):
            start, used = today, 0
        else:
            start, used = self.period_start or today, self.used_ms
        # Saturates: a ledger at the maximum has no budget left anyway.
        total = min(used + int(round(downtime_ms)),
                    policy_values.MAX_LEDGER_MS)
        return {LEDGER_USED: str(total), LEDGER_START: start.isoformat()}


def parse_ledger(metadata):
    """Read the ledger keys from instance metadata; never raises."""
    metadata = metadata or {}
    ledger = Ledger()
    if LEDGER_USED in metadata:
        try:
            ledger.used_ms = policy_values.parse_int(
                LEDGER_USED, metadata[LEDGER_USED], 0,
                policy_values.MAX_LEDGER_MS)
        except exception.PolicyValueError as e:
            ledger.errors.append('instance metadata %s' % e)
    if LEDGER_START in metadata:
        try:
            ledger.period_start = policy_values.parse_date(
                LEDGER_START, metadata[LEDGER_START])
        except exception.PolicyValueError as e:
            ledger.errors.append('instance metadata %s' % e)
    return ledger
