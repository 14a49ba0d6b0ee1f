# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the collection's settings: derived values, validation, the encryption key."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.obot.plugins.module_utils import settings as obot_settings


def derived_settings(settings):
    """The derived settings table (DESIGN.md section 3) from a dict of settings."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("derived_settings expects a dict of settings")
    return obot_settings.derive(settings)


def settings_problems(settings):
    """Every problem with the settings, one message each; empty when they are valid."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError("settings_problems expects a dict of settings")
    return obot_settings.problems(settings)


def encryption_key(value):
    """The Obot encryption key as base64 of 32 bytes (a 64-character hex key is converted)."""
    try:
        return obot_settings.normalize_encryption_key(value)
    except ValueError as exc:
        raise AnsibleFilterError("obot_encryption_key %s" % exc)


class FilterModule:
    """aiplatform.obot settings filters."""

    def filters(self):
        return {
            "derived_settings": derived_settings,
            "settings_problems": settings_problems,
            "encryption_key": encryption_key,
        }
