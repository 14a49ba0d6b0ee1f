"""Secret hygiene: no secret of the example inventory's SOPS file (nor its base64 form) appears
in the output of site.yml at any verbosity, with --diff and --check, also when the run fails.

Runs (each verbosity once; a higher one prints everything a lower one does):
- -vvvv --diff: the reference cold converge (every object created, diffs shown);
- -vvv --check --diff: a re-run in check mode (server dry-run);
- -vv --diff: a run that fails in the middle (obot_namespace does not exist, so the first
  Secret apply is refused) and generates a database password that must not show either;
- -v --diff: a run refused in the preflight because of a malformed secret value, which must
  not be echoed."""

from __future__ import annotations

import secrets

from reliability import support
from testbed.secret_leaks import secret_leaks


def test_vvvv_diff_converge_prints_no_secret(reference, sops_secrets):
    output = reference["run"].output
    assert "PLAY RECAP" in output and "task path:" in output, "not the output of a verbose run"
    assert "--- before" in output and "+++ after" in output, "no diff shown"
    assert not secret_leaks(output, sops_secrets)


def test_vvv_check_diff_prints_no_secret(plane, reference, sops_secrets):
    run = support.converge(plane, reference["names"], "-vvv", "--check", "--diff")
    assert run.returncode == 0, run.output[-6000:]
    assert not secret_leaks(run.output, sops_secrets)


def test_failing_run_vv_diff_prints_no_secret(plane, sops_secrets):
    names = support.isolated_names("rel-fail")  # obot_namespace deliberately not created
    run = support.converge(plane, names, "-vv", "--diff", extra={"obot_db_password": ""})
    assert run.returncode != 0, "the run should fail: its namespace does not exist"
    assert "not found" in run.output, run.output[-4000:]
    assert not secret_leaks(run.output, sops_secrets)


def test_preflight_failure_v_diff_does_not_echo_the_bad_secret(plane, sops_secrets):
    bad_key = secrets.token_hex(31) + "zz"  # 64 characters, not hex: refused, and must not be shown
    names = support.isolated_names("rel-pre")
    mark = plane.audit_mark()
    run = support.converge(plane, names, "-v", "--diff", extra={"obot_encryption_key": bad_key})
    assert run.returncode != 0 and "obot_encryption_key" in run.output, run.output[-4000:]
    assert not secret_leaks(run.output, dict(sops_secrets, obot_encryption_key=bad_key))
    assert not plane.write_events_since(mark), "a run refused in the preflight wrote to the cluster"
