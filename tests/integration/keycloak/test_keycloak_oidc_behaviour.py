"""The client the module creates behaves as Obot needs: the issuer follows the derived-issuer
rule, PKCE S256 is required, and only the registered redirect URIs are accepted."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
import urllib.request

import pytest

from testbed.keycloak import OBOT_HOST as HOST
from testbed.keycloak import authorization_request

pytestmark = pytest.mark.keycloak

CALLBACK = f"https://{HOST}/oauth2/callback"


@pytest.fixture
def obot_realm(run_module, realm):
    run = run_module(realm=realm, realm_create=True)
    assert run.rc == 0, run.output
    return realm


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def redirect_error(location):
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    return query.get("error", [None])[0], query.get("error_description", [""])[0]


def test_discovery_issuer_is_base_url_plus_realm(keycloak, obot_realm):
    # Derived-issuer rule (DESIGN §3): obot_keycloak_issuer_url = <base_url>/realms/<realm>.
    with urllib.request.urlopen(f"{keycloak.url}/realms/{obot_realm}/.well-known/openid-configuration", timeout=30) as resp:
        discovery = json.load(resp)
    assert discovery["issuer"] == f"http://127.0.0.1:{keycloak.http_port}/realms/{obot_realm}"
    assert "S256" in discovery["code_challenge_methods_supported"]


def test_authorization_without_pkce_is_refused(keycloak, obot_realm):
    status, location, dummy = authorization_request(keycloak.url, obot_realm, CALLBACK)
    assert status == 302
    assert location.startswith(CALLBACK)
    error, description = redirect_error(location)
    assert error == "invalid_request"
    assert "code_challenge" in description


def test_authorization_with_plain_pkce_is_refused(keycloak, obot_realm):
    dummy, challenge = pkce_pair()
    status, location, dummy = authorization_request(keycloak.url, obot_realm, CALLBACK,
                                                    code_challenge=challenge, code_challenge_method="plain")
    assert status == 302
    assert redirect_error(location)[0] == "invalid_request"


def test_authorization_with_s256_pkce_shows_the_login_page(keycloak, obot_realm):
    dummy, challenge = pkce_pair()
    status, location, body = authorization_request(keycloak.url, obot_realm, CALLBACK,
                                                   code_challenge=challenge, code_challenge_method="S256")
    assert status == 200, location
    assert 'id="kc-form-login"' in body or "kc-login" in body


def test_wrong_redirect_uri_is_refused(keycloak, obot_realm):
    dummy, challenge = pkce_pair()
    status, location, body = authorization_request(keycloak.url, obot_realm, "https://evil.example.test/oauth2/callback",
                                                   code_challenge=challenge, code_challenge_method="S256")
    assert status == 400
    assert location is None
    assert "Invalid parameter: redirect_uri" in body
