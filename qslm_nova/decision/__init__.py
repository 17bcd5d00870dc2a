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

"""The QSLM decision: may this instance live-migrate to that host?

For one request (instance, source host, candidate hosts) the engine

1. builds the instance's effective policy and downtime ledger;
2. checks trust of the source and every candidate (when required);
3. finds, with one search from the source, the widest available path
   that meets the minimum link security, or else the widest path at all,
   which then needs a protecting mechanism;
4. lists the mechanisms both hosts support and the policy allows (plus
   link-level ones covering the weak links) and estimates each, vectorised
   over all candidates, keeping the lowest expected downtime;
5. holds the estimate against the per-migration maximum, the remaining
   budget of the period and Nova's completion timeout;
6. returns :class:`Decisions`: ``allowed`` and ``score`` as numpy arrays
   over the candidates, and one :class:`Decision` per candidate, with
   every reason, built from the same computation when asked for.

Every step runs on numpy arrays over all candidates (thousands in a
large cloud): the candidates are mapped to the topology's host numbers
once, and trust, paths and per-host data are read from arrays, so that
the scheduler pays no Python work per host beyond that look-up.

Nothing here imports Nova; the scheduler filter, weigher and API
pre-check are thin adapters around :class:`Engine`, each owning an
:class:`EngineCache`.

Each host's figures come from its compute agent's published profile
first (what its Nova does: the transport, the source's [libvirt]
options, the cipher and load it measured), then the topology file, then
the [qslm] options; an instance's dirty rate from the agent's fresh
observation, then the policy's hint. ``Decision.sources`` says which.

The package: ``request`` (what is asked), ``result`` (Decision,
Decisions and the one rule for the best host), ``hostfacts`` (the hosts'
figures and their sources), ``screen`` (steps 1-3 as arrays),
``options`` (transport options), ``selection`` (step 4), ``verdicts``
(steps 5-6: holding, reasons and the score), ``builder`` (a candidate's
Decision on demand), ``engine`` (the order of it all).
"""

from qslm_nova.decision import engine
from qslm_nova.decision import hostfacts
from qslm_nova.decision import request
from qslm_nova.decision import result
from qslm_nova.decision import settings

MigrationRequest = request.MigrationRequest
Decision = result.Decision
Decisions = result.Decisions
EstimateInputs = result.EstimateInputs
FigureSources = hostfacts.FigureSources
best_index = result.best_index
rank_key = result.rank_key
Settings = settings.Settings
Engine = engine.Engine
EngineCache = engine.EngineCache
engine_from_conf = engine.engine_from_conf
