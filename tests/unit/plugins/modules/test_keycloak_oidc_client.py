"""Unit tests of the normalisation and comparison logic behind keycloak_oidc_client (pure functions),
plus the admin client's connection error (against a closed local port)."""

from __future__ import annotations

import copy
import socket

import pytest

from ansible_collections.aiplatform.obot.plugins.module_utils.keycloak import (
    MASK,
    KeycloakAdmin,
    KeycloakError,
    client_differences,
    client_view,
    desired_client,
    desired_mappers,
    mapper_changes,
    normalise,
    normalise_attributes,
    scope_changes,
)
from ansible_collections.aiplatform.obot.plugins.modules.keycloak_oidc_client import argument_spec

HOST = "https://obot.example.test"


def params(**overrides):
    base = {name: spec.get("default") for name, spec in argument_spec().items()}
    base.update(realm="demo", client_id="obot", redirect_uris=[f"{HOST}/*", f"{HOST}/oauth2/callback"],
                post_logout_redirect_uris=[f"{HOST}/*", f"{HOST}/bye"], web_origins=[HOST])
    base.update(overrides)
    return base


def server_copy(desired):
    """What Keycloak returns for ``desired``: real booleans, reordered lists, extra fields."""
    rep = copy.deepcopy(desired)
    rep["redirectUris"] = list(reversed(rep["redirectUris"]))
    rep["attributes"]["post.logout.redirect.uris"] = "##".join(reversed(rep["attributes"]["post.logout.redirect.uris"].split("##")))
    rep["attributes"].update({"realm_client": "false", "client.secret.creation.time": "1796414097"})
    rep.update(id="2e7b2afd", secret="generated", notBefore=0, fullScopeAllowed=True, surrogateAuthRequired=False,
               access={"view": True}, defaultClientScopes=["profile"], protocolMappers=[])
    return rep


def test_normalise_turns_booleans_and_numbers_into_strings_and_sorts_lists():
    assert normalise({"a": True, "b": [3, 1, 2], "c": {"d": False}, "e": None}) == {
        "a": "true", "b": ["1", "2", "3"], "c": {"d": "false"}, "e": ""}


def test_normalise_attributes_keeps_managed_keys_and_splits_post_logout_uris():
    attributes = {"post.logout.redirect.uris": "https://b##https://a", "other": "x", "flag": True}
    assert normalise_attributes(attributes, ["post.logout.redirect.uris", "flag", "absent"]) == {
        "post.logout.redirect.uris": ["https://a", "https://b"], "flag": "true", "absent": ""}


def test_desired_client_is_confidential_standard_flow_only_with_pkce_s256():
    rep = desired_client(params())
    assert rep["publicClient"] is False
    assert rep["standardFlowEnabled"] is True
    assert rep["implicitFlowEnabled"] is False
    assert rep["directAccessGrantsEnabled"] is False
    assert rep["serviceAccountsEnabled"] is False
    assert rep["attributes"]["pkce.code.challenge.method"] == "S256"
    assert rep["attributes"]["post.logout.redirect.uris"] == f"{HOST}/*##{HOST}/bye"
    assert "secret" not in rep


def test_desired_client_leaves_unset_optional_fields_unmanaged():
    rep = desired_client(params(web_origins=None, post_logout_redirect_uris=None))
    assert "webOrigins" not in rep and "name" not in rep and "rootUrl" not in rep
    assert "post.logout.redirect.uris" not in rep["attributes"]


def test_server_representation_of_the_desired_client_has_no_differences():
    desired = desired_client(params())
    assert client_differences(server_copy(desired), desired) == []


def test_one_changed_redirect_uri_is_the_only_difference():
    desired = desired_client(params())
    current = server_copy(desired_client(params(redirect_uris=[f"{HOST}/*", f"{HOST}/old/callback"])))
    assert client_differences(current, desired) == ["redirectUris"]


@pytest.mark.parametrize("field, value, expected", [
    ("directAccessGrantsEnabled", True, "directAccessGrantsEnabled"),
    ("publicClient", True, "publicClient"),
    ("webOrigins", ["*"], "webOrigins"),
])
def test_changed_fields_are_reported(field, value, expected):
    desired = desired_client(params())
    current = server_copy(desired)
    current[field] = value
    assert client_differences(current, desired) == [expected]


def test_changed_or_missing_attributes_are_reported_by_name():
    desired = desired_client(params())
    current = server_copy(desired)
    current["attributes"]["pkce.code.challenge.method"] = "plain"
    del current["attributes"]["post.logout.redirect.uris"]
    assert client_differences(current, desired) == ["attributes.pkce.code.challenge.method",
                                                    "attributes.post.logout.redirect.uris"]


def test_mappers_missing_are_created_and_changed_ones_updated_keeping_ids():
    wanted = desired_mappers(params())
    groups = copy.deepcopy(wanted[0])
    groups.update(id="m1")
    groups["config"]["full.path"] = "true"
    groups["config"]["extra.server.key"] = "kept"
    unrelated = {"id": "m9", "name": "audience", "protocolMapper": "oidc-audience-mapper", "config": {}}
    to_create, to_update = mapper_changes([groups, unrelated], wanted)
    assert [m["name"] for m in to_create] == ["realm roles"]
    assert len(to_update) == 1
    assert to_update[0]["id"] == "m1"
    assert to_update[0]["config"]["full.path"] == "false"
    assert to_update[0]["config"]["extra.server.key"] == "kept"


def test_equal_mappers_with_boolean_config_need_no_change():
    wanted = desired_mappers(params())
    current = copy.deepcopy(wanted)
    for number, mapper in enumerate(current):
        mapper["id"] = f"m{number}"
        mapper["config"] = {k: (v == "true" if v in ("true", "false") else v) for k, v in mapper["config"].items()}
    assert mapper_changes(current, wanted) == ([], [])


def test_scope_changes_add_missing_defaults_and_unlink_optional_ones():
    add, unlink = scope_changes(["basic", "profile", "email", "acr"], ["offline_access", "phone"],
                                ["profile", "email", "offline_access", "groups"])
    assert add == ["groups", "offline_access"]
    assert unlink == ["offline_access"]
    assert scope_changes(["profile", "email", "offline_access", "groups", "basic"], [],
                         ["profile", "email", "offline_access", "groups"]) == ([], [])


def test_client_view_masks_the_secret_and_shows_managed_fields_only():
    desired = desired_client(params())
    view = client_view(server_copy(desired), desired, [], ["profile"], desired_mappers(params()), MASK)
    assert view["secret"] == MASK
    assert "generated" not in repr(view)
    assert "id" not in view and "notBefore" not in view
    assert view["defaultClientScopes"] == ["profile"]
    assert view["directAccessGrantsEnabled"] == "false"


def test_unreachable_server_error_names_the_url_and_hides_the_password():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there
    admin = KeycloakAdmin(f"http://127.0.0.1:{port}/", "admin", "pa55-word-not-shown", timeout=5)
    with pytest.raises(KeycloakError) as err:
        admin.get("/admin/realms/demo")
    assert f"Cannot reach Keycloak at http://127.0.0.1:{port} " in str(err.value)
    assert "pa55-word-not-shown" not in str(err.value)
