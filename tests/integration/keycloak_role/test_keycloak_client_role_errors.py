"""Role aiplatform.obot.obot_keycloak_client: no secret in -vvv --diff output, and one clear
error (naming the URL) with nothing written to obot-secret when Keycloak cannot be used."""

from __future__ import annotations

import re

import pytest

from testbed.keycloak import free_port
from testbed.secret_leaks import secret_leaks

pytestmark = [pytest.mark.keycloak, pytest.mark.cluster]


def fatal_errors(output: str) -> list:
    """Each failure report ("fatal: ..." up to the next task or the recap; -vvv spreads it over lines)."""
    return re.findall(r"^fatal: .*?(?=^TASK \[|^PLAY RECAP|^NO MORE HOSTS|\Z)", output, flags=re.MULTILINE | re.DOTALL)


def test_verbose_diff_output_holds_no_client_secret_or_admin_password(converge, obot_secret, admin_api, keycloak, realm):
    created = converge(None, "-vvv", "--diff", json_output=False)
    assert created.returncode == 0, created.output
    assert "redirectUris" in created.output  # the client's diff was shown
    generated = obot_secret.client_secret()
    assert generated == admin_api.secret(realm, admin_api.client(realm)["id"])

    changed = converge({"obot_subdomain": "chat"}, "-vvv", "--diff", json_output=False)
    assert changed.returncode == 0, changed.output
    assert "https://chat.example.test/oauth2/callback" in changed.output

    given = "given-secret-" + realm
    enforced = converge({"obot_keycloak_client_secret": given}, "-vvv", "--diff", json_output=False)
    assert enforced.returncode == 0, enforced.output
    assert obot_secret.client_secret() == given

    secrets = {"generated client secret": generated, "given client secret": given, "admin password": keycloak.admin_password}
    for run in (created, changed, enforced):
        assert "ESTABLISH LOCAL CONNECTION" in run.output  # really -vvv
        assert secret_leaks(run.output, secrets) == []


def test_wrong_admin_password_is_one_clear_error_and_writes_nothing(converge, obot_secret, proxy, keycloak, realm):
    assert converge().returncode == 0
    version = obot_secret.resource_version()
    wrong = "wrong-password-" + realm

    proxy.reset()
    run = converge({"obot_keycloak_admin_password": wrong, "obot_subdomain": "chat"}, "-vvv", json_output=False)
    assert run.returncode != 0
    errors = fatal_errors(run.output)
    assert len(errors) == 1, run.output
    assert f"Keycloak at {proxy.url} refused the admin login of user '{keycloak.admin_user}'" in errors[0]
    assert "obot_keycloak_admin_password" in errors[0]
    assert secret_leaks(run.output, {"wrong password": wrong, "admin password": keycloak.admin_password}) == []
    assert proxy.admin_writes() == {}
    assert obot_secret.resource_version() == version


def test_unreachable_keycloak_is_one_clear_error_and_writes_nothing(converge, obot_secret, keycloak, realm):
    url = f"http://127.0.0.1:{free_port()}"
    run = converge({"obot_keycloak_admin_url": url}, json_output=False)
    assert run.returncode != 0
    errors = fatal_errors(run.output)
    assert len(errors) == 1, run.output
    assert f"Cannot reach Keycloak at {url}" in errors[0]
    assert f"realm '{realm}'" in errors[0]
    assert keycloak.admin_password not in run.output
    assert obot_secret.get() is None
