"""Fixtures for the Keycloak integration tests: one real Keycloak per session (a failure to
start fails the tests), a request-counting proxy in front of it, playbook and Admin API helpers."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from testbed.keycloak import OBOT_HOST as HOST
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


class PlaybookRun:
    def __init__(self, proc, result):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.result = result  # the registered module result (None when the task failed)

    @property
    def changed(self):
        return self.result["changed"]


@pytest.fixture
def run_module(tmp_path, keycloak, proxy):
    """Run the module once through ansible-playbook; module args default to the Obot client
    via the counting proxy. Returns a PlaybookRun."""
    counter = [0]

    def run(check=False, diff=False, verbose=False, task_no_log=False, **args):
        counter[0] += 1
        module_args = {
            "auth_keycloak_url": proxy.url,
            "auth_username": keycloak.admin_user,
            "auth_password": keycloak.admin_password,
            "client_id": "obot",
            "redirect_uris": [f"https://{HOST}/*", f"https://{HOST}/oauth2/callback"],
            "post_logout_redirect_uris": [f"https://{HOST}/*"],
            "web_origins": [f"https://{HOST}"],
        }
        module_args.update(args)
        out_file = tmp_path / f"result-{counter[0]}.json"
        play = [{
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {"name": "ensure the OIDC client", MODULE: module_args, "register": "result", "no_log": task_no_log},
                # Hand the result to the test without printing it (it may hold the generated secret).
                {"name": "save result", "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": str(out_file),
                                                                 "mode": "0600"},
                 "no_log": True, "check_mode": False, "diff": False},
            ],
        }]
        playbook = tmp_path / f"play-{counter[0]}.yml"
        playbook.write_text(json.dumps(play))
        cmd = [os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={os.path.join(VENV_BIN, 'python')}", str(playbook)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbose:
            cmd.append("-vvv")
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_RETRY_FILES_ENABLED="0")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300, check=False)
        result = json.loads(out_file.read_text()) if out_file.exists() else None
        return PlaybookRun(proc, result)

    return run
