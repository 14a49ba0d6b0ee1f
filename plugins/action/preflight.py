# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the collection's settings and derive the computed ones, in one task on the controller."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.aiplatform.obot.plugins.module_utils import settings as obot_settings
from ansible_collections.aiplatform.obot.plugins.plugin_utils import preload  # noqa: F401 pylint: disable=unused-import


class ActionModule(ActionBase):
    """Fail with every problem at once, or return the derived settings."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(("settings",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        settings = self._task.args.get("settings")
        if not isinstance(settings, dict):
            raise AnsibleActionFail("preflight: settings must be a dict of the collection's settings")
        problems = obot_settings.problems(settings)
        if problems:
            return dict(result, failed=True, msg="Invalid settings:\n" + "\n".join(problems))
        return dict(result, changed=False, derived=obot_settings.derive(settings))
