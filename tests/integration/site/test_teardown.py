"""playbooks/teardown.yml: removes what site.yml created, keeps the data unless
obot_teardown_data is true, changes nothing the second time, refuses a non-boolean switch."""

from __future__ import annotations

import json

import pytest

from testbed.snapshots import ensure_namespaces
from site_e2e import INVENTORY, delete_namespaces, isolated_names, present, recap, run

pytestmark = pytest.mark.cluster

KEPT = {("Cluster", "obot-postgresql"), ("Database", "obot"), ("ObjectStore", "obot-objectstore"),
        ("ScheduledBackup", "obot-postgresql-daily"), ("Secret", "obot-db-secret"), ("Secret", "obot-backup-credentials"),
        ("PersistentVolumeClaim", "obot-data")}
REMOVED = {("Deployment", "obot"), ("Service", "obot"), ("ServiceAccount", "obot"), ("ConfigMap", "obot-config"),
           ("Secret", "obot-secret"), ("Secret", "obot-encryption-config"), ("NetworkPolicy", "obot"),
           ("ServiceMonitor", "obot"), ("ConfigMap", "obot-dashboard"), ("HTTPRoute", "obot"), ("ReferenceGrant", "obot-httproute"),
           ("PodMonitor", "obot-postgresql"), ("ResourceQuota", "mcp-servers-quota"), ("LimitRange", "mcp-servers-limits")}


def alive(objects):
    """(kind, name) of the objects not being deleted (a PVC keeps its protection finalizer
    forever on a control plane without kubelet)."""
    return {(kind, name) for (kind, _namespace, name), terminating in objects.items() if not terminating}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, kube_api, e2e_identity, rustfs_for_inventory):
    names = isolated_names("obot-td")
    ensure_namespaces(kube_api, [names["obot_namespace"], names["obot_gateway_namespace"]])
    # Keycloak and RustFS parts are skipped here (the client secret and backup keys come from the
    # SOPS file) and teardown is not asked to remove the Keycloak client; removing the data also
    # removes RustFS users, so the RustFS fake stands in for RustFS.
    extra = tmp_path_factory.mktemp("teardown") / "extra.json"
    extra.write_text(json.dumps(dict(names, obot_keycloak_admin_username="", obot_rustfs_admin_endpoint=rustfs_for_inventory.endpoint)))
    proc = run(["ansible-playbook", "site.yml", "-i", INVENTORY, "-e", f"@{extra}", "--skip-tags", "rustfs,keycloak"], **e2e_identity.env())
    assert proc.returncode == 0, proc.stdout[-5000:]
    namespaces = list(names.values())
    yield {"extra": extra, "namespaces": namespaces, "names": names}
    delete_namespaces(kube_api, namespaces)


def teardown(deployed, e2e_identity, *args):
    return run(["ansible-playbook", "playbooks/teardown.yml", "-i", INVENTORY, "-e", f"@{deployed['extra']}", *args], **e2e_identity.env())


def test_teardown_keeps_data_by_default_then_removes_it(deployed, kube_api, e2e_identity):
    objects = alive(present(kube_api, deployed["namespaces"]))
    assert KEPT | REMOVED <= objects, (KEPT | REMOVED) - objects

    proc = teardown(deployed, e2e_identity)
    assert proc.returncode == 0, proc.stdout[-5000:]
    objects = alive(present(kube_api, deployed["namespaces"]))
    assert KEPT <= objects, KEPT - objects
    assert not REMOVED & objects, REMOVED & objects
    assert ("Namespace", deployed["names"]["obot_mcp_namespace"]) not in objects
    assert not {o for o in objects if o[0].startswith("Cluster") and "namespace-reader" in o[1]}
    assert "Kept the data" in proc.stdout

    again = teardown(deployed, e2e_identity)
    assert again.returncode == 0 and recap(again.stdout)["localhost"]["changed"] == 0, again.stdout[-3000:]

    refused = teardown(deployed, e2e_identity, "-e", "obot_teardown_data=perhaps")
    assert refused.returncode != 0 and "obot_teardown_data: must be true or false" in refused.stdout
    assert KEPT <= alive(present(kube_api, deployed["namespaces"]))

    proc = teardown(deployed, e2e_identity, "-e", "obot_teardown_data=true")
    assert proc.returncode == 0, proc.stdout[-5000:]
    objects = alive(present(kube_api, deployed["namespaces"]))
    assert not (KEPT | REMOVED) & objects, (KEPT | REMOVED) & objects
