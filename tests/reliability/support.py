"""Helpers of the reliability suite: converge site.yml into namespaces of one's own, list what
the roles left in the cluster, read the generated database credentials, stop and restart the
kube-apiserver of a private control plane."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import tempfile
import time
import urllib.parse
import uuid

from bench import harness
from testbed.snapshots import ensure_namespaces, snapshot

# Objects the cluster makes by itself in every namespace.
CLUSTER_MADE = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}


def isolated_names(prefix: str) -> dict:
    base = f"{prefix}-{uuid.uuid4().hex[:5]}"
    return {"obot_namespace": base, "obot_mcp_namespace": f"{base}-mcp", "obot_gateway_namespace": f"{base}-gw"}


def prepare_namespaces(plane, names: dict) -> None:
    """The namespaces a real cluster already has (no role creates them)."""
    with harness.api_client(plane) as client:
        ensure_namespaces(client, [names["obot_namespace"], names["obot_gateway_namespace"]])


def converge(plane, names: dict, *flags, extra: dict | None = None, kubeconfig=None, on_start=None, timeout: float = 600,
             json_report: bool = False) -> harness.Run:
    """ansible-playbook site.yml -i inventory/ with the example inventory (SOPS), Keycloak and
    RustFS off, the given namespaces and extra variables."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=plane.state, delete=False) as handle:
        json.dump(dict(harness.OFFLINE_SETTINGS, **names, **(extra or {})), handle)
    try:
        env = harness.ansible_env(kubeconfig or plane.kubeconfig)
        return harness.run_ansible(["ansible-playbook", "site.yml", "-i", str(harness.INVENTORY), "-e", f"@{handle.name}", *flags],
                                   env, timeout=timeout, on_start=on_start, json_report=json_report)
    finally:
        os.unlink(handle.name)


def failure_of(run: harness.Run, what: str) -> str:
    """The ERROR and fatal lines of a converge that must have failed cleanly (no Python
    traceback) because ``what`` went away; printed, so the test log shows what the user sees."""
    assert run.returncode != 0, f"the converge succeeded although {what} was gone"
    assert "Traceback (most recent call last)" not in run.output, run.output[-6000:]
    failure = "\n".join(line for line in run.output.splitlines() if "ERROR" in line or "fatal:" in line)
    print(f"\nwhat the user sees when {what} goes away:\n{failure}")
    return failure


def stack_objects(plane, names: dict) -> dict:
    """{(kind, namespace placeholder, name placeholder): count} of the objects in the stack's
    namespaces (and cluster-scoped ones named after them) that nobody owns, i.e. what the roles
    created; namespaces replaced by NS/MCP/GW so that two stacks can be compared."""
    placeholders = {"obot_namespace": "NS", "obot_mcp_namespace": "MCP", "obot_gateway_namespace": "GW"}
    replacements = sorted(((value, placeholders[key]) for key, value in names.items()), key=lambda r: -len(r[0]))

    def normal(text):
        for value, placeholder in replacements:
            text = text.replace(value, placeholder) if text else text
        return text

    from kubernetes import dynamic  # pylint: disable=import-outside-toplevel

    counts = {}
    with harness.api_client(plane) as client:
        dyn = dynamic.DynamicClient(client)
        for (group_version, kind, namespace, name) in snapshot(client, list(names.values())):
            if (kind, name) in CLUSTER_MADE:
                continue
            resource = dyn.resources.get(api_version=group_version, kind=kind)
            obj = resource.get(name=name, namespace=namespace)
            if obj.metadata.ownerReferences:
                continue  # made by a controller (ReplicaSet, Pod, EndpointSlice, …)
            key = (kind, normal(namespace), normal(name))
            counts[key] = counts.get(key, 0) + 1
    return counts


def secret_data(plane, namespace: str, name: str) -> dict:
    from kubernetes import client as k8s  # pylint: disable=import-outside-toplevel

    with harness.api_client(plane) as client:
        secret = k8s.CoreV1Api(client).read_namespaced_secret(name, namespace)
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


def database_credentials(plane, names: dict) -> tuple:
    """(password in obot-db-secret, password in obot-secret's DSNs) — one value when consistent."""
    namespace = names["obot_namespace"]
    password = secret_data(plane, namespace, "obot-db-secret")["password"]
    app = secret_data(plane, namespace, "obot-secret")
    dsn_passwords = {urllib.parse.unquote(urllib.parse.urlsplit(app[key]).password or "")
                     for key in ("OBOT_SERVER_DSN", "OBOT_AUTH_PROVIDER_POSTGRES_CONNECTION_DSN")}
    return password, dsn_passwords


# ------------------------------------------------------------------ kube-apiserver faults

def stop_apiserver(plane) -> list:
    """Kill the kube-apiserver (SIGKILL: a crash, not a graceful stop); returns its command line."""
    entry = plane._read_pids()["kube-apiserver"]  # pylint: disable=protected-access
    with open(f"/proc/{entry['pid']}/cmdline", "rb") as handle:
        argv = [part.decode() for part in handle.read().split(b"\0") if part]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(entry["pid"], signal.SIGKILL)
    proc = plane._procs.get("kube-apiserver")  # pylint: disable=protected-access
    if proc is not None:
        proc.wait(timeout=30)
    return argv


def start_apiserver(plane, argv: list) -> None:
    """Start the kube-apiserver again with the same flags (same port, same etcd, same audit log)."""
    port = plane._read_pids()["kube-apiserver"]["port"]  # pylint: disable=protected-access
    plane._spawn("kube-apiserver", argv[0], argv[1:], True, port=port)  # pylint: disable=protected-access
    plane._wait_ready()  # pylint: disable=protected-access


def wait_for_write(plane, mark: int, resource: str, name: str, timeout: float = 300, process=None) -> bool:
    """Block until the audit log shows a real write of ``resource``/``name`` after ``mark``
    (or the process ended, or the timeout passed). True when the write was seen."""
    deadline = time.monotonic() + timeout
    needle = f'"name":"{name}"'
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        with open(plane.audit_log, "rb") as log:
            log.seek(mark)
            for line in log.read().decode(errors="replace").splitlines():
                if needle not in line:
                    continue
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    ref = event.get("objectRef", {})
                    if (event.get("verb") in ("patch", "create", "update") and ref.get("resource") == resource
                            and "dryRun" not in event.get("requestURI", "") and event.get("stage") == "ResponseComplete"):
                        return True
        time.sleep(0.1)
    return False
