# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read several Kubernetes objects, lists and kinds in one task. Runs in the controller (see
kube_action)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.aiplatform.obot.plugins.module_utils.kube import KubeError
from ansible_collections.aiplatform.obot.plugins.plugin_utils.kube_action import KubeAction

QUERY_SPEC = {
    "api_version": {"type": "str", "required": True},
    "kind": {"type": "str", "required": True},
    "namespace": {"type": "str"},
    "name": {"type": "str"},
    "label_selectors": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(KubeAction):
    """Answer each query with api_found and resources, as kubernetes.core.k8s_info would."""

    ARGUMENT_SPEC = {"queries": {"type": "dict", "required": True}, "managed_fields": {"type": "bool", "default": False}}

    def act(self, kube, args):
        queries = {}
        for key, query in args["queries"].items():
            validation = ArgumentSpecValidator(QUERY_SPEC).validate(query if isinstance(query, dict) else {})
            if validation.error_messages or not isinstance(query, dict):
                raise AnsibleActionFail("k8s_read: queries.%s: %s" % (key, "; ".join(validation.error_messages) or "must be a dict"))
            queries[key] = validation.validated_parameters
        answers = {key: self._answer(kube, query) for key, query in queries.items()}
        if not args["managed_fields"]:
            for answer in answers.values():
                for obj in answer["resources"]:
                    obj["metadata"].pop("managedFields", None)
        return {"changed": False, "results": answers}

    @staticmethod
    def _answer(kube, query):
        if kube.resource(query["api_version"], query["kind"]) is None:
            return {"api_found": False, "resources": []}
        try:
            if query["name"]:
                found = kube.get({"apiVersion": query["api_version"], "kind": query["kind"],
                                  "metadata": {"name": query["name"], "namespace": query["namespace"]}})
                resources = [found] if found else []
            else:
                resources = kube.list(query["api_version"], query["kind"], query["namespace"], ",".join(query["label_selectors"]))
        except KubeError as exc:
            raise KubeError("cannot read %s %s: %s" % (query["kind"], query["name"] or "objects", exc)) from None
        return {"api_found": True, "resources": resources}
