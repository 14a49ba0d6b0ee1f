"""Role aiplatform.obot.obot_rustfs_iam on the local control plane + the RustFS fake:
converge twice (changed=0 and no write request the second time), credentials generated once
and reused from their Secrets, inventory keys enforced, least privilege proved, no secret printed."""

import base64
import json
import uuid

import pytest

from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import RustfsClient
from testbed.playbook import run_playbook, write_role_playbook
from testbed.rustfs_fake import RustfsFake

pytestmark = pytest.mark.cluster

# The shared settings check requires workspace keys in the inventory with obot_workspace_provider s3,
# so generated credentials are tested with backups and audit logs.
BUCKETS = {"backup": "obot-postgres-backups", "audit": "obot-audit-logs"}
SECRETS = {"backup": ("obot-backup-credentials", "ACCESS_KEY_ID", "ACCESS_SECRET_KEY"),
           "audit": ("obot-audit-s3-credentials", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
           "workspace": ("obot-workspace-s3-credentials", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}


@pytest.fixture
def fake():
    with RustfsFake("rustfsadmin", "rustfsadmin-Role-Secret") as server:
        yield server


@pytest.fixture
def namespace(kube_cluster, kube_api):
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    name = "rustfs-" + uuid.uuid4().hex[:8]
    core = client.CoreV1Api(kube_api)
    core.create_namespace({"metadata": {"name": name}})
    yield core, name
    core.delete_namespace(name)


def converge(tmp_path, fake, namespace, check=False, verbose=False, **settings):
    variables = {
        "cloudflare_domain": "example.com",
        "obot_encryption_key": base64.b64encode(b"k" * 32).decode(),
        "obot_namespace": namespace[1],
        "rustfs_enabled": True,
        "cnpg_barman_plugin_enabled": True,
        "obot_workspace_provider": "directory",
        "obot_s3_endpoint": "http://rustfs-svc.storage.svc.cluster.local:9000",
        "obot_rustfs_admin_endpoint": fake.endpoint,
        "obot_rustfs_admin_access_key": fake.root_access_key,
        "obot_rustfs_admin_secret_key": fake.root_secret_key,
    }
    variables.update(settings)
    playbook = write_role_playbook(tmp_path / "converge.yml", "obot_rustfs_iam")
    run = run_playbook(playbook, cwd=tmp_path, extra_vars=variables, check=check, diff=verbose, verbosity=3 if verbose else 0,
                       json_output=not verbose, timeout=600)
    if verbose:
        return run
    stats = run.require_report()["stats"]["localhost"]
    assert stats["failures"] == 0, json.dumps([result for result in run.task_results() if result.get("failed")], indent=1)[-4000:]
    return stats["changed"], run.changed_tasks()


def stored_keys(namespace, purpose):
    name, access_field, secret_field = SECRETS[purpose]
    secret = namespace[0].read_namespaced_secret(name, namespace[1])
    return tuple(base64.b64decode(secret.data[f]).decode() for f in (access_field, secret_field))


def test_converge_twice_with_generated_credentials(tmp_path, fake, namespace):
    # Check mode first: it reports changes, writes nothing to RustFS and creates no Secret.
    changed, _tasks = converge(tmp_path, fake, namespace, check=True)
    assert changed > 0
    assert fake.writes() == 0 and not fake.users
    assert not namespace[0].list_namespaced_secret(namespace[1]).items

    changed, tasks = converge(tmp_path, fake, namespace)
    assert changed > 0, tasks
    assert sorted(fake.buckets) == sorted(BUCKETS.values())
    for purpose, bucket in BUCKETS.items():
        access_key, secret_key = stored_keys(namespace, purpose)
        assert access_key == "obot-%s" % purpose and len(secret_key) == 40
        assert fake.users[access_key]["policies"] == ["%s-rw" % bucket]
        assert fake.users[access_key]["secretKey"] == secret_key
    assert not any(fake.buckets.values()), "the access probe must leave no object behind"

    # Second run: nothing changes, on the cluster or in RustFS (reads and probe objects aside).
    writes_before = [r for r in fake.requests if r[0] in ("PUT", "POST", "DELETE") and r[1].startswith("/rustfs/admin")]
    keys_before = {p: stored_keys(namespace, p) for p in BUCKETS}
    changed, tasks = converge(tmp_path, fake, namespace)
    assert changed == 0, tasks
    writes_after = [r for r in fake.requests if r[0] in ("PUT", "POST", "DELETE") and r[1].startswith("/rustfs/admin")]
    assert writes_after == writes_before
    bucket_creations = [r for r in fake.requests if r[0] == "PUT" and r[1].count("/") == 1]
    assert len(bucket_creations) == len(BUCKETS)
    assert {p: stored_keys(namespace, p) for p in BUCKETS} == keys_before


def test_inventory_keys_are_enforced_and_nothing_is_printed(tmp_path, fake, namespace):
    settings = {"obot_s3_access_key": "inventory-backup", "obot_s3_secret_key": "Inventory-Backup-Secret-1",
                "obot_workspace_provider": "s3", "obot_workspace_s3_access_key": "inventory-workspace",
                "obot_workspace_s3_secret_key": "Inventory-Workspace-Secret-1"}
    changed, _tasks = converge(tmp_path, fake, namespace, **settings)
    assert changed > 0
    assert fake.users["inventory-backup"]["secretKey"] == "Inventory-Backup-Secret-1"
    assert fake.users["inventory-workspace"]["policies"] == ["obot-workspaces-rw"]
    # obot_db writes the backup Secret when the keys come from the inventory; this role keeps only the audit one.
    names = sorted(s.metadata.name for s in namespace[0].list_namespaced_secret(namespace[1]).items)
    assert names == ["obot-audit-s3-credentials"]
    audit_secret = stored_keys(namespace, "audit")[1]

    # Someone changed the backup user's secret on the server: the next run puts the inventory's back.
    client = RustfsClient(fake.endpoint, fake.root_access_key, fake.root_secret_key)
    client.add_user("inventory-backup", "Changed-Elsewhere-1")
    proc = converge(tmp_path, fake, namespace, verbose=True, **settings)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert fake.users["inventory-backup"]["secretKey"] == "Inventory-Backup-Secret-1"
    output = proc.stdout + proc.stderr
    for secret in ("Inventory-Backup-Secret-1", "Inventory-Workspace-Secret-1", "Changed-Elsewhere-1", audit_secret,
                   fake.root_secret_key):
        assert secret not in output


def test_switched_off_changes_nothing(tmp_path, fake, namespace):
    changed, _tasks = converge(tmp_path, fake, namespace, rustfs_enabled=False)
    assert changed == 0
    assert not fake.requests
