"""Fixtures for the obot_keycloak_client role tests: the real Keycloak, its request-counting
proxy and Admin API reader from tests/integration/keycloak, the local control plane
(``kube_cluster``), a fresh namespace per test and a runner that converges the role."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from testbed.playbook import PlaybookRun, run_playbook, write_role_playbook

SECRET_KEY = "OBOT_KEYCLOAK_AUTH_PROVIDER_CLIENT_SECRET"


class RoleRunner:
    """Converges a role with settings for one namespace and one realm, through the counting proxy."""

    def __init__(self, tmp_path: Path, namespace: str, realm_name: str, server, counting_proxy):
        self.tmp_path, self.namespace, self.realm = tmp_path, namespace, realm_name
        self.base_vars = {
            "cloudflare_domain": "example.test",
            "keycloak_enabled": True,
            "obot_keycloak_enabled": True,
            "keycloak_realm": realm_name,
            "obot_keycloak_realm_create": True,
            "obot_keycloak_admin_url": counting_proxy.url,
            "obot_keycloak_admin_username": server.admin_user,
            "obot_keycloak_admin_password": server.admin_password,
            "obot_keycloak_cookie_secret": "c" * 32,
            "obot_encryption_key": "5f" * 32,  # the preflight requires one
            "obot_namespace": namespace,
        }

    def __call__(self, extra_vars: dict | None = None, *args: str, role: str = "obot_keycloak_client",
                 json_output: bool = True) -> PlaybookRun:
        playbook = write_role_playbook(self.tmp_path / f"converge-{role}.yml", role)
        settings = dict(self.base_vars, **(extra_vars or {}))
        return run_playbook(playbook, *args, cwd=self.tmp_path, extra_vars=settings, json_output=json_output)


class SecretReader:
    """Reads Secret obot-secret of one namespace."""

    def __init__(self, api_client, namespace: str):
        from kubernetes import client  # pylint: disable=import-outside-toplevel

        self.core = client.CoreV1Api(api_client)
        self.namespace = namespace

    def get(self) -> dict | None:
        from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel

        try:
            return self.core.read_namespaced_secret("obot-secret", self.namespace).to_dict()
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def resource_version(self) -> str | None:
        secret = self.get()
        return secret["metadata"]["resource_version"] if secret else None

    def data(self) -> dict:
        secret = self.get() or {}
        return {key: base64.b64decode(value).decode() for key, value in (secret.get("data") or {}).items()}

    def client_secret(self) -> str | None:
        return self.data().get(SECRET_KEY)


@pytest.fixture(name="namespace")
def fixture_namespace(kube_cluster, kube_api):  # pylint: disable=unused-argument
    """A fresh namespace on the local control plane, deleted afterwards."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    core = client.CoreV1Api(kube_api)
    name = f"kc-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture(name="obot_secret")
def fixture_obot_secret(kube_api, namespace):
    return SecretReader(kube_api, namespace)


@pytest.fixture(name="converge")
def fixture_converge(tmp_path, namespace, realm, keycloak, proxy):  # pylint: disable=redefined-outer-name
    return RoleRunner(tmp_path, namespace, realm, keycloak, proxy)
