#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: keycloak_oidc_client
short_description: Ensure a confidential OIDC client in a Keycloak realm
version_added: 0.1.0
description:
  - Creates, updates or deletes a confidential OpenID Connect client through the Keycloak Admin REST API.
  - The client allows the standard (authorization code) flow only, with PKCE C(S256) required; implicit flow,
    direct access grants, service accounts, device and CIBA grants are off.
  - The client gets a group-membership mapper (claim O(groups_claim), group names without path) and a
    realm-roles mapper (claim O(roles_claim)).
  - The scopes in O(default_client_scopes) become default scopes of the client (an optional link is replaced);
    other default scopes Keycloak gave the client, such as C(basic) or C(acr), are left in place. The C(groups)
    client scope is created in the realm when it is missing.
  - Compares a normalised representation of the managed fields with the server's, so an unchanged client
    reports C(changed=false) and sends no write request. Fields the module does not manage are kept.
  - Does not depend on the deprecated C(community.general.keycloak_*) modules.
author:
  - aiplatform.obot developers (@aiplatform)
extends_documentation_fragment:
  - aiplatform.obot.keycloak
options:
  realm:
    description:
      - Realm that holds the client.
    type: str
    required: true
  realm_create:
    description:
      - Create the realm (enabled, with Keycloak's defaults) when it does not exist.
      - When false, a missing realm is an error.
    type: bool
    default: false
  client_id:
    description:
      - The client's C(clientId).
    type: str
    required: true
  name:
    description:
      - Display name of the client. Not managed when omitted.
    type: str
  description:
    description:
      - Description of the client. Not managed when omitted.
    type: str
  client_secret:
    description:
      - Client secret to enforce.
      - When omitted, Keycloak generates one on creation, an existing secret is kept, and the secret is returned
        as RV(client_secret).
    type: str
  redirect_uris:
    description:
      - Valid redirect URIs, for example V(https://obot.example.com/oauth2/callback). Required with O(state=present).
    type: list
    elements: str
  post_logout_redirect_uris:
    description:
      - Valid post-logout redirect URIs (attribute C(post.logout.redirect.uris)). Not managed when omitted.
    type: list
    elements: str
  web_origins:
    description:
      - Allowed CORS origins. Not managed when omitted (Keycloak then derives them from the redirect URIs on creation).
    type: list
    elements: str
  root_url:
    description:
      - Root URL of the client. Not managed when omitted.
    type: str
  base_url:
    description:
      - Home URL of the client. Not managed when omitted.
    type: str
  default_client_scopes:
    description:
      - Client scopes that must be default scopes of the client.
      - Each must exist in the realm, except C(groups), which is created.
    type: list
    elements: str
    default: [profile, email, offline_access, groups]
  groups_claim:
    description:
      - Token claim of the group-membership mapper.
    type: str
    default: groups
  roles_claim:
    description:
      - Token claim of the realm-roles mapper.
    type: str
    default: roles
  state:
    description:
      - V(present) ensures the client; V(absent) deletes it (the realm and client scopes stay).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Reads the server and reports what would change; sends no write request.
  diff_mode:
    support: full
    description: Shows the managed fields before and after; the client secret is always masked.
notes:
  - When O(client_secret) is omitted the generated secret is returned in RV(client_secret).
    Ansible cannot mask a value that is not a parameter, so B(set no_log true on the task) that registers
    it, and hand the secret on without printing it (for example into a Kubernetes Secret).
  - Idempotency and safety are tested against a real Keycloak 26 server.
"""

EXAMPLES = r"""
- name: Ensure the Obot OIDC client (Keycloak generates the secret)
  aiplatform.obot.keycloak_oidc_client:
    auth_keycloak_url: https://sso.example.com
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: homelab
    client_id: obot
    redirect_uris:
      - https://obot.example.com/*
      - https://obot.example.com/oauth2/callback
    post_logout_redirect_uris:
      - https://obot.example.com/*
    web_origins:
      - https://obot.example.com
  register: obot_client
  no_log: true  # the result holds the generated client secret

- name: Enforce a given secret and create the realm if needed
  aiplatform.obot.keycloak_oidc_client:
    auth_keycloak_url: https://sso.example.com
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: homelab
    realm_create: true
    client_id: obot
    client_secret: "{{ obot_keycloak_client_secret }}"
    redirect_uris:
      - https://obot.example.com/oauth2/callback

- name: Remove the client
  aiplatform.obot.keycloak_oidc_client:
    auth_keycloak_url: https://sso.example.com
    auth_username: admin
    auth_password: "{{ keycloak_admin_password }}"
    realm: homelab
    client_id: obot
    state: absent
"""

RETURN = r"""
realm:
  description: The realm.
  returned: always
  type: str
  sample: homelab
client_id:
  description: The client's C(clientId).
  returned: always
  type: str
  sample: obot
id:
  description: Keycloak's internal id of the client; null when absent or about to be created in check mode.
  returned: always
  type: str
  sample: 2e7b2afd-b170-42b5-b628-bf8e1f4e2d3f
changes:
  description: What changed (or would change in check mode), one short entry per write request.
  returned: always
  type: list
  elements: str
  sample: ["client redirectUris", "default scope groups added"]
client:
  description: The managed fields of the client after the run, normalised (booleans as strings, lists sorted); secret masked.
  returned: always
  type: dict
  sample: {"clientId": "obot", "standardFlowEnabled": "true", "redirectUris": ["https://obot.example.com/*"]}
client_secret:
  description:
    - The client secret, when O(client_secret) was not given and the client exists (not in check mode before creation).
    - Register the task with C(no_log) true.
  returned: when O(state=present) and O(client_secret) is omitted
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aiplatform.obot.plugins.module_utils.keycloak import (
    KEYCLOAK_AUTH_ARGUMENT_SPEC,
    KeycloakAdmin,
    KeycloakError,
    OidcClientEnsurer,
)


def argument_spec():
    spec = dict(KEYCLOAK_AUTH_ARGUMENT_SPEC)
    spec.update(
        realm=dict(type="str", required=True),
        realm_create=dict(type="bool", default=False),
        client_id=dict(type="str", required=True),
        name=dict(type="str"),
        description=dict(type="str"),
        client_secret=dict(type="str", no_log=True),
        redirect_uris=dict(type="list", elements="str"),
        post_logout_redirect_uris=dict(type="list", elements="str"),
        web_origins=dict(type="list", elements="str"),
        root_url=dict(type="str"),
        base_url=dict(type="str"),
        default_client_scopes=dict(type="list", elements="str", default=["profile", "email", "offline_access", "groups"]),
        groups_claim=dict(type="str", default="groups"),
        roles_claim=dict(type="str", default="roles"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("state", "present", ["redirect_uris"])])
    try:
        admin = KeycloakAdmin.from_module_params(module.params)
        result = OidcClientEnsurer(admin, module.params, check_mode=module.check_mode).run()
    except KeycloakError as exc:
        module.fail_json(msg=str(exc))
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
