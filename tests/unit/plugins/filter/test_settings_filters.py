"""Derived settings truth tables and every validation rule of the settings filters."""

import itertools

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.obot.plugins.filter.settings import FilterModule, derived_settings, encryption_key, settings_problems
from ansible_collections.aiplatform.obot.plugins.module_utils.settings import SECRETS
from unit.settings_fixture import ENCRYPTION_KEY, valid_settings

GUID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
COOKIE = "c" * 32


def test_filters_registered():
    assert set(FilterModule().filters()) == {"derived_settings", "settings_problems", "encryption_key"}


def test_defaults_are_valid():
    assert settings_problems(valid_settings()) == []


def test_derived_names_are_exactly_the_table():
    assert set(derived_settings(valid_settings())) == {
        "obot_enabled", "obot_hostname", "obot_keycloak_enabled", "obot_keycloak_base_url", "obot_keycloak_issuer_url",
        "obot_backup_enabled", "obot_audit_logs_enabled", "obot_monitoring_enabled", "obot_tracing_enabled", "obot_litellm_enabled",
    }


def test_derived_urls():
    derived = derived_settings(valid_settings(obot_subdomain="ai", keycloak_subdomain="auth", keycloak_realm="homelab"))
    assert derived["obot_hostname"] == "ai.example.com"
    assert derived["obot_keycloak_base_url"] == "https://auth.example.com"
    assert derived["obot_keycloak_issuer_url"] == "https://auth.example.com/realms/homelab"


BOOLS = (True, False)


@pytest.mark.parametrize("enabled, global_flag, obot_flag", list(itertools.product(BOOLS, BOOLS, BOOLS)))
@pytest.mark.parametrize("flag, global_name, obot_name", [
    ("obot_keycloak_enabled", "keycloak_enabled", "obot_keycloak_enabled"),
    ("obot_monitoring_enabled", "monitoring_enabled", "obot_monitoring_enabled"),
    ("obot_tracing_enabled", "tracing_enabled", "obot_tracing_enabled"),
    ("obot_litellm_enabled", "litellm_enabled", "obot_litellm_enabled"),
])
def test_two_switch_flags(flag, global_name, obot_name, enabled, global_flag, obot_flag):
    settings = valid_settings(obot_enabled=enabled, **{global_name: global_flag, obot_name: obot_flag})
    assert derived_settings(settings)[flag] is (enabled and global_flag and obot_flag)


def admin_api(managed):
    """RustFS admin API settings: with them obot_rustfs_iam generates missing keys."""
    if not managed:
        return {}
    return dict(obot_rustfs_admin_endpoint="https://s3.example.com", obot_rustfs_admin_access_key="rustfsadmin",
                obot_rustfs_admin_secret_key="rustfs-admin-secret")


@pytest.mark.parametrize("enabled, rustfs, access, secret, barman, managed", list(itertools.product(BOOLS, BOOLS, BOOLS, BOOLS, BOOLS, BOOLS)))
def test_backup_flag(enabled, rustfs, access, secret, barman, managed):
    settings = valid_settings(obot_enabled=enabled, rustfs_enabled=rustfs, cnpg_barman_plugin_enabled=barman,
                              obot_s3_access_key="backup" if access else "", obot_s3_secret_key="backupsecret" if secret else "",
                              **admin_api(managed))
    assert derived_settings(settings)["obot_backup_enabled"] is (enabled and rustfs and barman and ((access and secret) or managed))


@pytest.mark.parametrize("enabled, rustfs, access, secret, managed", list(itertools.product(BOOLS, BOOLS, BOOLS, BOOLS, BOOLS)))
def test_audit_flag(enabled, rustfs, access, secret, managed):
    settings = valid_settings(obot_enabled=enabled, rustfs_enabled=rustfs, **admin_api(managed),
                              obot_audit_s3_access_key="audit" if access else "", obot_audit_s3_secret_key="auditsecret" if secret else "")
    assert derived_settings(settings)["obot_audit_logs_enabled"] is (enabled and rustfs and ((access and secret) or managed))


def test_generated_workspace_keys_need_the_admin_api():
    workspace = dict(S3, obot_workspace_s3_access_key="", obot_workspace_s3_secret_key="")
    assert settings_problems(valid_settings(**dict(workspace, **RUSTFS))) == []
    assert any(line.startswith("obot_workspace_s3_access_key: is required") for line in settings_problems(valid_settings(**workspace)))


def test_string_booleans_from_templates():
    derived = derived_settings(valid_settings(monitoring_enabled="true", obot_monitoring_enabled="yes"))
    assert derived["obot_monitoring_enabled"] is True


def test_disabled_skips_validation():
    assert settings_problems(valid_settings(obot_enabled=False, cloudflare_domain="")) == []


def test_filters_reject_non_dicts():
    with pytest.raises(AnsibleFilterError):
        derived_settings("x")
    with pytest.raises(AnsibleFilterError):
        settings_problems(None)


def test_encryption_key_normalisation():
    assert encryption_key(ENCRYPTION_KEY) == ENCRYPTION_KEY
    assert encryption_key("00" * 32) == "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    with pytest.raises(AnsibleFilterError) as failure:
        encryption_key("not-a-key-value")
    assert "not-a-key-value" not in str(failure.value)


KEYCLOAK = dict(keycloak_enabled=True, obot_keycloak_enabled=True, keycloak_realm="homelab", obot_keycloak_cookie_secret=COOKIE,
                obot_keycloak_client_secret="kc-client-secret-value")
ENTRA = dict(obot_entra_tenant_id=GUID, obot_entra_client_id=GUID, obot_entra_client_secret="entra-secret-value")
S3 = dict(obot_workspace_provider="s3", obot_replicas=3, obot_s3_endpoint="http://rustfs-svc.storage.svc.cluster.local:9000",
          obot_workspace_s3_access_key="workspace", obot_workspace_s3_secret_key="workspace-secret")
RUSTFS = dict(rustfs_enabled=True, obot_rustfs_admin_endpoint="https://s3.example.com", obot_rustfs_admin_access_key="rustfsadmin",
              obot_rustfs_admin_secret_key="rustfs-admin-secret")


VALID_VARIANTS = [
    KEYCLOAK, ENTRA, S3, RUSTFS,
    dict(RUSTFS, obot_s3_access_key="backup", obot_s3_secret_key="backup-secret", cnpg_barman_plugin_enabled=True, obot_s3_endpoint="http://s3:9000"),
    dict(obot_encryption_key="ab" * 32), dict(obot_bootstrap_token="ef" * 32),
    dict(obot_admin_emails="a@example.com, b.c@example.org"), dict(obot_allowed_email_domains="example.com,example.org"),
    dict(obot_encryption_provider="aws", obot_encryption_key=""), dict(obot_otel_sample_prob="0.5"),
    dict(S3, obot_replicas="2"),
]


@pytest.mark.parametrize("settings", VALID_VARIANTS)
def test_valid_variants(settings):
    assert settings_problems(valid_settings(**settings)) == []


# (overrides, variable named, words of the message) — each a distinct bad setting.
BAD = [
    (dict(cloudflare_domain=""), "cloudflare_domain", "is required"),
    (dict(cloudflare_domain="Example.COM"), "cloudflare_domain", "public DNS domain"),
    (dict(cloudflare_domain=42), "cloudflare_domain", "must be a string"),
    (dict(obot_namespace="AI_System"), "obot_namespace", "namespace name"),
    (dict(obot_namespace=""), "obot_namespace", "is required"),
    (dict(obot_subdomain="obot.x"), "obot_subdomain", "DNS label"),
    (dict(obot_version="v0.2.33"), "obot_version", "without the leading v"),
    (dict(obot_version="0.2"), "obot_version", "release number"),
    (dict(obot_image_repository="ghcr.io/x/obot:latest "), "obot_image_repository", "whitespace"),
    (dict(obot_image_repository="GHCR.io/Obot"), "obot_image_repository", "image repository"),
    (dict(obot_replicas=0), "obot_replicas", "from 1 to 10"),
    (dict(S3, obot_replicas=11), "obot_replicas", "from 1 to 10"),
    (dict(obot_replicas="two"), "obot_replicas", "integer"),
    (dict(obot_replicas=True), "obot_replicas", "integer"),
    (dict(obot_replicas=2), "obot_replicas", "'directory'"),
    (dict(obot_cpu_request="0.5"), "obot_cpu_request", "cpu quantity"),
    (dict(obot_cpu_limit="2 cores"), "obot_cpu_limit", "cpu quantity"),
    (dict(obot_memory_request="1GB"), "obot_memory_request", "memory quantity"),
    (dict(obot_memory_limit="4G"), "obot_memory_limit", "memory quantity"),
    (dict(obot_cpu_request="3000m"), "obot_cpu_request", "must not exceed obot_cpu_limit"),
    (dict(obot_memory_request="8Gi"), "obot_memory_request", "must not exceed obot_memory_limit"),
    (dict(obot_db_password="short"), "obot_db_password", "shorter than 12"),
    (dict(obot_db_password="a-long-password-value\n"), "obot_db_password", "trailing newline"),
    (dict(obot_db_password=123456789012345), "obot_db_password", "must be a string"),
    (dict(obot_postgres_user="Obot-User"), "obot_postgres_user", "PostgreSQL role name"),
    (dict(obot_postgres_db="1db"), "obot_postgres_db", "PostgreSQL database name"),
    (dict(obot_postgresql_replicas=6), "obot_postgresql_replicas", "from 1 to 5"),
    (dict(obot_postgresql_cpu_request="2", obot_postgresql_cpu_limit="1000m"), "obot_postgresql_cpu_request", "must not exceed obot_postgresql_cpu_limit"),
    (dict(obot_postgresql_memory_limit="1G"), "obot_postgresql_memory_limit", "memory quantity"),
    (dict(obot_postgresql_storage_size="10GB"), "obot_postgresql_storage_size", "memory quantity"),
    (dict(obot_storage_size=""), "obot_storage_size", "is required"),
    (dict(obot_storage_class="Fast_SSD"), "obot_storage_class", "StorageClass"),
    (dict(cnpg_pgvector_enabled="maybe"), "cnpg_pgvector_enabled", "boolean"),
    (dict(obot_db_backup_schedule="0 3 * * *"), "obot_db_backup_schedule", "6-field"),
    (dict(obot_db_backup_retention="7 days"), "obot_db_backup_retention", "retention period"),
    (dict(obot_db_wait_timeout=0), "obot_db_wait_timeout", "at least 1"),
    (dict(obot_workspace_provider="nfs"), "obot_workspace_provider", "directory, s3"),
    (dict(S3, obot_workspace_s3_access_key=""), "obot_workspace_s3_access_key", "is required"),
    (dict(S3, obot_workspace_s3_secret_key="short"), "obot_workspace_s3_secret_key", "shorter than 8"),
    (dict(S3, obot_s3_access_key="workspace", obot_s3_secret_key="backup-secret"), "obot_workspace_s3_access_key", "must differ"),
    (dict(S3, obot_s3_endpoint="rustfs:9000"), "obot_s3_endpoint", "S3 URL"),
    (dict(S3, obot_s3_bucket="Obot_Workspaces"), "obot_s3_bucket", "bucket name"),
    (dict(S3, obot_workspace_s3_access_key="a/b"), "obot_workspace_s3_access_key", "without '/'"),
    (dict(obot_encryption_key=""), "obot_encryption_key", "is required"),
    (dict(obot_encryption_key="q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJqw=="), "obot_encryption_key", "exactly 32 bytes"),
    (dict(obot_encryption_key="zz" * 32), "obot_encryption_key", "64 hex"),
    (dict(obot_encryption_provider="vault"), "obot_encryption_provider", "custom, aws, gcp, azure"),
    (dict(obot_bootstrap_token="abc"), "obot_bootstrap_token", "64 hex"),
    (dict(obot_admin_emails="admin@example"), "obot_admin_emails", "invalid email"),
    (dict(obot_owner_emails="owner@example.com;other@example.com"), "obot_owner_emails", "invalid email"),
    (dict(obot_admin_emails="a@example.com,,b@example.com"), "obot_admin_emails", "invalid email"),
    (dict(obot_allowed_email_domains="example"), "obot_allowed_email_domains", "invalid domains"),
    (dict(obot_allowed_email_domains=""), "obot_allowed_email_domains", "is required"),
    (dict(KEYCLOAK, **ENTRA), "obot_entra_tenant_id", "both configured"),
    (dict(KEYCLOAK, obot_keycloak_cookie_secret="c" * 31), "obot_keycloak_cookie_secret", "at least 32"),
    (dict(KEYCLOAK, keycloak_realm=""), "keycloak_realm", "is required"),
    (dict(KEYCLOAK, obot_keycloak_client_secret=""), "obot_keycloak_client_secret", "admin credentials"),
    (dict(KEYCLOAK, obot_keycloak_admin_url="sso.example.com"), "obot_keycloak_admin_url", "admin API"),
    (dict(KEYCLOAK, keycloak_subdomain="sso.auth"), "keycloak_subdomain", "DNS label"),
    (dict(ENTRA, obot_entra_tenant_id="contoso"), "obot_entra_tenant_id", "GUID"),
    (dict(ENTRA, obot_entra_client_secret=""), "obot_entra_client_secret", "is required"),
    (dict(obot_tool_registries=[]), "obot_tool_registries", "non-empty list"),
    (dict(obot_tool_registries="/obot-tools/tools"), "obot_tool_registries", "non-empty list"),
    (dict(obot_default_mcp_catalog="catalog.yaml"), "obot_default_mcp_catalog", "URL or an absolute path"),
    (dict(obot_mcp_namespace="ai-system"), "obot_mcp_namespace", "must differ"),
    (dict(obot_mcp_max_pods=0), "obot_mcp_max_pods", "at least 1"),
    (dict(obot_mcp_max_pods="lots"), "obot_mcp_max_pods", "integer"),
    (dict(obot_mcp_cpu_requests_quota="four"), "obot_mcp_cpu_requests_quota", "cpu quantity"),
    (dict(obot_mcp_memory_limits_quota="-16Gi"), "obot_mcp_memory_limits_quota", "negative"),
    (dict(obot_mcp_default_cpu_limit="2"), "obot_mcp_default_cpu_limit", "LimitRange default must not exceed obot_mcp_max_cpu"),
    (dict(obot_mcp_default_memory_request="1Gi"), "obot_mcp_default_memory_request", "defaultRequest must not exceed obot_mcp_default_memory_limit"),
    (dict(obot_mcp_max_memory="32Gi", obot_mcp_default_memory_limit="512Mi"), "obot_mcp_max_memory",
     "a container's max must not exceed obot_mcp_memory_limits_quota"),
    (dict(obot_mcp_cpu_requests_quota="16"), "obot_mcp_cpu_requests_quota", "must not exceed obot_mcp_cpu_limits_quota"),
    (dict(obot_mcp_default_memory_limit="1.5Gb"), "obot_mcp_default_memory_limit", "memory quantity"),
    (dict(RUSTFS, obot_rustfs_admin_access_key=""), "obot_rustfs_admin_access_key", "is required"),
    (dict(RUSTFS, obot_rustfs_admin_endpoint="s3.example.com"), "obot_rustfs_admin_endpoint", "admin API"),
    (dict(RUSTFS, obot_rustfs_admin_secret_key="1234567"), "obot_rustfs_admin_secret_key", "shorter than 8"),
    (dict(obot_s3_access_key="backup"), "obot_s3_secret_key", "is required"),
    (dict(obot_audit_s3_access_key="au", obot_audit_s3_secret_key="audit-secret"), "obot_audit_s3_access_key", "3 to 128"),
    (dict(obot_audit_s3_access_key="audit=key", obot_audit_s3_secret_key="audit-secret"), "obot_audit_s3_access_key", "'='"),
    (dict(obot_backup_bucket="ab"), "obot_backup_bucket", "bucket name"),
    (dict(rustfs_enabled="sometimes"), "rustfs_enabled", "boolean"),
    (dict(monitoring_enabled="enabled"), "monitoring_enabled", "boolean"),
    (dict(obot_otel_sample_prob=1.5), "obot_otel_sample_prob", "0.0 to 1.0"),
    (dict(obot_otel_sample_prob="often"), "obot_otel_sample_prob", "0.0 to 1.0"),
    (dict(obot_otel_sample_prob=-0.1), "obot_otel_sample_prob", "0.0 to 1.0"),
    (dict(obot_otel_endpoint="tempo:4318"), "obot_otel_endpoint", "OTLP"),
    (dict(obot_metrics_path="debug/metrics"), "obot_metrics_path", "HTTP path"),
    (dict(obot_network_policy_provider="calico"), "obot_network_policy_provider", "kubernetes, cilium, none"),
    (dict(obot_ingress_kind="route"), "obot_ingress_kind", "httproute, ingress, none"),
    (dict(obot_gateway_namespace="Network"), "obot_gateway_namespace", "namespace"),
    (dict(obot_app_wait="soon"), "obot_app_wait", "boolean"),
    (dict(obot_app_run_as_user=0), "obot_app_run_as_user", "at least 1"),
    (dict(obot_app_wait_for_db_image="Postgres Image"), "obot_app_wait_for_db_image", "pg_isready"),
    (dict(obot_ingress_class_name="Nginx_Class"), "obot_ingress_class_name", "IngressClass"),
    (dict(obot_cnpg_operator_namespace=""), "obot_cnpg_operator_namespace", "is required"),
    (dict(obot_enabled="perhaps"), "obot_enabled", "boolean"),
]


def test_bad_corpus_is_large_and_distinct():
    assert len(BAD) >= 40
    assert len({repr(sorted(overrides.items())) for overrides, _name, _words in BAD}) == len(BAD)


@pytest.mark.parametrize("overrides, name, words", BAD, ids=["%s-%d" % (case[1], index) for index, case in enumerate(BAD)])
def test_bad_setting_is_named(overrides, name, words):
    problems = settings_problems(valid_settings(**overrides))
    mine = [line for line in problems if line.startswith(name + ": ")]
    assert mine, problems
    assert any(words in line for line in mine), mine
    assert all("\n" not in line for line in problems)


def test_every_problem_reported_at_once():
    problems = settings_problems(valid_settings(obot_replicas=0, obot_version="x", obot_cpu_request="lots", cloudflare_domain=""))
    assert {line.split(":")[0] for line in problems} >= {"obot_replicas", "obot_version", "obot_cpu_request", "cloudflare_domain"}


SECRET_VALUES = {
    "obot_db_password": "leak-db-password\n",
    "obot_encryption_key": "leak-encryption-key",
    "obot_bootstrap_token": "leak-bootstrap",
    "obot_keycloak_client_secret": " leak-client-secret",
    "obot_keycloak_cookie_secret": "leak-cookie",
    "obot_entra_client_secret": "leak-entra ",
    "obot_workspace_s3_secret_key": "leak1",
    "obot_s3_secret_key": "leak2",
    "obot_audit_s3_secret_key": "leak3",
    "obot_rustfs_admin_secret_key": "leak4",
    "obot_keycloak_admin_password": " leak-admin-password",
}


def test_no_message_holds_a_secret():
    assert set(SECRET_VALUES) == set(SECRETS)
    settings = valid_settings(**dict(KEYCLOAK, **ENTRA, **RUSTFS, **S3))
    settings.update(SECRET_VALUES, obot_keycloak_admin_username="admin", obot_s3_access_key="backup", obot_audit_s3_access_key="audit")
    problems = settings_problems(settings)
    named = {line.split(":")[0] for line in problems}
    assert named >= {"obot_db_password", "obot_encryption_key", "obot_bootstrap_token", "obot_keycloak_cookie_secret",
                     "obot_workspace_s3_secret_key", "obot_s3_secret_key", "obot_audit_s3_secret_key", "obot_rustfs_admin_secret_key"}
    text = "\n".join(problems)
    for value in SECRET_VALUES.values():
        assert value.strip() not in text
