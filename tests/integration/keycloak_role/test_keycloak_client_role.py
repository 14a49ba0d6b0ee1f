"""Role aiplatform.obot.obot_keycloak_client against a real Keycloak and the local control
plane: idempotent converge, the secret handed over in obot-secret, a given secret enforced,
a redirect change touching only the client, and living together with obot_app."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.keycloak, pytest.mark.cluster]
SECRET_KEY = "OBOT_KEYCLOAK_AUTH_PROVIDER_CLIENT_SECRET"  # the key obot_app's server reads


def test_converges_twice_and_hands_the_generated_secret_to_obot_secret(converge, obot_secret, admin_api, proxy, realm):
    first = converge()
    assert first.returncode == 0, first.output
    assert first.changed > 0
    assert "Store the client secret in Secret obot-secret" in first.changed_tasks()
    client = admin_api.client(realm)
    assert client is not None and client["redirectUris"]
    held_by_keycloak = admin_api.secret(realm, client["id"])
    assert obot_secret.client_secret() == held_by_keycloak
    assert set(obot_secret.data()) == {SECRET_KEY}
    version = obot_secret.resource_version()

    proxy.reset()
    second = converge()
    assert second.returncode == 0, second.output
    assert second.changed == 0, second.changed_tasks()
    assert proxy.admin_writes() == {}
    assert obot_secret.resource_version() == version
    assert admin_api.secret(realm, client["id"]) == held_by_keycloak

    # Check mode with diff tells the truth about a converged client: nothing to do.
    proxy.reset()
    check = converge(None, "--check", "--diff")
    assert check.returncode == 0, check.output
    assert check.changed == 0, check.changed_tasks()
    assert proxy.admin_writes() == {}
    assert obot_secret.resource_version() == version


def test_check_mode_on_a_fresh_realm_reports_changes_and_writes_nothing(converge, obot_secret, admin_api, proxy, realm):
    proxy.reset()
    run = converge(None, "--check", "--diff")
    assert run.returncode == 0, run.output
    assert run.changed_tasks() == [f"Ensure the OIDC client in Keycloak at {proxy.url}"]
    assert proxy.admin_writes() == {}
    assert admin_api.get(f"/admin/realms/{realm}") is None
    assert obot_secret.get() is None


def test_client_urls_follow_the_derived_host(converge, admin_api, realm):
    run = converge({"obot_subdomain": "chat"})
    assert run.returncode == 0, run.output
    client = admin_api.client(realm)
    assert sorted(client["redirectUris"]) == ["https://chat.example.test/*", "https://chat.example.test/oauth2/callback"]
    assert client["webOrigins"] == ["https://chat.example.test"]
    assert client["attributes"]["post.logout.redirect.uris"] == "https://chat.example.test/*"
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["publicClient"] is False and client["standardFlowEnabled"] is True
    assert client["implicitFlowEnabled"] is False and client["directAccessGrantsEnabled"] is False


def test_given_secret_is_enforced_in_keycloak_and_obot_secret(converge, obot_secret, admin_api, proxy, realm):
    generated = converge()
    assert generated.returncode == 0, generated.output
    uuid = admin_api.client(realm)["id"]
    assert obot_secret.client_secret() == admin_api.secret(realm, uuid)

    given = "given-secret-" + realm
    run = converge({"obot_keycloak_client_secret": given})
    assert run.returncode == 0, run.output
    assert admin_api.secret(realm, uuid) == given
    assert obot_secret.client_secret() == given
    version = obot_secret.resource_version()

    proxy.reset()
    again = converge({"obot_keycloak_client_secret": given})
    assert again.returncode == 0, again.output
    assert again.changed == 0, again.changed_tasks()
    assert proxy.admin_writes() == {}
    assert obot_secret.resource_version() == version


def test_changing_the_subdomain_changes_only_the_client(converge, obot_secret, admin_api, proxy, realm):
    assert converge().returncode == 0
    client = admin_api.client(realm)
    held = admin_api.secret(realm, client["id"])
    version = obot_secret.resource_version()

    proxy.reset()
    run = converge({"obot_subdomain": "chat"})
    assert run.returncode == 0, run.output
    assert run.changed_tasks() == [f"Ensure the OIDC client in Keycloak at {proxy.url}"]
    assert proxy.admin_writes() == {f"PUT /admin/realms/{realm}/clients/{client['id']}": 1}
    assert admin_api.client(realm)["redirectUris"] != client["redirectUris"]
    assert admin_api.secret(realm, client["id"]) == held
    assert obot_secret.resource_version() == version
    assert obot_secret.client_secret() == held


def test_nothing_happens_unless_obot_keycloak_is_enabled(converge, obot_secret, admin_api, proxy, realm):
    proxy.reset()
    run = converge({"obot_keycloak_enabled": False})
    assert run.returncode == 0, run.output
    assert run.changed == 0
    assert not proxy.counts  # not even a read
    assert obot_secret.get() is None
    assert admin_api.get(f"/admin/realms/{realm}") is None


def test_client_is_left_alone_without_admin_credentials(converge, obot_secret, admin_api, proxy, realm):
    # The preflight allows this when the secret is given: the client is managed outside.
    proxy.reset()
    run = converge({"obot_keycloak_admin_username": "", "obot_keycloak_admin_password": "",
                    "obot_keycloak_client_secret": "given-secret-" + realm})
    assert run.returncode == 0, run.output
    assert run.changed == 0
    assert not proxy.counts
    assert obot_secret.get() is None  # obot_app writes the given secret itself
    assert admin_api.get(f"/admin/realms/{realm}") is None


def test_keeps_what_obot_app_wrote_and_obot_app_keeps_the_secret(converge, obot_secret, admin_api, proxy, realm):
    app_vars = {"obot_db_password": "db-password-" + realm, "obot_app_wait": False,
                "obot_ingress_kind": "none"}
    assert converge(app_vars).returncode == 0
    app = converge(app_vars, role="obot_app")
    assert app.returncode == 0, app.output
    held = admin_api.secret(realm, admin_api.client(realm)["id"])
    app_keys = obot_secret.data()
    assert app_keys[SECRET_KEY] == held  # obot_app kept it
    assert "OBOT_SERVER_DSN" in app_keys
    labels = obot_secret.get()["metadata"]["labels"]
    version = obot_secret.resource_version()

    # As in site.yml: the Keycloak role runs before obot_app on every converge.
    proxy.reset()
    again = converge(app_vars)
    assert again.returncode == 0, again.output
    assert again.changed == 0, again.changed_tasks()
    assert proxy.admin_writes() == {}
    assert obot_secret.resource_version() == version
    assert obot_secret.data() == app_keys
    assert obot_secret.get()["metadata"]["labels"] == labels

    app_again = converge(app_vars, role="obot_app")
    assert app_again.returncode == 0, app_again.output
    assert obot_secret.resource_version() == version
