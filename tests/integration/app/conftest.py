"""Fixtures for the obot_app role tests: fresh namespaces on the local control plane
(fixture ``kube_cluster``), a runner that converges the role with ansible-playbook, and a
reader for what the role left in the cluster."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from testbed.playbook import PlaybookRun, run_playbook, write_role_playbook

ENCRYPTION_KEY_HEX = "5f" * 32  # a hex key: the role must normalise it to base64
ENCRYPTION_KEY_B64 = base64.b64encode(bytes.fromhex(ENCRYPTION_KEY_HEX)).decode()
# Settings every run needs. No kubelet runs here, so never wait for the rollout.
BASE_VARS = {
    "cloudflare_domain": "example.com",
    "obot_encryption_key": ENCRYPTION_KEY_HEX,
    "obot_app_wait": False,
}
# Every kind the role may create: (apiVersion, kind, namespaced in the gateway namespace too).
KINDS = [
    ("v1", "ServiceAccount"), ("v1", "Secret"), ("v1", "ConfigMap"), ("v1", "PersistentVolumeClaim"),
    ("v1", "Service"), ("apps/v1", "Deployment"), ("policy/v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "NetworkPolicy"), ("networking.k8s.io/v1", "Ingress"),
    ("cilium.io/v2", "CiliumNetworkPolicy"), ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"), ("monitoring.coreos.com/v1", "ServiceMonitor"),
]


class RoleRunner:
    """Runs the role with the given settings against one Obot namespace and one Gateway namespace."""

    def __init__(self, tmp_path: Path, namespace: str, gateway_namespace: str):
        self.tmp_path, self.namespace, self.gateway_namespace = tmp_path, namespace, gateway_namespace
        self.playbook = write_role_playbook(tmp_path / "converge.yml", "obot_app")

    def __call__(self, extra_vars: dict | None, *args: str, json_output: bool = True) -> PlaybookRun:
        settings = dict(BASE_VARS, obot_namespace=self.namespace, obot_gateway_namespace=self.gateway_namespace)
        settings.update(extra_vars or {})
        return run_playbook(self.playbook, *args, cwd=self.tmp_path, extra_vars=settings, json_output=json_output)


class Cluster:
    """Reads objects of any kind through the dynamic client."""

    def __init__(self, api_client):
        from kubernetes.dynamic import DynamicClient  # pylint: disable=import-outside-toplevel

        self.dynamic = DynamicClient(api_client)

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict | None:
        from kubernetes.dynamic.exceptions import NotFoundError  # pylint: disable=import-outside-toplevel

        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None

    def list(self, api_version: str, kind: str, namespace: str) -> list:
        items = self.dynamic.resources.get(api_version=api_version, kind=kind).get(namespace=namespace).to_dict()["items"]
        return [item for item in items if item["metadata"]["name"] != "kube-root-ca.crt"
                and not item["metadata"]["name"].startswith("default")]

    def names(self, api_version: str, kind: str, namespace: str) -> set:
        return {item["metadata"]["name"] for item in self.list(api_version, kind, namespace)}

    def resource_versions(self, *namespaces: str) -> dict:
        """kind/namespace/name -> resourceVersion of every object of the role's kinds."""
        return {f"{kind}/{ns}/{item['metadata']['name']}": item["metadata"]["resourceVersion"]
                for ns in namespaces for api_version, kind in KINDS for item in self.list(api_version, kind, ns)}

    def create(self, body: dict) -> None:
        self.dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"]).create(
            body=body, namespace=body["metadata"].get("namespace"))

    def apply(self, body: dict, field_manager: str) -> None:
        self.dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"]).server_side_apply(
            body=body, namespace=body["metadata"]["namespace"], field_manager=field_manager, force_conflicts=True)


@pytest.fixture(name="cluster")
def fixture_cluster(kube_api):
    return Cluster(kube_api)


@pytest.fixture(name="app")
def fixture_app(kube_cluster, cluster, tmp_path):  # pylint: disable=unused-argument
    """A RoleRunner on two fresh namespaces (Obot and Gateway), deleted afterwards."""
    suffix = uuid.uuid4().hex[:8]
    namespaces = (f"app-{suffix}", f"gw-{suffix}")
    for name in namespaces:
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield RoleRunner(tmp_path, *namespaces)
    for name in namespaces:
        cluster.dynamic.resources.get(api_version="v1", kind="Namespace").delete(name=name)


@pytest.fixture(name="fresh_app")
def fixture_fresh_app(kube_cluster, cluster, tmp_path):  # pylint: disable=unused-argument
    """A RoleRunner whose Obot namespace does not exist yet (the role creates it); the Gateway
    namespace does. Both deleted afterwards."""
    from kubernetes.dynamic.exceptions import NotFoundError  # pylint: disable=import-outside-toplevel

    suffix = uuid.uuid4().hex[:8]
    namespaces = (f"appfresh-{suffix}", f"gw-{suffix}")
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespaces[1]}})
    yield RoleRunner(tmp_path, *namespaces)
    for name in namespaces:
        try:
            cluster.dynamic.resources.get(api_version="v1", kind="Namespace").delete(name=name)
        except NotFoundError:
            pass
