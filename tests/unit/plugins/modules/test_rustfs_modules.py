"""Decision logic of the rustfs_* modules (ensure_*), with the API mocked at the client boundary."""

import pytest

from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import (
    RustfsError,
    ensure_bucket,
    ensure_policy,
    ensure_user,
)

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}]}


class StubClient:
    """Records every call; ``writes`` are the calls that would change the server."""

    access_key = "admin"

    def __init__(self, users=None, policies=None, buckets=(), secrets=None):
        self.users = users or {}
        self.policies = policies or {}
        self.buckets = set(buckets)
        self.secrets = secrets or {}
        self.writes = []

    def remember_secret(self, _value):
        pass

    def user_info(self, name):
        return self.users.get(name)

    def secret_works(self, name, secret):
        return self.secrets.get(name) == secret

    def policy_info(self, name):
        return self.policies.get(name)

    def bucket_exists(self, name):
        return name in self.buckets

    def __getattr__(self, name):
        if name in ("add_user", "set_user_status", "remove_user", "set_user_policies", "add_policy", "remove_policy",
                    "create_bucket", "delete_bucket"):
            return lambda *args: self.writes.append((name,) + args)
        raise AttributeError(name)


def existing(status="enabled", policies="p1"):
    info = {"status": status}
    if policies:
        info["policyName"] = policies
    return {"usr1": info}


@pytest.mark.parametrize("kwargs,state,expected_actions", [
    # new user: create, then attach
    (dict(secret_key="secret-01", policies=["p1"]), dict(), ["add-user", "set-user-or-group-policy"]),
    (dict(secret_key="secret-01"), dict(), ["add-user"]),
    # existing, everything equal
    (dict(secret_key="secret-01", policies=["p1"]), dict(users=existing(), secrets={"usr1": "secret-01"}), []),
    # rotation with always / on_create
    (dict(secret_key="secret-02", policies=["p1"]), dict(users=existing(), secrets={"usr1": "secret-01"}), ["add-user"]),
    (dict(secret_key="secret-02", policies=["p1"], update_password="on_create"), dict(users=existing(), secrets={"usr1": "secret-01"}), []),
    # status
    (dict(status="disabled", policies=["p1"]), dict(users=existing()), ["set-user-status"]),
    (dict(status="disabled", policies=["p1"], secret_key="secret-01", update_password="on_create"),
     dict(users=existing(status="disabled")), []),
    # policies: exactly the given ones; omitted = leave alone
    (dict(policies=[]), dict(users=existing()), ["set-user-or-group-policy"]),
    (dict(policies=["p2", "p1"]), dict(users=existing()), ["set-user-or-group-policy"]),
    (dict(policies=["p2", "p1"]), dict(users=existing(policies="p2,p1")), []),
    (dict(), dict(users=existing()), []),
    # absent
    (dict(state="absent"), dict(users=existing()), ["remove-user"]),
    (dict(state="absent"), dict(), []),
])
def test_user_decisions(kwargs, state, expected_actions):
    client = StubClient(policies={"p1": POLICY, "p2": POLICY}, **state)
    result = ensure_user(client, "usr1", **kwargs)
    assert result["actions"] == expected_actions
    assert result["changed"] is bool(expected_actions)
    assert len(client.writes) == len(expected_actions)
    assert "secret" not in str(result).replace("secret_key_updated", "")


@pytest.mark.parametrize("check_mode", [True, False])
def test_user_check_mode_writes_nothing(check_mode):
    client = StubClient(policies={"p1": POLICY})
    result = ensure_user(client, "usr1", secret_key="secret-01", policies=["p1"], check_mode=check_mode)
    assert result["changed"]
    assert (client.writes == []) is check_mode


def test_disabled_user_secret_is_rewritten_with_a_warning():
    client = StubClient(users=existing(status="disabled"), policies={"p1": POLICY})
    result = ensure_user(client, "usr1", secret_key="secret-01", status="disabled", policies=["p1"])
    assert result["actions"] == ["add-user"] and result["warnings"]
    assert client.writes == [("add_user", "usr1", "secret-01", "disabled")]


def test_create_needs_a_secret():
    with pytest.raises(RustfsError, match="user_secret_key: user 'usr1' does not exist yet"):
        ensure_user(StubClient(), "usr1")


def test_attaching_a_missing_policy_is_refused_before_writing():
    client = StubClient(users=existing(policies=""))
    with pytest.raises(RustfsError, match="policies: nope"):
        ensure_user(client, "usr1", policies=["nope"])
    assert client.writes == []


def test_root_user_is_not_managed():
    with pytest.raises(RustfsError, match="admin access key"):
        ensure_user(StubClient(), "admin", secret_key="secret-01")


@pytest.mark.parametrize("stored,given,state,expected", [
    (None, POLICY, "present", ["add-canned-policy"]),
    ({"ID": "", "Version": "2012-10-17", "Statement": [dict(POLICY["Statement"][0], Sid="", Condition={})]}, POLICY, "present", []),
    ({"Version": "2012-10-17", "Statement": [dict(POLICY["Statement"][0], Action=["s3:PutObject"])]}, POLICY, "present",
     ["add-canned-policy"]),
    (POLICY, None, "absent", ["remove-canned-policy"]),
    (None, None, "absent", []),
])
def test_policy_decisions(stored, given, state, expected):
    client = StubClient(policies={"p1": stored} if stored else {})
    result = ensure_policy(client, "p1", policy=given, state=state)
    assert result["actions"] == expected
    assert len(client.writes) == len(expected)


@pytest.mark.parametrize("exists,state,expected", [
    (False, "present", ["create-bucket"]), (True, "present", []), (True, "absent", ["delete-bucket"]), (False, "absent", []),
])
def test_bucket_decisions(exists, state, expected):
    client = StubClient(buckets=["obot-b"] if exists else [])
    result = ensure_bucket(client, "obot-b", state=state)
    assert result["actions"] == expected and result["changed"] is bool(expected)
    assert result["before"]["exists"] is exists


def test_bucket_check_mode_writes_nothing():
    client = StubClient()
    assert ensure_bucket(client, "obot-b", check_mode=True)["changed"]
    assert client.writes == []
