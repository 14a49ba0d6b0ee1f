"""The obot_db role against a real kube-apiserver with the upstream CloudNativePG, Barman Cloud
and Prometheus Operator CRDs (server-side apply, strict schemas). No operator runs, so the
tests check what the role writes, not what CloudNativePG would do with it."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.cluster

RUSTFS = {
    "rustfs_enabled": True,
    "obot_rustfs_admin_endpoint": "https://s3.example.com",
    "obot_rustfs_admin_access_key": "rustfs-admin",
    "obot_rustfs_admin_secret_key": "RustfsAdminSecret-42",
}
BACKUPS_ON = {
    **RUSTFS,
    "cnpg_barman_plugin_enabled": True,
    "obot_s3_access_key": "obot-backup-user",
    "obot_s3_secret_key": "BackupSecret-0123456789abcdef",
    "obot_s3_endpoint": "http://rustfs-svc.storage.svc.cluster.local:9000",
    "monitoring_enabled": True,
}
BACKUPS_OFF = {**RUSTFS, "cnpg_barman_plugin_enabled": False, "monitoring_enabled": False}


def real_writes(kube_cluster, mark: int, namespace: str) -> list:
    """Writes into the namespace by the admin (the playbook's user) since mark, dry runs left out."""
    return [event for event in kube_cluster.write_events_since(mark)
            if event.get("objectRef", {}).get("namespace") == namespace and "dryRun" not in event.get("requestURI", "")]


def assert_ok(run):
    assert run.returncode == 0 and run.failed == 0, run.output[-3000:]


def test_converge_twice_is_idempotent_and_keeps_the_generated_password(namespace, run_role):
    first = run_role()
    assert_ok(first)
    assert first.changed > 0

    secret = namespace.secret("obot-db-secret")
    assert secret.type == "kubernetes.io/basic-auth"
    assert secret.metadata.labels["cnpg.io/reload"] == "true"
    assert namespace.secret_value("obot-db-secret", "username") == "obot"
    password = namespace.secret_value("obot-db-secret", "password")
    assert re.fullmatch(r"[A-Za-z0-9]{32}", password), "generated password is not 32 letters and digits"

    cluster = namespace.custom_object("Cluster", "obot-postgresql")
    spec = cluster["spec"]
    assert spec["instances"] == 1
    assert spec["imageName"] == "ghcr.io/cloudnative-pg/postgresql:18-standard-trixie"
    assert spec["bootstrap"]["initdb"] == {"database": "obot", "owner": "obot", "secret": {"name": "obot-db-secret"}}
    role = spec["managed"]["roles"][0]
    assert (role["name"], role["ensure"], role["login"], role["passwordSecret"]) == ("obot", "present", True, {"name": "obot-db-secret"})
    assert spec["storage"]["size"] == "10Gi" and "storageClass" not in spec["storage"]
    assert spec["postgresql"]["parameters"]["shared_buffers"] == "256MB"
    assert spec["postgresql"]["parameters"]["effective_cache_size"] == "768MB"
    assert spec["resources"]["limits"]["memory"] == "1Gi"
    assert "plugins" not in spec and "enablePodAntiAffinity" not in spec.get("affinity", {})

    database = namespace.custom_object("Database", "obot")
    assert database["spec"]["name"] == "obot" and database["spec"]["owner"] == "obot"
    assert database["spec"]["cluster"] == {"name": "obot-postgresql"}
    assert database["spec"]["extensions"] == [{"name": "vector", "ensure": "present"}]
    assert not namespace.custom_objects("ObjectStore") and not namespace.custom_objects("PodMonitor")

    versions = namespace.resource_versions()
    second = run_role()
    assert_ok(second)
    assert second.changed == 0, second.changed_tasks()
    # Server-side apply sends a patch every run; an unchanged object keeps its resourceVersion.
    assert namespace.resource_versions() == versions
    assert namespace.secret_value("obot-db-secret", "password") == password


def test_given_password_replaces_and_is_stored_without_newline(namespace, run_role):
    assert_ok(run_role())
    assert_ok(run_role({"obot_db_password": "Given-Password-123"}))
    assert namespace.secret_value("obot-db-secret", "password") == "Given-Password-123"
    # Taking the password out of inventory later keeps the stored one.
    again = run_role()
    assert_ok(again)
    assert again.changed == 0, again.changed_tasks()
    assert namespace.secret_value("obot-db-secret", "password") == "Given-Password-123"


def test_backups_and_monitoring_on_then_off(namespace, run_role):
    settings = dict(BACKUPS_ON, obot_postgresql_replicas=2, storage_class="fast-ssd", obot_db_backup_retention="14d")
    assert_ok(run_role(settings))

    credentials = namespace.secret("obot-backup-credentials")
    assert credentials is not None
    assert namespace.secret_value("obot-backup-credentials", "ACCESS_KEY_ID") == "obot-backup-user"
    assert namespace.secret_value("obot-backup-credentials", "ACCESS_SECRET_KEY") == "BackupSecret-0123456789abcdef"

    store = namespace.custom_object("ObjectStore", "obot-objectstore")["spec"]
    assert store["retentionPolicy"] == "14d"
    configuration = store["configuration"]
    assert configuration["destinationPath"] == "s3://obot-postgres-backups/"
    assert configuration["endpointURL"] == BACKUPS_ON["obot_s3_endpoint"]
    assert configuration["s3Credentials"] == {
        "accessKeyId": {"name": "obot-backup-credentials", "key": "ACCESS_KEY_ID"},
        "secretAccessKey": {"name": "obot-backup-credentials", "key": "ACCESS_SECRET_KEY"},
    }
    assert configuration["wal"]["compression"] == "gzip"
    assert {item["name"]: item["value"] for item in store["instanceSidecarConfiguration"]["env"]} == {
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required", "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required"}

    spec = namespace.custom_object("Cluster", "obot-postgresql")["spec"]
    assert spec["plugins"] == [{"name": "barman-cloud.cloudnative-pg.io", "enabled": True, "isWALArchiver": True,
                                "parameters": {"barmanObjectName": "obot-objectstore"}}]
    assert spec["instances"] == 2
    assert spec["affinity"]["enablePodAntiAffinity"] is True and spec["affinity"]["topologyKey"] == "kubernetes.io/hostname"
    assert spec["storage"]["storageClass"] == "fast-ssd"

    scheduled = namespace.custom_object("ScheduledBackup", "obot-postgresql-daily")["spec"]
    assert scheduled["schedule"] == "0 0 3 * * *" and len(scheduled["schedule"].split()) == 6
    assert scheduled["method"] == "plugin"
    assert scheduled["pluginConfiguration"] == {"name": "barman-cloud.cloudnative-pg.io"}
    assert scheduled["cluster"] == {"name": "obot-postgresql"}

    monitor = namespace.custom_object("PodMonitor", "obot-postgresql")["spec"]
    assert monitor["selector"]["matchLabels"]["cnpg.io/cluster"] == "obot-postgresql"
    assert monitor["podMetricsEndpoints"] == [{"port": "metrics"}]

    versions = namespace.resource_versions()
    again = run_role(settings)
    assert_ok(again)
    assert again.changed == 0, again.changed_tasks()
    assert namespace.resource_versions() == versions

    off = run_role(BACKUPS_OFF)
    assert_ok(off)
    assert namespace.secret("obot-backup-credentials") is None
    assert not namespace.custom_objects("ObjectStore")
    assert not namespace.custom_objects("ScheduledBackup")
    assert not namespace.custom_objects("PodMonitor")
    spec = namespace.custom_object("Cluster", "obot-postgresql")["spec"]
    assert "plugins" not in spec
    assert namespace.secret("obot-db-secret") is not None

    off_again = run_role(BACKUPS_OFF)
    assert_ok(off_again)
    assert off_again.changed == 0, off_again.changed_tasks()


def test_backups_off_keeps_credentials_another_role_wrote(namespace, run_role):
    """obot_rustfs_iam writes obot-backup-credentials when it generates the keys: not ours to remove."""
    namespace.core.create_namespaced_secret(namespace.name, {
        "metadata": {"name": "obot-backup-credentials"},
        "stringData": {"ACCESS_KEY_ID": "generated", "ACCESS_SECRET_KEY": "generated-secret"},
    })
    assert_ok(run_role(BACKUPS_OFF))
    assert namespace.secret_value("obot-backup-credentials", "ACCESS_SECRET_KEY") == "generated-secret"


def test_pgvector_off_leaves_out_the_extension(namespace, run_role):
    assert_ok(run_role({"cnpg_pgvector_enabled": False}))
    assert "extensions" not in namespace.custom_object("Database", "obot")["spec"]


def test_check_mode_on_a_fresh_namespace_creates_nothing(kube_cluster, namespace, run_role):
    mark = kube_cluster.audit_mark()
    run = run_role(BACKUPS_ON, "--check", "--diff")
    assert_ok(run)
    assert run.changed > 0, "check mode should report what it would create"
    assert not real_writes(kube_cluster, mark, namespace.name)
    assert all(not name.startswith("Secret/obot") for name in namespace.resource_versions())
    assert not [name for name in namespace.resource_versions() if not name.startswith("Secret/")]


def test_on_a_fresh_cluster_check_mode_writes_nothing_then_the_role_creates_its_namespace(kube_cluster, fresh):
    run_role, namespace = fresh
    mark = kube_cluster.audit_mark()
    run = run_role(BACKUPS_ON, "--check", "--diff")
    assert_ok(run)
    assert run.changed > 0, "check mode should report the namespace and what it would receive"
    writes = [event for event in kube_cluster.write_events_since(mark) if "dryRun" not in event.get("requestURI", "")
              and namespace.name in (event.get("objectRef", {}).get("namespace"), event.get("objectRef", {}).get("name"))]
    assert not writes, writes
    assert not namespace.core.list_namespace(field_selector=f"metadata.name={namespace.name}").items

    assert_ok(run_role(BACKUPS_ON))
    assert namespace.custom_object("Cluster", "obot-postgresql") is not None
    assert namespace.secret("obot-db-secret") is not None
    again = run_role(BACKUPS_ON)
    assert_ok(again)
    assert again.changed == 0, again.changed_tasks()


def test_disabled_obot_touches_nothing(namespace, run_role):
    run = run_role(dict(BACKUPS_ON, obot_enabled=False))
    assert_ok(run)
    assert run.changed == 0
    assert namespace.secret("obot-db-secret") is None
    assert not namespace.custom_objects("Cluster")


def test_verbose_diff_output_never_shows_the_password_or_a_dsn(namespace, run_role):
    password = "Very-Secret-DB-Password-42"
    settings = dict(BACKUPS_ON, obot_db_password=password)
    outputs = []
    for run_settings in (settings, settings, dict(settings, obot_db_password=password + "-changed"), BACKUPS_OFF):
        run = run_role(run_settings, "-vvv", "--diff", json_output=False)
        assert run.returncode == 0, run.output[-3000:]
        outputs.append(run.output)
    generated_run = run_role({}, "-vvv", "--diff", json_output=False)
    stored = namespace.secret_value("obot-db-secret", "password")
    text = "\n".join(outputs + [generated_run.output])
    assert "TASK [aiplatform.obot.obot_db : Apply the namespace, the database cluster and its companions;" in text
    for secret in (password, password + "-changed", stored, BACKUPS_ON["obot_s3_secret_key"]):
        assert secret not in text
    assert "postgresql://" not in text and "postgres://" not in text
    # The Secrets' base64 data must not leak either.
    import base64  # pylint: disable=import-outside-toplevel
    for secret in (password, stored):
        assert base64.b64encode(secret.encode()).decode() not in text


def test_server_side_apply_path_is_strict(namespace, run_role, tmp_path):
    """The role's apply path (aiplatform.obot.k8s_apply, server-side apply) rejects an unknown field,
    so every custom resource the role applied was accepted by the real schemas as written."""
    playbook = tmp_path / "canary.yml"
    playbook.write_text(f"""\
- name: Canary
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Apply a Cluster with a misspelled field
      aiplatform.obot.k8s_apply:
        definition:
          - apiVersion: postgresql.cnpg.io/v1
            kind: Cluster
            metadata: {{name: canary, namespace: {namespace.name}}}
            spec: {{instances: 1, storage: {{size: 1Gi}}, enablePodMonitorr: true}}
""")
    run_role.playbook = playbook
    run = run_role()
    assert run.returncode != 0
    assert "enablePodMonitorr" in run.output
    assert namespace.custom_object("Cluster", "canary") is None


def test_wait_explains_a_cluster_that_is_not_ready_and_passes_once_it_is(namespace, run_role):
    assert_ok(run_role())
    waited = run_role({"obot_db_wait": True, "obot_db_wait_timeout": 2}, json_output=False)
    assert waited.returncode != 0
    assert "was not Ready within obot_db_wait_timeout (2 s)" in waited.output
    assert "set obot_db_wait to false" in waited.output

    # Stand-in for the CloudNativePG operator: report the Cluster Ready.
    namespace.custom.patch_namespaced_custom_object_status(
        "postgresql.cnpg.io", "v1", namespace.name, "clusters", "obot-postgresql",
        {"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "ClusterIsReady", "message": "stand-in",
                                    "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})
    ready = run_role({"obot_db_wait": True, "obot_db_wait_timeout": 30})
    assert_ok(ready)
    assert ready.changed == 0, ready.changed_tasks()
