# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes reads and writes for the CNPG password rotation: Secrets, the CloudNativePG
Cluster, and restarting a Deployment through its pod-template annotation (like
``kubectl rollout restart``). Built on the collection's client (module_utils/kube.py)."""

from __future__ import annotations

import base64

from ansible_collections.aiplatform.obot.plugins.module_utils.kube import KubeError, connect

CNPG_API_VERSION = "postgresql.cnpg.io/v1"
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"


def b64decode_text(value):
    return base64.b64decode(value).decode("utf-8") if value is not None else None


def b64encode_text(value):
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def secret_value(secret, key):
    """The decoded value of ``key`` in a Secret dict, or None."""
    return b64decode_text(((secret or {}).get("data") or {}).get(key))


def _ref(api_version, kind, namespace, name):
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}


class KubeClient:
    """The few API calls the rotation needs, as plain dicts."""

    def __init__(self, kubeconfig=None, context=None):
        self.kube = connect(kubeconfig, context)

    def get(self, api_version, kind, namespace, name):
        """The object as a dict, or None when it does not exist."""
        try:
            return self.kube.get(_ref(api_version, kind, namespace, name))
        except KubeError as exc:
            raise KubeError("cannot read %s %s/%s: %s" % (kind, namespace, name, exc)) from None

    def merge_patch(self, api_version, kind, namespace, name, patch):
        try:
            return self.kube.merge_patch(_ref(api_version, kind, namespace, name), patch)
        except KubeError as exc:
            raise KubeError("cannot update %s %s/%s: %s" % (kind, namespace, name, exc)) from None

    # -- the objects the rotation touches -------------------------------------------------------
    def get_cluster(self, namespace, name):
        return self.get(CNPG_API_VERSION, "Cluster", namespace, name)

    def get_secret(self, namespace, name):
        return self.get("v1", "Secret", namespace, name)

    def patch_secret(self, namespace, name, data=None, annotations=None, labels=None, resource_version=None):
        """Merge-patch Secret data (plain text values; None deletes a key) and metadata. With
        ``resource_version`` the write fails when someone else changed the Secret meanwhile."""
        metadata = {}
        if annotations:
            metadata["annotations"] = annotations
        if labels:
            metadata["labels"] = labels
        if resource_version:
            metadata["resourceVersion"] = resource_version
        patch = {}
        if metadata:
            patch["metadata"] = metadata
        if data:
            patch["data"] = dict((key, b64encode_text(value) if value is not None else None) for key, value in data.items())
        return self.merge_patch("v1", "Secret", namespace, name, patch)

    def get_deployment(self, namespace, name):
        return self.get("apps/v1", "Deployment", namespace, name)

    def restart_deployment(self, namespace, name, stamp):
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: stamp}}}}}
        return self.merge_patch("apps/v1", "Deployment", namespace, name, patch)


def deployment_rolled_out(deployment):
    """True when the Deployment's controller has rolled out its current pod template everywhere
    (the same test ``kubectl rollout status`` makes)."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    metadata = deployment.get("metadata") or {}
    replicas = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < metadata.get("generation", 0):
        return False
    return (status.get("updatedReplicas", 0) >= replicas
            and status.get("replicas", 0) <= status.get("updatedReplicas", 0)
            and status.get("availableReplicas", 0) >= status.get("updatedReplicas", 0))
