"""Fault injection: the kube-apiserver dies in the middle of a converge (right after obot_db
wrote the database Secret). The run must fail with a message that names the connection to
the API server, without a Python traceback; after a restart a re-run converges, and the
cluster holds exactly the objects of a clean converge (nothing duplicated, nothing lost) with
one database password that the server's DSN agrees with."""

from __future__ import annotations

import re

from reliability import support
from testbed.secret_leaks import secret_leaks


def test_apiserver_dies_mid_converge_then_rerun_converges(plane, reference, sops_secrets):
    names = support.isolated_names("rel-fault")
    support.prepare_namespaces(plane, names)
    port = plane.server.rsplit(":", 1)[1]
    extra = {"obot_db_password": ""}  # generated: the re-run must keep the first run's value
    stopped = {}

    def kill_after_db_secret(proc):
        if support.wait_for_write(plane, mark, "secrets", "obot-db-secret", process=proc):
            stopped["argv"] = support.stop_apiserver(plane)

    mark = plane.audit_mark()
    broken = support.converge(plane, names, extra=extra, on_start=kill_after_db_secret)
    argv = stopped.get("argv")
    assert argv, "the API server was never stopped: the converge ended before obot_db wrote its Secret\n" + broken.output[-4000:]
    try:
        failure = support.failure_of(broken, "the API server")
        # Then the connection's own error: refused when the server was gone before the request,
        # aborted when it died during one.
        assert re.search(rf"cannot reach the Kubernetes API server at https://127\.0\.0\.1:{port}: \S", failure), broken.output[-6000:]
        assert f"port={port}" in failure or f"127.0.0.1:{port}" in failure, f"the message does not name the API server:\n{failure}"
        assert not secret_leaks(broken.output, sops_secrets)
    finally:
        support.start_apiserver(plane, argv)
    first_password = support.secret_data(plane, names["obot_namespace"], "obot-db-secret")["password"]

    rerun = support.converge(plane, names, extra=extra)
    assert rerun.returncode == 0, rerun.output[-6000:]
    objects = support.stack_objects(plane, names)
    assert objects == reference["objects"], {
        "missing": sorted(set(reference["objects"]) - set(objects)),
        "extra": sorted(set(objects) - set(reference["objects"])),
        "duplicated": sorted(key for key, count in objects.items() if count > 1),
    }
    password, dsn_passwords = support.database_credentials(plane, names)
    assert password == first_password, "the re-run replaced the database password the interrupted run generated"
    assert dsn_passwords == {password}, "obot-secret's DSN does not hold the password of obot-db-secret"
