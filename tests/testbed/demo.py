"""The services `make demo` runs next to the local control plane, at the addresses the example
inventory names: the test Keycloak on 127.0.0.1:18080 (management 18081) and the RustFS FAKE
on 127.0.0.1:19000, with the admin credentials of the example inventory's SOPS file (decrypted
with the TEST age key). Keycloak gets the realm the inventory names, as a cluster's Keycloak
would already have it.

CLI (from the repo root)::

    PYTHONPATH=tests .cache/venv/bin/python -m testbed.demo up|down|status
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

from testbed.keycloak import KeycloakServer, KeycloakTestbedError, admin_token, stop_process_group

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATE_DIR = os.path.join(REPO_ROOT, ".cache", "demo")
STATE_FILE = os.path.join(STATE_DIR, "state.json")
GROUP_VARS = os.path.join(REPO_ROOT, "inventory", "group_vars", "obot")
TEST_AGE_KEY = os.path.join(REPO_ROOT, "tests", "fixtures", "age", "test-key.txt")
SOPS = os.path.join(REPO_ROOT, ".cache", "venv", "bin", "sops")
KEYCLOAK_PORT, KEYCLOAK_MANAGEMENT_PORT, RUSTFS_PORT = 18080, 18081, 19000


class DemoError(Exception):
    """A demo service could not be started."""


def inventory_values() -> dict:
    with open(os.path.join(GROUP_VARS, "settings.yml"), encoding="utf-8") as handle:
        values = yaml.safe_load(handle)
    env = dict(os.environ, SOPS_DISABLE_VERSION_CHECK="1", SOPS_AGE_KEY_FILE=os.environ.get("SOPS_AGE_KEY_FILE", TEST_AGE_KEY))
    proc = subprocess.run([SOPS, "--decrypt", os.path.join(GROUP_VARS, "secrets.sops.yaml")], capture_output=True, text=True,
                          env=env, check=False)
    if proc.returncode != 0:
        raise DemoError(f"sops could not decrypt the example secrets: {proc.stderr.strip()}")
    values.update(yaml.safe_load(proc.stdout))
    return values


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _read_state() -> dict:
    try:
        with open(STATE_FILE, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def _write_state(state: dict) -> None:
    os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
    descriptor = os.open(STATE_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)


def ensure_realm(url: str, user: str, password: str, realm: str) -> None:
    """Create the realm when missing (a cluster's Keycloak already has it)."""
    token = admin_token(url, user, password)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/admin/realms/{realm}", headers=headers), timeout=30):
            return
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
    body = json.dumps({"realm": realm, "enabled": True}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{url}/admin/realms", data=body, headers=headers, method="POST"), timeout=30):
        pass


def _start_keycloak(values: dict) -> dict:
    server = KeycloakServer(log_path=os.path.join(STATE_DIR, "keycloak.log"), admin_user=values["obot_keycloak_admin_username"],
                            admin_password=values["obot_keycloak_admin_password"])
    server.http_port, server.management_port = KEYCLOAK_PORT, KEYCLOAK_MANAGEMENT_PORT
    server.start()
    server.process = None  # keep it running after this process exits
    return {"pid": server.pid, "url": server.url}


def _start_rustfs(values: dict) -> dict:
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO_ROOT, "tests"), DEMO_RUSTFS_SECRET_KEY=values["obot_rustfs_admin_secret_key"])
    with open(os.path.join(STATE_DIR, "rustfs-fake.log"), "ab") as log:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "testbed.demo", "serve-rustfs", values["obot_rustfs_admin_access_key"]],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{RUSTFS_PORT}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"the RustFS fake exited (code {proc.returncode}); see {STATE_DIR}/rustfs-fake.log")
        try:
            with urllib.request.urlopen(url + "/", timeout=2):
                break
        except urllib.error.HTTPError:
            break  # it answers (unsigned requests are refused)
        except OSError:
            time.sleep(0.3)
    else:
        raise DemoError(f"the RustFS fake did not answer at {url}")
    return {"pid": proc.pid, "url": url}


def up() -> int:
    os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
    values = inventory_values()
    state = _read_state()
    if not (state.get("keycloak") and _alive(state["keycloak"]["pid"])):
        print(f"starting the test Keycloak on 127.0.0.1:{KEYCLOAK_PORT} (takes up to a minute)…", flush=True)
        state["keycloak"] = _start_keycloak(values)
        _write_state(state)
    ensure_realm(state["keycloak"]["url"], values["obot_keycloak_admin_username"], values["obot_keycloak_admin_password"],
                 values["keycloak_realm"])
    if not (state.get("rustfs") and _alive(state["rustfs"]["pid"])):
        state["rustfs"] = _start_rustfs(values)
        _write_state(state)
    print(f"Keycloak (test server) at {state['keycloak']['url']}, realm {values['keycloak_realm']}; "
          f"RustFS FAKE at {state['rustfs']['url']}")
    return 0


def down() -> int:
    state = _read_state()
    for name in ("rustfs", "keycloak"):
        if state.get(name) and _alive(state[name]["pid"]):
            stop_process_group(state[name]["pid"])
            print(f"stopped {name} (pid {state[name]['pid']})")
    if os.path.exists(STATE_FILE):
        os.remove(STATE_FILE)
    return 0


def status() -> int:
    state = _read_state()
    running = {name: bool(state.get(name) and _alive(state[name]["pid"])) for name in ("keycloak", "rustfs")}
    for name, alive in running.items():
        print(f"{name}: {'running at ' + state[name]['url'] if alive else 'stopped'}")
    return 0 if all(running.values()) else 1


def serve_rustfs(access_key: str) -> int:
    from testbed.rustfs_fake import RustfsFake  # pylint: disable=import-outside-toplevel

    fake = RustfsFake(access_key, os.environ.pop("DEMO_RUSTFS_SECRET_KEY"), port=RUSTFS_PORT)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"RustFS FAKE listening on {fake.endpoint}", flush=True)
    try:
        fake._server.serve_forever()  # pylint: disable=protected-access
    finally:
        fake._server.server_close()  # pylint: disable=protected-access
    return 0


def main(argv: list) -> int:
    commands = {"up": up, "down": down, "status": status}
    try:
        if len(argv) == 2 and argv[0] == "serve-rustfs":
            return serve_rustfs(argv[1])
        if len(argv) != 1 or argv[0] not in commands:
            print("usage: python -m testbed.demo up|down|status", file=sys.stderr)
            return 2
        return commands[argv[0]]()
    except (DemoError, KeycloakTestbedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
