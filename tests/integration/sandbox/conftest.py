"""Fixtures for the obot_mcp_sandbox role tests on the local control plane: a runner that
converges the role with ansible-playbook on namespaces of its own, and readers for what it
left in the cluster (objects, resourceVersions, the apiserver's audit log)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from testbed.playbook import PlaybookRun, run_playbook, write_role_playbook

ENCRYPTION_KEY = base64.b64encode(b"sandbox-pytest-only-key-87654321").decode()
BASE_VARS = {
    "cloudflare_domain": "example.test",
    "obot_encryption_key": ENCRYPTION_KEY,
    "obot_mcp_max_pods": 3,
}
# (apiVersion, kind, namespaced) of everything the role may create.
KINDS = [
    ("v1", "Namespace", False),
    ("v1", "ResourceQuota", True),
    ("v1", "LimitRange", True),
    ("rbac.authorization.k8s.io/v1", "Role", True),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", False),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", False),
    ("networking.k8s.io/v1", "NetworkPolicy", True),
    ("cilium.io/v2", "CiliumNetworkPolicy", True),
]


class Sandbox:
    """Runs the role on two fresh names (Obot and MCP namespace) and reads the cluster."""

    def __init__(self, tmp_path: Path, plane, dynamic):
        suffix = uuid.uuid4().hex[:8]
        self.obot_namespace = f"sbx-obot-{suffix}"
        self.mcp_namespace = f"sbx-mcp-{suffix}"
        self.cluster_rbac_name = f"obot-namespace-reader-{self.obot_namespace}"
        self.tmp_path, self.plane, self.dynamic = tmp_path, plane, dynamic
        self.playbook = write_role_playbook(tmp_path / "converge.yml", "obot_mcp_sandbox")

    def run(self, extra_vars: dict | None = None, *args: str, json_output: bool = True) -> PlaybookRun:
        settings = dict(BASE_VARS, obot_namespace=self.obot_namespace, obot_mcp_namespace=self.mcp_namespace)
        settings.update(extra_vars or {})
        return run_playbook(self.playbook, *args, cwd=self.tmp_path, extra_vars=settings, json_output=json_output,
                            env=self.plane.env())

    # ------------------------------------------------------------ cluster reads

    def get(self, api_version: str, kind: str, name: str, namespaced: bool = True) -> dict | None:
        from kubernetes.dynamic.exceptions import NotFoundError  # pylint: disable=import-outside-toplevel

        try:
            resource = self.dynamic.resources.get(api_version=api_version, kind=kind)
            namespace = self.mcp_namespace if namespaced else None
            return resource.get(name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None

    def objects(self) -> dict:
        """'Kind name' -> object, for every object of the role's kinds that exists."""
        found = {}
        for api_version, kind, namespaced in KINDS:
            if kind == "Namespace":
                names = [self.mcp_namespace]
            elif namespaced:
                names = ["mcp-servers-quota", "mcp-servers-limits", "obot-mcp-manager", "mcp-servers"]
            else:
                names = [self.cluster_rbac_name]
            for name in names:
                obj = self.get(api_version, kind, name, namespaced)
                if obj:
                    found[f"{kind} {name}"] = obj
        return found

    def resource_versions(self) -> dict:
        return {key: obj["metadata"]["resourceVersion"] for key, obj in self.objects().items()}

    def own_writes_since(self, mark: int) -> list:
        """Audit events of real (not dry-run) writes to this sandbox's objects since ``mark``."""
        mine = {self.mcp_namespace, self.obot_namespace, self.cluster_rbac_name}
        events = []
        for event in self.plane.write_events_since(mark, user=None):
            ref = event.get("objectRef", {})
            if "dryRun" in event.get("requestURI", ""):
                continue
            if ref.get("namespace") in mine or ref.get("name") in mine:
                events.append(event)
        return events

    def wait_quota_status(self, pods: int, timeout: float = 60) -> None:
        """Wait until the quota controller has caught up (it writes the quota's status)."""
        import time  # pylint: disable=import-outside-toplevel

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            quota = self.get("v1", "ResourceQuota", "mcp-servers-quota")
            if quota and quota.get("status", {}).get("hard", {}).get("pods") == str(pods):
                return
            time.sleep(1)
        raise AssertionError(f"the quota controller did not fill mcp-servers-quota's status within {timeout}s")

    def delete_all(self) -> None:
        from kubernetes.dynamic.exceptions import NotFoundError  # pylint: disable=import-outside-toplevel

        for api_version, kind, name in (("v1", "Namespace", self.mcp_namespace),
                                        ("rbac.authorization.k8s.io/v1", "ClusterRole", self.cluster_rbac_name),
                                        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", self.cluster_rbac_name)):
            try:
                self.dynamic.resources.get(api_version=api_version, kind=kind).delete(name=name)
            except NotFoundError:
                pass


@pytest.fixture(name="sandbox")
def fixture_sandbox(kube_cluster, kube_api, tmp_path):
    """A Sandbox on fresh names; what the role made is deleted afterwards."""
    from kubernetes.dynamic import DynamicClient  # pylint: disable=import-outside-toplevel

    box = Sandbox(tmp_path, kube_cluster, DynamicClient(kube_api))
    yield box
    box.delete_all()
