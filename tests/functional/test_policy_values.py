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

"""Huge and odd policy values inside in-process Nova (issue 15, item 6).

* Nova's flavor API (microversion 2.86+) refuses them with 400 naming the
  key, through the ``nova.api.extra_spec_validators`` entry point, for
  both ``POST os-extra_specs`` and ``PUT os-extra_specs/{key}``;
* values Nova did not validate (flavors set at 2.85, image properties,
  instance metadata) are a denial whose reason names the key, and the
  scheduler keeps working for everybody else.
"""

import copy

from nova.tests.functional import integrated_helpers

from qslm_nova import policy
from qslm_nova import policy_values as limits
from tests.functional import test_scheduler

HUGE = '1' + '0' * 309     # longer than Nova's JSON schema allows
BIG = '9' * 255            # 10^255: as long as the schema allows
HOSTILE = (
    (policy.MAX_DOWNTIME, HUGE), (policy.MAX_DOWNTIME, BIG),
    (policy.MAX_DOWNTIME, '1e309'),
    (policy.MAX_DOWNTIME, '\u0661\u0662'), (policy.MAX_DOWNTIME, '+5'),
    (policy.MAX_DOWNTIME, '1_000'), (policy.BUDGET, '9' * 30),
    (policy.PERIOD_DAYS, '1000000000'), (policy.DIRTY_RATE, 'nan'),
    (policy.DIRTY_RATE, '1e308'), (policy.DIRTY_RATE, '-0'),
    (policy.REQUIRE_TRUSTED, 'ｔｒｕｅ'), (policy.REQUIRE_ENCRYPTION, '2'),
    (policy.MIN_LINK_SECURITY, 'pr\u0131vate'),
    (policy.ALLOWED_MECHANISMS, 'tls,,ssh'),
)


class TestFlavorAPIRefusesHugeValues(test_scheduler.QSLMSchedulerTestBase):
    COMPUTE_HOSTS = ('compute-a1',)

    def test_post_and_put_refused_with_key(self):
        flavor = self.create_flavor()
        for key, value in HOSTILE:
            for method, path, body in (
                    ('POST', '/flavors/%s/os-extra_specs' % flavor,
                     {'extra_specs': {key: value}}),
                    ('PUT', '/flavors/%s/os-extra_specs/%s' % (flavor, key),
                     {key: value})):
                resp = self.raw_request(method, path, body, admin=True,
                                        microversion='2.86')
                self.assertEqual(400, resp.status, (method, key, value))
                message = resp.body['badRequest']['message']
                if value is HUGE:
                    # Nova's schema: "Invalid input for field/attribute
                    # <key>. Value: ... is too long".
                    self.assertIn(key + '.', message)
                    continue
                self.assertIn('Validation failed; extra spec %s:' % key,
                              message)
                self.assertLess(len(message), 300)
        self.assertEqual({}, self.admin_api.get_extra_specs(flavor))

    def test_json_numbers_refused(self):
        # JSON numbers reach the validator as str(number): 1e308 is
        # '1e+308', a float where an integer is expected is refused.
        flavor = self.create_flavor()
        for key, value in ((policy.MAX_DOWNTIME, 1e308),
                           (policy.MAX_DOWNTIME, 2.5),
                           (policy.PERIOD_DAYS, 10 ** 9)):
            resp = self.raw_request(
                'POST', '/flavors/%s/os-extra_specs' % flavor,
                {'extra_specs': {key: value}}, admin=True,
                microversion='2.86')
            self.assertEqual(400, resp.status, (key, value, resp.body))

    def test_limits_accepted(self):
        flavor = self.create_flavor()
        specs = {policy.MAX_DOWNTIME: str(limits.MAX_MS),
                 policy.BUDGET: '0',
                 policy.PERIOD_DAYS: str(limits.MAX_PERIOD_DAYS),
                 policy.DIRTY_RATE: '1048576'}
        resp = self.raw_request(
            'POST', '/flavors/%s/os-extra_specs' % flavor,
            {'extra_specs': specs}, admin=True, microversion='2.86')
        self.assertEqual(200, resp.status, resp.body)


class TestUnvalidatedValuesDenied(test_scheduler.QSLMSchedulerTestBase):

    def _image_with(self, properties):
        image = copy.deepcopy(integrated_helpers.nova_fixtures.GlanceFixture
                              .image1)
        image['id'] = '6c6c1e8e-2f8e-4d3c-9d6e-3b6f2f5b9a01'
        image['properties'].update(properties)
        self.glance.create(None, image)
        return image['id']

    def _boot_image(self, image_id, flavor):
        body = self._build_server(image_uuid=image_id, flavor_id=flavor,
                                  networks='none', host='compute-a1')
        server = self.admin_api.post_server({'server': body})
        return self.wait_for_server(server)

    def test_old_flavor_image_and_metadata_denied_naming_key(self):
        # A flavor set before validation (2.85) with 10^309.
        flavor = self.create_flavor()
        resp = self.raw_request(
            'POST', '/flavors/%s/os-extra_specs' % flavor,
            {'extra_specs': {policy.MAX_DOWNTIME: BIG,
                             policy.PERIOD_DAYS: '1000000000'}},
            admin=True, microversion='2.85')
        self.assertEqual(200, resp.status, resp.body)
        server = self.boot_server('compute-a1', flavor_id=flavor)
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-a2')
        self.assert_stayed(server, mig)
        self.assertIn("flavor extra spec qslm:max_downtime_ms: must be an "
                      "integer from 1 to 2147483647, got '%s'... (255 "
                      "characters)" % BIG[:40], self.qslm_log.output)
        self.assertIn('flavor extra spec qslm:budget_period_days: must be '
                      'an integer from 1 to 3660', self.qslm_log.output)
        self.assertNotIn('Traceback', self.qslm_log.output)

        # An image property with full-width letters.
        image = self._image_with({policy.REQUIRE_TRUSTED: 'ｔｒｕｅ'})
        server = self._boot_image(image, self.create_flavor())
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-a2')
        self.assert_stayed(server, mig)
        self.assertIn("image property qslm:require_trusted_host: must be "
                      "true or false", self.qslm_log.output)

        # Tenant metadata: a stricter wish written with Arabic-Indic
        # digits is refused, not read as a looser policy; the ledger's
        # far-future period start does not overflow.
        server = self.boot({policy.BUDGET: '100000'})
        self.assertEqual(200, self.set_metadata(
            server, {policy.DIRTY_RATE: '\u0665\u0660\u0660'}).status)
        self.assertEqual(200, self.set_metadata(
            server, {policy.LEDGER_START: '9999-12-31'}, admin=True).status)
        server, mig, _t = self.live_migrate_and_wait(server,
                                                     host='compute-a2')
        self.assert_stayed(server, mig)
        self.assertIn('instance metadata qslm:dirty_rate_mibps: must be a '
                      'number', self.qslm_log.output)
        self.assertNotIn('OverflowError', self.qslm_log.output)

        # The scheduler still serves everybody else.
        plain = self.boot()
        plain, mig, _t = self.live_migrate_and_wait(plain,
                                                    host='compute-a2')
        self.assert_moved(plain, mig, 'compute-a2')
