"""Run ansible-playbook the way the integration tests do: this checkout as the collection
(.cache/collections), the venv's python as the module interpreter, the repo's ansible.cfg,
no colours, and optionally the JSON callback so a test can read per-task results."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".cache" / "venv" / "bin"
COLLECTIONS = REPO / ".cache" / "collections"
JSON_CALLBACK = "ansible.posix.json"


def short_name(task_name: str) -> str:
    """A task's name without its "namespace.collection.role : " prefix."""
    return task_name.split(" : ", 1)[-1]


def ansible_env(json_output: bool = False, **extra: str) -> dict:
    """The environment of an Ansible command; ``extra`` overrides."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
               ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_LOCALHOST_WARNING="False")
    if json_output:
        env.update(ANSIBLE_STDOUT_CALLBACK=JSON_CALLBACK, ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    env.update(extra)
    return env


def playbook_command(playbook, *args: str, vars_file=None, check: bool = False, diff: bool = False,
                     verbosity: int = 0) -> list:
    command = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local"]
    if vars_file:
        command += ["-e", f"@{vars_file}"]
    command += ["--check"] * check + ["--diff"] * diff + (["-" + "v" * verbosity] if verbosity else [])
    return [*command, *args, str(playbook)]


class PlaybookRun:
    """The outcome of one ansible-playbook run; ``report`` is the JSON callback's (or None)."""

    def __init__(self, proc: subprocess.CompletedProcess, json_output: bool):
        self.returncode = proc.returncode
        self.stdout, self.stderr = proc.stdout, proc.stderr
        self.output = proc.stdout + proc.stderr
        self.report = None
        if json_output and "{" in proc.stdout:
            try:
                self.report = json.loads(proc.stdout[proc.stdout.index("{"):])
            except ValueError:
                pass

    @property
    def rc(self) -> int:  # pylint: disable=invalid-name
        return self.returncode

    def ok(self) -> bool:
        return self.returncode == 0

    def require_report(self) -> dict:
        assert self.report is not None, "ansible-playbook gave no JSON:\n" + self.stdout[-3000:] + "\n" + self.stderr[-3000:]
        return self.report

    @property
    def changed(self) -> int:
        return self.require_report()["stats"]["localhost"]["changed"]

    @property
    def failed(self) -> int:
        stats = self.require_report()["stats"]["localhost"]
        return stats["failures"] + stats["unreachable"]

    def tasks(self) -> list:
        return [task for play in self.require_report()["plays"] for task in play["tasks"]]

    def task_results(self) -> list:
        """The localhost result of every task of the first play, in order."""
        return [task["hosts"]["localhost"] for task in self.require_report()["plays"][0]["tasks"]]

    def changed_tasks(self) -> list:
        """Names (without the role prefix) of the tasks that reported a change."""
        return [short_name(task["task"]["name"]) for task in self.tasks() if task["hosts"].get("localhost", {}).get("changed")]

    def task_result(self, name: str) -> dict:
        """The localhost result of the task called ``name`` (with or without its role prefix)."""
        for task in self.tasks():
            if name in (task["task"]["name"], short_name(task["task"]["name"])):
                return task["hosts"]["localhost"]
        raise KeyError(f"task {name!r} not in the output")


def run_playbook(playbook, *args: str, cwd, extra_vars: dict | None = None, check: bool = False, diff: bool = False,
                 verbosity: int = 0, json_output: bool = True, env: dict | None = None, timeout: int = 900) -> PlaybookRun:
    """Run ``playbook`` on localhost from ``cwd``. ``extra_vars`` go through a vars file that is
    deleted afterwards (it may hold secrets); ``env`` adds to the environment."""
    vars_file = None
    if extra_vars is not None:
        vars_file = Path(cwd) / f"vars-{uuid.uuid4().hex[:8]}.json"
        vars_file.write_text(json.dumps(extra_vars))
    try:
        command = playbook_command(playbook, *args, vars_file=vars_file, check=check, diff=diff, verbosity=verbosity)
        proc = subprocess.run(command, cwd=str(cwd), env=ansible_env(json_output, **(env or {})), capture_output=True,
                              text=True, timeout=timeout, check=False)
    finally:
        if vars_file:
            vars_file.unlink()
    return PlaybookRun(proc, json_output)


def write_role_playbook(path: Path, role: str) -> Path:
    """A one-play playbook that converges aiplatform.obot.<role> on localhost."""
    path.write_text(f"- name: Converge {role}\n  hosts: localhost\n  gather_facts: false\n  roles:\n"
                    f"    - role: aiplatform.obot.{role}\n")
    return path
