"""Role argument specs document the settings exactly as the obot role defines them."""

import glob
import os

import pytest
import yaml

from ansible_collections.aiplatform.obot.plugins.module_utils.settings import SECRETS
from unit.settings_fixture import ROOT, global_defaults, role_defaults

SETTINGS = dict(role_defaults(), **global_defaults())
SPEC_FILES = sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")))


def options(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


def test_obot_role_documents_every_setting():
    documented = options(os.path.join(ROOT, "roles", "obot", "meta", "argument_specs.yml"))
    assert set(documented) == set(SETTINGS)
    assert {name for name, option in documented.items() if option.get("no_log")} == set(SECRETS)


def test_every_role_has_an_argument_spec():
    roles = sorted(os.path.basename(path) for path in glob.glob(os.path.join(ROOT, "roles", "*")))
    assert roles and [os.path.basename(os.path.dirname(os.path.dirname(path))) for path in SPEC_FILES] == roles


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda path: path.split(os.sep)[-3])
def test_spec_defaults_match_the_settings(path):
    for name, option in options(path).items():
        if name in SETTINGS:
            assert option.get("default") == SETTINGS[name], name
            assert bool(option.get("no_log")) == (name in SECRETS), name
