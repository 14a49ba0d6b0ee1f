"""Fixtures for the obot_mcp_sandbox role tests on the local control plane: a runner that
converges the role with ansible-playbook on namespaces of its own, and readers for what it
left in the cluster (objects, resourceVersions, the apiserver's audit log)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = REPO / ".cache" / "venv" / "bin"
PLAYBOOK = """\
- name: Converge obot_mcp_sandbox
  hosts: localhost
  gather_facts: false
  roles:
    - role: aiplatform.obot.obot_mcp_sandbox
"""
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


def _short(task_name: str) -> str:
    """A task's name without its "namespace.collection.role : " prefix."""
    return task_name.split(" : ", 1)[-1]


class RoleRun:
    """The outcome of one ansible-playbook run."""

    def __init__(self, proc: subprocess.CompletedProcess, json_output: bool):
        self.returncode = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.report = json.loads(proc.stdout) if json_output and proc.stdout.strip().startswith("{") else None

    @property
    def changed(self) -> int:
        return self.report["stats"]["localhost"]["changed"]

    def changed_tasks(self) -> list:
        return [_short(task["task"]["name"]) for play in self.report["plays"] for task in play["tasks"]
                if task["hosts"].get("localhost", {}).get("changed")]

    def task_result(self, name: str) -> dict:
        for play in self.report["plays"]:
            for task in play["tasks"]:
                if _short(task["task"]["name"]) == name:
                    return task["hosts"]["localhost"]
        raise KeyError(name)


class Sandbox:
    """Runs the role on two fresh names (Obot and MCP namespace) and reads the cluster."""

    def __init__(self, tmp_path: Path, plane, dynamic):
        suffix = uuid.uuid4().hex[:8]
        self.obot_namespace = f"sbx-obot-{suffix}"
        self.mcp_namespace = f"sbx-mcp-{suffix}"
        self.cluster_rbac_name = f"obot-namespace-reader-{self.obot_namespace}"
        self.tmp_path, self.plane, self.dynamic = tmp_path, plane, dynamic
        self.playbook = tmp_path / "converge.yml"
        self.playbook.write_text(PLAYBOOK)
        self.runs = 0

    def run(self, extra_vars: dict | None = None, *args: str, json_output: bool = True) -> RoleRun:
        self.runs += 1
        settings = dict(BASE_VARS, obot_namespace=self.obot_namespace, obot_mcp_namespace=self.mcp_namespace,
                        ansible_python_interpreter=str(VENV_BIN / "python"))
        settings.update(extra_vars or {})
        vars_file = self.tmp_path / f"vars{self.runs}.json"
        vars_file.write_text(json.dumps(settings))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"),
                   ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                   **self.plane.env())
        if json_output:
            env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        command = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                   "-e", f"@{vars_file}", *args, str(self.playbook)]
        proc = subprocess.run(command, cwd=self.tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False)
        vars_file.unlink()
        return RoleRun(proc, json_output)

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
