"""Shared code of the end-to-end tests of site.yml and the example inventory: run ansible-playbook
the way a user does (SOPS secrets through community.sops with the TEST age key), read the
recap, decrypt the example secrets, start the Keycloak and RustFS fake the inventory uses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request

import pytest
import yaml

from testbed.snapshots import snapshot
from testbed.playbook import COLLECTIONS as COLLECTIONS_PATH, REPO, VENV_BIN as VENV_BIN_PATH

ROOT = str(REPO)
VENV_BIN = str(VENV_BIN_PATH)
COLLECTIONS = str(COLLECTIONS_PATH)
INVENTORY = os.path.join(ROOT, "inventory")
GROUP_VARS = os.path.join(INVENTORY, "group_vars", "obot")
SECRETS_FILE = os.path.join(GROUP_VARS, "secrets.sops.yaml")
SETTINGS_FILE = os.path.join(GROUP_VARS, "settings.yml")
TEST_AGE_KEY = os.path.join(ROOT, "tests", "fixtures", "age", "test-key.txt")
# The same lines ansible.cfg needs so that *.sops.yaml files in group_vars are decrypted.
VARS_PLUGINS = "host_group_vars,community.sops.sops"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def ansible_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(
        PATH=VENV_BIN + os.pathsep + env.get("PATH", ""),
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_VARS_ENABLED=VARS_PLUGINS,
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        SOPS_DISABLE_VERSION_CHECK="1",
        SOPS_AGE_KEY_FILE=TEST_AGE_KEY,
    )
    env.update(extra)
    return env


def run(args: list, timeout: int = 900, **env) -> subprocess.CompletedProcess:
    """Run an Ansible command from the repo root (so ansible.cfg applies); output as text."""
    binary = os.path.join(VENV_BIN, args[0])
    return subprocess.run([binary, *args[1:]], cwd=ROOT, env=ansible_env(**env), capture_output=True, text=True,
                          timeout=timeout, check=False)


def recap(output: str) -> dict:
    """{host: {"ok", "changed", "unreachable", "failed"}} from the PLAY RECAP."""
    return {m.group(1): dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups()[1:])))
            for m in RECAP.finditer(output)}


def decrypt_secrets() -> dict:
    proc = subprocess.run([os.path.join(VENV_BIN, "sops"), "--decrypt", SECRETS_FILE], capture_output=True, text=True,
                          env=ansible_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def read_settings() -> dict:
    with open(SETTINGS_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def example_secrets():
    return decrypt_secrets()


@pytest.fixture(scope="session")
def example_settings():
    return read_settings()


@pytest.fixture(scope="session")
def rustfs_for_inventory(example_settings, example_secrets):
    """The RustFS fake with the example inventory's admin keys, on a free port."""
    from testbed.rustfs_fake import RustfsFake  # pylint: disable=import-outside-toplevel

    with RustfsFake(example_settings["obot_rustfs_admin_access_key"], example_secrets["obot_rustfs_admin_secret_key"]) as fake:
        yield fake


@pytest.fixture(scope="session")
def keycloak_for_inventory(tmp_path_factory, example_settings, example_secrets):
    """A real Keycloak whose admin account is the example inventory's, on free ports."""
    from testbed.keycloak import KeycloakServer, KeycloakTestbedError  # pylint: disable=import-outside-toplevel

    server = KeycloakServer(log_path=str(tmp_path_factory.mktemp("keycloak") / "keycloak.log"),
                            admin_user=example_settings["obot_keycloak_admin_username"],
                            admin_password=example_secrets["obot_keycloak_admin_password"])
    try:
        server.start(timeout=600)  # a loaded 2-core machine can take minutes
    except KeycloakTestbedError as exc:
        pytest.fail(f"Keycloak test server did not start: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def local_services(kube_cluster, rustfs_for_inventory, keycloak_for_inventory):
    """Extra vars that point the example inventory at this session's services (endpoints only;
    every secret still comes from the SOPS file). Keycloak gets the inventory's realm, as a
    cluster's Keycloak already has it."""
    from testbed.demo import ensure_realm  # pylint: disable=import-outside-toplevel

    keycloak = keycloak_for_inventory
    ensure_realm(keycloak.url, keycloak.admin_user, keycloak.admin_password, read_settings()["keycloak_realm"])
    return {
        "obot_rustfs_admin_endpoint": rustfs_for_inventory.endpoint,
        "obot_keycloak_admin_url": keycloak_for_inventory.url,
    }


def keycloak_realm_exists(server, realm: str) -> bool:
    from testbed.keycloak import admin_token  # pylint: disable=import-outside-toplevel

    token = admin_token(server.url, server.admin_user, server.admin_password)
    request = urllib.request.Request(f"{server.url}/admin/realms", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return realm in {r["realm"] for r in json.load(response)}


class Identity:
    """A cluster-admin ServiceAccount of its own, so this test's requests can be told apart in
    the audit log from those of other tests sharing the control plane."""

    def __init__(self, username: str, kubeconfig: str):
        self.username = username
        self.kubeconfig = kubeconfig

    def env(self) -> dict:
        return {"KUBECONFIG": self.kubeconfig, "K8S_AUTH_KUBECONFIG": self.kubeconfig}


@pytest.fixture(scope="session")
def e2e_identity(kube_cluster, kube_api, tmp_path_factory):
    import base64  # pylint: disable=import-outside-toplevel
    import uuid  # pylint: disable=import-outside-toplevel

    from kubernetes import client  # pylint: disable=import-outside-toplevel

    core, rbac = client.CoreV1Api(kube_api), client.RbacAuthorizationV1Api(kube_api)
    name = "e2e-site-" + uuid.uuid4().hex[:8]
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_service_account(name, {"metadata": {"name": "deployer"}})
    rbac.create_cluster_role_binding({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": name}],
    })
    token = core.create_namespaced_service_account_token("deployer", name, {"spec": {"expirationSeconds": 7200}}).status.token
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "e2e",
        "clusters": [{"name": "e2e", "cluster": {"server": kube_cluster.server,
                                                 "certificate-authority-data": base64.b64encode(kube_cluster.ca_file.read_bytes()).decode()}}],
        "users": [{"name": "deployer", "user": {"token": token}}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "deployer"}}],
    }
    path = tmp_path_factory.mktemp("identity") / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    yield Identity(f"system:serviceaccount:{name}:deployer", str(path))
    rbac.delete_cluster_role_binding(name)
    core.delete_namespace(name)


def isolated_names(prefix: str = "obot-e2e") -> dict:
    """Namespaces of one's own, so tests sharing the control plane never touch the same objects."""
    import uuid  # pylint: disable=import-outside-toplevel

    base = f"{prefix}-{uuid.uuid4().hex[:6]}"
    return {"obot_namespace": base, "obot_mcp_namespace": f"{base}-mcp", "obot_gateway_namespace": f"{base}-gw"}


def present(api_client, namespaces) -> dict:
    """{(kind, namespace, name): terminating?} of the objects in namespaces (see snapshot)."""
    from kubernetes import dynamic  # pylint: disable=import-outside-toplevel

    client = dynamic.DynamicClient(api_client)
    found = {}
    for (group_version, kind, namespace, name) in snapshot(api_client, namespaces):
        resource = client.resources.get(api_version=group_version, kind=kind)
        obj = resource.get(name=name, namespace=namespace) if namespace else resource.get(name=name)
        found[(kind, namespace, name)] = bool(obj.metadata.deletionTimestamp)
    return found


def delete_namespaces(api_client, names) -> None:
    from kubernetes import client  # pylint: disable=import-outside-toplevel
    from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel

    core = client.CoreV1Api(api_client)
    for name in names:
        try:
            core.delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise
