"""The whole stack from the example inventory on the local control plane: the first run
converges, the second changes nothing (changed=0, no resourceVersion moves), check mode
agrees, and no secret from the SOPS file appears in any -vvv --diff output."""

from __future__ import annotations

import base64
import json
import pytest

from site_e2e import INVENTORY, delete_namespaces, isolated_names, recap, run
from testbed.snapshots import ensure_namespaces, wait_until_settled

pytestmark = [pytest.mark.cluster, pytest.mark.keycloak]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, kube_cluster, kube_api, e2e_identity, local_services):
    """Run site.yml twice with -vvv --diff; namespaces of their own so other tests sharing the
    control plane cannot move resourceVersions."""
    names = isolated_names()
    namespaces = list(names.values())
    ensure_namespaces(kube_api, [names["obot_namespace"], names["obot_gateway_namespace"]])
    extra = dict(local_services, **names)
    extra_file = tmp_path_factory.mktemp("stack") / "extra.json"
    extra_file.write_text(json.dumps(extra))
    command = ["ansible-playbook", "site.yml", "-i", INVENTORY, "-e", f"@{extra_file}"]

    first = run(command + ["-vvv", "--diff"], **e2e_identity.env())
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]
    before = wait_until_settled(kube_api, namespaces)
    second = run(command + ["-vvv", "--diff"], **e2e_identity.env())
    after = wait_until_settled(kube_api, namespaces)
    check = run(command + ["--check", "--diff"], **e2e_identity.env())
    yield {"first": first, "second": second, "check": check, "before": before, "after": after, "namespaces": namespaces}
    delete_namespaces(kube_api, namespaces)


def test_first_run_creates_the_stack(stack):
    objects = {(kind, name) for (_version, kind, _namespace, name) in stack["before"]}
    assert ("Deployment", "obot") in objects and ("Cluster", "obot-postgresql") in objects
    assert ("ResourceQuota", "mcp-servers-quota") in objects
    assert ("Secret", "obot-secret") in objects and ("Secret", "obot-db-secret") in objects
    assert ("ObjectStore", "obot-objectstore") in objects and ("ScheduledBackup", "obot-postgresql-daily") in objects


def test_second_run_changes_nothing(stack):
    second = stack["second"]
    assert second.returncode == 0, second.stdout[-6000:]
    hosts = recap(second.stdout)
    assert hosts and all(counts["changed"] == 0 and counts["failed"] == 0 for counts in hosts.values()), hosts
    moved = {key: (stack["before"].get(key), version) for key, version in stack["after"].items() if stack["before"].get(key) != version}
    gone = set(stack["before"]) - set(stack["after"])
    assert not moved and not gone, {"moved": moved, "gone": gone}


def test_check_mode_agrees(stack):
    check = stack["check"]
    assert check.returncode == 0, check.stdout[-6000:]
    assert all(counts["changed"] == 0 for counts in recap(check.stdout).values()), recap(check.stdout)


def test_no_secret_in_verbose_diff_output(stack, example_secrets):
    output = "\n".join(stack[run_name].stdout + stack[run_name].stderr for run_name in ("first", "second", "check"))
    assert "obot_db_password" in output or "PLAY RECAP" in output  # the output is really there
    for name, value in example_secrets.items():
        if not value:
            continue
        for form in (value, base64.b64encode(value.encode()).decode()):
            assert form not in output, f"{name} appears in the output of ansible-playbook -vvv --diff"
