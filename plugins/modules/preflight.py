#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: preflight
short_description: Check the collection's settings and derive the computed ones
version_added: 0.1.0
author:
  - aiplatform.obot developers (!UNKNOWN)
description:
  - Checks every setting (types, choices, formats and the rules between settings) and fails with one line per problem,
    each naming its setting, all at once. A secret's value is never part of a message.
  - Otherwise returns RV(derived), the computed settings every role of the collection uses (the same as the filter
    P(aiplatform.obot.derived_settings#filter)); the role M(aiplatform.obot.obot) offers them as C(obot_derived).
  - Runs on the controller and touches nothing. The role M(aiplatform.obot.obot) runs it with every setting; use that
    role rather than this module.
options:
  settings:
    description: Every setting of the collection by name (the role's defaults as the inventory overrides them).
    type: dict
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - aiplatform.obot.controller
seealso:
  - plugin: aiplatform.obot.settings_problems
    plugin_type: filter
  - plugin: aiplatform.obot.derived_settings
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check the settings and derive the computed ones
  aiplatform.obot.preflight:
    settings:
      obot_enabled: true
      cloudflare_domain: example.com
"""

RETURN = r"""
derived:
  description: The computed settings.
  returned: success
  type: dict
  sample: {obot_enabled: true, obot_hostname: obot.example.com}
"""
