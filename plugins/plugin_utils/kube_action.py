# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's Kubernetes action plugins share: they run on the controller, in the
Ansible process itself (no module to ship and start, no client to import again per task),
validate their options, connect once per task and report a failed request as the task's
message."""

from __future__ import annotations

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.aiplatform.obot.plugins.module_utils.kube import KubeError, connect
from ansible_collections.aiplatform.obot.plugins.plugin_utils import preload  # noqa: F401 pylint: disable=unused-import

CONNECTION_SPEC = {
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
}


class KubeAction(ActionBase):
    """Subclasses set ARGUMENT_SPEC (without the connection options) and implement act()."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    ARGUMENT_SPEC: dict = {}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        validation = ArgumentSpecValidator(dict(self.ARGUMENT_SPEC, **CONNECTION_SPEC)).validate(self._task.args)
        if validation.error_messages:
            raise AnsibleActionFail("%s: %s" % (self._task.action, "; ".join(validation.error_messages)))
        args = validation.validated_parameters
        try:
            # The run's own temporary directory: discovery answers shared by its tasks, gone after it.
            result.update(self.act(connect(args["kubeconfig"], args["context"], cache_dir=C.DEFAULT_LOCAL_TMP), args))
        except KubeError as exc:
            result.update(failed=True, msg=str(exc))
        return result

    def act(self, kube, args):
        """The task's result (without the base keys); raise KubeError to fail with its message."""
        raise NotImplementedError
