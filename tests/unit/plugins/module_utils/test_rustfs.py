"""Validation, canonical policy comparison and client behaviour of module_utils/rustfs.py."""

import json
import socket

import pytest

from ansible_collections.aiplatform.obot.plugins.module_utils import rustfs
from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import (
    RustfsClient,
    RustfsError,
    canonical_policy,
    policies_equal,
    split_policy_names,
    validate_access_key,
    validate_bucket_name,
    validate_policy,
    validate_secret_key,
)
from testbed.rustfs_fake import RustfsFake, echo_policy

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": ["arn:aws:s3:::obot-audit-logs"]},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "Resource": "arn:aws:s3:::obot-audit-logs/*"},
    ],
}


@pytest.mark.parametrize("key", ["abc", "obot-backup", "A_B.c-1", "x" * 128])
def test_access_key_accepted(key):
    validate_access_key(key)


@pytest.mark.parametrize("key,fragment", [
    ("ab", "3 to 128"), ("x" * 129, "3 to 128"), ("", "empty"), ("a/b/c", "'/'"), ("a=bc", "'='"),
    ("a,bc", "','"), ("a bc", "' '"),
])
def test_access_key_refused(key, fragment):
    with pytest.raises(RustfsError, match=fragment):
        validate_access_key(key)


@pytest.mark.parametrize("secret", ["1234567", "", "x" * 41, None])
def test_secret_key_refused_without_echoing_it(secret):
    with pytest.raises(RustfsError) as info:
        validate_secret_key(secret, "user_secret_key")
    assert "user_secret_key" in str(info.value)
    if secret:
        assert secret not in str(info.value)


@pytest.mark.parametrize("secret", ["12345678", "x" * 40])
def test_secret_key_accepted(secret):
    validate_secret_key(secret)


@pytest.mark.parametrize("name", ["obot-postgres-backups", "abc", "a.b-c", "1bucket", "x" * 63])
def test_bucket_name_accepted(name):
    validate_bucket_name(name)


@pytest.mark.parametrize("name", [
    "ab", "x" * 64, "Upper", "under_score", "-start", "end-", "two..dots", "dot.-dash", "10.0.0.1",
    "xn--punycode", "bucket-s3alias", "with space", "",
])
def test_bucket_name_refused(name):
    with pytest.raises(RustfsError, match="bucket name"):
        validate_bucket_name(name)


def test_policy_accepted_as_dict_or_json():
    assert validate_policy(POLICY) == POLICY
    assert validate_policy(json.dumps(POLICY)) == POLICY


@pytest.mark.parametrize("doc,fragment", [
    ({"Statement": POLICY["Statement"]}, "'Version' is missing"),
    ({"Version": "", "Statement": POLICY["Statement"]}, "'Version' is missing"),
    ({"Version": "2012-10-17"}, "'Statement' is missing"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}, "'Resource' is missing or empty"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": []}]}, "'Resource'"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": " "}]}, "'Resource'"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}, "'Effect'"),
    ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}, "'Action'"),
    ({"Version": "2012-10-17", "Statement": [], "Extra": 1}, "unknown top-level"),
    ("{not json", "not valid JSON"),
    (["a list"], "must be a mapping"),
])
def test_policy_refused(doc, fragment):
    with pytest.raises(RustfsError, match=fragment):
        validate_policy(doc)


def test_server_echo_compares_equal():
    echoed = echo_policy(POLICY)  # reordered statements, lists, empty Sid/Condition/NotAction added
    assert echoed != POLICY
    assert policies_equal(POLICY, echoed)
    assert canonical_policy(echoed) == canonical_policy(json.dumps(POLICY))


def test_real_difference_is_seen():
    narrower = json.loads(json.dumps(POLICY))
    narrower["Statement"][1]["Action"].remove("s3:DeleteObject")
    assert not policies_equal(POLICY, narrower)
    denied = json.loads(json.dumps(POLICY))
    denied["Statement"][0]["Effect"] = "Deny"
    assert not policies_equal(POLICY, denied)


def test_canonical_policy_drops_only_empty_fields():
    doc = {"Version": "2012-10-17", "Statement": [{"Sid": "keep", "Effect": "Allow", "Action": "s3:GetObject",
                                                   "Resource": "arn:aws:s3:::b/*", "Condition": {}, "NotAction": []}]}
    assert canonical_policy(doc)["Statement"] == [
        {"Sid": "keep", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}]


@pytest.mark.parametrize("value,expected", [
    (None, []), ("", []), ("a", ["a"]), ("b,a", ["a", "b"]), ("a, b,,a", ["a", "b"]), (["b", "a"], ["a", "b"]),
])
def test_split_policy_names(value, expected):
    assert split_policy_names(value) == expected


def test_error_details_from_xml_and_json():
    xml = b"<?xml version='1.0'?><Error><Code>NoSuchResource</Code><Message>gone</Message></Error>"
    assert rustfs._error_details(xml) == ("NoSuchResource", "gone")
    assert rustfs._error_details(b'{"Code": "X", "Message": "y"}') == ("X", "y")
    assert rustfs._error_details(b"plain") == ("", "plain")


def test_endpoint_must_be_a_url():
    with pytest.raises(RustfsError, match="endpoint"):
        RustfsClient("127.0.0.1:9000", "admin", "adminsecret")


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_errors_are_retried_briefly(monkeypatch):
    sleeps = []
    monkeypatch.setattr(rustfs.time, "sleep", sleeps.append)
    client = RustfsClient("http://127.0.0.1:%d" % _closed_port(), "admin", "admin-Secret-1")
    with pytest.raises(RustfsError, match="cannot reach .* after 3 attempts") as info:
        client.user_info("someone")
    assert len(sleeps) == rustfs.CONNECTION_RETRIES - 1
    assert "admin-Secret-1" not in str(info.value)


@pytest.fixture
def fake():
    with RustfsFake("admin", "admin-Secret-1") as server:
        yield server


def test_http_errors_are_not_retried(fake, monkeypatch):
    monkeypatch.setattr(rustfs.time, "sleep", lambda _s: pytest.fail("must not retry an HTTP error"))
    client = RustfsClient(fake.endpoint, "admin", "wrong-Secret-1")
    with pytest.raises(RustfsError) as info:
        client.list_users()
    assert info.value.status == 403 and info.value.operation == "list-users"
    assert "admin credentials were rejected" in str(info.value)
    assert "wrong-Secret-1" not in str(info.value)
    assert len(fake.requests) == 1


def test_missing_user_and_policy_read_as_none(fake):
    client = RustfsClient(fake.endpoint, "admin", "admin-Secret-1")
    assert client.user_info("nobody") is None        # 404
    assert client.policy_info("no-policy") is None   # 500 on RustFS


def test_requests_carry_the_payload_hash(fake):
    client = RustfsClient(fake.endpoint, "admin", "admin-Secret-1")
    client.add_policy("p-hash", POLICY)
    assert policies_equal(client.policy_info("p-hash"), POLICY)
    # The fake refuses a request whose x-amz-content-sha256 is missing or does not match the body.
    assert [r[2] for r in fake.requests] == [200, 200]


def test_error_text_never_holds_a_user_secret(fake):
    client = RustfsClient(fake.endpoint, "admin", "admin-Secret-1")
    client.add_user("carol", "carol-Secret-1")
    client.remember_secret("carol-Secret-1")
    with pytest.raises(RustfsError) as info:
        client._fail("x", 400, "InvalidArgument", "secret carol-Secret-1 is bad")
    assert "carol-Secret-1" not in str(info.value) and rustfs.MASK in str(info.value)
