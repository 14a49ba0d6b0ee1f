"""playbooks/render.yml: every manifest in its own file, Secrets SOPS-encrypted to the given age
recipient (and decryptable with its key), no secret in plain text anywhere, accepted by the real
API server and CRDs (server-side dry run), and a second render changes nothing."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from testbed.snapshots import ensure_namespaces
from site_e2e import INVENTORY, TEST_AGE_KEY, VENV_BIN, ansible_env, delete_namespaces, isolated_names, recap, run

pytestmark = pytest.mark.cluster


def recipient():
    with open(TEST_AGE_KEY, encoding="utf-8") as handle:
        return re.search(r"# public key: (age1\w+)", handle.read()).group(1)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, kube_api):
    names = isolated_names("obot-rd")
    out = tmp_path_factory.mktemp("render") / "out"
    command = ["ansible-playbook", "playbooks/render.yml", "-i", INVENTORY, "-e", f"obot_render_dir={out}",
               "-e", f"obot_render_age_recipient={recipient()}"] + [arg for k, v in names.items() for arg in ("-e", f"{k}={v}")]
    first = run(command)
    assert first.returncode == 0, first.stdout[-5000:]
    second = run(command)
    yield {"dir": out, "names": names, "first": first, "second": second}
    delete_namespaces(kube_api, names.values())


def files(directory):
    return sorted(os.path.join(root, name) for root, _dirs, names in os.walk(directory) for name in names)


def decrypt(path):
    proc = subprocess.run([os.path.join(VENV_BIN, "sops"), "--config", "/dev/null", "decrypt", path], capture_output=True, text=True,
                          env=ansible_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_layout_and_encryption(rendered, example_secrets):
    paths = files(rendered["dir"])
    roles = {os.path.basename(os.path.dirname(p)) for p in paths}
    assert roles == {"obot_mcp_sandbox", "obot_db", "obot_app"}  # every RustFS key is given: no generated-key Secret
    for role in roles:
        with open(rendered["dir"] / role / "kustomization.yaml", encoding="utf-8") as handle:
            listed = set(yaml.safe_load(handle)["resources"])
        assert listed == {os.path.basename(p) for p in paths if os.path.dirname(p).endswith(role)} - {"kustomization.yaml"}
    secrets = [p for p in paths if p.endswith(".sops.yaml")]
    assert {os.path.basename(p) for p in secrets} == {
        "secret-obot-db-secret.sops.yaml", "secret-obot-backup-credentials.sops.yaml",
        "secret-obot-secret.sops.yaml", "secret-obot-encryption-config.sops.yaml",
    }
    text = "".join(open(p, encoding="utf-8").read() for p in paths)  # pylint: disable=consider-using-with
    for name, value in example_secrets.items():
        if value:
            assert value not in text, f"{name} is in the rendered files in plain text"
    for path in secrets:
        with open(path, encoding="utf-8") as handle:
            encrypted = yaml.safe_load(handle)
        assert [r["recipient"] for r in encrypted["sops"]["age"]] == [recipient()]
        payload = encrypted.get("data") or encrypted.get("stringData")
        assert payload and all(str(v).startswith("ENC[") for v in payload.values())
    db_secret = decrypt(str(rendered["dir"] / "obot_db" / "secret-obot-db-secret.sops.yaml"))
    assert db_secret["stringData"]["password"] == example_secrets["obot_db_password"]


def test_second_render_changes_nothing(rendered):
    assert rendered["second"].returncode == 0
    assert recap(rendered["second"].stdout)["localhost"]["changed"] == 0, rendered["second"].stdout[-4000:]


def test_api_server_accepts_every_manifest(rendered, kube_api):
    from kubernetes import dynamic  # pylint: disable=import-outside-toplevel

    names = rendered["names"]
    ensure_namespaces(kube_api, names.values())
    client = dynamic.DynamicClient(kube_api)
    applied = 0
    for path in files(rendered["dir"]):
        if path.endswith("kustomization.yaml"):
            continue
        obj = decrypt(path) if path.endswith(".sops.yaml") else yaml.safe_load(open(path, encoding="utf-8"))  # pylint: disable=consider-using-with
        resource = client.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        # Strict field validation, nothing stored: a misspelt field or a schema violation fails here.
        resource.server_side_apply(body=obj, name=obj["metadata"]["name"], namespace=obj["metadata"].get("namespace"),
                                   field_manager="render-test", dry_run="All", field_validation="Strict")
        applied += 1
    assert applied >= 25
