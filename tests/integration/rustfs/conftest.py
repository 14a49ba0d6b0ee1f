"""RustFS integration fixtures: the rustfs_* modules run through ansible-playbook against the
contract fake (always) and against a real RustFS when RUSTFS_TEST_ENDPOINT,
RUSTFS_TEST_ACCESS_KEY and RUSTFS_TEST_SECRET_KEY are set (marked ``live``)."""

import os
import uuid

import pytest
import yaml

from testbed.playbook import run_playbook
from testbed.rustfs_fake import RustfsFake

LIVE_VARS = ("RUSTFS_TEST_ENDPOINT", "RUSTFS_TEST_ACCESS_KEY", "RUSTFS_TEST_SECRET_KEY")


class Server:
    """Where the modules are pointed; ``fake`` is None for a real server."""

    def __init__(self, endpoint, access_key, secret_key, fake=None):
        self.endpoint, self.access_key, self.secret_key, self.fake = endpoint, access_key, secret_key, fake
        self.suffix = "" if fake else "-" + uuid.uuid4().hex[:6]  # keep a real server's namespace clean

    @property
    def connection(self):
        return {"endpoint": self.endpoint, "access_key": self.access_key, "secret_key": self.secret_key}

    def writes(self):
        return self.fake.writes() if self.fake else None

    def name(self, base):
        return base + self.suffix


@pytest.fixture(params=["fake", pytest.param("live", marks=pytest.mark.live)])
def rustfs(request):
    if request.param == "fake":
        with RustfsFake("rustfsadmin", "rustfsadmin-Secret-0001") as fake:
            yield Server(fake.endpoint, fake.root_access_key, fake.root_secret_key, fake)
        return
    missing = [v for v in LIVE_VARS if not os.environ.get(v)]
    if missing:
        reason = "real RustFS not configured: set %s to run the live case" % ", ".join(missing)
        print(reason)
        pytest.skip(reason)
    yield Server(*(os.environ[v] for v in LIVE_VARS))


class PlaybookRunner:
    """Runs a list of tasks on localhost and returns per-task results from the json callback."""

    def __init__(self, tmp_path, server):
        self.tmp_path, self.server = tmp_path, server
        self.runs = 0

    def run(self, tasks, extra_vars=None, check=False, diff=False, verbosity=0, callback="json"):
        """The per-task results (a Results) with the JSON callback, else the PlaybookRun."""
        self.runs += 1
        variables = {"rustfs": self.server.connection}
        variables.update(extra_vars or {})
        play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
        playbook = self.tmp_path / ("play%d.yml" % self.runs)
        playbook.write_text(yaml.safe_dump(play, sort_keys=False))
        run = run_playbook(playbook, cwd=self.tmp_path, extra_vars=variables, check=check, diff=diff, verbosity=verbosity,
                           json_output=callback == "json", env={"ANSIBLE_DEPRECATION_WARNINGS": "False"}, timeout=300)
        if callback != "json":
            return run
        return Results(run.task_results(), run)


class Results(list):
    def __init__(self, results, proc):
        super().__init__(results)
        self.proc = proc

    @property
    def changed(self):
        return [bool(r.get("changed")) for r in self]

    @property
    def failed(self):
        return [bool(r.get("failed")) for r in self]


@pytest.fixture
def playbook(tmp_path, rustfs):
    return PlaybookRunner(tmp_path, rustfs)


def module_task(module, **args):
    """A task calling aiplatform.obot.<module> with the connection options from the vars file."""
    params = {"endpoint": "{{ rustfs.endpoint }}", "access_key": "{{ rustfs.access_key }}",
              "secret_key": "{{ rustfs.secret_key }}"}
    params.update(args)
    return {"name": "%s %s" % (module, args.get("name", "")), "aiplatform.obot.%s" % module: params}
