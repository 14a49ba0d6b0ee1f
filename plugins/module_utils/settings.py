# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's settings: derived values and validation, as pure functions over a plain
dict of settings (the role defaults of aiplatform.obot.obot_settings merged with inventory).

Validation returns every problem at once, one line each, naming the variable, what is wrong
and what is expected. A secret's value never appears in a message.
"""

from __future__ import annotations

import base64
import binascii
import re

from ansible_collections.aiplatform.obot.plugins.module_utils.quantity import QuantityError, parse_quantity

SECRETS = frozenset((
    "obot_db_password", "obot_workspace_s3_secret_key", "obot_encryption_key", "obot_bootstrap_token",
    "obot_keycloak_client_secret", "obot_keycloak_cookie_secret", "obot_keycloak_admin_password",
    "obot_entra_client_secret", "obot_rustfs_admin_secret_key", "obot_s3_secret_key", "obot_audit_s3_secret_key",
))

_TRUE = ("true", "yes", "on", "1", "y", "t")
_FALSE = ("false", "no", "off", "0", "n", "f", "")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_IMAGE = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*$")
_CPU = re.compile(r"^[0-9]+m?$")
_MEMORY = re.compile(r"^[0-9]+[KMGT]i$")
_PG_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_URL = re.compile(r"^https?://[^\s/?#]+(:[0-9]{1,5})?([/?#]\S*)?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ACCESS_KEY = re.compile(r"^[^/=,\s]{3,128}$")
_RETENTION = re.compile(r"^[1-9][0-9]*[dwm]$")
_CRON_FIELD = re.compile(r"^[0-9*/,?LW#-]+$")
_HTTP_PATH = re.compile(r"^/[^\s]*$")

ENUMS = {
    "obot_workspace_provider": ("directory", "s3"),
    "obot_encryption_provider": ("custom", "aws", "gcp", "azure"),
    "obot_network_policy_provider": ("kubernetes", "cilium", "none"),
    "obot_ingress_kind": ("httproute", "ingress", "none"),
}


def to_bool(value):
    """Ansible's notion of a boolean; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def _flag(settings, name):
    return to_bool(settings.get(name)) is True


def _text(settings, name):
    value = settings.get(name)
    return value.strip() if isinstance(value, str) else ""


def _given(settings, name):
    return _text(settings, name) != ""


def keycloak_enabled(settings):
    """Keycloak is on when both switches are on (a client secret is given, or the role will
    have Keycloak generate one)."""
    return _flag(settings, "keycloak_enabled") and _flag(settings, "obot_keycloak_enabled")


def rustfs_iam_managed(settings):
    """The obot_rustfs_iam role manages RustFS users (and generates missing keys) when RustFS is
    on and its admin API is configured."""
    return (_flag(settings, "rustfs_enabled") and _given(settings, "obot_rustfs_admin_endpoint")
            and _given(settings, "obot_rustfs_admin_access_key") and _given(settings, "obot_rustfs_admin_secret_key"))


def _keys_available(settings, access, secret):
    """A purpose's S3 keys are set in inventory, or obot_rustfs_iam generates them."""
    return (_given(settings, access) and _given(settings, secret)) or rustfs_iam_managed(settings)


def derive(settings):
    """The derived settings table of DESIGN.md section 3. Holds no secret."""
    enabled = to_bool(settings.get("obot_enabled", True)) is not False
    domain = _text(settings, "cloudflare_domain")
    base_url = "https://%s.%s" % (_text(settings, "keycloak_subdomain"), domain)
    rustfs = _flag(settings, "rustfs_enabled")
    backup_keys = _keys_available(settings, "obot_s3_access_key", "obot_s3_secret_key")
    audit_keys = _keys_available(settings, "obot_audit_s3_access_key", "obot_audit_s3_secret_key")
    return {
        "obot_enabled": enabled,
        "obot_hostname": "%s.%s" % (_text(settings, "obot_subdomain"), domain),
        "obot_keycloak_enabled": enabled and keycloak_enabled(settings),
        "obot_keycloak_base_url": base_url,
        "obot_keycloak_issuer_url": "%s/realms/%s" % (base_url, _text(settings, "keycloak_realm")),
        "obot_backup_enabled": enabled and rustfs and backup_keys and _flag(settings, "cnpg_barman_plugin_enabled"),
        "obot_audit_logs_enabled": enabled and rustfs and audit_keys,
        "obot_monitoring_enabled": enabled and _flag(settings, "monitoring_enabled") and _flag(settings, "obot_monitoring_enabled"),
        "obot_tracing_enabled": enabled and _flag(settings, "tracing_enabled") and _flag(settings, "obot_tracing_enabled"),
        "obot_litellm_enabled": enabled and _flag(settings, "litellm_enabled") and _flag(settings, "obot_litellm_enabled"),
    }


def normalize_encryption_key(value):
    """The key as base64 of 32 bytes; a 64-character hex key is converted. Raises ValueError
    (without the value) for anything else."""
    text = value.strip() if isinstance(value, str) else ""
    if _HEX64.match(text):
        return base64.b64encode(binascii.unhexlify(text)).decode("ascii")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("must be base64 of exactly 32 bytes (openssl rand -base64 32) or 64 hex characters")
    return text


class _Checker:
    """Collects one message per problem. Non-secret values are quoted to help the user."""

    def __init__(self, settings):
        self.settings = settings
        self.problems = []

    def fail(self, name, message):
        self.problems.append("%s: %s" % (name, message))

    def shown(self, name):
        if name in SECRETS:
            return ""
        return " (got %r)" % (self.settings.get(name),)

    def text(self, name, pattern=None, expected="", required=True):
        """The setting as a string if it is one (and matches), else None after a message."""
        value = self.settings.get(name)
        if value is None or value == "":
            if required:
                self.fail(name, "is required: set it to %s" % expected)
            return None
        if not isinstance(value, str):
            self.fail(name, "must be a string: %s%s" % (expected, self.shown(name)))
            return None
        if value != value.strip():
            self.fail(name, "has leading or trailing whitespace: remove it%s" % self.shown(name))
            return None
        if pattern is not None and not pattern.match(value):
            self.fail(name, "must be %s%s" % (expected, self.shown(name)))
            return None
        return value

    def boolean(self, name):
        value = to_bool(self.settings.get(name))
        if value is None:
            self.fail(name, "must be a boolean (true or false)%s" % self.shown(name))
        return value

    def integer(self, name, low, high=None):
        value = self.settings.get(name)
        if isinstance(value, str) and re.match(r"^-?[0-9]+$", value.strip()):
            value = int(value)
        span = "from %d to %d" % (low, high) if high is not None else "of at least %d" % low
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            self.fail(name, "must be an integer %s%s" % (span, self.shown(name)))
            return None
        return value

    def choice(self, name):
        value = self.settings.get(name)
        if value not in ENUMS[name]:
            self.fail(name, "must be one of %s%s" % (", ".join(ENUMS[name]), self.shown(name)))
            return None
        return value

    def quantity(self, name, kind):
        """A non-negative Kubernetes quantity, as a Decimal."""
        value = self.settings.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        try:
            amount = parse_quantity(value)
        except QuantityError:
            self.fail(name, "must be a Kubernetes %s quantity such as %s%s" % (
                kind, "500m or 2" if kind == "cpu" else "512Mi or 1Gi", self.shown(name)))
            return None
        if amount < 0:
            self.fail(name, "must not be negative%s" % self.shown(name))
            return None
        return amount

    def strict_quantity(self, name, kind):
        """The plain forms the Obot server settings take: cpu 500m or 2, memory 1Gi."""
        pattern, example = (_CPU, "500m or 2") if kind == "cpu" else (_MEMORY, "512Mi or 4Gi")
        if self.text(name, pattern, "a %s quantity such as %s" % (kind, example)) is None:
            return None
        return parse_quantity(self.settings[name])

    def resources(self, prefix):
        """<prefix>_{cpu,memory}_{request,limit}: plain quantities, each request within its limit."""
        for kind in ("cpu", "memory"):
            request, limit = "%s_%s_request" % (prefix, kind), "%s_%s_limit" % (prefix, kind)
            self.at_most((request, self.strict_quantity(request, kind)), (limit, self.strict_quantity(limit, kind)), "the %s request" % kind)

    def at_most(self, small, big, what):
        """small <= big, both (name, amount); skipped when either failed already."""
        (small_name, small_amount), (big_name, big_amount) = small, big
        if small_amount is not None and big_amount is not None and small_amount > big_amount:
            self.fail(small_name, "%s must not exceed %s (%s > %s): lower %s or raise %s" % (
                what, big_name, self.settings.get(small_name), self.settings.get(big_name), small_name, big_name))

    def email_list(self, name):
        value = self.settings.get(name)
        if value in (None, ""):
            return
        if not isinstance(value, str):
            self.fail(name, "must be a comma-separated string of email addresses%s" % self.shown(name))
            return
        bad = [item.strip() for item in value.split(",") if not _EMAIL.match(item.strip())]
        if bad:
            self.fail(name, "holds invalid email addresses %s: use a comma-separated list such as a@example.com,b@example.com"
                      % ", ".join(repr(item) for item in bad))

    def credentials(self, access, secret, purpose, required=False):
        """An access key / secret key pair: both or neither (both when required)."""
        has_access, has_secret = _given(self.settings, access), _given(self.settings, secret)
        if required or has_access or has_secret:
            self.text(access, _ACCESS_KEY, "an access key of 3 to 128 characters without '/', '=', ',' or spaces (%s)" % purpose)
            if self.text(secret, None, "a secret key of at least 8 characters (%s)" % purpose) is not None:
                if len(self.settings[secret]) < 8:
                    self.fail(secret, "is shorter than 8 characters: use a longer secret key (%s)" % purpose)


def problems(settings):
    """Every problem with the settings, as a list of one-line messages (empty when valid)."""
    check = _Checker(settings)
    enabled = check.boolean("obot_enabled")
    if enabled is False:
        return check.problems
    _check_core(check)
    _check_database(check, settings)
    _check_workspace(check, settings)
    _check_secrets_and_access(check, settings)
    _check_identity(check, settings)
    _check_sandbox(check)
    _check_storage_service(check, settings)
    _check_observability_and_network(check)
    return check.problems


def _check_core(check):
    check.text("obot_namespace", _DNS_LABEL, "a Kubernetes namespace name (lowercase letters, digits and '-', at most 63)")
    check.text("obot_subdomain", _DNS_LABEL, "a DNS label such as obot")
    check.text("cloudflare_domain", _DOMAIN, "the cluster's public DNS domain such as example.com")
    check.text("obot_version", _VERSION, "a release number such as 0.2.33 (without the leading v)")
    check.text("obot_image_repository", _IMAGE, "an image repository without tag such as ghcr.io/jrmatherly/obot-entraid")
    check.integer("obot_replicas", 1, 10)
    check.resources("obot")
    check.integer("obot_app_wait_timeout", 1)
    for name in ("obot_app_wait", "obot_app_security_context_enabled", "obot_app_wait_for_db"):
        check.boolean(name)
    check.integer("obot_app_run_as_user", 1)
    check.text("obot_app_wait_for_db_image", _IMAGE, "an image with pg_isready, or empty for obot_postgresql_image", required=False)
    check.text("obot_ingress_class_name", _DNS_NAME, "an IngressClass name, or empty for the cluster default", required=False)
    check.text("obot_cnpg_operator_namespace", _DNS_LABEL, "the namespace CloudNativePG's operator runs in, such as cnpg-system")


def _check_database(check, settings):
    password = settings.get("obot_db_password")
    if password not in (None, ""):
        if not isinstance(password, str):
            check.fail("obot_db_password", "must be a string (quote it in YAML)")
        elif password != password.strip() or any(ord(ch) < 32 for ch in password):
            check.fail("obot_db_password", "contains whitespace at an end or a control character (a trailing newline?): remove it")
        elif len(password) < 12:
            check.fail("obot_db_password", "is shorter than 12 characters: use a longer password or leave it empty to generate one")
    check.text("obot_postgres_user", _PG_IDENTIFIER, "a PostgreSQL role name (lowercase letters, digits, '_')")
    check.text("obot_postgres_db", _PG_IDENTIFIER, "a PostgreSQL database name (lowercase letters, digits, '_')")
    check.integer("obot_postgresql_replicas", 1, 5)
    check.resources("obot_postgresql")
    check.strict_quantity("obot_postgresql_storage_size", "memory")
    check.strict_quantity("obot_storage_size", "memory")
    check.text("obot_postgresql_image", _IMAGE, "a PostgreSQL image with pgvector such as ghcr.io/cloudnative-pg/postgresql:18-standard-trixie")
    for name in ("obot_storage_class", "storage_class"):
        check.text(name, _DNS_NAME, "a StorageClass name, or empty for the cluster default", required=False)
    for name in ("cnpg_pgvector_enabled", "cnpg_barman_plugin_enabled", "obot_db_wait"):
        check.boolean(name)
    check.integer("obot_db_wait_timeout", 1)
    check.text("obot_db_backup_retention", _RETENTION, "a retention period such as 7d, 4w or 3m")
    schedule = check.text("obot_db_backup_schedule", None, "a 6-field cron schedule, seconds first, such as '0 0 3 * * *'")
    if schedule is not None:
        fields = schedule.split()
        if len(fields) != 6 or not all(_CRON_FIELD.match(field) for field in fields):
            check.fail("obot_db_backup_schedule", "must be a 6-field cron schedule with seconds first, such as '0 0 3 * * *'%s"
                       % check.shown("obot_db_backup_schedule"))


def _check_workspace(check, settings):
    provider = check.choice("obot_workspace_provider")
    replicas = settings.get("obot_replicas")
    if provider == "directory" and isinstance(replicas, int) and not isinstance(replicas, bool) and replicas > 1:
        check.fail("obot_replicas", "must be 1 with obot_workspace_provider 'directory' (one ReadWriteOnce volume): "
                                    "set obot_replicas to 1 or use obot_workspace_provider 's3' (got %d)" % replicas)
    if provider != "s3":
        return
    check.text("obot_s3_bucket", _BUCKET, "an S3 bucket name (3-63 lowercase letters, digits, '.', '-')")
    check.text("obot_s3_endpoint", _URL, "the in-cluster S3 URL such as http://rustfs-svc.storage.svc.cluster.local:9000")
    check.text("obot_s3_region", re.compile(r"^[a-z0-9-]+$"), "an S3 region such as us-east-1")
    check.credentials("obot_workspace_s3_access_key", "obot_workspace_s3_secret_key", "workspace storage",
                      required=not rustfs_iam_managed(settings))
    if _given(settings, "obot_workspace_s3_access_key") and _text(settings, "obot_workspace_s3_access_key") == _text(settings, "obot_s3_access_key"):
        check.fail("obot_workspace_s3_access_key", "must differ from obot_s3_access_key: the workspace needs its own "
                                                   "credentials, not the database backup ones")


def _check_secrets_and_access(check, settings):
    provider = check.choice("obot_encryption_provider")
    key = settings.get("obot_encryption_key")
    if key in (None, ""):
        if provider == "custom":
            check.fail("obot_encryption_key", "is required with obot_encryption_provider 'custom': set it to the output of openssl rand -base64 32")
    else:
        try:
            normalize_encryption_key(key)
        except ValueError as exc:
            check.fail("obot_encryption_key", str(exc))
    token = settings.get("obot_bootstrap_token")
    if token not in (None, "") and not (isinstance(token, str) and _HEX64.match(token)):
        check.fail("obot_bootstrap_token", "must be 64 hex characters (openssl rand -hex 32), or empty")
    check.email_list("obot_admin_emails")
    check.email_list("obot_owner_emails")
    domains = check.text("obot_allowed_email_domains", None, "'*' or a comma-separated list of domains such as example.com")
    if domains is not None and domains != "*":
        bad = [item.strip() for item in domains.split(",") if not _DOMAIN.match(item.strip())]
        if bad:
            check.fail("obot_allowed_email_domains", "holds invalid domains %s: use '*' or a list such as example.com,example.org"
                       % ", ".join(repr(item) for item in bad))
    registries = settings.get("obot_tool_registries")
    if not isinstance(registries, list) or not registries or not all(isinstance(item, str) and item.strip() for item in registries):
        check.fail("obot_tool_registries", "must be a non-empty list of registry paths or URLs such as ['/obot-tools/tools']%s"
                   % check.shown("obot_tool_registries"))
    catalog = settings.get("obot_default_mcp_catalog")
    if catalog not in (None, "") and not (isinstance(catalog, str) and (_URL.match(catalog) or catalog.startswith("/"))):
        check.fail("obot_default_mcp_catalog", "must be an http(s) URL or an absolute path, or empty%s" % check.shown("obot_default_mcp_catalog"))


def _check_identity(check, settings):
    for name in ("keycloak_enabled", "obot_keycloak_enabled", "obot_keycloak_validate_certs", "obot_keycloak_realm_create"):
        check.boolean(name)
    keycloak = keycloak_enabled(settings)
    entra = any(_given(settings, name) for name in ("obot_entra_tenant_id", "obot_entra_client_id", "obot_entra_client_secret"))
    if keycloak and entra:
        check.fail("obot_entra_tenant_id", "Keycloak and Entra ID are both configured: choose one identity provider "
                                           "(unset obot_entra_* or set obot_keycloak_enabled to false)")
    if keycloak:
        check.text("keycloak_subdomain", _DNS_LABEL, "a DNS label such as sso")
        check.text("keycloak_realm", re.compile(r"^[A-Za-z0-9._-]+$"), "the Keycloak realm name")
        check.text("obot_keycloak_client_id", re.compile(r"^[A-Za-z0-9._:-]+$"), "an OIDC client id such as obot")
        cookie = settings.get("obot_keycloak_cookie_secret")
        if not isinstance(cookie, str) or len(cookie) < 32:
            check.fail("obot_keycloak_cookie_secret", "must be at least 32 characters (openssl rand -base64 32)")
        admin = _given(settings, "obot_keycloak_admin_username") and _given(settings, "obot_keycloak_admin_password")
        if not _given(settings, "obot_keycloak_client_secret") and not admin:
            check.fail("obot_keycloak_client_secret", "is empty and no Keycloak admin credentials are set: give the client secret, "
                                                      "or obot_keycloak_admin_username/password so Keycloak can generate it")
        check.text("obot_keycloak_admin_url", _URL, "the URL the controller uses for Keycloak's admin API, or empty", required=False)
    if entra:
        check.text("obot_entra_tenant_id", _GUID, "the Entra tenant id (a GUID)")
        check.text("obot_entra_client_id", _GUID, "the Entra application (client) id (a GUID)")
        check.text("obot_entra_client_secret", None, "the Entra client secret")


def _check_sandbox(check):
    check.text("obot_mcp_namespace", _DNS_LABEL, "a Kubernetes namespace name such as obot-mcp")
    if check.settings.get("obot_mcp_namespace") == check.settings.get("obot_namespace"):
        check.fail("obot_mcp_namespace", "must differ from obot_namespace: MCP servers run in a namespace of their own")
    check.integer("obot_mcp_max_pods", 1)
    check.boolean("obot_mcp_internet_egress")
    for kind in ("cpu", "memory"):
        names = {
            "request": "obot_mcp_default_%s_request" % kind, "default": "obot_mcp_default_%s_limit" % kind,
            "max": "obot_mcp_max_%s" % kind, "requests_quota": "obot_mcp_%s_requests_quota" % kind,
            "limits_quota": "obot_mcp_%s_limits_quota" % kind,
        }
        amount = dict((role, (name, check.quantity(name, kind))) for role, name in names.items())
        check.at_most(amount["request"], amount["default"], "the LimitRange defaultRequest")
        check.at_most(amount["default"], amount["max"], "the LimitRange default")
        check.at_most(amount["max"], amount["limits_quota"], "a container's max")
        check.at_most(amount["request"], amount["requests_quota"], "the LimitRange defaultRequest")
        check.at_most(amount["requests_quota"], amount["limits_quota"], "the requests quota")


def _check_storage_service(check, settings):
    rustfs = check.boolean("rustfs_enabled")
    check.boolean("obot_rustfs_validate_certs")
    check.credentials("obot_s3_access_key", "obot_s3_secret_key", "database backups")
    check.credentials("obot_audit_s3_access_key", "obot_audit_s3_secret_key", "audit logs")
    for name in ("obot_backup_bucket", "obot_audit_bucket"):
        check.text(name, _BUCKET, "an S3 bucket name (3-63 lowercase letters, digits, '.', '-')")
    if not rustfs:
        return
    # Without the admin API, RustFS users are managed elsewhere and every purpose's keys come from inventory.
    if check.text("obot_rustfs_admin_endpoint", _URL, "the URL the controller uses for RustFS's admin API, such as https://s3.example.com",
                  required=False) is not None:
        check.credentials("obot_rustfs_admin_access_key", "obot_rustfs_admin_secret_key", "RustFS admin", required=True)
    if derive(settings)["obot_backup_enabled"] or settings.get("obot_workspace_provider") == "s3":
        check.text("obot_s3_endpoint", _URL, "the in-cluster S3 URL such as http://rustfs-svc.storage.svc.cluster.local:9000")


def _check_observability_and_network(check):
    for name in ("monitoring_enabled", "obot_monitoring_enabled", "tracing_enabled", "obot_tracing_enabled",
                 "litellm_enabled", "obot_litellm_enabled", "network_policies_enabled"):
        check.boolean(name)
    check.text("obot_metrics_path", _HTTP_PATH, "an HTTP path such as /debug/metrics")
    check.text("obot_otel_endpoint", _URL, "the OTLP HTTP endpoint such as http://tempo.observability.svc.cluster.local:4318")
    check.text("obot_litellm_url", _URL, "the LiteLLM URL such as http://litellm.ai-system.svc.cluster.local:4000")
    probability = check.settings.get("obot_otel_sample_prob")
    try:
        number = float(probability) if not isinstance(probability, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 0.0 <= number <= 1.0:
        check.fail("obot_otel_sample_prob", "must be a number from 0.0 to 1.0%s" % check.shown("obot_otel_sample_prob"))
    check.choice("obot_network_policy_provider")
    check.choice("obot_ingress_kind")
    check.text("obot_gateway_name", _DNS_NAME, "the Gateway name such as envoy-external")
    check.text("obot_gateway_namespace", _DNS_LABEL, "the Gateway's namespace such as network")
    check.text("obot_gateway_section", _DNS_NAME, "the Gateway listener name such as https")
