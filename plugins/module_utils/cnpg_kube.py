# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes reads and writes for the CNPG password rotation: Secrets, the CloudNativePG
Cluster, and restarting a Deployment through its pod-template annotation (like
``kubectl rollout restart``). Uses the ``kubernetes`` Python client's dynamic client."""

from __future__ import annotations

import base64
import os

try:
    from kubernetes import config as kube_config
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as import_error:  # pragma: no cover - reported by the module
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = import_error

CNPG_API_VERSION = "postgresql.cnpg.io/v1"
MERGE_PATCH = "application/merge-patch+json"
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"


class KubeError(Exception):
    """A Kubernetes request failed. Messages carry the API status, never Secret data."""


def b64decode_text(value):
    return base64.b64decode(value).decode("utf-8") if value is not None else None


def b64encode_text(value):
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


def secret_value(secret, key):
    """The decoded value of ``key`` in a Secret dict, or None."""
    return b64decode_text(((secret or {}).get("data") or {}).get(key))


class KubeClient:
    """The few API calls the rotation needs, as plain dicts."""

    def __init__(self, kubeconfig=None, context=None):
        if not HAS_KUBERNETES:
            raise KubeError("the Python package kubernetes is required: pip install kubernetes")
        try:
            if not kubeconfig and not context and "KUBERNETES_SERVICE_HOST" in os.environ and not os.environ.get("KUBECONFIG"):
                kube_config.load_incluster_config()
                from kubernetes.client import ApiClient  # pylint: disable=import-outside-toplevel
                api_client = ApiClient()
            else:
                api_client = kube_config.new_client_from_config(config_file=kubeconfig, context=context)
            self.dynamic = DynamicClient(api_client)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise KubeError("cannot load the Kubernetes client configuration (kubeconfig %s, context %s): %s"
                            % (kubeconfig or "default", context or "current", exc)) from None
        self._resources = {}

    def _resource(self, api_version, kind):
        key = (api_version, kind)
        if key not in self._resources:
            try:
                self._resources[key] = self.dynamic.resources.get(api_version=api_version, kind=kind)
            except Exception as exc:  # pylint: disable=broad-exception-caught
                raise KubeError("the API server does not serve %s %s: %s" % (api_version, kind, exc)) from None
        return self._resources[key]

    @staticmethod
    def _describe(exc):
        if isinstance(exc, DynamicApiError):
            return "%s %s" % (exc.status, exc.summary() if hasattr(exc, "summary") else exc.reason)
        return str(exc)

    def get(self, api_version, kind, namespace, name):
        """The object as a dict, or None when it does not exist."""
        resource = self._resource(api_version, kind)
        try:
            return resource.get(name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise KubeError("cannot read %s %s/%s: %s" % (kind, namespace, name, self._describe(exc))) from None

    def merge_patch(self, api_version, kind, namespace, name, patch):
        resource = self._resource(api_version, kind)
        try:
            return resource.patch(body=patch, name=name, namespace=namespace, content_type=MERGE_PATCH).to_dict()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise KubeError("cannot update %s %s/%s: %s" % (kind, namespace, name, self._describe(exc))) from None

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
