# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keycloak Admin REST API client and the OIDC client logic of aiplatform.obot.keycloak_oidc_client.

The client talks plain JSON over ansible's ``open_url`` (no ``requests`` dependency). The
functions below the client are pure (plain dicts in, plain dicts out) and unit-tested.
"""

from __future__ import annotations

import http.client
import json
import time
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url

MASK = "********"

# Options shared by every module that talks to the Keycloak Admin API (see doc fragment aiplatform.obot.keycloak).
KEYCLOAK_AUTH_ARGUMENT_SPEC = dict(
    auth_keycloak_url=dict(type="str", required=True, no_log=False),
    auth_realm=dict(type="str", default="master"),
    auth_client_id=dict(type="str", default="admin-cli"),
    auth_username=dict(type="str", required=True),
    auth_password=dict(type="str", required=True, no_log=True),
    validate_certs=dict(type="bool", default=True),
    connection_timeout=dict(type="int", default=30),
)


class KeycloakError(Exception):
    """A Keycloak call failed. The message names the call and the URL and never holds a secret."""


def _error_detail(body):
    """A short reason from a Keycloak error body (JSON ``errorMessage``/``error_description``)."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if isinstance(data, dict):
        for key in ("errorMessage", "error_description", "error"):
            if data.get(key):
                return str(data[key])[:300]
    return ""


class KeycloakAdmin:
    """Minimal Admin REST client: password-grant token from ``auth_realm``, renewed before it
    expires and once more on a 401."""

    def __init__(self, base_url, username, password, auth_realm="master", client_id="admin-cli",
                 validate_certs=True, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.auth_realm = auth_realm
        self.client_id = client_id
        self.validate_certs = validate_certs
        self.timeout = timeout
        self._token = None
        self._token_expires = 0.0
        # "METHOD path" of every Admin API call, in order (no bodies, so no secrets).
        self.calls = []

    @classmethod
    def from_module_params(cls, params):
        return cls(params["auth_keycloak_url"], params["auth_username"], params["auth_password"],
                   auth_realm=params["auth_realm"], client_id=params["auth_client_id"],
                   validate_certs=params["validate_certs"], timeout=params["connection_timeout"])

    # -- transport -------------------------------------------------------------------------

    def _open(self, method, url, data=None, headers=None):
        """Return (status, body bytes, response headers); HTTP errors come back as statuses."""
        try:
            resp = open_url(url, method=method, data=data, headers=headers or {}, validate_certs=self.validate_certs,
                            timeout=self.timeout, follow_redirects="none")
            return resp.getcode(), resp.read(), resp.headers
        except HTTPError as exc:
            body = exc.read() if exc.fp is not None else b""
            return exc.code, body, exc.headers
        except (URLError, SSLValidationError, UrlsConnectionError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise KeycloakError(f"Cannot reach Keycloak at {self.base_url} ({method} {url}): {reason}. "
                                "Check auth_keycloak_url and that Keycloak is running.") from None

    def login(self):
        token_url = f"{self.base_url}/realms/{quote(self.auth_realm, safe='')}/protocol/openid-connect/token"
        form = urlencode({"grant_type": "password", "client_id": self.client_id,
                          "username": self.username, "password": self._password})
        status, body, dummy = self._open("POST", token_url, data=form,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        if status in (400, 401):
            raise KeycloakError(
                f"Keycloak at {self.base_url} refused the admin login of user '{self.username}' in realm "
                f"'{self.auth_realm}' (HTTP {status} {_error_detail(body)}): check auth_username and auth_password.")
        if status == 404:
            raise KeycloakError(f"Keycloak at {self.base_url} has no realm '{self.auth_realm}' to log in to "
                                f"(POST {token_url} answered 404): check auth_realm and auth_keycloak_url.")
        if status != 200:
            raise KeycloakError(f"Keycloak at {self.base_url} answered HTTP {status} to POST {token_url} "
                                f"{_error_detail(body)}".rstrip())
        try:
            data = json.loads(body)
            self._token = data["access_token"]
        except (ValueError, KeyError, TypeError):
            raise KeycloakError(f"POST {token_url} did not return a token: is {self.base_url} a Keycloak server?") from None
        # Renew a little early: the master realm's admin token lives only 60 s.
        self._token_expires = time.monotonic() + max(int(data.get("expires_in", 60)) - 10, 5)

    def request(self, method, path, body=None, ok=(200, 201, 204), missing_ok=False):
        """Call ``/admin/realms...`` ``path``; return (status, parsed JSON or None, headers).

        ``missing_ok``: a 404 is returned instead of raised.
        """
        url = self.base_url + path
        data = json.dumps(body) if body is not None else None
        for attempt in (1, 2):
            if self._token is None or time.monotonic() >= self._token_expires:
                self.login()
            headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/json"
            status, raw, resp_headers = self._open(method, url, data=data, headers=headers)
            if status == 401 and attempt == 1:
                self._token = None  # expired or revoked early: log in again once
                continue
            break
        self.calls.append(f"{method} {path}")
        if status == 404 and missing_ok:
            return status, None, resp_headers
        if status not in ok:
            raise KeycloakError(f"Keycloak call {method} {path} at {self.base_url} failed with HTTP {status}"
                                f"{': ' + _error_detail(raw) if _error_detail(raw) else ''}")
        parsed = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        return status, parsed, resp_headers

    def get(self, path, missing_ok=False):
        return self.request("GET", path, missing_ok=missing_ok)[1]

    def post(self, path, body):
        status, dummy, headers = self.request("POST", path, body)
        return headers.get("Location") if status == 201 and headers is not None else None

    def put(self, path, body=None):
        self.request("PUT", path, body)

    def delete(self, path):
        self.request("DELETE", path)


def realm_path(realm, *parts):
    return "/admin/realms/" + "/".join([quote(realm, safe="")] + [quote(p, safe="") for p in parts])


# ---- desired state (pure) -----------------------------------------------------------------

def group_mapper(claim):
    return {"name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
            "config": {"claim.name": claim, "full.path": "false", "id.token.claim": "true",
                       "access.token.claim": "true", "userinfo.token.claim": "true",
                       "introspection.token.claim": "true"}}


def realm_roles_mapper(claim):
    return {"name": "realm roles", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-realm-role-mapper",
            "config": {"claim.name": claim, "multivalued": "true", "jsonType.label": "String",
                       "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true",
                       "introspection.token.claim": "true"}}


def groups_client_scope(claim="groups"):
    """The ``groups`` client scope created when the realm lacks it."""
    return {"name": "groups", "protocol": "openid-connect", "description": "Group membership of the user",
            "attributes": {"include.in.token.scope": "true", "display.on.consent.screen": "true"},
            "protocolMappers": [group_mapper(claim)]}


def desired_client(params):
    """The client representation the module enforces (secret excluded), from module params.

    Optional settings left unset (None) are not managed.
    """
    rep = {
        "clientId": params["client_id"],
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "bearerOnly": False,
        "clientAuthenticatorType": "client-secret",
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "redirectUris": list(params.get("redirect_uris") or []),
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "oauth2.device.authorization.grant.enabled": "false",
            "oidc.ciba.grant.enabled": "false",
        },
    }
    optional = (("name", "name"), ("description", "description"), ("root_url", "rootUrl"),
                ("base_url", "baseUrl"), ("web_origins", "webOrigins"))
    for option, field in optional:
        if params.get(option) is not None:
            rep[field] = list(params[option]) if isinstance(params[option], list) else params[option]
    if params.get("post_logout_redirect_uris") is not None:
        rep["attributes"]["post.logout.redirect.uris"] = "##".join(params["post_logout_redirect_uris"])
    return rep


def desired_mappers(params):
    return [group_mapper(params.get("groups_claim") or "groups"), realm_roles_mapper(params.get("roles_claim") or "roles")]


# ---- normalisation and comparison (pure) ------------------------------------------------

def normalise(value):
    """Booleans and numbers as strings, lists sorted, dicts normalised recursively."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return sorted((normalise(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if value is None:
        return ""
    return value


def normalise_attributes(attributes, keys):
    """Only the managed ``keys``; the ``##``-joined post-logout URIs as a sorted list."""
    attributes = attributes or {}
    out = {}
    for key in keys:
        value = normalise(attributes.get(key))
        if key == "post.logout.redirect.uris":
            value = sorted(v for v in value.split("##") if v)
        out[key] = value
    return out


def normalise_client(rep, desired):
    """``rep`` reduced to the fields ``desired`` manages, normalised; server-added fields dropped."""
    rep = rep or {}
    out = {}
    for key, wanted in desired.items():
        if key == "attributes":
            out[key] = normalise_attributes(rep.get("attributes"), wanted.keys())
        else:
            out[key] = normalise(rep.get(key))
    return out


def client_differences(current, desired):
    """Sorted names of managed fields (``attributes.<name>`` for attributes) that differ."""
    have = normalise_client(current, desired)
    want = normalise_client(desired, desired)
    changed = [k for k in want if k != "attributes" and have[k] != want[k]]
    changed += [f"attributes.{k}" for k in want["attributes"] if have["attributes"][k] != want["attributes"][k]]
    return sorted(changed)


def mapper_changes(current, desired):
    """Return (to_create, to_update) for desired mappers matched by name; others are left alone.

    A mapper differs when its type differs or any managed config key differs; updates keep
    the server's id and extra config keys.
    """
    by_name = {m.get("name"): m for m in current or []}
    to_create, to_update = [], []
    for want in desired:
        have = by_name.get(want["name"])
        if have is None:
            to_create.append(want)
            continue
        config = normalise(have.get("config") or {})
        if have.get("protocolMapper") != want["protocolMapper"] or any(
                config.get(k) != normalise(v) for k, v in want["config"].items()):
            merged = dict(have)
            merged["protocolMapper"] = want["protocolMapper"]
            merged["protocol"] = want["protocol"]
            merged["config"] = dict(have.get("config") or {}, **want["config"])
            to_update.append(merged)
    return to_create, to_update


def scope_changes(current_default, current_optional, desired):
    """Return (add_as_default, remove_from_optional): desired scopes become default ones;
    other default scopes the realm gave the client (basic, acr, roles, ...) stay."""
    add = sorted(set(desired) - set(current_default))
    unlink = sorted(s for s in add if s in set(current_optional))
    return add, unlink


def mapper_view(mappers, desired):
    names = {m["name"] for m in desired}
    view = {}
    for mapper in mappers or []:
        if mapper.get("name") in names:
            keys = next(d["config"].keys() for d in desired if d["name"] == mapper["name"])
            config = normalise(mapper.get("config") or {})
            view[mapper["name"]] = {"protocolMapper": mapper.get("protocolMapper"),
                                    "config": {k: config.get(k, "") for k in sorted(keys)}}
    return view


def client_view(rep, desired, mappers, default_scopes, mappers_desired, secret_note=None):
    """What diff and results show: managed fields only; the secret masked."""
    if rep is None:
        return {}
    view = normalise_client(rep, desired)
    view["protocolMappers"] = mapper_view(mappers, mappers_desired)
    view["defaultClientScopes"] = sorted(default_scopes or [])
    if secret_note is not None:
        view["secret"] = secret_note
    return view


# ---- the ensure logic ---------------------------------------------------------------------

class OidcClientEnsurer:
    """Brings one OIDC client to the wanted state through a KeycloakAdmin (writes skipped in check mode)."""

    def __init__(self, admin, params, check_mode=False):
        self.admin = admin
        self.params = params
        self.check_mode = check_mode
        self.realm = params["realm"]
        self.changes = []
        self.scope_protocols = {}

    def write(self, method, path, body=None, note=None):
        self.changes.append(note or f"{method} {path}")
        if self.check_mode:
            return None
        if method == "POST":
            return self.admin.post(path, body)
        if method == "PUT":
            return self.admin.put(path, body)
        return self.admin.delete(path)

    def find_client(self):
        clients = self.admin.get(realm_path(self.realm, "clients") + "?" + urlencode({"clientId": self.params["client_id"]}))
        for client in clients or []:
            if client.get("clientId") == self.params["client_id"]:
                return client
        return None

    def ensure_realm(self):
        """True when the realm exists (or would be created in check mode)."""
        if self.admin.get(realm_path(self.realm), missing_ok=True) is not None:
            return True
        if not self.params.get("realm_create"):
            if self.params["state"] == "absent":
                return False
            raise KeycloakError(f"Realm '{self.realm}' does not exist at {self.admin.base_url}: create it first "
                                "or set realm_create: true.")
        if self.params["state"] == "absent":
            return False
        self.write("POST", "/admin/realms", {"realm": self.realm, "enabled": True}, note=f"realm {self.realm} created")
        return not self.check_mode

    def ensure_scopes_exist(self):
        """Map desired default scope names to ids, creating the ``groups`` scope if missing."""
        wanted = self.params.get("default_client_scopes") or []
        listed = self.admin.get(realm_path(self.realm, "client-scopes")) or []
        self.scope_protocols = {s["name"]: s.get("protocol") for s in listed}
        scopes = {s["name"]: s["id"] for s in listed}
        for name in wanted:
            if name in scopes:
                continue
            if name != "groups":
                raise KeycloakError(f"Client scope '{name}' does not exist in realm '{self.realm}' at "
                                    f"{self.admin.base_url}: remove it from default_client_scopes or create it.")
            location = self.write("POST", realm_path(self.realm, "client-scopes"),
                                  groups_client_scope(self.params.get("groups_claim") or "groups"),
                                  note="client scope groups created")
            scopes[name] = location.rsplit("/", 1)[-1] if location else None
        return scopes

    def ensure_present(self):
        params = self.params
        desired = desired_client(params)
        mappers_desired = desired_mappers(params)
        realm_exists = self.ensure_realm()
        scope_ids = self.ensure_scopes_exist() if realm_exists else {}
        current = self.find_client() if realm_exists else None
        given_secret = params.get("client_secret")
        result = {"realm": self.realm, "client_id": params["client_id"]}

        if current is None:
            body = dict(desired, protocolMappers=mappers_desired)
            if given_secret:
                body["secret"] = given_secret
            location = self.write("POST", realm_path(self.realm, "clients"), body, note="client created")
            client = None if self.check_mode else self.find_client()
            if client is None and not self.check_mode:
                raise KeycloakError(f"Client '{params['client_id']}' not found after POST {realm_path(self.realm, 'clients')} "
                                    f"at {self.admin.base_url} (Location: {location})")
            before = {}
            client_uuid = client["id"] if client else None
            if client_uuid:
                default_now = self.client_default_scopes(client_uuid)
                optional_now = self.client_optional_scopes(client_uuid)
            else:  # check mode: predict the scopes Keycloak gives a new client
                default_now = self.realm_scopes("default-default-client-scopes") if realm_exists else []
                optional_now = self.realm_scopes("default-optional-client-scopes") if realm_exists else []
            after_rep, after_mappers = desired, mappers_desired
        else:
            client_uuid = current["id"]
            default_now = self.client_default_scopes(client_uuid)
            optional_now = self.client_optional_scopes(client_uuid)
            if given_secret and not (current.get("secret") or "").strip("*"):
                # Not in the representation (or masked, as some versions do): ask the secret endpoint.
                current["secret"] = self.read_secret(client_uuid)
            secret_changes = bool(given_secret) and current.get("secret") != given_secret
            before = client_view(current, desired, current.get("protocolMappers"), default_now, mappers_desired,
                                 MASK if current.get("secret") else None)
            differences = client_differences(current, desired)
            if differences or secret_changes:
                body = {k: v for k, v in current.items()
                        if k not in ("protocolMappers", "defaultClientScopes", "optionalClientScopes", "access", "secret")}
                body.update({k: v for k, v in desired.items() if k != "attributes"})
                body["attributes"] = dict(current.get("attributes") or {}, **desired["attributes"])
                if secret_changes:
                    body["secret"] = given_secret
                notes = differences + (["secret"] if secret_changes else [])
                self.write("PUT", realm_path(self.realm, "clients", client_uuid), body, note="client " + ", ".join(notes))
            to_create, to_update = mapper_changes(current.get("protocolMappers"), mappers_desired)
            models = realm_path(self.realm, "clients", client_uuid, "protocol-mappers", "models")
            for mapper in to_create:
                self.write("POST", models, mapper, note=f"mapper {mapper['name']} created")
            for mapper in to_update:
                self.write("PUT", f"{models}/{quote(mapper['id'], safe='')}", mapper, note=f"mapper {mapper['name']} updated")
            after_rep = dict(current, **{k: v for k, v in desired.items() if k != "attributes"})
            after_rep["attributes"] = dict(current.get("attributes") or {}, **desired["attributes"])
            after_mappers = [m for m in current.get("protocolMappers") or [] if m.get("name") not in {d["name"] for d in mappers_desired}]
            after_mappers += mappers_desired

        add, unlink = scope_changes(default_now, optional_now, params.get("default_client_scopes") or [])
        for name in unlink:
            self.write("DELETE", realm_path(self.realm, "clients", client_uuid or "new", "optional-client-scopes",
                                            scope_ids.get(name) or name), note=f"optional scope {name} unlinked")
        for name in add:
            self.write("PUT", realm_path(self.realm, "clients", client_uuid or "new", "default-client-scopes",
                                         scope_ids.get(name) or name), note=f"default scope {name} added")

        if current is None:
            after_note = MASK if given_secret else MASK + " (generated)"
        elif given_secret and current.get("secret") != given_secret:
            after_note = MASK + " (changed)"
        else:
            after_note = MASK if current.get("secret") else None
        after = client_view(after_rep, desired, after_mappers, sorted(set(default_now) | set(add)), mappers_desired, after_note)

        result.update(changed=bool(self.changes), changes=list(self.changes), id=client_uuid,
                      client=after, diff={"before": before, "after": after})
        if not given_secret and client_uuid and not self.check_mode:
            result["client_secret"] = self.read_secret(client_uuid)
        return result

    def client_default_scopes(self, client_uuid):
        return [s["name"] for s in self.admin.get(realm_path(self.realm, "clients", client_uuid, "default-client-scopes")) or []]

    def client_optional_scopes(self, client_uuid):
        return [s["name"] for s in self.admin.get(realm_path(self.realm, "clients", client_uuid, "optional-client-scopes")) or []]

    def realm_scopes(self, kind):
        """Names of the realm's default scopes of ``kind`` that a new OIDC client receives."""
        scopes = self.admin.get(realm_path(self.realm, kind)) or []
        return [s["name"] for s in scopes if self.scope_protocols.get(s["name"]) == "openid-connect"]

    def read_secret(self, client_uuid):
        data = self.admin.get(realm_path(self.realm, "clients", client_uuid, "client-secret")) or {}
        if not data.get("value"):
            raise KeycloakError(f"Keycloak at {self.admin.base_url} returned no secret for client "
                                f"'{self.params['client_id']}' in realm '{self.realm}'.")
        return data["value"]

    def ensure_absent(self):
        result = {"realm": self.realm, "client_id": self.params["client_id"], "id": None}
        current = self.find_client() if self.ensure_realm() else None
        before = {}
        if current is not None:
            result["id"] = current["id"]
            before = {"clientId": current.get("clientId")}
            self.write("DELETE", realm_path(self.realm, "clients", current["id"]), note="client deleted")
        result.update(changed=bool(self.changes), changes=list(self.changes), client={},
                      diff={"before": before, "after": {}})
        return result

    def run(self):
        if self.params["state"] == "absent":
            return self.ensure_absent()
        return self.ensure_present()
