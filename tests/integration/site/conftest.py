"""Fixtures of the end-to-end tests (defined in site_e2e.py, shared with the test modules)."""

from site_e2e import (  # noqa: F401  pylint: disable=unused-import
    e2e_identity, example_secrets, example_settings, keycloak_for_inventory, local_services, rustfs_for_inventory,
)
