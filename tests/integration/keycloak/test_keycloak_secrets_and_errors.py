"""No secret in verbose/diff output; clear errors for an unreachable server or a wrong admin
password, with nothing created; admin token renewal."""

from __future__ import annotations

import pytest

from ansible_collections.aiplatform.obot.plugins.module_utils.keycloak import KeycloakAdmin, KeycloakError
from testbed.keycloak import free_port

pytestmark = pytest.mark.keycloak


def test_verbose_diff_output_holds_no_given_secret_or_admin_password(run_module, keycloak, admin_api, realm):
    secret = "s3cret-given-" + realm
    for client_secret in (secret, secret + "-rotated"):
        run = run_module(realm=realm, realm_create=True, client_secret=client_secret, verbose=True, diff=True)
        assert run.rc == 0, run.output
        assert run.changed
        assert "<ESTABLISH LOCAL CONNECTION" in run.output or "ESTABLISH LOCAL CONNECTION" in run.output
        assert "redirectUris" in run.output  # the diff was printed
        assert client_secret not in run.output
        assert secret not in run.output
        assert keycloak.admin_password not in run.output
    assert admin_api.secret(realm, admin_api.client(realm)["id"]) == secret + "-rotated"


def test_verbose_diff_output_holds_no_generated_secret_with_task_no_log(run_module, keycloak, admin_api, realm):
    # Documented use: a generated secret is registered from a task with no_log: true.
    run = run_module(realm=realm, realm_create=True, task_no_log=True, verbose=True, diff=True)
    assert run.rc == 0, run.output
    generated = admin_api.secret(realm, admin_api.client(realm)["id"])
    assert run.result["client_secret"] == generated  # still handed on through the registered variable
    assert generated not in run.output
    assert keycloak.admin_password not in run.output


def test_wrong_admin_password_is_one_clear_error_and_creates_nothing(run_module, keycloak, admin_api, proxy, realm):
    wrong = "wrong-password-" + realm
    proxy.reset()
    run = run_module(realm=realm, realm_create=True, auth_password=wrong, verbose=True)
    assert run.rc != 0
    assert f"Keycloak at {proxy.url} refused the admin login of user 'admin' in realm 'master'" in run.output
    assert "auth_password" in run.output
    assert wrong not in run.output
    assert proxy.admin_writes() == {}
    assert admin_api.get(f"/admin/realms/{realm}") is None


def test_unreachable_keycloak_is_one_clear_error(run_module, keycloak, realm):
    url = f"http://127.0.0.1:{free_port()}"
    run = run_module(realm=realm, realm_create=True, auth_keycloak_url=url)
    assert run.rc != 0
    assert f"Cannot reach Keycloak at {url}" in run.output
    assert "auth_keycloak_url" in run.output
    assert keycloak.admin_password not in run.output


def test_admin_client_renews_expired_and_rejected_tokens(keycloak):
    admin = KeycloakAdmin(keycloak.url, keycloak.admin_user, keycloak.admin_password)
    assert admin.get("/admin/realms/master")["realm"] == "master"
    admin._token_expires = 0  # as if the 60-second token had expired
    assert admin.get("/admin/realms/master")["realm"] == "master"
    admin._token = "not-a-valid-token"  # looks current, but Keycloak answers 401: log in again
    admin._token_expires = float("inf")
    assert admin.get("/admin/realms/master")["realm"] == "master"
    assert admin._token != "not-a-valid-token"


def test_admin_client_error_names_the_call_and_url(keycloak):
    admin = KeycloakAdmin(keycloak.url, keycloak.admin_user, keycloak.admin_password)
    with pytest.raises(KeycloakError) as err:
        admin.put("/admin/realms/does-not-exist", {"realm": "does-not-exist"})
    message = str(err.value)
    assert "PUT /admin/realms/does-not-exist" in message
    assert keycloak.url in message
    assert keycloak.admin_password not in message
