"""A throwaway Keycloak server for tests: the official distribution from Maven Central,
run with ``kc.sh start-dev`` on 127.0.0.1 with an in-memory database.

Also a tiny HTTP proxy that counts the requests going through it, so tests can prove that a
second converge sends no write request to the Admin API.

CLI (for ``make demo``)::

    python -m testbed.keycloak up      # start in the background, print URL and credentials file
    python -m testbed.keycloak down    # stop it
    python -m testbed.keycloak status
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

KEYCLOAK_VERSION = "26.7.3"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:tar.gz"
CACHE_DIR = os.path.expanduser(f"~/.cache/aiplatform-obot/keycloak-{KEYCLOAK_VERSION}")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATE_DIR = os.path.join(REPO_ROOT, ".cache", "keycloak")
START_TIMEOUT = float(os.environ.get("KEYCLOAK_START_TIMEOUT", "300"))


class KeycloakTestbedError(Exception):
    """The test Keycloak could not be fetched or started."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_distribution() -> str:
    """Return the unpacked Keycloak home (with bin/kc.sh), fetching it with Maven once."""
    home = os.path.join(CACHE_DIR, f"keycloak-{KEYCLOAK_VERSION}")
    if os.path.isfile(os.path.join(home, "bin", "kc.sh")):
        return home
    os.makedirs(CACHE_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as work:
        download = os.path.join(work, "download")
        cmd = ["mvn", "-B", "-q", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={download}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise KeycloakTestbedError(f"mvn could not fetch {ARTIFACT}:\n{proc.stdout}\n{proc.stderr}")
        archive = os.path.join(download, f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.tar.gz")
        unpacked = os.path.join(work, "unpacked")
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="tar")
        # Rename into place last, so an interrupted fetch never leaves a half-unpacked cache.
        os.replace(os.path.join(unpacked, f"keycloak-{KEYCLOAK_VERSION}"), home)
    return home


def make_instance_home(target: str) -> str:
    """A private Keycloak home for one server: the cached distribution hard-linked (read-only
    use), with its own copy of ``lib/quarkus`` and ``data``, which start-dev rewrites on every start."""
    if os.path.isfile(os.path.join(target, "bin", "kc.sh")):
        return target
    dist = ensure_distribution()

    def link_or_copy(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    def skip_written(directory, names):
        rel = os.path.relpath(directory, dist)
        return [n for n in names if (rel, n) in ((".", "data"), ("lib", "quarkus"))]

    shutil.copytree(dist, target, copy_function=link_or_copy, ignore=skip_written)
    shutil.copytree(os.path.join(dist, "lib", "quarkus"), os.path.join(target, "lib", "quarkus"))
    return target


class KeycloakServer:
    """One ``kc.sh start-dev`` process in its own process group."""

    def __init__(self, log_path: str, admin_user: str = "admin", admin_password: str | None = None):
        self.log_path = log_path
        self.admin_user = admin_user
        self.admin_password = admin_password or secrets.token_urlsafe(18)
        self.http_port = free_port()
        self.management_port = free_port()
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None

    @classmethod
    def attach(cls) -> KeycloakServer:
        """The server started by ``python -m testbed.keycloak up`` (not stopped by stop())."""
        state = _read_state()
        if not state or not _alive(state["pid"]):
            raise KeycloakTestbedError(f"no running Keycloak recorded in {_state_file()}: run `python -m testbed.keycloak up`")
        server = cls(log_path=os.path.join(STATE_DIR, "keycloak.log"), admin_user=state["admin_user"],
                     admin_password=state["admin_password"])
        server.http_port = int(state["url"].rsplit(":", 1)[1])
        server.management_port = int(state["health_url"].split(":")[2].split("/")[0])
        server.wait_ready(10)
        return server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.management_port}/health/ready"

    def start(self, timeout: float = START_TIMEOUT) -> KeycloakServer:
        home = make_instance_home(os.path.join(os.path.dirname(self.log_path), "home"))
        env = dict(os.environ)
        env.update(
            KC_BOOTSTRAP_ADMIN_USERNAME=self.admin_user,
            KC_BOOTSTRAP_ADMIN_PASSWORD=self.admin_password,
            JAVA_OPTS_KC_HEAP="-Xms64m -Xmx512m",
        )
        cmd = [
            os.path.join(home, "bin", "kc.sh"), "start-dev",
            "--http-host=127.0.0.1", f"--http-port={self.http_port}",
            f"--http-management-port={self.management_port}",
            "--health-enabled=true", "--db=dev-mem", "--cache=local",
        ]
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        with open(self.log_path, "ab") as log:
            # Own session: stop() signals the whole group (kc.sh forks java).
            self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.process.pid
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise KeycloakTestbedError(
                    f"Keycloak exited with code {self.process.returncode} while starting:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.health_url, timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        self.stop()
        raise KeycloakTestbedError(f"Keycloak not ready at {self.health_url} after {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.pid is None:
            return
        stop_process_group(self.pid)
        if self.process is not None:
            self.process.wait(timeout=5)
        self.pid = None


def stop_process_group(pid: int, grace: float = 20) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class CountingProxy:
    """Forwards HTTP to ``upstream`` and counts requests as "METHOD /path" (no query).

    The Host header is forwarded unchanged, so Keycloak derives its URLs (and token issuer)
    from the proxy's address consistently.
    """

    def __init__(self, upstream_port: int):
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
                pass

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    proxy.counts[f"{self.command} {self.path.split('?')[0]}"] += 1
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status, resp.reason)
                for key, value in resp.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()

    def admin_writes(self) -> dict:
        """Requests that could change something through the Admin API."""
        with self.lock:
            return {k: n for k, n in self.counts.items()
                    if k.split(" ", 1)[0] in ("POST", "PUT", "DELETE", "PATCH") and " /admin/" in k}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def admin_token(url: str, user: str, password: str) -> str:
    data = urllib.parse.urlencode(
        {"grant_type": "password", "client_id": "admin-cli", "username": user, "password": password}).encode()
    with urllib.request.urlopen(f"{url}/realms/master/protocol/openid-connect/token", data=data, timeout=30) as resp:
        return json.load(resp)["access_token"]


OBOT_HOST = "obot.example.test"


def authorization_request(base_url: str, realm: str, redirect_uri: str, client_id: str = "obot", **extra):
    """GET the OIDC authorization endpoint without following redirects: (status, Location, body)."""
    query = {"client_id": client_id, "response_type": "code", "scope": "openid", "state": "st4te",
             "redirect_uri": redirect_uri}
    query.update(extra)
    url = f"{base_url}/realms/{realm}/protocol/openid-connect/auth?{urllib.parse.urlencode(query)}"

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=30) as resp:
            return resp.status, resp.headers.get("Location"), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location"), exc.read().decode("utf-8", "replace")


# ---- CLI -------------------------------------------------------------------------------

def _state_file() -> str:
    return os.path.join(STATE_DIR, "state.json")


def _read_state() -> dict | None:
    try:
        with open(_state_file(), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
        return True
    except ProcessLookupError:
        return False


def cli_up() -> int:
    state = _read_state()
    if state and _alive(state["pid"]):
        print(f"Keycloak already running at {state['url']} (pid {state['pid']}); credentials in {_state_file()}")
        return 0
    os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
    server = KeycloakServer(log_path=os.path.join(STATE_DIR, "keycloak.log"))
    server.start()
    state = {"pid": server.pid, "url": server.url, "health_url": server.health_url,
             "admin_user": server.admin_user, "admin_password": server.admin_password}
    fd = os.open(_state_file(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=2)
    # Leave the server running after this process exits.
    server.process = None
    print(f"Keycloak {KEYCLOAK_VERSION} running at {server.url} (pid {state['pid']}); credentials in {_state_file()}")
    return 0


def cli_down() -> int:
    state = _read_state()
    if not state:
        print("Keycloak is not running (no state file)")
        return 0
    stop_process_group(state["pid"])
    os.remove(_state_file())
    print(f"Keycloak at {state['url']} stopped")
    return 0


def cli_status() -> int:
    state = _read_state()
    if state and _alive(state["pid"]):
        print(f"Keycloak running at {state['url']} (pid {state['pid']})")
        return 0
    print("Keycloak is not running")
    return 1


def main(argv: list[str]) -> int:
    commands = {"up": cli_up, "down": cli_down, "status": cli_status, "fetch": lambda: print(ensure_distribution()) or 0}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python -m testbed.keycloak {{{'|'.join(commands)}}}", file=sys.stderr)
        return 2
    try:
        return commands[argv[0]]()
    except KeycloakTestbedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
