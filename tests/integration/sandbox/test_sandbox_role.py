"""The obot_mcp_sandbox role on the local control plane: what changes when a setting
changes, what bad settings leave behind (nothing), check and diff mode, the network policy
provider switch, obot_enabled=false, and no secret in -vvv --diff output.

The behaviour of the sandbox itself (Pod Security, LimitRange defaults, RBAC, quota) is
checked by the Molecule scenario `default` (make molecule)."""

from __future__ import annotations

import pytest

from testbed.secret_leaks import secret_leaks

from .conftest import ENCRYPTION_KEY

pytestmark = pytest.mark.cluster

APPLY = "Apply the MCP namespace, quota, limits, RBAC and network policy; remove the policy of a provider no longer chosen"
EXPECTED = {
    "Namespace", "ResourceQuota mcp-servers-quota", "LimitRange mcp-servers-limits", "Role obot-mcp-manager",
    "RoleBinding obot-mcp-manager", "ClusterRole", "ClusterRoleBinding", "NetworkPolicy mcp-servers",
}


def kinds(objects: dict) -> set:
    # Namespace and cluster-wide names carry a random suffix: compare them by kind.
    return {key if key.split()[0] not in ("Namespace", "ClusterRole", "ClusterRoleBinding") else key.split()[0]
            for key in objects}


def test_converge_is_idempotent_and_changing_max_pods_changes_only_the_quota(sandbox):
    first = sandbox.run()
    assert first.returncode == 0, first.output
    assert first.changed_tasks() == [APPLY]
    assert kinds(sandbox.objects()) == EXPECTED
    quota = sandbox.get("v1", "ResourceQuota", "mcp-servers-quota")
    assert quota["spec"]["hard"] == {"requests.cpu": "4", "limits.cpu": "8", "requests.memory": "8Gi",
                                     "limits.memory": "16Gi", "pods": "3"}
    namespace = sandbox.get("v1", "Namespace", sandbox.mcp_namespace, namespaced=False)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    sandbox.wait_quota_status(3)

    before = sandbox.resource_versions()
    second = sandbox.run()
    assert second.returncode == 0, second.output
    assert second.changed == 0
    assert sandbox.resource_versions() == before

    mark = sandbox.plane.audit_mark()
    third = sandbox.run({"obot_mcp_max_pods": 5}, "--diff")
    assert third.returncode == 0, third.output
    assert third.changed_tasks() == [APPLY]
    applied = third.task_result(APPLY)
    assert [r["object"] for r in applied["results"] if r["changed"]] == [f"ResourceQuota {sandbox.mcp_namespace}/mcp-servers-quota"]
    # --diff shows the one changed object.
    assert [d["before_header"] for d in applied["diff"]] == [f"ResourceQuota {sandbox.mcp_namespace}/mcp-servers-quota"]
    after = sandbox.resource_versions()
    moved = {key for key in before if after[key] != before[key]}
    assert moved == {"ResourceQuota mcp-servers-quota"}
    assert sandbox.get("v1", "ResourceQuota", "mcp-servers-quota")["spec"]["hard"]["pods"] == "5"
    written = {(e["verb"], e["objectRef"]["resource"]) for e in sandbox.own_writes_since(mark)}
    assert ("patch", "resourcequotas") in written  # the audit reader sees real writes


@pytest.mark.parametrize("bad, variable", [
    ({"obot_mcp_default_cpu_limit": "2"}, "obot_mcp_default_cpu_limit"),             # LimitRange default above max
    ({"obot_mcp_default_memory_request": "1Gi"}, "obot_mcp_default_memory_request"),  # defaultRequest above default
    ({"obot_mcp_max_memory": "32Gi"}, "obot_mcp_max_memory"),                         # a container's max above the quota
    ({"obot_mcp_max_pods": -1}, "obot_mcp_max_pods"),                                 # negative
    ({"obot_mcp_cpu_requests_quota": "-4"}, "obot_mcp_cpu_requests_quota"),           # negative quantity
    ({"obot_mcp_default_memory_limit": "512MB"}, "obot_mcp_default_memory_limit"),    # malformed quantity
])
def test_inconsistent_settings_stop_in_preflight_with_nothing_applied(sandbox, bad, variable):
    mark = sandbox.plane.audit_mark()
    run = sandbox.run(bad, json_output=False)
    assert run.returncode != 0
    assert variable in run.output
    assert "Invalid settings" in run.output or "argument" in run.output
    assert APPLY not in run.output
    assert sandbox.own_writes_since(mark) == []
    assert sandbox.objects() == {}


def test_check_mode_on_a_fresh_cluster_reports_and_writes_nothing(sandbox):
    mark = sandbox.plane.audit_mark()
    run = sandbox.run(None, "--check", "--diff")
    assert run.returncode == 0, run.output
    assert run.changed_tasks() == [APPLY]
    # Every object shows its diff: the Namespace and cluster-wide RBAC from the server-side dry run,
    # the objects of the new namespace as ones that would be created.
    applied = run.task_result(APPLY)
    shown = {d["before_header"].split()[0] if "/" not in d["before_header"]
             else "%s %s" % (d["before_header"].split()[0], d["before_header"].split("/")[-1]): d for d in applied["diff"]}
    assert set(shown) == EXPECTED
    quota = shown["ResourceQuota mcp-servers-quota"]
    assert quota["before"] == {} and quota["after"]["spec"]["hard"]["pods"] == "3"
    assert sandbox.own_writes_since(mark) == []
    assert sandbox.objects() == {}


def test_check_mode_shows_a_change_as_a_diff_and_writes_nothing(sandbox):
    assert sandbox.run().returncode == 0
    sandbox.wait_quota_status(3)
    before = sandbox.resource_versions()
    run = sandbox.run({"obot_mcp_max_pods": 7, "obot_mcp_internet_egress": False}, "--check", "--diff")
    assert run.returncode == 0, run.output
    assert run.changed_tasks() == [APPLY]
    shown = {d["before_header"]: d for d in run.task_result(APPLY)["diff"]}
    quota = f"ResourceQuota {sandbox.mcp_namespace}/mcp-servers-quota"
    assert set(shown) == {quota, f"NetworkPolicy {sandbox.mcp_namespace}/mcp-servers"}
    assert shown[quota]["after"]["spec"]["hard"]["pods"] == "7"
    assert shown[quota]["before"]["spec"]["hard"]["pods"] == "3"
    assert sandbox.resource_versions() == before


def test_network_policy_follows_the_provider(sandbox):
    def policies():
        return {key.split()[0] for key in sandbox.objects() if "NetworkPolicy" in key}

    assert sandbox.run().returncode == 0
    policy = sandbox.get("networking.k8s.io/v1", "NetworkPolicy", "mcp-servers")
    ingress = policy["spec"]["ingress"][0]
    assert ingress["from"][0]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "obot"}
    assert ingress["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": sandbox.obot_namespace}
    assert sorted(p["port"] for p in ingress["ports"]) == [8080, 8099]
    internet = policy["spec"]["egress"][-1]
    assert internet["to"][0]["ipBlock"] == {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}
    assert internet["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert policies() == {"NetworkPolicy"}

    no_internet = sandbox.run({"obot_mcp_internet_egress": False})
    assert no_internet.returncode == 0, no_internet.output
    egress = sandbox.get("networking.k8s.io/v1", "NetworkPolicy", "mcp-servers")["spec"]["egress"]
    assert all("ipBlock" not in peer for rule in egress for peer in rule["to"])

    cilium = sandbox.run({"obot_network_policy_provider": "cilium"})
    assert cilium.returncode == 0, cilium.output
    assert policies() == {"CiliumNetworkPolicy"}

    off = sandbox.run({"network_policies_enabled": False})
    assert off.returncode == 0, off.output
    assert policies() == set()
    again = sandbox.run({"network_policies_enabled": False})
    assert again.changed == 0

    back = sandbox.run({"obot_network_policy_provider": "none"})
    assert back.changed == 0
    assert sandbox.run().returncode == 0
    assert policies() == {"NetworkPolicy"}


def test_obot_disabled_changes_nothing(sandbox):
    mark = sandbox.plane.audit_mark()
    run = sandbox.run({"obot_enabled": False})
    assert run.returncode == 0, run.output
    assert run.changed == 0
    assert sandbox.own_writes_since(mark) == []
    assert sandbox.objects() == {}


def test_verbose_diff_output_holds_no_secret(sandbox):
    first = sandbox.run(None, "-vvv", "--diff", json_output=False)
    assert first.returncode == 0, first.output
    for label in ("ResourceQuota", "LimitRange", "Role", "RoleBinding", "NetworkPolicy"):  # one diff per object
        assert first.output.count(f"+++ after: {label} {sandbox.mcp_namespace}/") == 1, label
    assert secret_leaks(first.output, {"obot_encryption_key": ENCRYPTION_KEY}) == []
