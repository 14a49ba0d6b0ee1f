# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply or remove a list of Kubernetes objects the collection's way: server-side apply under
one field manager, a diff per changed object, check mode as a server-side dry run, and removal
that tolerates kinds whose CRD is not installed. Runs in the controller (see kube_action)."""

from __future__ import annotations

import copy

from ansible_collections.aiplatform.obot.plugins.module_utils.kube import KubeError, label
from ansible_collections.aiplatform.obot.plugins.plugin_utils.kube_action import KubeAction

HIDDEN = "VALUE_HIDDEN"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def comparable(obj):
    """What an apply can change: the object without its status (controllers write it), its
    resourceVersion and the times in managedFields."""
    obj = {key: value for key, value in obj.items() if key != "status"}
    metadata = dict(obj.get("metadata") or {})
    metadata.pop("resourceVersion", None)
    metadata["managedFields"] = [{key: value for key, value in entry.items() if key != "time"} for entry in metadata.get("managedFields") or []]
    obj["metadata"] = metadata
    return obj


def shown(obj, other=None, side="new"):
    """An object as a diff shows it: no managedFields, and a Secret's values hidden; a value that
    differs from ``other`` (the object on the diff's other side) is marked with ``side``, so the
    diff still shows which keys change."""
    if not obj:
        return {}
    obj = copy.deepcopy(obj)
    metadata = obj.get("metadata") or {}
    metadata.pop("managedFields", None)
    if obj.get("kind") == "Secret":
        if LAST_APPLIED in (metadata.get("annotations") or {}):
            metadata["annotations"][LAST_APPLIED] = HIDDEN
        for field in ("data", "stringData"):
            theirs = (other or {}).get(field) or {}
            for key, value in (obj.get(field) or {}).items():
                obj[field][key] = HIDDEN if theirs.get(key) == value else "%s (%s)" % (HIDDEN, side)
    return obj


def identity(obj):
    """apiVersion, kind, name and namespace: all a removal's diff shows."""
    metadata = {key: value for key, value in (obj.get("metadata") or {}).items() if key in ("name", "namespace")}
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": metadata}


class ActionModule(KubeAction):
    """Apply (or remove) each object in turn; stop at the first one the API server refuses."""

    ARGUMENT_SPEC = {
        "definition": {"type": "list", "elements": "dict", "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "remove": {"type": "list", "elements": "dict", "default": []},
        "field_manager": {"type": "str", "default": "aiplatform.obot"},
        "force_conflicts": {"type": "bool", "default": True},
    }

    def act(self, kube, args):
        applied = args["definition"] if args["state"] == "present" else []
        removed = (args["definition"] if args["state"] == "absent" else []) + args["remove"]
        check_mode = bool(self._task.check_mode)
        new_namespaces = set()
        results, diffs = [], []
        for present, obj in [(True, obj) for obj in applied] + [(False, obj) for obj in removed]:
            try:
                if present:
                    before, after = self._present(kube, obj, args, check_mode, new_namespaces)
                    changed = before is None or comparable(before) != comparable(after)
                else:
                    before, after = self._absent(kube, obj, check_mode)
                    changed = before != after
            except KubeError as exc:
                return {"changed": any(item["changed"] for item in results), "results": results, "failed": True,
                        "msg": "%s: %s" % (label(obj), exc)}
            results.append({"object": label(obj), "changed": changed})
            if changed:
                diffs.append({"before_header": label(obj), "after_header": label(obj),
                              "before": shown(before, after, "old"), "after": shown(after, before, "new")})
        outcome = {"changed": any(item["changed"] for item in results), "results": results}
        if self._task.diff:
            outcome["diff"] = diffs
        return outcome

    @staticmethod
    def _present(kube, obj, args, check_mode, new_namespaces):
        """(before, after) of a server-side apply; before is None for a new object."""
        metadata = obj.get("metadata") or {}
        if check_mode and metadata.get("namespace") in new_namespaces:
            # A dry run cannot place an object in a namespace that does not exist yet.
            return None, obj
        before = kube.get(obj)
        after = kube.apply(obj, args["field_manager"], args["force_conflicts"], dry_run=check_mode)
        if check_mode and before is None and obj.get("kind") == "Namespace":
            new_namespaces.add(metadata.get("name"))
        return before, after

    @staticmethod
    def _absent(kube, obj, check_mode):
        """(identity, {}) when the object goes, ({}, {}) when there is nothing to remove: it does
        not exist, is already being deleted, or its kind is not served."""
        if kube.resource(obj.get("apiVersion"), obj.get("kind")) is None:
            return {}, {}
        current = kube.get(obj)
        if current is None or current["metadata"].get("deletionTimestamp"):
            return {}, {}
        kube.delete(obj, dry_run=check_mode)
        return identity(obj), {}
