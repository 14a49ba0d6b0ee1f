"""Fixtures for the Keycloak module tests: a playbook runner for the module (the Keycloak
server, proxy and Admin API fixtures come from tests/integration/keycloak_fixtures.py)."""

from __future__ import annotations

import json

import pytest

from testbed.keycloak import OBOT_HOST as HOST
from testbed.playbook import run_playbook

MODULE = "aiplatform.obot.keycloak_oidc_client"


class ModuleRun:
    def __init__(self, run, result):
        self.rc = run.returncode
        self.output = run.output
        self.result = result  # the registered module result (None when the task failed)

    @property
    def changed(self):
        return self.result["changed"]


@pytest.fixture
def run_module(tmp_path, keycloak, proxy):
    """Run the module once through ansible-playbook; module args default to the Obot client
    via the counting proxy. Returns a ModuleRun."""
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
        playbook_run = run_playbook(playbook, cwd=tmp_path, check=check, diff=diff, verbosity=3 if verbose else 0,
                                    json_output=False, timeout=300)
        result = json.loads(out_file.read_text()) if out_file.exists() else None
        return ModuleRun(playbook_run, result)

    return run
