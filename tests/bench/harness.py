"""Shared code of the benchmarks and the reliability suite: a private control plane, running
ansible-playbook the way a user does (example inventory, SOPS secrets decrypted with the TEST
age key), the process tree's peak memory, request counts from the audit log and snapshots of
resourceVersions."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from testbed.controlplane import ADMIN_USER, WRITE_VERBS, ControlPlane

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".cache" / "venv" / "bin"
COLLECTIONS = ROOT / ".cache" / "collections"
INVENTORY = ROOT / "inventory"
SECRETS_FILE = INVENTORY / "group_vars" / "obot" / "secrets.sops.yaml"
SETTINGS_FILE = INVENTORY / "group_vars" / "obot" / "settings.yml"
TEST_AGE_KEY = ROOT / "tests" / "fixtures" / "age" / "test-key.txt"
READ_VERBS = frozenset({"get", "list", "watch"})
# The example inventory with the parts that need Keycloak and RustFS switched off (Keycloak
# takes a minute and a GiB to start; the benchmark measures the Kubernetes side) and no waits
# (no kubelet, no CloudNativePG operator on the local control plane).
OFFLINE_SETTINGS = {
    "keycloak_enabled": False,
    "obot_keycloak_enabled": False,
    "rustfs_enabled": False,
    "obot_db_wait": False,
    "obot_app_wait": False,
}
# Namespaces a real cluster already has: the shared one the server joins and the Gateway's.
PREEXISTING_NAMESPACES = ("ai-system", "network")
STACK_NAMESPACES = ("ai-system", "obot-mcp", "network")


def ansible_env(kubeconfig: os.PathLike | str | None = None, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_VARS_ENABLED="host_group_vars,community.sops.sops",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
        SOPS_DISABLE_VERSION_CHECK="1",
        SOPS_AGE_KEY_FILE=str(TEST_AGE_KEY),
        PYTHONUNBUFFERED="1",
    )
    if kubeconfig:
        env.update(KUBECONFIG=str(kubeconfig), K8S_AUTH_KUBECONFIG=str(kubeconfig))
    env.update({key: str(value) for key, value in extra.items()})
    return env


# ------------------------------------------------------------------ processes and memory

def _children_map() -> dict:
    children = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(root_pid: int) -> list:
    children = _children_map()
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


class TreeRssSampler(threading.Thread):
    """Sum of the RSS of a process and all its descendants, sampled every ``interval``; keeps
    the maximum (ansible forks a worker per task and a Python per module run)."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_bytes, self.samples = 0, 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            total = sum(_rss_bytes(pid) for pid in process_tree(self.pid))
            self.peak_bytes = max(self.peak_bytes, total)
            self.samples += 1
            self._stop_event.wait(self.interval)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak_bytes / 2**20


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float = 0.0
    report: dict = field(default_factory=dict)  # the json callback's output, when used

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_ansible(args: list, env: dict, timeout: float = 900, on_start=None, json_report: bool = False) -> Run:
    """Run ansible-playbook (or another venv command) from the repo root, measure wall time and
    the process tree's peak RSS. on_start(proc) runs in a thread once the process started."""
    if json_report:
        env = dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    command = [str(VENV_BIN / args[0]), *args[1:]]
    started = time.monotonic()
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        sampler = TreeRssSampler(proc.pid)
        sampler.start()
        helper = None
        if on_start:
            helper = threading.Thread(target=on_start, args=(proc,), daemon=True)
            helper.start()
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)
            stdout, stderr = proc.communicate()
            stderr += f"\n(killed after {timeout}s)"
        seconds = time.monotonic() - started
        peak = sampler.stop()
        if helper:
            helper.join(timeout=60)
    result = Run(proc.returncode, stdout, stderr, seconds, peak)
    if json_report:
        with contextlib.suppress(ValueError):
            result.report = json.loads(stdout[stdout.find("{"):]) if "{" in stdout else {}
    return result


def recap_from_report(report: dict) -> dict:
    return report.get("stats", {})


# ------------------------------------------------------------------ the control plane

@contextlib.contextmanager
def private_plane(name: str):
    """A control plane of this process alone (state in .cache/<name>-<pid>), stopped at the end;
    its processes die with this process even when it is killed."""
    state = ROOT / ".cache" / f"{name}-{os.getpid()}"
    for stale in (ROOT / ".cache").glob(f"{name}-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(stale, ignore_errors=True)
    plane = ControlPlane(state_dir=state)
    try:
        for attempt in range(3):
            try:
                plane.up(die_with_parent=True)
                break
            except TypeError as exc:
                # controlplane.py reads a new CRD's status.conditions while it is still null
                # (reported to its owner); up() stopped everything, so trying again is clean.
                if attempt == 2:
                    raise
                print(f"warning: control plane start failed ({exc!r}); trying again", file=sys.stderr)
        yield plane
    finally:
        plane.down()
        shutil.rmtree(state, ignore_errors=True)


def api_client(plane: ControlPlane):
    from kubernetes import config  # pylint: disable=import-outside-toplevel

    return config.new_client_from_config(config_file=str(plane.kubeconfig))


# ------------------------------------------------------------------ audit log

def request_counts(events: list, user: str = ADMIN_USER) -> dict:
    """Requests of ``user``: reads (get/list/watch, discovery included), writes (create, update,
    patch, delete), server dry-run writes counted apart, and how many reads were discovery."""
    seen, counts = set(), {"reads": 0, "writes": 0, "dry_run_writes": 0, "discovery": 0}
    for event in events:
        if event.get("user", {}).get("username") != user or event["auditID"] in seen:
            continue
        seen.add(event["auditID"])
        verb = event.get("verb")
        if verb in WRITE_VERBS:
            counts["dry_run_writes" if "dryRun=" in event.get("requestURI", "") else "writes"] += 1
        elif verb in READ_VERBS:
            counts["reads"] += 1
            if "objectRef" not in event:
                counts["discovery"] += 1
    return counts


def write_targets(events: list, user: str = ADMIN_USER) -> list:
    """(resource, namespace, name, verb) of the real (not dry-run) writes of ``user``."""
    seen, targets = set(), []
    for event in events:
        if event.get("user", {}).get("username") != user or event["auditID"] in seen:
            continue
        seen.add(event["auditID"])
        if event.get("verb") in WRITE_VERBS and "dryRun=" not in event.get("requestURI", ""):
            ref = event.get("objectRef", {})
            targets.append((ref.get("resource"), ref.get("namespace"), ref.get("name"), event["verb"]))
    return targets


# ------------------------------------------------------------------ cluster state

# ------------------------------------------------------------------ inventory

def example_secrets() -> dict:
    proc = subprocess.run([str(VENV_BIN / "sops"), "--decrypt", str(SECRETS_FILE)], capture_output=True, text=True,
                          env=ansible_env(), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"sops could not decrypt {SECRETS_FILE}: {proc.stderr.strip()}")
    return yaml.safe_load(proc.stdout)


def decrypt_file(path: Path) -> dict:
    proc = subprocess.run([str(VENV_BIN / "sops"), "--config", "/dev/null", "--decrypt", str(path)], capture_output=True,
                          text=True, env=ansible_env(), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"sops could not decrypt {path}: {proc.stderr.strip()}")
    return yaml.safe_load(proc.stdout)


def write_extra_vars(path: Path, **overrides) -> Path:
    path.write_text(json.dumps(dict(OFFLINE_SETTINGS, **overrides)))
    return path


# ------------------------------------------------------------------ machine and versions

def machine_info() -> dict:
    with open("/proc/meminfo", encoding="utf-8") as handle:
        mem_kb = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
    return {
        "cpu_count": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def versions(client=None) -> dict:
    from importlib import metadata  # pylint: disable=import-outside-toplevel

    found = {"python": platform.python_version()}
    for dist in ("ansible-core", "ansible", "kubernetes"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[dist] = metadata.version(dist)
    manifest = Path(sys.prefix).glob("lib/python*/site-packages/ansible_collections/kubernetes/core/MANIFEST.json")
    for path in manifest:
        found["kubernetes.core"] = json.loads(path.read_text())["collection_info"]["version"]
    if client is not None:
        from kubernetes import client as k8s  # pylint: disable=import-outside-toplevel

        found["kubernetes_server"] = k8s.VersionApi(client).get_code().git_version
    return found
