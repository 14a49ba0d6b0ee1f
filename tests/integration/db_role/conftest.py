"""Fixtures for the obot_db role tests: a fresh namespace per test on the local control plane
(fixture ``kube_cluster``) and a runner that converges the role with ansible-playbook."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
VENV_PYTHON = REPO / ".cache" / "venv" / "bin" / "python"
PLAYBOOK = """\
- name: Converge obot_db
  hosts: localhost
  gather_facts: false
  roles:
    - role: aiplatform.obot.obot_db
"""
# Settings every run needs; obot_db_wait is false because no CloudNativePG operator runs here.
BASE_VARS = {
    "cloudflare_domain": "example.com",
    "obot_encryption_key": base64.b64encode(b"k" * 32).decode(),
    "obot_db_wait": False,
}
# The CRs the role may create, as (group, version, plural).
CUSTOM_KINDS = {
    "Cluster": ("postgresql.cnpg.io", "v1", "clusters"),
    "Database": ("postgresql.cnpg.io", "v1", "databases"),
    "ScheduledBackup": ("postgresql.cnpg.io", "v1", "scheduledbackups"),
    "ObjectStore": ("barmancloud.cnpg.io", "v1", "objectstores"),
    "PodMonitor": ("monitoring.coreos.com", "v1", "podmonitors"),
}


class RoleRun:
    """The outcome of one ansible-playbook run."""

    def __init__(self, proc: subprocess.CompletedProcess, json_output: bool):
        self.returncode = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.report = json.loads(proc.stdout) if json_output and proc.stdout.strip().startswith("{") else None

    @property
    def changed(self) -> int:
        return self.report["stats"]["localhost"]["changed"]

    @property
    def failed(self) -> int:
        stats = self.report["stats"]["localhost"]
        return stats["failures"] + stats["unreachable"]

    def changed_tasks(self) -> list:
        return [task["task"]["name"] for play in self.report["plays"] for task in play["tasks"]
                if task["hosts"].get("localhost", {}).get("changed")]


class RoleRunner:
    """Runs the role against one namespace with the given settings."""

    def __init__(self, tmp_path: Path, namespace: str):
        self.tmp_path, self.namespace = tmp_path, namespace
        self.playbook = tmp_path / "converge.yml"
        self.playbook.write_text(PLAYBOOK)
        self.runs = 0

    def __call__(self, extra_vars: dict | None = None, *args: str, json_output: bool = True) -> RoleRun:
        self.runs += 1
        settings = dict(BASE_VARS, obot_namespace=self.namespace, ansible_python_interpreter=str(VENV_PYTHON))
        settings.update(extra_vars or {})
        vars_file = self.tmp_path / f"vars{self.runs}.json"
        vars_file.write_text(json.dumps(settings))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"),
                   ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        if json_output:
            env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        command = [str(VENV_PYTHON.parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                   "-e", f"@{vars_file}", *args, str(self.playbook)]
        proc = subprocess.run(command, cwd=self.tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
        return RoleRun(proc, json_output)


class Namespace:
    """Reads what the role left in one namespace."""

    def __init__(self, api_client, name: str):
        from kubernetes import client  # pylint: disable=import-outside-toplevel

        self.name = name
        self.core = client.CoreV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)

    def secret(self, name: str):
        from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel

        try:
            return self.core.read_namespaced_secret(name, self.name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def secret_value(self, name: str, key: str) -> str:
        return base64.b64decode(self.secret(name).data[key]).decode()

    def custom_objects(self, kind: str) -> list:
        group, version, plural = CUSTOM_KINDS[kind]
        return self.custom.list_namespaced_custom_object(group, version, self.name, plural)["items"]

    def custom_object(self, kind: str, name: str) -> dict | None:
        return next((item for item in self.custom_objects(kind) if item["metadata"]["name"] == name), None)

    def resource_versions(self) -> dict:
        """kind/name -> resourceVersion of every Secret and custom resource in the namespace."""
        versions = {f"Secret/{item.metadata.name}": item.metadata.resource_version
                    for item in self.core.list_namespaced_secret(self.name).items}
        for kind in CUSTOM_KINDS:
            versions.update({f"{kind}/{item['metadata']['name']}": item["metadata"]["resourceVersion"]
                             for item in self.custom_objects(kind)})
        return versions


@pytest.fixture
def namespace(kube_cluster, kube_api):
    """A fresh namespace, deleted after the test."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    name = "dbrole-" + uuid.uuid4().hex[:8]
    core = client.CoreV1Api(kube_api)
    core.create_namespace({"metadata": {"name": name}})
    yield Namespace(kube_api, name)
    core.delete_namespace(name)


@pytest.fixture
def run_role(tmp_path, namespace):
    return RoleRunner(tmp_path, namespace.name)


@pytest.fixture
def fresh(kube_cluster, kube_api, tmp_path):
    """A runner for a namespace that does not exist yet (the role creates it), deleted after the test."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel

    name = "dbfresh-" + uuid.uuid4().hex[:8]
    yield RoleRunner(tmp_path, name), Namespace(kube_api, name)
    try:
        client.CoreV1Api(kube_api).delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise
