"""keycloak_oidc_client against a real Keycloak: create, idempotence without writes, one
changed field, check mode, enforced secret, removal."""

from __future__ import annotations

import pytest

from testbed.keycloak import OBOT_HOST as HOST

pytestmark = pytest.mark.keycloak


def test_converge_twice_second_run_sends_no_write(run_module, admin_api, proxy, realm):
    first = run_module(realm=realm, realm_create=True)
    assert first.rc == 0, first.output
    assert first.changed

    client = admin_api.client(realm)
    assert client is not None
    assert client["publicClient"] is False
    assert client["clientAuthenticatorType"] == "client-secret"
    assert client["standardFlowEnabled"] is True
    assert client["implicitFlowEnabled"] is False
    assert client["directAccessGrantsEnabled"] is False
    assert client["serviceAccountsEnabled"] is False
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["attributes"]["post.logout.redirect.uris"] == f"https://{HOST}/*"
    assert sorted(client["redirectUris"]) == [f"https://{HOST}/*", f"https://{HOST}/oauth2/callback"]
    assert client["webOrigins"] == [f"https://{HOST}"]
    assert {"profile", "email", "offline_access", "groups"} <= set(admin_api.default_scopes(realm, client["id"]))
    mappers = {m["name"]: m for m in client["protocolMappers"]}
    assert mappers["groups"]["protocolMapper"] == "oidc-group-membership-mapper"
    assert mappers["groups"]["config"]["claim.name"] == "groups"
    assert mappers["groups"]["config"]["full.path"] == "false"
    assert mappers["realm roles"]["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
    assert mappers["realm roles"]["config"]["claim.name"] == "roles"
    scopes = {s["name"]: s for s in admin_api.get(f"/admin/realms/{realm}/client-scopes")}
    assert scopes["groups"]["protocol"] == "openid-connect"
    # No secret given: Keycloak generated one and the module returned it.
    assert first.result["client_secret"] == admin_api.secret(realm, client["id"])

    proxy.reset()
    second = run_module(realm=realm, realm_create=True)
    assert second.rc == 0, second.output
    assert second.changed is False
    assert second.result["changes"] == []
    assert proxy.admin_writes() == {}
    assert any(k.startswith("GET /admin/realms/") for k in proxy.counts), "the run did not go through the proxy"
    assert second.result["client_secret"] == first.result["client_secret"]


def test_changing_one_redirect_uri_changes_only_that(run_module, admin_api, proxy, realm):
    assert run_module(realm=realm, realm_create=True).rc == 0
    before = admin_api.client(realm)
    secret_before = admin_api.secret(realm, before["id"])

    proxy.reset()
    new_uris = [f"https://{HOST}/*", f"https://{HOST}/auth/callback"]
    run = run_module(realm=realm, redirect_uris=new_uris, diff=True)
    assert run.rc == 0, run.output
    assert run.changed
    assert run.result["changes"] == ["client redirectUris"]
    diff = run.result["diff"]
    assert [k for k in diff["after"] if diff["after"][k] != diff["before"].get(k)] == ["redirectUris"]
    assert list(proxy.admin_writes()) == [f"PUT /admin/realms/{realm}/clients/{before['id']}"]

    after = admin_api.client(realm)
    assert sorted(after["redirectUris"]) == sorted(new_uris)
    for field in ("webOrigins", "standardFlowEnabled", "directAccessGrantsEnabled", "publicClient"):
        assert after[field] == before[field]
    assert after["attributes"]["pkce.code.challenge.method"] == "S256"
    assert admin_api.secret(realm, after["id"]) == secret_before
    assert {m["name"] for m in after["protocolMappers"]} == {m["name"] for m in before["protocolMappers"]}


def test_check_mode_changes_nothing(run_module, admin_api, proxy, realm):
    proxy.reset()
    run = run_module(realm=realm, realm_create=True, check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.changed
    assert f"realm {realm} created" in run.result["changes"]
    assert "client_secret" not in run.result
    assert proxy.admin_writes() == {}
    assert admin_api.get(f"/admin/realms/{realm}") is None

    assert run_module(realm=realm, realm_create=True).rc == 0
    before = admin_api.client(realm)
    proxy.reset()
    run = run_module(realm=realm, client_id="obot-check", check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.changed
    assert run.result["changes"][0] == "client created"
    assert "default scope offline_access added" in run.result["changes"]
    assert "basic" in run.result["diff"]["after"]["defaultClientScopes"]  # predicted from the realm's defaults
    assert proxy.admin_writes() == {}
    assert admin_api.client(realm, "obot-check") is None

    run = run_module(realm=realm, web_origins=["https://other.example.test"], check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.changed
    assert run.result["changes"] == ["client webOrigins"]
    assert run.result["diff"]["after"]["webOrigins"] == ["https://other.example.test"]
    assert proxy.admin_writes() == {}
    assert admin_api.client(realm)["webOrigins"] == before["webOrigins"]


def test_given_secret_is_enforced_and_masked(run_module, admin_api, proxy, realm):
    secret = "given-secret-" + realm
    run = run_module(realm=realm, realm_create=True, client_secret=secret, diff=True)
    assert run.rc == 0, run.output
    client = admin_api.client(realm)
    assert admin_api.secret(realm, client["id"]) == secret
    assert "client_secret" not in run.result

    proxy.reset()
    again = run_module(realm=realm, client_secret=secret)
    assert again.changed is False
    assert proxy.admin_writes() == {}

    rotated = "rotated-secret-" + realm
    run = run_module(realm=realm, client_secret=rotated, diff=True)
    assert run.changed
    assert run.result["changes"] == ["client secret"]
    assert run.result["diff"]["before"]["secret"] == "********"
    assert run.result["diff"]["after"]["secret"] == "******** (changed)"
    assert admin_api.secret(realm, client["id"]) == rotated
    assert rotated not in run.output and secret not in run.output


def test_missing_realm_without_realm_create_fails(run_module, admin_api, realm):
    run = run_module(realm=realm)
    assert run.rc != 0
    assert f"Realm '{realm}' does not exist" in run.output
    assert "realm_create" in run.output
    assert admin_api.get(f"/admin/realms/{realm}") is None


def test_state_absent_removes_the_client(run_module, admin_api, proxy, realm):
    assert run_module(realm=realm, realm_create=True).rc == 0
    run = run_module(realm=realm, state="absent")
    assert run.rc == 0, run.output
    assert run.changed
    assert admin_api.client(realm) is None
    proxy.reset()
    again = run_module(realm=realm, state="absent")
    assert again.changed is False
    assert proxy.admin_writes() == {}
