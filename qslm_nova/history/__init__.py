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

"""Calibration history: what was estimated, what was measured, and the fit.

The decision side (scheduler, nova-api pre-check) publishes the estimate
of every live migration it lets through, the compute agents publish what
each migration measured, both as oslo.messaging notifications on
OpenStack's bus, joined by Nova's migration id wherever the operator
collects them (``qslm-nova-collect`` writes them to a file).
``qslm-nova calibrate --from-history`` refits the model's constants from
the pairs and reports the error by host pair and transport.

The package: ``notifications`` (the event types, their payloads and the
emitters), ``collect`` (a notification listener writing JSON lines),
``join`` (reading files and spools, pairing estimates with
measurements), ``refit`` (the fit and its report).
"""
