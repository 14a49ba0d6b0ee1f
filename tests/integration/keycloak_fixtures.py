"""Keycloak fixtures shared by the module and role tests (tests/integration/conftest.py
exposes them): one real Keycloak per session (a failure to start fails the tests), a
request-counting proxy in front of it and an Admin API reader."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid

import pytest

from testbed.keycloak import CountingProxy, KeycloakServer, KeycloakTestbedError, admin_token

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV_BIN = os.path.join(ROOT, ".cache", "venv", "bin")
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
MODULE = "aiplatform.obot.keycloak_oidc_client"


@pytest.fixture(scope="session")
def keycloak(tmp_path_factory):
    # KEYCLOAK_REUSE=1 reuses the server of `python -m testbed.keycloak up` (faster local iteration).
    reuse = os.environ.get("KEYCLOAK_REUSE") == "1"
    server = KeycloakServer(log_path=str(tmp_path_factory.mktemp("keycloak") / "keycloak.log"))
    try:
        server = KeycloakServer.attach() if reuse else server.start()
    except KeycloakTestbedError as exc:
        pytest.fail(f"Keycloak test server did not start: {exc}")
    yield server
    if not reuse:
        server.stop()


@pytest.fixture(scope="session")
def proxy(keycloak):
    counting = CountingProxy(keycloak.http_port)
    yield counting
    counting.close()


class AdminApi:
    """Independent Admin API reader for verifying what the module did (plain urllib)."""

    def __init__(self, server):
        self.server = server

    def get(self, path):
        """Parsed JSON of GET path, or None on 404."""
        token = admin_token(self.server.url, self.server.admin_user, self.server.admin_password)
        req = urllib.request.Request(self.server.url + path, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def client(self, realm, client_id="obot"):
        found = [c for c in self.get(f"/admin/realms/{realm}/clients?clientId={client_id}") or [] if c["clientId"] == client_id]
        return found[0] if found else None

    def default_scopes(self, realm, client_uuid):
        return sorted(s["name"] for s in self.get(f"/admin/realms/{realm}/clients/{client_uuid}/default-client-scopes"))

    def secret(self, realm, client_uuid):
        return self.get(f"/admin/realms/{realm}/clients/{client_uuid}/client-secret")["value"]


@pytest.fixture(scope="session")
def admin_api(keycloak):
    return AdminApi(keycloak)


@pytest.fixture
def realm():
    return "t-" + uuid.uuid4().hex[:10]
