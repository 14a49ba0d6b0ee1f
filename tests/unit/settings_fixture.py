"""Valid settings for unit tests: the obot role's defaults and globals plus required values."""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(ROOT, "roles", "obot")


def role_defaults():
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def global_defaults():
    """obot_globals with each `{{ name | default(x) }}` replaced by x."""
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        templated = yaml.safe_load(handle)["obot_globals"]
    return {name: yaml.safe_load(re.search(r"default\((.*)\) }}", text).group(1)) for name, text in templated.items()}


ENCRYPTION_KEY = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8M="  # base64 of 32 bytes, test value


def valid_settings(**overrides):
    settings = dict(role_defaults())
    settings.update(global_defaults())
    settings.update(cloudflare_domain="example.com", obot_encryption_key=ENCRYPTION_KEY)
    settings.update(overrides)
    return settings
