"""The example inventory: it loads, its SOPS file decrypts with the TEST age key (and only
with it), it passes the preflight, and it documents every setting of the collection."""

from __future__ import annotations

import json
import os
import re
import subprocess

import yaml

from ansible_collections.aiplatform.obot.plugins.module_utils.settings import SECRETS

from site_e2e import INVENTORY, ROOT, SECRETS_FILE, SETTINGS_FILE, TEST_AGE_KEY, recap, run

ROLE = os.path.join(ROOT, "roles", "obot")
SITE_ONLY = {"obot_kubeconfig", "obot_kube_context"}  # site.yml's connection settings, documented as comments


def all_setting_names() -> set:
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        names = set(yaml.safe_load(handle))
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        names |= set(yaml.safe_load(handle)["obot_globals"])
    return names


def test_inventory_loads_and_decrypts(example_secrets):
    proc = run(["ansible-inventory", "-i", INVENTORY, "--list"])
    assert proc.returncode == 0, proc.stderr
    inventory = json.loads(proc.stdout)
    assert inventory["obot"]["hosts"] == ["localhost"]
    host = inventory["_meta"]["hostvars"]["localhost"]
    for name, value in example_secrets.items():
        assert host[name] == value, f"{name} not decrypted from {SECRETS_FILE}"
    assert host["cloudflare_domain"] == "example.test"


def test_secrets_file_is_encrypted_and_needs_the_key(example_secrets, tmp_path):
    with open(SECRETS_FILE, encoding="utf-8") as handle:
        encrypted = yaml.safe_load(handle)
    assert "sops" in encrypted and encrypted["sops"]["age"], "not a SOPS file encrypted with age"
    for name, value in example_secrets.items():
        if value:  # SOPS leaves empty strings as they are
            assert str(encrypted[name]).startswith("ENC[AES256_GCM,"), f"{name} is not encrypted"
    # With another age key, loading the inventory fails instead of silently dropping the secrets.
    other_key = tmp_path / "other.txt"
    subprocess.run(["age-keygen", "-o", str(other_key)], check=True, capture_output=True)
    proc = run(["ansible-inventory", "-i", INVENTORY, "--host", "localhost"], SOPS_AGE_KEY_FILE=str(other_key))
    assert proc.returncode != 0 and "obot_db_password" not in proc.stdout
    assert "Failed to get the data key" in proc.stderr


def test_test_key_is_marked_and_matches_sops_rule():
    with open(TEST_AGE_KEY, encoding="utf-8") as handle:
        key = handle.read()
    assert "TEST KEY" in key and "NEVER use it for real secrets" in key
    public = re.search(r"# public key: (age1\w+)", key).group(1)
    with open(os.path.join(ROOT, ".sops.yaml"), encoding="utf-8") as handle:
        rules = handle.read()
    assert public in rules and "TEST KEY" in rules
    with open(SECRETS_FILE, encoding="utf-8") as handle:
        assert [r["recipient"] for r in yaml.safe_load(handle)["sops"]["age"]] == [public]


def test_example_inventory_passes_preflight():
    # Only the `always`-tagged preflight runs: it checks every setting and touches no cluster.
    proc = run(["ansible-playbook", "site.yml", "-i", INVENTORY, "--tags", "always", "-v"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert recap(proc.stdout)["localhost"]["failed"] == 0
    assert '"obot_keycloak_enabled": true' in proc.stdout and '"obot_backup_enabled": true' in proc.stdout


def test_every_setting_is_documented(example_secrets):
    with open(SETTINGS_FILE, encoding="utf-8") as handle:
        text = handle.read()
    settings = yaml.safe_load(text)
    names = all_setting_names()
    assert set(settings) | set(example_secrets) == names, {
        "missing": sorted(names - set(settings) - set(example_secrets)),
        "unknown": sorted((set(settings) | set(example_secrets)) - names)}
    assert set(example_secrets) == set(SECRETS), "every secret, and only secrets, belong in the SOPS file"
    assert not set(settings) & set(SECRETS)
    lines = text.splitlines()
    for index, line in enumerate(lines):
        key = re.match(r"^([a-z_0-9]+):", line)
        if key:
            assert lines[index - 1].startswith("# "), f"{key.group(1)} has no comment above it in {SETTINGS_FILE}"
    for name in SECRETS | SITE_ONLY:
        assert re.search(rf"^#\s+{name}\b", text, re.M), f"{name} is not described in {SETTINGS_FILE}"
