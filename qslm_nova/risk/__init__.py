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

"""Decisions under uncertainty: SLA risk and monetary loss.

* ``residuals``: how far real pauses stray from the model (measured on
  the testbed, ``learn`` writes the file), conformal quantiles and
  exceedance probabilities per transport and regime;
* ``keys``: the flavor extra specs of risk and money;
* ``loss``: the paper's monetary loss of one migration;
* ``assess``: all of it for the estimated candidates of one request.

Nothing here imports Nova.
"""
