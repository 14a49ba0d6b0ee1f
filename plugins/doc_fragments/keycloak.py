# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options of the modules that use the Keycloak Admin REST API."""

    DOCUMENTATION = r"""
options:
  auth_keycloak_url:
    description:
      - Base URL of the Keycloak server, without C(/realms) or C(/admin), for example V(https://sso.example.com).
      - Keycloak 17 and later (Quarkus) serve without the old C(/auth) prefix.
    type: str
    required: true
  auth_realm:
    description:
      - Realm the admin user logs in to.
    type: str
    default: master
  auth_client_id:
    description:
      - Public client used for the admin login (resource owner password grant).
    type: str
    default: admin-cli
  auth_username:
    description:
      - Admin user name.
    type: str
    required: true
  auth_password:
    description:
      - Password of O(auth_username). Never printed.
    type: str
    required: true
  validate_certs:
    description:
      - Verify the TLS certificate of O(auth_keycloak_url).
    type: bool
    default: true
  connection_timeout:
    description:
      - Seconds to wait for each HTTP request to Keycloak.
    type: int
    default: 30
notes:
  - The admin token (60 seconds in the master realm by default) is renewed before it expires and again on an HTTP 401.
  - Requires no Python package beyond ansible-core.
"""
