"""Fixtures for the Keycloak module tests: a playbook runner for the module (the Keycloak
server, proxy and Admin API fixtures come from tests/integration/keycloak_fixtures.py)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from testbed.keycloak import OBOT_HOST as HOST

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV_BIN = os.path.join(ROOT, ".cache", "venv", "bin")
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
MODULE = "aiplatform.obot.keycloak_oidc_client"


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
