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

"""Reading a residuals file (``[qslm] residuals_file``).

The file is JSON: ``groups`` (``transport/regime``: the measured /
expected ratios of its runs), and optionally ``dirty_share_max`` (per
group, the largest dirty share of its runs) and ``loaded_cpu_load`` (the
load per CPU from which runs are in the ``@loaded`` groups). Every other
key is kept as the table's origin (what made the file). The package
ships one (:data:`DEFAULT_PATH`, written by ``python -m
qslm_nova.risk.learn``); ``openstack qslm calibrate --from-history
--residuals-out`` writes an operator's own. A file that cannot be read
or makes no sense raises :class:`~qslm_nova.risk.residuals.RiskDataError`
naming the key that is wrong; :func:`load_cached` reads a file again
only when it changes.
"""

import functools
import json
import os

import numpy as np

from qslm_nova.risk import regimes
from qslm_nova.risk import residuals

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            'residuals.json')
#: The largest ``loaded_cpu_load`` a file may say (runnable threads per
#: CPU, as the hosts publish it).
MAX_LOADED_CPU_LOAD = 16.0
#: The most ratios one group may hold.
MAX_RUNS = 1000000


def from_json(doc, where='residuals'):
    """A :class:`~qslm_nova.risk.residuals.ResidualTable` from its JSON
    form; RiskDataError naming what is wrong (*where*: the file).
    """
    if not isinstance(doc, dict) or not isinstance(doc.get('groups'), dict):
        raise residuals.RiskDataError(
            '%s: expected an object with "groups"' % where)
    loaded_cpu_load = _loaded_cpu_load_of(doc, where)
    leaves = {}
    for name, ratios in doc['groups'].items():
        leaves[_group_key(name, loaded_cpu_load, where)] = _ratios_of(
            name, ratios, where)
    shares = _shares_of(doc.get('dirty_share_max', {}), doc['groups'],
                        where)
    return residuals.ResidualTable(
        leaves, {k: v for k, v in doc.items()
                 if k not in ('groups', 'dirty_share_max',
                              'loaded_cpu_load')},
        shares, loaded_cpu_load)


def load(path=DEFAULT_PATH):
    """The table of the file at *path*; RiskDataError if it is unreadable
    or wrong.
    """
    try:
        with open(path, encoding='utf-8') as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise residuals.RiskDataError('%s: %s' % (path, e))
    except RecursionError:
        raise residuals.RiskDataError('%s: nested too deeply to read (a '
                                      'residuals file is three levels '
                                      'deep)' % path)
    return from_json(doc, path)


def load_cached(path=DEFAULT_PATH):
    """The table of a file, read again only when the file changes (it
    ships with the package or the operator's calibration rewrites it).
    """
    try:
        st = os.stat(path)
    except OSError as e:
        raise residuals.RiskDataError('%s: %s' % (path, e))
    return _load_version(path, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4)
def _load_version(path, _mtime_ns, _size):
    return load(path)


def _group_key(name, loaded_cpu_load, where):
    """(transport, regime value) of a group's name."""
    transport, _sep, regime = str(name).partition('/')
    transports = residuals.TRANSPORT_OF_MECHANISM.values()
    kinds = [r.value for r in regimes.Regime]
    if (residuals.base_transport(transport) not in transports or
            regime not in kinds):
        raise residuals.RiskDataError(
            '%s: group %r is not transport/regime (transports %s, each '
            'maybe with %s; regimes %s)' % (
                where, name, ', '.join(sorted(transports)),
                residuals.LOADED, ', '.join(kinds)))
    if transport.endswith(residuals.LOADED) and loaded_cpu_load is None:
        raise residuals.RiskDataError(
            '%s: group %s holds runs of loaded hosts but the file does not '
            'say loaded_cpu_load, the load they start at' % (where, name))
    return transport, regime


def _ratios_of(name, ratios, where):
    """A group's ratios, checked."""
    if (not isinstance(ratios, list) or not ratios or
            len(ratios) > MAX_RUNS or
            any(isinstance(r, bool) or not isinstance(r, (int, float)) or
                not 0.0 <= r < 1e6 for r in ratios)):
        raise residuals.RiskDataError(
            '%s: group %s: expected a list of 1 to %d ratios, each a '
            'number from 0 to 1e6' % (where, name, MAX_RUNS))
    return np.array(ratios, dtype=float)


def _loaded_cpu_load_of(doc, where):
    """A file's ``loaded_cpu_load``, or None when it does not say one."""
    value = doc.get('loaded_cpu_load')
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or
            not 0.0 < value <= MAX_LOADED_CPU_LOAD):
        raise residuals.RiskDataError(
            '%s: loaded_cpu_load: expected a number of runnable threads '
            'per CPU above 0 and at most %g' % (where, MAX_LOADED_CPU_LOAD))
    return float(value)


def _shares_of(found, groups, where):
    """{(transport, regime value): share} of a file's dirty_share_max.
    """
    if not isinstance(found, dict):
        raise residuals.RiskDataError(
            '%s: dirty_share_max: expected an object of group: largest '
            'dirty share' % where)
    out = {}
    for name, share in found.items():
        if name not in groups:
            raise residuals.RiskDataError(
                '%s: dirty_share_max: %r is not one of the groups' %
                (where, name))
        if (isinstance(share, bool) or
                not isinstance(share, (int, float)) or
                not 0.0 <= share < 1e6):
            raise residuals.RiskDataError(
                '%s: dirty_share_max: %s: expected a number from 0 to 1e6'
                % (where, name))
        transport, _sep, regime = name.partition('/')
        out[(transport, regime)] = float(share)
    return out
