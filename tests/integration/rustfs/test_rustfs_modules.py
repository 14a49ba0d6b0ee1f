"""The rustfs_* modules through ansible-playbook: lifecycle, idempotence (no write on a second
run), secret rotation, policy detach, least privilege, bad input and wrong credentials."""

import time

import pytest
from botocore.exceptions import ClientError

from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import RustfsClient

from .conftest import module_task


def bucket_policy(bucket):
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": ["arn:aws:s3:::%s" % bucket]},
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
             "Resource": ["arn:aws:s3:::%s/*" % bucket]},
        ],
    }


def admin(server):
    return RustfsClient(server.endpoint, server.access_key, server.secret_key)


def wait_for(predicate, seconds=15):
    """Real servers propagate IAM changes asynchronously; the fake is immediate."""
    deadline = time.time() + seconds
    while True:
        if predicate():
            return True
        if time.time() > deadline:
            return False
        time.sleep(0.5)


def can(client, call, **kwargs):
    try:
        getattr(client, call)(**kwargs)
        return True
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"), exc
        return False


def converge_tasks(server, secret, policies=None, update_password="always", state="present", status="enabled"):
    bucket, policy, user = server.name("obot-it-data"), server.name("obot-it-data-rw"), server.name("obot-it-user")
    extra = server.name("obot-it-extra")
    if state == "absent":
        return [
            module_task("rustfs_user", name=user, state="absent"),
            module_task("rustfs_policy", name=policy, state="absent"),
            module_task("rustfs_policy", name=extra, state="absent"),
            module_task("rustfs_bucket", name=bucket, state="absent"),
        ]
    return [
        module_task("rustfs_bucket", name=bucket),
        module_task("rustfs_policy", name=policy, policy=bucket_policy(bucket)),
        module_task("rustfs_policy", name=extra, policy=bucket_policy(server.name("obot-it-other"))),
        module_task("rustfs_user", name=user, user_secret_key=secret, update_password=update_password,
                    status=status, policies=[policy, extra] if policies is None else policies),
    ]


def test_lifecycle_is_idempotent(rustfs, playbook):
    user, policy, extra = rustfs.name("obot-it-user"), rustfs.name("obot-it-data-rw"), rustfs.name("obot-it-extra")
    api = admin(rustfs)

    # Check mode tells what would change and writes nothing.
    writes = rustfs.writes()
    res = playbook.run(converge_tasks(rustfs, "first-Secret-1"), check=True)
    assert res.changed == [True, True, True, True], res
    assert api.user_info(user) is None
    if rustfs.fake:
        assert rustfs.writes() == writes

    res = playbook.run(converge_tasks(rustfs, "first-Secret-1"), diff=True)
    assert res.changed == [True, True, True, True], res
    assert res[3]["user"] == {"access_key": user, "status": "enabled", "policies": sorted([policy, extra])}
    assert res[3]["diff"]["before"] == {}

    # Second run: nothing changes and not one write request reaches the server.
    writes = rustfs.writes()
    res = playbook.run(converge_tasks(rustfs, "first-Secret-1"), diff=True)
    assert res.changed == [False, False, False, False], res
    if rustfs.fake:
        assert rustfs.writes() == writes, rustfs.fake.requests[-10:]

    # Rotate the secret with update_password=always.
    res = playbook.run(converge_tasks(rustfs, "second-Secret-2"))
    assert res.changed == [False, False, False, True], res
    assert res[3]["actions"] == ["add-user"]
    assert wait_for(lambda: api.secret_works(user, "second-Secret-2"))
    assert wait_for(lambda: not api.secret_works(user, "first-Secret-1"))
    writes = rustfs.writes()
    res = playbook.run(converge_tasks(rustfs, "second-Secret-2"))
    assert res.changed == [False, False, False, False], res
    if rustfs.fake:
        assert rustfs.writes() == writes

    # on_create leaves an existing user's secret alone.
    res = playbook.run(converge_tasks(rustfs, "third-Secret-3", update_password="on_create"))
    assert res.changed == [False, False, False, False], res
    assert api.secret_works(user, "second-Secret-2")

    # Detach one policy: exactly the given policies stay attached.
    res = playbook.run(converge_tasks(rustfs, "second-Secret-2", policies=[policy]), diff=True)
    assert res.changed == [False, False, False, True], res
    assert res[3]["diff"]["before"]["policies"] == sorted([policy, extra])
    assert res[3]["diff"]["after"]["policies"] == [policy]
    assert api.user_info(user).get("policyName") == policy
    res = playbook.run(converge_tasks(rustfs, "second-Secret-2", policies=[policy]))
    assert res.changed == [False, False, False, False], res

    # Disable, then enable again.
    res = playbook.run(converge_tasks(rustfs, "second-Secret-2", policies=[policy], status="disabled", update_password="on_create"))
    assert res.changed == [False, False, False, True] and res[3]["actions"] == ["set-user-status"], res
    assert api.user_info(user)["status"] == "disabled"
    res = playbook.run(converge_tasks(rustfs, "second-Secret-2", policies=[policy]))
    assert res.changed == [False, False, False, True], res
    assert api.user_info(user)["status"] == "enabled"

    # Delete everything, then delete again: nothing to do, nothing written.
    res = playbook.run(converge_tasks(rustfs, None, state="absent"), diff=True)
    assert res.changed == [True, True, True, True], res
    assert api.user_info(user) is None and api.policy_info(policy) is None
    writes = rustfs.writes()
    res = playbook.run(converge_tasks(rustfs, None, state="absent"))
    assert res.changed == [False, False, False, False], res
    if rustfs.fake:
        assert rustfs.writes() == writes


def test_least_privilege(rustfs, playbook):
    tasks, users = [], {}
    for purpose in ("backup", "audit"):
        bucket, policy, user = (rustfs.name("obot-lp-%s" % purpose), rustfs.name("obot-lp-%s-rw" % purpose),
                                rustfs.name("obot-lp-%s-user" % purpose))
        users[purpose] = (user, "lp-%s-Secret-9" % purpose, bucket)
        tasks += [module_task("rustfs_bucket", name=bucket),
                  module_task("rustfs_policy", name=policy, policy=bucket_policy(bucket)),
                  module_task("rustfs_user", name=user, user_secret_key=users[purpose][1], policies=[policy])]
    res = playbook.run(tasks)
    assert all(res.changed) and not any(res.failed), res
    api = admin(rustfs)
    try:
        for purpose, (user, secret, bucket) in users.items():
            other_bucket = users["audit" if purpose == "backup" else "backup"][2]
            s3 = api.s3_client(user, secret)
            assert wait_for(lambda: can(s3, "put_object", Bucket=bucket, Key="probe.txt", Body=b"ok"))
            assert s3.get_object(Bucket=bucket, Key="probe.txt")["Body"].read() == b"ok"
            assert can(s3, "list_objects_v2", Bucket=bucket)
            assert can(s3, "get_bucket_location", Bucket=bucket)
            assert not can(s3, "put_object", Bucket=other_bucket, Key="intruder.txt", Body=b"x")
            assert not can(s3, "list_objects_v2", Bucket=other_bucket)
            assert not can(s3, "create_bucket", Bucket=rustfs.name("obot-lp-new"))
            assert can(s3, "delete_object", Bucket=bucket, Key="probe.txt")
        # The role's proof step: right access passes and changes nothing; wrong access fails clearly.
        (backup_user, backup_secret, backup_bucket), audit_bucket = users["backup"], users["audit"][2]
        checks = [module_task("rustfs_access_check", user_access_key=backup_user, user_secret_key=backup_secret,
                              bucket=backup_bucket, denied_buckets=[audit_bucket]),
                  dict(module_task("rustfs_access_check", user_access_key=backup_user, user_secret_key=backup_secret,
                                   bucket=audit_bucket, denied_buckets=[backup_bucket], timeout=1), ignore_errors=True)]
        res = playbook.run(checks)
        assert res.changed == [False, False] and res.failed == [False, True], res
        assert "list on bucket '%s' should be allowed but was denied" % audit_bucket in res[1]["msg"]
        assert "write on bucket '%s' should be denied but was allowed" % backup_bucket in res[1]["msg"]
        assert backup_secret not in str(res)
    finally:
        cleanup = []
        for task in reversed(tasks):
            (module, args), = [(k, v) for k, v in task.items() if k != "name"]
            cleanup.append(module_task(module.split(".")[-1], name=args["name"], state="absent"))
        playbook.run(cleanup)


def test_policy_compared_canonically(rustfs, playbook):
    name, bucket = rustfs.name("obot-canon-rw"), rustfs.name("obot-canon")
    doc = bucket_policy(bucket)
    res = playbook.run([module_task("rustfs_policy", name=name, policy=doc)])
    assert res.changed == [True]
    # Same policy: statements swapped, single values as strings, an empty Sid, as a JSON string.
    reordered = {"Version": "2012-10-17", "Statement": [
        dict(doc["Statement"][1], Sid="", Action=list(reversed(doc["Statement"][1]["Action"]))),
        {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket"], "Resource": "arn:aws:s3:::%s" % bucket},
    ]}
    writes = rustfs.writes()
    res = playbook.run([module_task("rustfs_policy", name=name, policy=reordered),
                        module_task("rustfs_policy", name=name, policy="{{ %s | to_json }}" % "doc")],
                       extra_vars={"doc": doc})
    assert res.changed == [False, False], res
    if rustfs.fake:
        assert rustfs.writes() == writes
    narrower = {"Version": "2012-10-17", "Statement": [doc["Statement"][1]]}
    res = playbook.run([module_task("rustfs_policy", name=name, policy=narrower)], diff=True)
    assert res.changed == [True]
    assert len(res[0]["diff"]["before"]["Statement"]) == 2 and len(res[0]["diff"]["after"]["Statement"]) == 1
    playbook.run([module_task("rustfs_policy", name=name, state="absent")])


def test_info(rustfs, playbook):
    bucket, policy, user = rustfs.name("obot-info"), rustfs.name("obot-info-rw"), rustfs.name("obot-info-user")
    setup = [module_task("rustfs_bucket", name=bucket),
             module_task("rustfs_policy", name=policy, policy=bucket_policy(bucket)),
             module_task("rustfs_user", name=user, user_secret_key="info-Secret-7", policies=[policy])]
    playbook.run(setup)
    try:
        res = playbook.run([module_task("rustfs_info")], check=True)
        info = res[0]
        assert info["changed"] is False
        assert info["users"][user] == {"status": "enabled", "policies": [policy]}
        assert info["policies"][policy]["Statement"]
        assert bucket in info["buckets"]
        assert "info-Secret-7" not in str(info)
    finally:
        playbook.run([module_task("rustfs_user", name=user, state="absent"),
                      module_task("rustfs_policy", name=policy, state="absent"),
                      module_task("rustfs_bucket", name=bucket, state="absent")])


def test_verbose_diff_output_holds_no_secret(rustfs, playbook):
    user, policy = rustfs.name("obot-nolog-user"), rustfs.name("obot-nolog-rw")
    secrets = ["nolog-First-Secret", "nolog-Second-Secret"]
    tasks = [module_task("rustfs_policy", name=policy, policy=bucket_policy(rustfs.name("obot-nolog"))),
             module_task("rustfs_user", name=user, user_secret_key="{{ user_secret }}", policies=[policy])]
    outputs = []
    for secret in secrets + secrets[1:]:  # create, rotate, unchanged
        proc = playbook.run(tasks, extra_vars={"user_secret": secret}, diff=True, verbosity=3, callback="default")
        assert proc.returncode == 0, proc.stdout[-3000:]
        outputs.append(proc.stdout + proc.stderr)
    bad = playbook.run([module_task("rustfs_user", name=user, user_secret_key="short")], diff=True, verbosity=3,
                       callback="default")
    outputs.append(bad.stdout + bad.stderr)
    playbook.run([module_task("rustfs_user", name=user, state="absent"), module_task("rustfs_policy", name=policy, state="absent")])
    text = "\n".join(outputs)
    assert user in text  # access keys are not hidden
    assert "secret key must be 8 to 40 characters" in text
    for secret in secrets + [rustfs.secret_key, "short"]:
        assert secret not in text, "secret %r printed" % secret[:3]


BAD_INPUT = [
    ("rustfs_bucket", {"name": "Bad_Bucket"}, "bucket name 'Bad_Bucket'"),
    ("rustfs_bucket", {"name": "ab"}, "must be 3 to 63"),
    ("rustfs_bucket", {"name": "192.168.1.10"}, "IP address"),
    ("rustfs_bucket", {"name": "my..bucket"}, "'..'"),
    ("rustfs_user", {"name": "team/alice", "user_secret_key": "long-enough-1"}, "contains '/'"),
    ("rustfs_user", {"name": "alice=x", "user_secret_key": "long-enough-1"}, "contains '='"),
    ("rustfs_user", {"name": "alice,bob", "user_secret_key": "long-enough-1"}, "contains ','"),
    ("rustfs_user", {"name": "al", "user_secret_key": "long-enough-1"}, "3 to 128 characters"),
    ("rustfs_user", {"name": "alice", "user_secret_key": "seven77"}, "8 to 40 characters long (got 7)"),
    ("rustfs_policy", {"name": "no-version", "policy": {"Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::x/*"]}]}}, "'Version' is missing"),
    ("rustfs_policy", {"name": "no-resource", "policy": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": []}]}}, "'Resource' is missing or empty"),
    ("rustfs_policy", {"name": "blank-resource", "policy": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [""]}]}}, "'Resource' is missing or empty"),
    ("rustfs_policy", {"name": "has space", "policy": {"Version": "2012-10-17", "Statement": []}}, "without spaces"),
]


def test_bad_input_refused_before_any_request(rustfs, playbook):
    if not rustfs.fake:
        pytest.skip("request counting needs the fake; bad input never reaches a server anyway")
    before = len(rustfs.fake.requests)
    res = playbook.run([dict(module_task(module, **args), ignore_errors=True) for module, args, _message in BAD_INPUT])
    for (module, args, message), result in zip(BAD_INPUT, res):
        assert result.get("failed"), (module, args, result)
        assert message in result["msg"], (module, args, result["msg"])
    assert len(res) == len(BAD_INPUT)
    assert len(rustfs.fake.requests) == before, rustfs.fake.requests[before:]


def test_wrong_admin_credentials_fail_once(rustfs, playbook):
    task = module_task("rustfs_user", name=rustfs.name("obot-creds"), user_secret_key="creds-Secret-1")
    task["aiplatform.obot.rustfs_user"]["secret_key"] = "definitely-not-the-secret"
    before = len(rustfs.fake.requests) if rustfs.fake else 0
    res = playbook.run([dict(task, ignore_errors=True)])
    assert res.failed == [True], res
    msg = res[0]["msg"]
    assert "HTTP 403" in msg and "user-info" in msg and "admin credentials were rejected" in msg, msg
    assert "definitely-not-the-secret" not in str(res[0])
    if rustfs.fake:
        assert len(rustfs.fake.requests) - before == 1, rustfs.fake.requests[before:]


def test_unreachable_endpoint_retries_briefly(playbook, rustfs, unused_port):
    if not rustfs.fake:
        pytest.skip("only needs one server kind")
    task = module_task("rustfs_bucket", name="obot-unreachable", endpoint="http://127.0.0.1:%d" % unused_port)
    started = time.time()
    res = playbook.run([dict(task, ignore_errors=True)])
    assert res.failed == [True]
    assert "cannot reach http://127.0.0.1:%d after 3 attempts" % unused_port in res[0]["msg"], res[0]["msg"]
    assert time.time() - started < 30


@pytest.fixture
def unused_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
