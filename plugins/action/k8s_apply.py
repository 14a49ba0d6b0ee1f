# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply or remove a list of Kubernetes objects through kubernetes.core.k8s in one module run,
the collection's way: server-side apply under one field manager, per-object diffs shown by
--diff, and removal that tolerates kinds whose CRD is not installed."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = {
    "definition": {"type": "list", "elements": "dict", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "field_manager": {"type": "str", "default": "aiplatform.obot"},
    "force_conflicts": {"type": "bool", "default": True},
    "kubeconfig": {"type": "raw"},
    "context": {"type": "str"},
}
# kubernetes.core reports a kind the API server does not serve (a CRD not installed) this way.
MISSING_KIND = "Failed to find exact match"


def _label(obj):
    metadata = obj.get("metadata") or {}
    name = metadata.get("name", "?")
    if metadata.get("namespace"):
        name = "%s/%s" % (metadata["namespace"], name)
    return "%s %s" % (obj.get("kind", "?"), name)


def _diff(obj, item, state):
    if state == "absent":
        # kubernetes.core gives no diff for a deletion: name what goes (never its data, a Secret's say).
        metadata = {key: value for key, value in (obj.get("metadata") or {}).items() if key in ("name", "namespace")}
        before, after = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": metadata}, {}
    else:
        before, after = item.get("diff", {}).get("before", {}), item.get("diff", {}).get("after", {})
    return {"before_header": _label(obj), "after_header": _label(obj), "before": before, "after": after}


def _in_new_namespace(obj, item, objects):
    """In check mode, a dry run cannot place an object in a namespace the same list creates:
    report it as one that would be created rather than as an error."""
    namespace = (obj.get("metadata") or {}).get("namespace")
    error = item.get("error")
    new = any(other.get("kind") == "Namespace" and other.get("metadata", {}).get("name") == namespace for other in objects)
    if new and isinstance(error, dict) and 'namespaces "%s" not found' % namespace in error.get("msg", "").replace("\\", ""):
        return {"changed": True, "diff": {"before": {}, "after": obj}}
    return item


class ActionModule(ActionBase):
    """Run kubernetes.core.k8s once for all objects and lift its per-object results."""

    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            raise AnsibleActionFail("k8s_apply: %s" % "; ".join(validation.error_messages))
        args = validation.validated_parameters
        objects = args["definition"]
        if not objects:
            return dict(result, changed=False, results=[])

        module_args = {"state": args["state"], "definition": objects, "hidden_fields": ["metadata.managedFields"]}
        module_args.update((key, args[key]) for key in ("kubeconfig", "context") if args[key] is not None)
        if args["state"] == "present":
            module_args.update(apply=True, server_side_apply={"field_manager": args["field_manager"],
                                                              "force_conflicts": args["force_conflicts"]})
        module_args["continue_on_error"] = True
        outcome = self._execute_module("kubernetes.core.k8s", module_args=module_args, task_vars=task_vars)
        if outcome.get("failed") and "result" not in outcome:
            return dict(result, **outcome)

        per_object = outcome.get("result", {}).get("results") if len(objects) > 1 else [outcome]
        per_object = per_object or []
        if self._task.check_mode and args["state"] == "present":
            per_object = [_in_new_namespace(obj, item, objects) for obj, item in zip(objects, per_object)]
        errors = [item["error"].get("msg", "") for item in per_object if isinstance(item.get("error"), dict)]
        if args["state"] == "absent":
            errors = [message for message in errors if MISSING_KIND not in message]
        result.update(changed=any(item.get("changed") for item in per_object),
                      results=[{"object": _label(obj), "changed": bool(item.get("changed"))} for obj, item in zip(objects, per_object)])
        if errors:
            result.update(failed=True, msg="Kubernetes refused: %s" % "; ".join(errors))
        if self._task.diff:
            result["diff"] = [_diff(obj, item, args["state"]) for obj, item in zip(objects, per_object) if item.get("changed")]
        return result
