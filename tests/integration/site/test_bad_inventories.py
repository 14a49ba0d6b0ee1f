"""Every bad setting of the corpus fails in the preflight, names the variable, and the run
sends no write request to the cluster (the control plane's audit log proves it).

All cases run in one ansible-playbook invocation: one inventory host per bad inventory, each
with its own variables, so each host fails (or not) on its own."""

from __future__ import annotations

import json

import pytest
import yaml
from kubernetes import client, config

from site_e2e import run
from unit.plugins.filter.test_settings_filters import BAD
from unit.settings_fixture import valid_settings

PREFLIGHT_TASKS = tuple("aiplatform.obot.obot : " + name for name in ("Check the settings", "Validating arguments against arg spec"))


def bad_inventory(path):
    hosts = {}
    for index, (overrides, _name, _words) in enumerate(BAD):
        host_vars = valid_settings(**overrides)
        host_vars.update(ansible_connection="local", ansible_python_interpreter="{{ ansible_playbook_python }}")
        hosts[f"bad-{index:03d}"] = host_vars
    path.write_text(yaml.safe_dump({"obot": {"hosts": hosts}}, sort_keys=False))
    return path


def host_outcomes(report):
    """{host: [(task name, result)]} in the order the tasks ran."""
    outcomes = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                outcomes.setdefault(host, []).append((task["task"]["name"], result))
    return outcomes


@pytest.mark.cluster
def test_bad_inventories_fail_in_preflight_without_writes(kube_cluster, e2e_identity, tmp_path):
    assert len(BAD) >= 40
    inventory = bad_inventory(tmp_path / "bad.yml")
    mark = kube_cluster.audit_mark()
    proc = run(["ansible-playbook", "site.yml", "-i", str(inventory), "--forks", "10"],
               ANSIBLE_STDOUT_CALLBACK="json", **e2e_identity.env())
    report = json.loads(proc.stdout)
    assert proc.returncode != 0
    outcomes = host_outcomes(report)
    for index, (_overrides, name, _words) in enumerate(BAD):
        host = f"bad-{index:03d}"
        assert report["stats"][host]["failures"] == 1 and report["stats"][host]["changed"] == 0, (host, name)
        last_task, result = outcomes[host][-1]
        assert result.get("failed") and last_task.startswith(PREFLIGHT_TASKS), (host, name, last_task)
        assert name in result["msg"], (host, name, result["msg"])
        # Nothing but the preflight ran for this host.
        assert all(task.startswith(PREFLIGHT_TASKS) for task, _message in outcomes[host]), (host, outcomes[host])
    # Any request at all from this run's identity would mean something got past the preflight.
    requests = [e for e in kube_cluster.audit_events_since(mark) if e.get("user", {}).get("username") == e2e_identity.username]
    assert not requests, [(e["verb"], e["requestURI"]) for e in requests][:10]
    writes = kube_cluster.write_events_since(mark, user=e2e_identity.username, settle=0)
    assert not writes
    # Control: a request made with this identity does show up in the audit log.
    mark = kube_cluster.audit_mark()
    with config.new_client_from_config(config_file=e2e_identity.kubeconfig) as api:
        client.CoreV1Api(api).read_namespace("default")
    seen = [e for e in kube_cluster.audit_events_since(mark) if e.get("user", {}).get("username") == e2e_identity.username]
    assert seen, "the audit log does not show this test's identity: the check above proves nothing"
