"""Fault injection: the RustFS (fake) admin API goes away right after obot_rustfs_iam created its
first user. The run must fail with a message that names the RustFS endpoint and no Python
traceback; after the service is back a re-run converges, with exactly one user per purpose whose
secret key is the one kept in the cluster's credentials Secret (the generated audit key)."""

from __future__ import annotations

import time
from http.server import ThreadingHTTPServer

import yaml

from bench import harness
from reliability import support
from testbed.rustfs_fake import RustfsFake
from testbed.secret_leaks import secret_leaks


def _restart(fake: RustfsFake) -> None:
    """Serve again on the same address with the same state (users, policies, buckets)."""
    fake._server = ThreadingHTTPServer(fake._server.server_address, fake._handler_class())  # pylint: disable=protected-access
    fake._server.daemon_threads = True  # pylint: disable=protected-access
    fake.start()


def test_rustfs_goes_away_mid_converge_then_rerun_converges(plane, sops_secrets):
    settings = yaml.safe_load(harness.SETTINGS_FILE.read_text())
    fake = RustfsFake(settings["obot_rustfs_admin_access_key"], sops_secrets["obot_rustfs_admin_secret_key"]).start()
    names = support.isolated_names("rel-s3")
    support.prepare_namespaces(plane, names)
    # The audit user's keys are generated (kept in obot-audit-s3-credentials); backup keys come from SOPS.
    extra = {"rustfs_enabled": True, "obot_rustfs_admin_endpoint": fake.endpoint,
             "obot_audit_s3_access_key": "", "obot_audit_s3_secret_key": ""}
    stopped = []

    def stop_after_first_user(proc):
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            with fake.lock:
                created = any("add-user" in request[1] for request in fake.requests)
            if created:
                fake.stop()
                stopped.append(True)
                return
            time.sleep(0.05)

    try:
        broken = support.converge(plane, names, extra=extra, on_start=stop_after_first_user)
        assert stopped, "RustFS was never stopped: no user was created\n" + broken.output[-4000:]
        failure = support.failure_of(broken, "RustFS")
        assert fake.endpoint.split("//", 1)[1] in failure, f"the message does not name the RustFS endpoint:\n{failure}"
        assert not secret_leaks(broken.output, sops_secrets)

        _restart(fake)
        rerun = support.converge(plane, names, extra=extra)
        assert rerun.returncode == 0, rerun.output[-6000:]
        assert not secret_leaks(rerun.output, sops_secrets)
        with fake.lock:
            users = {key: user["secretKey"] for key, user in fake.users.items()}
            buckets = set(fake.buckets)
        assert set(users) == {settings["obot_s3_access_key"], "obot-audit"}, users.keys()
        assert buckets == {settings["obot_backup_bucket"], settings["obot_audit_bucket"]}, buckets
        audit = support.secret_data(plane, names["obot_namespace"], "obot-audit-s3-credentials")
        assert audit["AWS_ACCESS_KEY_ID"] == "obot-audit"
        assert audit["AWS_SECRET_ACCESS_KEY"] == users["obot-audit"], "the cluster keeps another audit key than RustFS has"
        assert users[settings["obot_s3_access_key"]] == sops_secrets["obot_s3_secret_key"]
    finally:
        fake.stop()
