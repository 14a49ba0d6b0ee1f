"""The obot_app role against the local control plane: the feature matrix, idempotence, one
roll per change, and secrets that never leave Secrets."""

from __future__ import annotations

import base64
import json

import pytest
from testbed.secret_leaks import secret_leaks

from .conftest import ENCRYPTION_KEY_B64, ENCRYPTION_KEY_HEX

pytestmark = pytest.mark.cluster

DB_PASSWORD = "db-p@ss/w:rd%secret"  # characters that must be percent-encoded in the DSN
KEYCLOAK = {
    "keycloak_enabled": True, "obot_keycloak_enabled": True, "keycloak_realm": "homelab",
    "obot_keycloak_client_secret": "kc-client-secret-0001",
    "obot_keycloak_cookie_secret": "kc-cookie-secret-0002-abcdefghijklmnop",
    "obot_keycloak_allowed_groups": "obot-users",
}
ENTRA = {
    "obot_entra_tenant_id": "11111111-2222-3333-4444-555555555555",
    "obot_entra_client_id": "66666666-7777-8888-9999-000000000000",
    "obot_entra_client_secret": "entra-client-secret-0003",
}
S3 = {
    "obot_workspace_provider": "s3", "obot_replicas": 2,
    "obot_s3_endpoint": "http://rustfs-svc.storage.svc.cluster.local:9000",
    "obot_workspace_s3_access_key": "workspace-access-key",
    "obot_workspace_s3_secret_key": "workspace-secret-key-0004",
}
BOOTSTRAP_TOKEN = "ab" * 32
SECRETS = [DB_PASSWORD, "db-p%40ss%2Fw%3Ard%25secret", ENCRYPTION_KEY_HEX, ENCRYPTION_KEY_B64, BOOTSTRAP_TOKEN,
           KEYCLOAK["obot_keycloak_client_secret"], KEYCLOAK["obot_keycloak_cookie_secret"],
           ENTRA["obot_entra_client_secret"], S3["obot_workspace_s3_secret_key"]]


def secret_data(cluster, namespace, name="obot-secret") -> dict:
    item = cluster.get("v1", "Secret", namespace, name)
    return {key: base64.b64decode(value).decode() for key, value in (item["data"] or {}).items()}


def exists(cluster, api_version, kind, namespace, name) -> bool:
    return cluster.get(api_version, kind, namespace, name) is not None


def non_secret_dump(cluster, *namespaces) -> str:
    """Every object the role may write except Secrets, as one JSON text."""
    from .conftest import KINDS  # pylint: disable=import-outside-toplevel

    return json.dumps([cluster.list(api_version, kind, ns) for ns in namespaces
                       for api_version, kind in KINDS if kind != "Secret"])


def assert_no_secret_in(text: str, where: str) -> None:
    """No secret, as given or base64-encoded (the form of Secret data), occurs in text."""
    leaked = secret_leaks(text, {f"secret #{number}": value for number, value in enumerate(SECRETS)})
    assert not leaked, f"{', '.join(leaked)} found in {where}"


def test_feature_matrix_and_switching_off(app, cluster):
    """Three converges over the feature dimensions; each removes what the previous one had and
    it no longer needs. The first two run with -vvv --diff, whose output must hold no secret."""
    ns, gw = app.namespace, app.gateway_namespace

    # A: directory, Keycloak, monitoring + tracing + LiteLLM, Kubernetes policies, HTTPRoute.
    run = app(dict(KEYCLOAK, obot_db_password=DB_PASSWORD, obot_bootstrap_token=BOOTSTRAP_TOKEN,
                   monitoring_enabled=True, tracing_enabled=True, litellm_enabled=True),
              "-vvv", "--diff", json_output=False)
    assert run.ok(), run.output[-3000:]
    assert "OBOT_SERVER_HOSTNAME" in run.output and "checksum/config" in run.output  # the diff was shown
    assert_no_secret_in(run.output, "the -vvv --diff output (run A)")

    deployment = cluster.get("apps/v1", "Deployment", ns, "obot")
    spec, pod = deployment["spec"], deployment["spec"]["template"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "obot"
    assert len(spec["template"]["metadata"]["annotations"]["checksum/config"]) == 64
    container = pod["containers"][0]
    assert container["image"] == "ghcr.io/jrmatherly/obot-entraid:v0.2.33"
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/api/healthz"
    assert {"name": "HOME", "value": "/data"} in container["env"]
    assert [source.get("configMapRef", source.get("secretRef"))["name"] for source in container["envFrom"]] == ["obot-config", "obot-secret"]
    assert {mount["mountPath"] for mount in container["volumeMounts"]} == {"/data", "/config/encryption.yaml"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["initContainers"][0]["name"] == "wait-for-postgres"
    assert pod["serviceAccountName"] == "obot" and "topologySpreadConstraints" not in pod
    service = cluster.get("v1", "Service", ns, "obot")
    assert service["spec"]["ports"][0]["port"] == 80 and service["spec"]["ports"][0]["name"] == "http"
    assert exists(cluster, "v1", "PersistentVolumeClaim", ns, "obot-data")
    assert exists(cluster, "v1", "ServiceAccount", ns, "obot")
    assert not exists(cluster, "policy/v1", "PodDisruptionBudget", ns, "obot")

    config = cluster.get("v1", "ConfigMap", ns, "obot-config")["data"]
    assert config["OBOT_SERVER_HOSTNAME"] == "https://obot.example.com"
    assert config["OBOT_KEYCLOAK_AUTH_PROVIDER_URL"] == "https://sso.example.com"  # external, no /realms
    assert config["OBOT_KEYCLOAK_AUTH_PROVIDER_REALM"] == "homelab"
    assert config["OBOT_SERVER_AUTH_PROVIDER"] == "keycloak"
    assert config["OBOT_SERVER_MCPNAMESPACE"] == "obot-mcp"
    assert config["OBOT_SERVER_ENCRYPTION_CONFIG_FILE"] == "/config/encryption.yaml"
    assert "OBOT_SERVER_OTEL_BASE_EXPORT_ENDPOINT" in config and "OBOT_SERVER_LLM_BASE_URL" in config
    assert not any(key.startswith("OBOT_ENTRA") or key.startswith("WORKSPACE_PROVIDER_S3") for key in config)
    secret = secret_data(cluster, ns)
    assert set(secret) == {"OBOT_SERVER_DSN", "OBOT_AUTH_PROVIDER_POSTGRES_CONNECTION_DSN", "OBOT_SERVER_ENCRYPTION_KEY",
                           "OBOT_BOOTSTRAP_TOKEN", "OBOT_AUTH_PROVIDER_COOKIE_SECRET", "OBOT_KEYCLOAK_AUTH_PROVIDER_CLIENT_SECRET"}
    assert secret["OBOT_SERVER_DSN"] == (f"postgresql://obot:db-p%40ss%2Fw%3Ard%25secret@obot-postgresql-rw.{ns}"
                                         ".svc.cluster.local:5432/obot?sslmode=require")
    assert secret["OBOT_SERVER_ENCRYPTION_KEY"] == ENCRYPTION_KEY_B64  # hex normalised
    encryption = secret_data(cluster, ns, "obot-encryption-config")["encryption.yaml"]
    assert "kind: EncryptionConfiguration" in encryption and f"secret: {ENCRYPTION_KEY_B64}" in encryption
    assert "mcpoauthtokens.obot.obot.ai" in encryption and encryption.index("aesgcm") < encryption.index("identity")

    route = cluster.get("gateway.networking.k8s.io/v1", "HTTPRoute", gw, "obot")
    assert route["spec"]["hostnames"] == ["obot.example.com"]
    assert route["spec"]["parentRefs"][0]["name"] == "envoy-external" and route["spec"]["parentRefs"][0]["sectionName"] == "https"
    grant = cluster.get("gateway.networking.k8s.io/v1beta1", "ReferenceGrant", ns, "obot-httproute")
    assert grant["spec"]["from"][0]["namespace"] == gw and grant["spec"]["to"][0]["kind"] == "Service"
    assert cluster.names("networking.k8s.io/v1", "NetworkPolicy", ns) == {"obot", "obot-postgresql"}
    assert not cluster.names("cilium.io/v2", "CiliumNetworkPolicy", ns)
    server_policy = json.dumps(cluster.get("networking.k8s.io/v1", "NetworkPolicy", ns, "obot")["spec"])
    for needle in ("kube-dns", "obot-postgresql", "obot-mcp", "observability", "ai-system", "4318", "4000"):
        assert needle in server_policy, needle
    monitor = cluster.get("monitoring.coreos.com/v1", "ServiceMonitor", ns, "obot")
    assert monitor["spec"]["endpoints"][0]["path"] == "/debug/metrics"
    dashboard = cluster.get("v1", "ConfigMap", ns, "obot-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert not exists(cluster, "networking.k8s.io/v1", "Ingress", ns, "obot")

    # B: s3 with 2 replicas, Entra, no monitoring/tracing, Cilium, Ingress.
    run = app(dict(ENTRA, **S3, obot_db_password=DB_PASSWORD, obot_network_policy_provider="cilium",
                   obot_ingress_kind="ingress", monitoring_enabled=False, tracing_enabled=False),
              "-vvv", "--diff", json_output=False)
    assert run.ok(), run.output[-3000:]
    assert_no_secret_in(run.output, "the -vvv --diff output (run B)")
    deployment = cluster.get("apps/v1", "Deployment", ns, "obot")
    assert deployment["spec"]["replicas"] == 2 and deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"][0]["maxSkew"] == 1
    assert exists(cluster, "policy/v1", "PodDisruptionBudget", ns, "obot")
    assert not exists(cluster, "v1", "PersistentVolumeClaim", ns, "obot-data") or \
        cluster.get("v1", "PersistentVolumeClaim", ns, "obot-data")["metadata"].get("deletionTimestamp")
    config = cluster.get("v1", "ConfigMap", ns, "obot-config")["data"]
    assert config["OBOT_SERVER_AUTH_PROVIDER"] == "entra-id" and config["OBOT_WORKSPACE_PROVIDER_TYPE"] == "s3"
    assert config["WORKSPACE_PROVIDER_S3_BASE_ENDPOINT"] == S3["obot_s3_endpoint"]
    assert not any(key.startswith("OBOT_KEYCLOAK") or key.startswith("OBOT_SERVER_OTEL") for key in config)
    assert "OBOT_SERVER_LLM_BASE_URL" not in config
    secret = secret_data(cluster, ns)
    assert secret["AWS_SECRET_ACCESS_KEY"] == S3["obot_workspace_s3_secret_key"]
    assert secret["OBOT_ENTRA_AUTH_PROVIDER_CLIENT_SECRET"] == ENTRA["obot_entra_client_secret"]
    assert "OBOT_KEYCLOAK_AUTH_PROVIDER_CLIENT_SECRET" not in secret and "OBOT_BOOTSTRAP_TOKEN" not in secret
    assert exists(cluster, "networking.k8s.io/v1", "Ingress", ns, "obot")
    assert not exists(cluster, "gateway.networking.k8s.io/v1", "HTTPRoute", gw, "obot")
    assert not exists(cluster, "gateway.networking.k8s.io/v1beta1", "ReferenceGrant", ns, "obot-httproute")
    assert cluster.names("cilium.io/v2", "CiliumNetworkPolicy", ns) == {"obot", "obot-postgresql"}
    assert not cluster.names("networking.k8s.io/v1", "NetworkPolicy", ns)
    server_policy = json.dumps(cluster.get("cilium.io/v2", "CiliumNetworkPolicy", ns, "obot")["spec"])
    assert "login.microsoftonline.com" in server_policy and "storage" in server_policy and "kube-apiserver" in server_policy
    assert not exists(cluster, "monitoring.coreos.com/v1", "ServiceMonitor", ns, "obot")
    assert not exists(cluster, "v1", "ConfigMap", ns, "obot-dashboard")

    # B again: nothing changes (Ingress, PDB, Cilium policies stable; the cookie secret kept).
    cookie = secret["OBOT_AUTH_PROVIDER_COOKIE_SECRET"]
    assert cookie == KEYCLOAK["obot_keycloak_cookie_secret"]  # not given for Entra: the existing one is reused
    run = app(dict(ENTRA, **S3, obot_db_password=DB_PASSWORD, obot_network_policy_provider="cilium",
                   obot_ingress_kind="ingress", monitoring_enabled=False, tracing_enabled=False))
    assert run.ok(), run.output[-3000:]
    assert run.changed == 0, run.changed_tasks()
    assert secret_data(cluster, ns)["OBOT_AUTH_PROVIDER_COOKIE_SECRET"] == cookie

    # C: directory, no identity provider, network policies off, no exposure.
    run = app({"obot_db_password": DB_PASSWORD, "network_policies_enabled": False, "obot_ingress_kind": "none"})
    assert run.ok(), run.output[-3000:]
    assert not cluster.names("cilium.io/v2", "CiliumNetworkPolicy", ns)
    assert not cluster.names("networking.k8s.io/v1", "NetworkPolicy", ns)
    assert not exists(cluster, "networking.k8s.io/v1", "Ingress", ns, "obot")
    assert not exists(cluster, "gateway.networking.k8s.io/v1", "HTTPRoute", gw, "obot")
    assert not exists(cluster, "policy/v1", "PodDisruptionBudget", ns, "obot")
    assert exists(cluster, "v1", "PersistentVolumeClaim", ns, "obot-data")
    config = cluster.get("v1", "ConfigMap", ns, "obot-config")["data"]
    assert "OBOT_SERVER_AUTH_PROVIDER" not in config and "OBOT_AUTH_PROVIDER_EMAIL_DOMAINS" not in config
    assert set(secret_data(cluster, ns)) == {"OBOT_SERVER_DSN", "OBOT_AUTH_PROVIDER_POSTGRES_CONNECTION_DSN", "OBOT_SERVER_ENCRYPTION_KEY"}

    # Secrets live in Secrets only: never in a ConfigMap, the Deployment or any custom resource.
    assert_no_secret_in(non_secret_dump(cluster, ns, gw), "the non-Secret objects")


def test_idempotent_and_one_roll_per_change(app, cluster):
    """Credentials from the other roles' Secrets; a second converge changes nothing; one changed
    setting rolls the Deployment exactly once."""
    ns, gw = app.namespace, app.gateway_namespace
    cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "obot-db-secret", "namespace": ns},
                    "type": "kubernetes.io/basic-auth", "stringData": {"username": "obot", "password": DB_PASSWORD}})
    # What obot_keycloak_client leaves when Keycloak generated the client secret.
    cluster.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "obot-secret", "namespace": ns},
                   "stringData": {"OBOT_KEYCLOAK_AUTH_PROVIDER_CLIENT_SECRET": "generated-by-keycloak-0005"}},
                  field_manager="aiplatform.obot")
    settings = dict(KEYCLOAK, **S3, obot_keycloak_client_secret="", obot_keycloak_admin_username="admin",
                    obot_keycloak_admin_password="admin-password", obot_network_policy_provider="cilium",
                    monitoring_enabled=True)

    first = app(settings)
    assert first.ok(), first.output[-3000:]
    assert first.changed > 0
    secret = secret_data(cluster, ns)
    assert secret["OBOT_KEYCLOAK_AUTH_PROVIDER_CLIENT_SECRET"] == "generated-by-keycloak-0005"  # kept
    assert "db-p%40ss%2Fw%3Ard%25secret@" in secret["OBOT_SERVER_DSN"]  # from obot-db-secret

    versions = cluster.resource_versions(ns, gw)
    deployment = cluster.get("apps/v1", "Deployment", ns, "obot")
    checksum = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    second = app(settings)
    assert second.ok(), second.output[-3000:]
    assert second.changed == 0, second.changed_tasks()
    assert cluster.resource_versions(ns, gw) == versions

    changed = dict(settings, obot_admin_emails="admin@example.com")
    third = app(changed)
    assert third.ok(), third.output[-3000:]
    rolled = cluster.get("apps/v1", "Deployment", ns, "obot")
    new_checksum = rolled["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert new_checksum != checksum
    assert rolled["metadata"]["generation"] == deployment["metadata"]["generation"] + 1

    fourth = app(changed)
    assert fourth.ok(), fourth.output[-3000:]
    assert fourth.changed == 0, fourth.changed_tasks()
    settled = cluster.get("apps/v1", "Deployment", ns, "obot")
    assert settled["spec"]["template"]["metadata"]["annotations"]["checksum/config"] == new_checksum
    assert settled["metadata"]["generation"] == rolled["metadata"]["generation"]


def test_check_mode_disabled_and_missing_credentials(app, cluster):
    """Check mode and obot_enabled false write nothing; missing credentials stop the role with a
    message naming the settings."""
    ns = app.namespace
    run = app({"obot_enabled": False, "obot_db_password": DB_PASSWORD})
    assert run.ok(), run.output[-3000:]
    assert run.changed == 0
    assert not exists(cluster, "apps/v1", "Deployment", ns, "obot")

    run = app(dict(ENTRA, obot_db_password=DB_PASSWORD), "--check", "--diff")  # Entra: a cookie secret is generated
    assert run.ok(), run.output[-3000:]
    assert run.changed > 0
    assert not exists(cluster, "apps/v1", "Deployment", ns, "obot")
    assert not exists(cluster, "v1", "Secret", ns, "obot-secret")

    # No database password anywhere and Keycloak without a client secret: one clear message each.
    run = app(dict(KEYCLOAK, obot_keycloak_client_secret="", obot_keycloak_admin_username="admin",
                   obot_keycloak_admin_password="admin-password"), json_output=False)
    assert not run.ok()
    assert "obot_db_password: is empty and Secret obot-db-secret" in run.output
    assert "obot_keycloak_client_secret: is empty" in run.output
    assert not exists(cluster, "apps/v1", "Deployment", ns, "obot")


def test_fresh_cluster_check_mode_writes_nothing_then_the_role_creates_its_namespace(fresh_app, cluster, kube_cluster):
    """With no Obot namespace yet, check mode reports every object as one that would be created
    (the Namespace first) and writes nothing; a real run then creates the namespace itself."""
    ns, gw = fresh_app.namespace, fresh_app.gateway_namespace
    mark = kube_cluster.audit_mark()
    run = fresh_app({"obot_db_password": DB_PASSWORD}, "--check", "--diff", json_output=False)
    assert run.ok(), run.output[-3000:]
    assert f"--- before: Namespace {ns}" in run.output and f"Deployment {ns}/obot" in run.output
    assert_no_secret_in(run.output, "the check-mode --diff output")
    writes = [event for event in kube_cluster.write_events_since(mark) if "dryRun" not in event.get("requestURI", "")
              and {ns, gw} & {event.get("objectRef", {}).get("namespace"), event.get("objectRef", {}).get("name")}]
    assert not writes, writes
    assert not exists(cluster, "v1", "Namespace", None, ns)

    run = fresh_app({"obot_db_password": DB_PASSWORD})
    assert run.ok(), run.output[-3000:]
    assert run.changed > 0
    assert exists(cluster, "apps/v1", "Deployment", ns, "obot") and exists(cluster, "v1", "Secret", ns, "obot-secret")
    run = fresh_app({"obot_db_password": DB_PASSWORD})
    assert run.ok(), run.output[-3000:]
    assert run.changed == 0, run.changed_tasks()
