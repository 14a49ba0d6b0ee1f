"""A real local Kubernetes control plane for the test bed.

Runs etcd, kube-apiserver and kube-controller-manager as local processes bound to
127.0.0.1 (the way controller-runtime's envtest does), plus kube-scheduler and kwok (one
fake node, so Pods run and Deployments become Available) when their binaries exist.
Installs the upstream CRDs from OBOT_CRDS_DIR (checked against SHA256SUMS) and writes an
admin kubeconfig. State (pids, certs, logs, audit log, etcd data) lives in
``<repo>/.cache/cluster``. Binaries: KUBEBUILDER_ASSETS when it holds etcd,
kube-apiserver and kube-controller-manager, else hack/build-control-plane.sh.

CLI (from the repo root)::

    PYTHONPATH=tests .cache/venv/bin/python -m testbed.controlplane up|down|status

Python::

    cp = ControlPlane(root)
    cp.up()
    mark = cp.audit_mark()
    ...
    assert not cp.write_events_since(mark)
    cp.down()
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import ctypes
import datetime
import fcntl
import hashlib
import ipaddress
import json
import os
import random
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager")
# Optional: when both binaries exist, Pods get scheduled onto a kwok fake node and become
# Ready, so Deployments turn Available. KUBEBUILDER_ASSETS usually lacks them.
NODE_COMPONENTS = ("kube-scheduler", "kwok")
ALL_COMPONENTS = COMPONENTS + NODE_COMPONENTS
FAKE_NODE = "kwok-node-0"
ADMIN_USER = "admin"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
SCHEDULER_USER = "system:kube-scheduler"
KWOK_USER = "kwok"
# Each component has its own identity, so audit checks can single out the admin's requests.
TOKEN_USERS = {
    ADMIN_USER: "system:masters",
    CONTROLLER_MANAGER_USER: "",
    SCHEDULER_USER: "",
    KWOK_USER: "system:masters",
}
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
FIELD_MANAGER = "aiplatform-obot-testbed"
SERVICE_CIDR = "10.0.0.0/24"
KUBERNETES_SERVICE_IP = "10.0.0.1"
CONTROLLERS = (
    "resourcequota-controller",
    "namespace-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "clusterrole-aggregation-controller",
    # Not required by the tests, but they make workloads behave as on a real cluster.
    "deployment-controller",
    "replicaset-controller",
    "statefulset-controller",
    "job-controller",
    "cronjob-controller",
    "endpointslice-controller",
    "disruption-controller",
    "ttl-after-finished-controller",
    # Deleting a namespace must finish: these drop the PVC/PV protection finalizers once unused.
    "persistentvolumeclaim-protection-controller",
    "persistentvolume-protection-controller",
)
AUDIT_POLICY = {
    # Metadata only: request and response bodies (Secret data!) are never logged.
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata"}],
}
START_TIMEOUT = 90
PR_SET_PDEATHSIG = 1


class ControlPlaneError(Exception):
    """The control plane could not be built, started, stopped or configured."""


def free_port() -> int:
    """A free port below the ephemeral range (32768+), so outgoing connections of other
    processes cannot grab it between this check and the server's bind."""
    for _attempt in range(50):
        port = random.randint(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Runs in the child before exec: if the process that started us dies (pytest killed),
    # the kernel kills this component too, so no orphan survives.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _process_alive(pid: int, binary: str) -> bool:
    """True when pid runs ``binary`` (guards against a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return status != "Z" and cmdline == binary


class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager with their state in ``state_dir``
    (default ``<root>/.cache/cluster``, the one `make cluster-up` uses)."""

    def __init__(self, root: str | os.PathLike | None = None, crds_dir: str | os.PathLike | None = None,
                 state_dir: str | os.PathLike | None = None):
        self.root = Path(root or REPO_ROOT).resolve()
        self.state = Path(state_dir).resolve() if state_dir else self.root / ".cache" / "cluster"
        self.certs = self.state / "pki"
        self.logs = self.state / "logs"
        self.kubeconfig = self.state / "kubeconfig"
        self.audit_log = self.state / "audit.log"
        self.pids_file = self.state / "pids.json"
        self._procs = {}  # Popen objects of the processes this object started
        crds = crds_dir or os.environ.get("OBOT_CRDS_DIR") or (self.root.parent / "shared" / "crds")
        self.crds_dir = Path(crds).resolve()

    # ----------------------------------------------------------------- public API

    def up(self, die_with_parent: bool = False) -> bool:
        """Start the control plane unless it is already up. Returns True when it started it.

        die_with_parent ties the processes to the calling process (used by the pytest
        fixture): they are killed when it exits, even by SIGKILL.
        """
        self.state.mkdir(parents=True, exist_ok=True)
        with self._lock():
            if self.is_up():
                return False
            self._stop_all()
            try:
                self._start(die_with_parent)
            except BaseException:
                # Ctrl-C or failure half way: leave nothing running.
                self._stop_all()
                raise
            return True

    def down(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        with self._lock():
            self._stop_all()

    def is_up(self) -> bool:
        pids = self._read_pids()
        if not set(COMPONENTS) <= set(pids):
            return False
        if not all(_process_alive(p["pid"], p["binary"]) for p in pids.values()):
            return False
        try:
            return self._request("GET", "/readyz", raw=True)[0] == 200
        except ControlPlaneError:
            return False

    def status(self) -> dict:
        pids = self._read_pids()
        return {
            "up": self.is_up(),
            "server": self.server,
            "kubeconfig": str(self.kubeconfig),
            "audit_log": str(self.audit_log),
            "processes": {name: {"pid": p["pid"], "alive": _process_alive(p["pid"], p["binary"])} for name, p in pids.items()},
        }

    @property
    def server(self) -> str | None:
        port = self._read_pids().get("kube-apiserver", {}).get("port")
        return f"https://127.0.0.1:{port}" if port else None

    @property
    def has_nodes(self) -> bool:
        """True when kube-scheduler and kwok run: Pods get a (fake) node and become Ready."""
        return set(NODE_COMPONENTS) <= set(self._read_pids())

    @property
    def admin_token(self) -> str:
        return self._tokens()[ADMIN_USER]

    @property
    def ca_file(self) -> Path:
        return self.certs / "ca.crt"

    def env(self) -> dict:
        """Environment for kubectl, kubernetes.core and Molecule pointing at this cluster."""
        return {"KUBECONFIG": str(self.kubeconfig), "K8S_AUTH_KUBECONFIG": str(self.kubeconfig)}

    def audit_mark(self) -> int:
        """A position in the audit log; pass it to audit_events_since()."""
        try:
            return self.audit_log.stat().st_size
        except FileNotFoundError:
            return 0

    def audit_events_since(self, mark: int, settle: float = 1.0) -> list:
        """Audit events (dicts) written after ``mark``.

        settle waits that long first: the apiserver writes an event just after it answers.
        """
        if settle:
            time.sleep(settle)
        with open(self.audit_log, "rb") as log:
            log.seek(mark)
            data = log.read()
        lines = data.split(b"\n")
        if lines and lines[-1]:
            lines = lines[:-1]  # a line still being written
        return [json.loads(line) for line in lines if line.strip()]

    def write_events_since(self, mark: int, user: str | None = ADMIN_USER, settle: float = 1.0) -> list:
        """Audit events of write requests (create, update, patch, delete, deletecollection)
        after ``mark``, by ``user`` (default: the admin of the kubeconfig; None: anyone).
        Dry-run requests count as writes too: check ``requestURI`` for ``dryRun`` if needed."""
        return [
            event
            for event in self.audit_events_since(mark, settle=settle)
            if event.get("verb") in WRITE_VERBS and (user is None or event.get("user", {}).get("username") == user)
        ]

    # ----------------------------------------------------------------- start

    def _start(self, die_with_parent: bool) -> None:
        started = time.monotonic()
        binaries = self._binaries()
        crds = self._verified_crds()  # fail before starting anything
        self._ensure_pki()
        self._write_config_files()
        etcd_data = self.state / "etcd"
        shutil.rmtree(etcd_data, ignore_errors=True)
        for stale in (self.audit_log, self.pids_file):
            stale.unlink(missing_ok=True)
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)

        def etcd_args(client_port, peer_port):
            shutil.rmtree(etcd_data, ignore_errors=True)
            client_url, peer_url = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
            return [
                f"--data-dir={etcd_data}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync",  # throwaway data: speed over durability
                "--log-level=warn",
            ]

        etcd_port = self._start_listener("etcd", binaries["etcd"], etcd_args, 2, self._wait_etcd, die_with_parent)[0]
        etcd_url = f"http://127.0.0.1:{etcd_port}"

        pki = self.certs

        def apiserver_args(port):
            return [
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                "--endpoint-reconciler-type=none",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={self.state / 'tokens.csv'}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,ResourceQuota",
                "--allow-privileged=true",  # so PodSecurity, not this flag, is what rejects privileged Pods
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--audit-policy-file={self.state / 'audit-policy.yaml'}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
                "--audit-log-mode=blocking",
                "--profiling=false",
                "--v=1",
            ]

        self._start_listener("kube-apiserver", binaries["kube-apiserver"], apiserver_args, 1, lambda port: self._wait_ready(), die_with_parent)
        self._write_kubeconfig(self.kubeconfig, ADMIN_USER)
        self._write_kubeconfig(self.state / "kube-controller-manager.kubeconfig", CONTROLLER_MANAGER_USER)
        # CRDs before the controllers: quota and garbage collector see their kinds at once
        # (else only after their next discovery resync), and nothing competes for CPU.
        self._install_crds(crds)

        self._spawn("kube-controller-manager", binaries["kube-controller-manager"], [
            f"--kubeconfig={self.state / 'kube-controller-manager.kubeconfig'}",
            "--bind-address=127.0.0.1",
            "--secure-port=0",  # no HTTPS endpoint needed
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--controllers={','.join(CONTROLLERS)}",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--resource-quota-sync-period=5s",  # quick quota status for tests
            "--v=1",
        ], die_with_parent)
        if "kwok" in binaries:
            self._start_fake_node(binaries, die_with_parent)
        self._wait_controller_manager()
        if "kwok" in binaries:
            try:
                self._wait_fake_node()
            except ControlPlaneError as exc:
                # Optional part: the core cluster stays usable, Pods just stay Pending.
                print(f"warning: running without a fake node: {exc}", file=sys.stderr)
                self._stop_all(only=NODE_COMPONENTS)
        print(f"control plane up at {self.server} in {time.monotonic() - started:.1f}s; KUBECONFIG={self.kubeconfig}", file=sys.stderr)

    def _start_fake_node(self, binaries: dict, die_with_parent: bool) -> None:
        for name, user in (("kube-scheduler", SCHEDULER_USER), ("kwok", KWOK_USER)):
            self._write_kubeconfig(self.state / f"{name}.kubeconfig", user)
        self._spawn("kube-scheduler", binaries["kube-scheduler"], [
            f"--kubeconfig={self.state / 'kube-scheduler.kubeconfig'}",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            "--leader-elect=false",
            "--v=1",
        ], die_with_parent)
        self._spawn("kwok", binaries["kwok"], [
            f"--kubeconfig={self.state / 'kwok.kubeconfig'}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            f"--config={Path(binaries['kwok']).parent / 'kwok-stages.yaml'}",
            "--cidr=10.244.0.1/16",
            "--node-ip=127.0.0.1",
        ], die_with_parent)
        code, body = self._request("POST", "/api/v1/nodes", body={
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": FAKE_NODE,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {"kubernetes.io/hostname": FAKE_NODE, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"},
            },
            "status": {
                "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
            },
        })
        if code != 201:
            raise ControlPlaneError(f"creating the fake node failed ({code}): {body}")

    def _wait_fake_node(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for name in NODE_COMPONENTS:
                self._check_running(name)
            conditions = self._request("GET", f"/api/v1/nodes/{FAKE_NODE}")[1].get("status", {}).get("conditions", [])
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                # Admission (TaintNodesByCondition) taints a new node not-ready; the node
                # lifecycle controller, not run here, would lift that taint.
                code, body = self._request("PATCH", f"/api/v1/nodes/{FAKE_NODE}", body={"spec": {"taints": None}},
                                           content_type="application/merge-patch+json")
                if code != 200:
                    raise ControlPlaneError(f"removing the taints of node {FAKE_NODE} failed ({code}): {body}")
                return
            time.sleep(0.3)
        raise ControlPlaneError(f"kwok did not make node {FAKE_NODE} Ready in {START_TIMEOUT}s:\n{_tail(self.logs / 'kwok.log')}")

    def _binaries(self) -> dict:
        assets = os.environ.get("KUBEBUILDER_ASSETS")
        if assets and all(os.access(os.path.join(assets, name), os.X_OK) for name in COMPONENTS):
            bin_dir = Path(assets)
        else:
            if assets:
                print(f"KUBEBUILDER_ASSETS={assets} lacks one of {', '.join(COMPONENTS)}: building them", file=sys.stderr)
            script = self.root / "hack" / "build-control-plane.sh"
            if not script.is_file():  # a root that is only a state location
                script = REPO_ROOT / "hack" / "build-control-plane.sh"
            result = subprocess.run(["bash", str(script)], stdout=subprocess.PIPE, text=True, check=False)
            if result.returncode != 0 or not result.stdout.strip():
                raise ControlPlaneError(f"{script} failed (exit {result.returncode}); see its output above")
            bin_dir = Path(result.stdout.strip().splitlines()[-1])
        binaries = {name: str(bin_dir / name) for name in COMPONENTS}
        missing = [path for path in binaries.values() if not os.access(path, os.X_OK)]
        if missing:
            raise ControlPlaneError(f"missing control plane binaries: {', '.join(missing)}")
        optional = {name: str(bin_dir / name) for name in NODE_COMPONENTS}
        if all(os.access(path, os.X_OK) for path in optional.values()) and (bin_dir / "kwok-stages.yaml").is_file():
            binaries.update(optional)
        else:
            print(f"no {' and '.join(NODE_COMPONENTS)} in {bin_dir}: Pods will stay Pending", file=sys.stderr)
        return binaries

    def _spawn(self, name: str, binary: str, args: list, die_with_parent: bool, port: int | None = None) -> None:
        log = open(self.logs / f"{name}.log", "wb")  # pylint: disable=consider-using-with
        try:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [binary, *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state,
                start_new_session=True,  # own process group: stopped as a whole, immune to the terminal's Ctrl-C
                preexec_fn=_die_with_parent if die_with_parent else None,  # pylint: disable=subprocess-popen-preexec-fn
            )
        finally:
            log.close()
        self._procs[name] = proc
        pids = self._read_pids()
        pids[name] = {"pid": proc.pid, "binary": binary, "port": port}
        self.pids_file.write_text(json.dumps(pids, indent=2))

    def _check_running(self, name: str) -> None:
        # Popen.poll, not /proc: right after fork the child does not show the binary yet.
        if self._procs[name].poll() is not None:
            raise ControlPlaneError(f"{name} exited during start-up; last lines of {self.logs / (name + '.log')}:\n{_tail(self.logs / (name + '.log'))}")

    def _start_listener(self, name: str, binary: str, make_args, port_count: int, wait, die_with_parent: bool) -> list:
        """Spawn a server on fresh free ports; pick others when one was taken meanwhile."""
        for attempt in range(3):
            ports = [free_port() for _port in range(port_count)]
            self._spawn(name, binary, make_args(*ports), die_with_parent, port=ports[0])
            try:
                wait(*ports)
                return ports
            except ControlPlaneError:
                if attempt == 2 or "address already in use" not in _tail(self.logs / f"{name}.log"):
                    raise
                self._stop_all(only=(name,))
        raise AssertionError("unreachable")

    def _wait_etcd(self, port: int, _peer_port: int = 0) -> None:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self._check_running("etcd")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if json.load(response).get("health") == "true":
                        return
            time.sleep(0.2)
        raise ControlPlaneError(f"etcd not healthy after {START_TIMEOUT}s:\n{_tail(self.logs / 'etcd.log')}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            self._check_running("kube-apiserver")
            try:
                code, body = self._request("GET", "/readyz", raw=True)
                if code == 200:
                    return
                last = body
            except ControlPlaneError as exc:
                last = str(exc)
            time.sleep(0.3)
        raise ControlPlaneError(f"kube-apiserver not ready after {START_TIMEOUT}s: {last}\n{_tail(self.logs / 'kube-apiserver.log')}")

    def _wait_controller_manager(self) -> None:
        # The serviceaccount controller creates "default" in every namespace: proof that the
        # controller manager talks to the apiserver (and Pods can be created right away).
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self._check_running("kube-controller-manager")
            if self._request("GET", "/api/v1/namespaces/default/serviceaccounts/default")[0] == 200:
                return
            time.sleep(0.3)
        log = _tail(self.logs / "kube-controller-manager.log")
        raise ControlPlaneError(f"kube-controller-manager made no default ServiceAccount in {START_TIMEOUT}s:\n{log}")

    # ----------------------------------------------------------------- CRDs

    def _verified_crds(self) -> list:
        """CRD documents from crds_dir, each file checked against SHA256SUMS."""
        sums = self.crds_dir / "SHA256SUMS"
        if not self.crds_dir.is_dir():
            raise ControlPlaneError(f"CRD directory {self.crds_dir} is missing: set OBOT_CRDS_DIR to the folder with the upstream CRDs and SHA256SUMS")
        if not sums.is_file():
            raise ControlPlaneError(f"{sums} is missing: the CRDs cannot be verified")
        docs = []
        for line in sums.read_text().splitlines():
            if not line.strip():
                continue
            expected, name = line.split(maxsplit=1)
            path = self.crds_dir / name.lstrip("*")
            if not path.is_file():
                raise ControlPlaneError(f"CRD file {path} listed in {sums} is missing")
            content = path.read_bytes()
            actual = hashlib.sha256(content).hexdigest()
            if actual != expected.lower():
                raise ControlPlaneError(f"checksum mismatch for {path}: SHA256SUMS says {expected}, file has {actual}")
            if path.suffix not in (".yaml", ".yml"):
                continue
            for doc in yaml.load_all(content, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    docs.append(doc)
        if not docs:
            raise ControlPlaneError(f"no CustomResourceDefinition found in {self.crds_dir}")
        return docs

    def _install_crds(self, docs: list) -> None:
        # Server-side apply: some CRDs exceed the 256 KiB last-applied annotation limit.
        base = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        query = urllib.parse.urlencode({"fieldManager": FIELD_MANAGER, "force": "true"})

        def apply(doc):
            name = doc["metadata"]["name"]
            for attempt in range(3):  # a busy new apiserver may throttle (429) or time out (5xx)
                try:
                    code, body = self._request("PATCH", f"{base}/{name}?{query}", body=doc, content_type="application/apply-patch+yaml")
                except ControlPlaneError as exc:
                    code, body = 0, str(exc)
                if code in (200, 201):
                    return
                if (code not in (0, 409, 429) and code < 500) or attempt == 2:
                    raise ControlPlaneError(f"applying CRD {name} failed ({code}): {body}")
                time.sleep(1)

        # In parallel: the apiserver spends most of the time compiling each schema's CEL rules.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(apply, docs))
        deadline = time.monotonic() + START_TIMEOUT
        pending = [doc["metadata"]["name"] for doc in docs]
        while pending and time.monotonic() < deadline:
            still = []
            for name in pending:
                code, body = self._request("GET", f"{base}/{name}")
                conditions = ((body.get("status") or {}).get("conditions") or []) if code == 200 else []
                if not any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                    still.append(name)
            pending = still
            if pending:
                time.sleep(0.3)
        if pending:
            raise ControlPlaneError(f"CRDs not Established after {START_TIMEOUT}s: {', '.join(pending)}")

    # ----------------------------------------------------------------- stop

    def _stop_all(self, only: tuple = ALL_COMPONENTS) -> None:
        pids = self._read_pids()
        # One at a time in reverse start order: the apiserver shuts down in about a second
        # while etcd still answers, but hangs when etcd goes first.
        for name in reversed(only):
            entry = pids.pop(name, None)
            if not entry:
                continue
            if _process_alive(entry["pid"], entry["binary"]):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(entry["pid"], signal.SIGTERM)
                deadline = time.monotonic() + 10
                while _process_alive(entry["pid"], entry["binary"]) and time.monotonic() < deadline:
                    time.sleep(0.05)
            # SIGKILL the whole group: also ends anything a component may have spawned.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(entry["pid"], signal.SIGKILL)
            # Reap it when it is our own child (the fixture case), so no zombie lingers.
            proc = self._procs.pop(name, None)
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
        if pids:
            self.pids_file.write_text(json.dumps(pids, indent=2))
        else:
            self.pids_file.unlink(missing_ok=True)

    # ----------------------------------------------------------------- files

    @contextlib.contextmanager
    def _lock(self):
        with open(self.state / "lock", "w", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_pids(self) -> dict:
        try:
            return json.loads(self.pids_file.read_text())
        except (OSError, ValueError):
            return {}

    def _tokens(self) -> dict:
        tokens = {}
        for line in (self.state / "tokens.csv").read_text().splitlines():
            token, user = line.split(",")[:2]
            tokens[user] = token
        return tokens

    def _ensure_pki(self) -> None:
        """CA, serving cert, service-account key pair and static tokens (made once, kept)."""
        self.certs.mkdir(parents=True, exist_ok=True)
        files = ("ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "sa.key", "sa.pub")
        self._ensure_tokens()
        if all((self.certs / f).is_file() for f in files):
            return
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aiplatform-obot-testbed-ca")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        server_key = ec.generate_private_key(ec.SECP256R1())
        names = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(n) for n in names]
                    + [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address(KUBERNETES_SERVICE_IP))]
                ),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            # Python 3.13 verifies strictly (VERIFY_X509_STRICT): key identifiers are required.
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

        def key_pem(key):
            return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

        outputs = {
            "ca.crt": ca_cert.public_bytes(serialization.Encoding.PEM),
            "ca.key": key_pem(ca_key),
            "apiserver.crt": server_cert.public_bytes(serialization.Encoding.PEM),
            "apiserver.key": key_pem(server_key),
            "sa.key": key_pem(sa_key),
            "sa.pub": sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        }
        for name, data in outputs.items():
            path = self.certs / name
            path.write_bytes(data)
            path.chmod(0o600)

    def _ensure_tokens(self) -> None:
        tokens = self.state / "tokens.csv"
        if tokens.is_file() and set(self._tokens()) == set(TOKEN_USERS):
            return
        lines = []
        for user, group in TOKEN_USERS.items():
            lines.append(f"{secrets.token_hex(24)},{user},{user}" + (f',"{group}"' if group else ""))
        tokens.write_text("\n".join(lines) + "\n")
        tokens.chmod(0o600)

    def _write_config_files(self) -> None:
        (self.state / "audit-policy.yaml").write_text(yaml.safe_dump(AUDIT_POLICY))

    def _write_kubeconfig(self, path: Path, user: str) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{
                "name": "obot-testbed",
                "cluster": {
                    "server": self.server,
                    "certificate-authority-data": base64.b64encode(self.ca_file.read_bytes()).decode(),
                },
            }],
            "users": [{"name": user, "user": {"token": self._tokens()[user]}}],
            "contexts": [{"name": "obot-testbed", "context": {"cluster": "obot-testbed", "user": user}}],
            "current-context": "obot-testbed",
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(config))
        tmp.chmod(0o600)
        tmp.replace(path)

    # ----------------------------------------------------------------- HTTP

    def _request(self, method: str, path: str, body=None, content_type: str = "application/json", raw: bool = False):
        """(status, parsed JSON or text) of an admin request to the apiserver."""
        server = self.server
        if not server:
            raise ControlPlaneError("kube-apiserver is not running")
        context = ssl.create_default_context(cafile=str(self.ca_file))
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(server + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.admin_token}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as response:
                code, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            code, text = exc.code, exc.read().decode(errors="replace")
        except (OSError, ssl.SSLError) as exc:
            raise ControlPlaneError(f"{method} {path}: {exc}") from exc
        if raw:
            return code, text
        try:
            return code, json.loads(text)
        except ValueError:
            return code, {"message": text}


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.controlplane", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--root", default=str(REPO_ROOT), help="repository root (state goes to <root>/.cache/cluster)")
    args = parser.parse_args(argv)
    plane = ControlPlane(args.root)
    try:
        if args.action == "up":
            if not plane.up():
                print(f"control plane already up at {plane.server}; KUBECONFIG={plane.kubeconfig}", file=sys.stderr)
        elif args.action == "down":
            plane.down()
            print("control plane stopped", file=sys.stderr)
        else:
            status = plane.status()
            print(json.dumps(status, indent=2))
            return 0 if status["up"] else 3
    except ControlPlaneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: control plane stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
