"""site.yml: syntax, and the shape users rely on (preflight first, then each part in order,
each skippable by tag and by its feature flag)."""

from __future__ import annotations

import os

import pytest
import yaml

from site_e2e import INVENTORY, ROOT, run

ORDER = [  # (role, tag, feature flag in its `when`)
    ("aiplatform.obot.obot_rustfs_iam", "rustfs", "obot_globals.rustfs_enabled"),
    ("aiplatform.obot.obot_keycloak_client", "keycloak", "obot_derived.obot_keycloak_enabled"),
    ("aiplatform.obot.obot_db", "db", None),
    ("aiplatform.obot.obot_mcp_sandbox", "mcp", None),
    ("aiplatform.obot.obot_app", "app", None),
]


@pytest.mark.parametrize("playbook", ["site.yml", "playbooks/site.yml", "playbooks/teardown.yml", "playbooks/render.yml"])
def test_syntax(playbook):
    proc = run(["ansible-playbook", playbook, "-i", INVENTORY, "--syntax-check"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_top_level_site_imports_the_playbook():
    with open(os.path.join(ROOT, "site.yml"), encoding="utf-8") as handle:
        plays = yaml.safe_load(handle)
    assert [p.get("ansible.builtin.import_playbook") for p in plays] == ["playbooks/site.yml"]


def test_site_play_shape():
    with open(os.path.join(ROOT, "playbooks", "site.yml"), encoding="utf-8") as handle:
        (play,) = yaml.safe_load(handle)
    assert play["hosts"] == "obot" and play["gather_facts"] is False
    defaults = play["module_defaults"]["group/kubernetes.core.k8s"]
    assert "obot_kubeconfig" in defaults["kubeconfig"] and "obot_kube_context" in defaults["context"]
    # No tag on the play's preflight role (a tag would make it a role of its own, run again as the
    # dependency of each included role); its tasks carry the always tag themselves.
    assert play["roles"] == [{"role": "aiplatform.obot.obot"}]
    with open(os.path.join(ROOT, "roles", "obot", "tasks", "main.yml"), encoding="utf-8") as handle:
        assert [task["tags"] for task in yaml.safe_load(handle)] == [["always"]]
    tasks = play["tasks"]
    assert [t["ansible.builtin.include_role"]["name"] for t in tasks] == [role for role, _tag, _flag in ORDER]
    for task, (role, tag, flag) in zip(tasks, ORDER):
        assert task["tags"] == [tag] and task["ansible.builtin.include_role"]["apply"]["tags"] == [tag], role
        conditions = task["when"] if isinstance(task["when"], list) else [task["when"]]
        assert any("obot_derived.obot_enabled" in c for c in conditions), role
        if flag:
            assert any(flag in c for c in conditions), role


@pytest.mark.parametrize("role", [role for role, _tag, _flag in ORDER])
def test_every_included_role_exists(role):
    path = os.path.join(ROOT, "roles", role.rsplit(".", 1)[1])
    assert os.path.isfile(os.path.join(path, "tasks", "main.yml")), f"{role} is missing"
    with open(os.path.join(path, "meta", "main.yml"), encoding="utf-8") as handle:
        dependencies = yaml.safe_load(handle)["dependencies"]
    assert "aiplatform.obot.obot" in [d["role"] if isinstance(d, dict) else d for d in dependencies]
