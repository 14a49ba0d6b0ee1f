"""The preflight action: every problem at once, or the derived settings; nothing else happens."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.aiplatform.obot.plugins.action.preflight import ActionModule
from ansible_collections.aiplatform.obot.plugins.module_utils import settings as obot_settings
from unit.settings_fixture import valid_settings


def run(settings, check_mode=False):
    task = MagicMock(args={"settings": settings}, async_val=0, check_mode=check_mode, diff=False)
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={})


@pytest.mark.parametrize("check_mode", [False, True])
def test_valid_settings_give_the_derived_ones(check_mode):
    settings = valid_settings()
    result = run(settings, check_mode)
    assert not result.get("failed") and result["changed"] is False
    assert result["derived"] == obot_settings.derive(settings)
    assert "ansible_facts" not in result


def test_every_problem_is_reported_at_once_and_no_secret_echoed():
    bad_key = "zz" * 40
    result = run(valid_settings(obot_replicas="many", obot_encryption_key=bad_key))
    assert result["failed"] is True
    lines = result["msg"].splitlines()
    assert lines[0] == "Invalid settings:"
    assert any(line.startswith("obot_replicas:") for line in lines)
    assert any(line.startswith("obot_encryption_key:") for line in lines)
    assert bad_key not in result["msg"]
    assert "derived" not in result


def test_settings_must_be_a_dict():
    with pytest.raises(AnsibleActionFail, match="settings must be a dict"):
        run(["not", "a", "dict"])
