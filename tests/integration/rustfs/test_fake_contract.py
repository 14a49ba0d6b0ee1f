"""The fake must be strict where RustFS is strict, or the module tests would prove little."""

import json
import urllib.request
from urllib.error import HTTPError

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from testbed.rustfs_fake import RustfsFake


@pytest.fixture
def fake():
    with RustfsFake("admin", "admin-Secret-1") as server:
        yield server


def send(fake, method, path, body=b"", secret="admin-Secret-1", tamper=None, drop_hash=False):
    url = fake.endpoint + path
    request = AWSRequest(method=method, url=url, data=body)
    S3SigV4Auth(Credentials("admin", secret), "s3", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    if drop_hash:
        headers.pop("X-Amz-Content-SHA256")
    if tamper is not None:
        body = tamper
    try:
        opener = urllib.request.build_opener()
        with opener.open(urllib.request.Request(url, data=body if method == "PUT" else None,
                                                headers=headers, method=method)) as resp:
            return resp.status, resp.read()
    except HTTPError as exc:
        return exc.code, exc.read()


def add_user_body(**fields):
    return json.dumps(dict({"secretKey": "user-Secret-1", "status": "enabled"}, **fields)).encode()


def test_signature_and_payload_hash_are_checked(fake):
    assert send(fake, "PUT", "/rustfs/admin/v3/add-user?accessKey=alice", add_user_body())[0] == 200
    assert b"SignatureDoesNotMatch" in send(fake, "GET", "/rustfs/admin/v3/list-users", secret="wrong-Secret")[1]
    status, body = send(fake, "PUT", "/rustfs/admin/v3/add-user?accessKey=bob", add_user_body(),
                        tamper=add_user_body(secretKey="other-Secret-1"))
    assert status == 400 and b"XAmzContentSHA256Mismatch" in body
    status, body = send(fake, "PUT", "/rustfs/admin/v3/add-user?accessKey=bob", add_user_body(), drop_hash=True)
    assert status == 400
    assert "bob" not in fake.users


def test_required_fields_and_limits(fake):
    body = json.dumps({"secretKey": "user-Secret-1"}).encode()
    assert b"missing field `status`" in send(fake, "PUT", "/rustfs/admin/v3/add-user?accessKey=alice", body)[1]
    assert send(fake, "PUT", "/rustfs/admin/v3/add-user?accessKey=al", add_user_body())[0] == 400
    assert send(fake, "PUT", "/rustfs/admin/v3/add-user?accessKey=alice", add_user_body(secretKey="short"))[0] == 400
    policy = json.dumps({"Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}]}).encode()
    assert b"policy version is empty" in send(fake, "PUT", "/rustfs/admin/v3/add-canned-policy?name=p", policy)[1]


def test_quirks(fake):
    assert send(fake, "GET", "/rustfs/admin/v3/user-info?accessKey=ghost")[0] == 404
    assert send(fake, "GET", "/rustfs/admin/v3/info-canned-policy?name=ghost")[0] == 500
    assert send(fake, "PUT", "/rustfs/admin/v3/add-user?accessKey=alice", add_user_body())[0] == 200
    assert send(fake, "PUT", "/rustfs/admin/v3/add-user?accessKey=alice", add_user_body(secretKey="new-Secret-2"))[0] == 200
    assert fake.users["alice"]["secretKey"] == "new-Secret-2"  # silent upsert
    assert send(fake, "PUT", "/obot-b")[0] == 200
    assert send(fake, "PUT", "/obot-b")[0] == 200  # re-creation answers 200
    assert fake.writes() == 4
    send(fake, "GET", "/rustfs/admin/v3/list-users")  # reads are not writes
    assert fake.writes() == 4
