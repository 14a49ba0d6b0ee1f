"""Fixtures for the obot_db role tests: a fresh namespace per test on the local control plane
(fixture ``kube_cluster``) and a runner that converges the role with ansible-playbook."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from testbed.playbook import PlaybookRun, run_playbook, write_role_playbook

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


class RoleRunner:
    """Runs the role against one namespace with the given settings."""

    def __init__(self, tmp_path: Path, namespace: str):
        self.tmp_path, self.namespace = tmp_path, namespace
        self.playbook = write_role_playbook(tmp_path / "converge.yml", "obot_db")

    def __call__(self, extra_vars: dict | None = None, *args: str, json_output: bool = True) -> PlaybookRun:
        settings = dict(BASE_VARS, obot_namespace=self.namespace)
        settings.update(extra_vars or {})
        return run_playbook(self.playbook, *args, cwd=self.tmp_path, extra_vars=settings, json_output=json_output, timeout=600)


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
