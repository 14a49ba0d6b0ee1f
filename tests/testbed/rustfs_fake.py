"""A FAKE RustFS server for tests: the admin API routes and the S3 calls the collection uses.

This is not RustFS. No registry ships the RustFS server, so CI tests the rustfs_* modules against
this contract fake instead; the same tests also run against a real server when
RUSTFS_TEST_ENDPOINT / RUSTFS_TEST_ACCESS_KEY / RUSTFS_TEST_SECRET_KEY are set.

Where the behaviour comes from:
- routes and shapes: RustFS's admin handlers (rustfs/src/admin/handlers/{user,policies}.rs,
  crates/madmin, crates/iam in github.com/rustfs/rustfs), which follow the MinIO admin API:
  PUT  /rustfs/admin/v3/add-user?accessKey=X          body {"secretKey", "status"} ("status" required)
  GET  /rustfs/admin/v3/user-info?accessKey=X         {"status", "policyName": "a,b", "updatedAt"}
  GET  /rustfs/admin/v3/list-users                    {accessKey: user-info}
  DELETE /rustfs/admin/v3/remove-user?accessKey=X
  PUT  /rustfs/admin/v3/set-user-status?accessKey=X&status=enabled|disabled
  PUT  /rustfs/admin/v3/add-canned-policy?name=P      body = the policy ("Version" required)
  GET  /rustfs/admin/v3/info-canned-policy?name=P     {"policy_name", "policy", "create_date", "update_date"}
  GET  /rustfs/admin/v3/list-canned-policies          {name: policy}
  DELETE /rustfs/admin/v3/remove-canned-policy?name=P (500 "policy in use" while attached)
  PUT  /rustfs/admin/v3/set-user-or-group-policy?policyName=a,b&userOrGroup=X&isGroup=false
       (an empty policyName detaches all)
- limits: access key >= 3 characters without '=' or ',', secret key >= 8 (crates/policy auth).
- quirks seen on running servers (DESIGN.md section 4): add-user and add-canned-policy silently
  overwrite; a missing policy answers 500, a missing user 404; policies are echoed with statements
  reordered, single values turned into lists and empty fields added; re-creating a bucket answers 200.
- errors are S3-style XML (<Error><Code>..</Code><Message>..</Message></Error>).

Every request must carry a valid AWS SigV4 signature (service s3) made with the root credentials or
a user's; only root may call the admin API. S3 requests by users are checked against their attached
policies (ListBucket/GetBucketLocation on the bucket ARN, Get/Put/DeleteObject on object ARNs) so that
least privilege can be tested. Write requests (PUT/POST/DELETE) are counted in ``write_count``.

Run by hand (``make demo``):  python -m testbed.rustfs_fake --port 9000 --access-key admin --secret-key adminsecret
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import hashlib
import hmac
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

ADMIN_PREFIX = "/rustfs/admin/v3/"
BUILTIN_POLICIES = {
    "readwrite": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}]},
    "readonly": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:GetObject"], "Resource": ["arn:aws:s3:::*"]}]},
    "writeonly": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::*"]}]},
}
STATEMENT_FIELDS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal"}
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
                     r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})")


class FakeError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _listify(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def echo_policy(policy):
    """What the server gives back: single values as lists, sets reordered, statements reordered, empty fields added."""
    statements = []
    for stmt in _listify(policy.get("Statement")):
        out = {"Sid": stmt.get("Sid", ""), "Effect": stmt["Effect"]}
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            out[key] = sorted(set(_listify(stmt.get(key))), reverse=True)
        out["Condition"] = stmt.get("Condition", {})
        statements.append(out)
    statements.reverse()
    return {"ID": policy.get("ID", ""), "Version": policy["Version"], "Statement": statements}


def _matches(patterns, value):
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


def policy_allows(policies, action, resource):
    """IAM evaluation subset: explicit Deny wins, then any Allow; statements with Conditions never match."""
    allowed = False
    for policy in policies:
        for stmt in _listify(policy.get("Statement")):
            if stmt.get("Condition"):
                continue
            if "Action" in stmt and not _matches(_listify(stmt["Action"]), action):
                continue
            if "NotAction" in stmt and _matches(_listify(stmt["NotAction"]), action):
                continue
            if "Resource" in stmt and not _matches(_listify(stmt["Resource"]), resource):
                continue
            if "NotResource" in stmt and _matches(_listify(stmt["NotResource"]), resource):
                continue
            if stmt.get("Effect") == "Deny":
                return False
            allowed = True
    return allowed


class RustfsFake:
    """In-process fake server; ``with RustfsFake(...) as fake: fake.endpoint``."""

    def __init__(self, access_key="rustfsadmin", secret_key="rustfsadmin-secret", region="us-east-1",
                 host="127.0.0.1", port=0):
        self.root_access_key, self.root_secret_key, self.region = access_key, secret_key, region
        self.users = {}        # access key -> {"secretKey", "status", "policies": [..], "updatedAt"}
        self.policies = {}     # name -> {"policy", "create_date", "update_date"}
        self.buckets = {}      # name -> {key: bytes}
        self.write_count = 0
        self.requests = []     # (method, path, status, access key)
        self.lock = threading.RLock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = None

    @property
    def endpoint(self):
        host, port = self._server.server_address[:2]
        return "http://%s:%d" % (host, port)

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name="rustfs-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def writes(self):
        with self.lock:
            return self.write_count

    # -- authentication --------------------------------------------------

    def _secret_for(self, access_key):
        if access_key == self.root_access_key:
            return self.root_secret_key
        user = self.users.get(access_key)
        if user is None:
            raise FakeError(403, "InvalidAccessKeyId", "The Access Key Id you provided does not exist in our records.")
        if user["status"] != "enabled":
            raise FakeError(403, "InvalidAccessKeyId", "Your account is disabled; please contact your administrator.")
        return user["secretKey"]

    def authenticate(self, method, raw_path, raw_query, headers, body):
        """Check the SigV4 Authorization header like an S3 server would; returns the access key."""
        auth = headers.get("Authorization", "")
        match = AUTH_RE.match(auth)
        if not match:
            raise FakeError(403, "AccessDenied", "Signature Version 4 authorization is required")
        access_key, date, region, service, signed_headers, signature = match.groups()
        if service != "s3":
            raise FakeError(400, "AuthorizationHeaderMalformed", "the service in the credential scope must be s3")
        if region != self.region:
            raise FakeError(400, "AuthorizationHeaderMalformed", "the region '%s' is wrong; expecting '%s'" % (region, self.region))
        amz_date = headers.get("X-Amz-Date", "")
        try:
            stamp = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise FakeError(403, "AccessDenied", "X-Amz-Date is missing or malformed")
        if abs(datetime.datetime.now(datetime.timezone.utc) - stamp) > MAX_CLOCK_SKEW or not amz_date.startswith(date):
            raise FakeError(403, "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large.")
        payload_hash = headers.get("X-Amz-Content-SHA256")
        if not payload_hash:
            raise FakeError(400, "InvalidRequest", "x-amz-content-sha256 header is required")
        if payload_hash != "UNSIGNED-PAYLOAD" and payload_hash != hashlib.sha256(body).hexdigest():
            raise FakeError(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
        names = signed_headers.split(";")
        if "host" not in names:
            raise FakeError(403, "AccessDenied", "the host header must be signed")
        secret = self._secret_for(access_key)
        pairs = sorted((quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
                       for k, _sep, v in (p.partition("=") for p in raw_query.split("&") if p))
        canonical_headers = "".join("%s:%s\n" % (n, " ".join((headers.get(n) or "").split())) for n in names)
        canonical_request = "\n".join([method, raw_path, "&".join("%s=%s" % kv for kv in pairs),
                                       canonical_headers, signed_headers, payload_hash])
        scope = "%s/%s/%s/aws4_request" % (date, region, service)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()])
        key = ("AWS4" + secret).encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise FakeError(403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature you provided.")
        return access_key

    # -- admin API -------------------------------------------------------

    def admin(self, method, operation, query, body):
        handler = {
            ("PUT", "add-user"): self._add_user,
            ("GET", "user-info"): self._user_info,
            ("GET", "list-users"): self._list_users,
            ("DELETE", "remove-user"): self._remove_user,
            ("PUT", "set-user-status"): self._set_user_status,
            ("PUT", "add-canned-policy"): self._add_policy,
            ("GET", "info-canned-policy"): self._info_policy,
            ("GET", "list-canned-policies"): self._list_policies,
            ("DELETE", "remove-canned-policy"): self._remove_policy,
            ("PUT", "set-user-or-group-policy"): self._set_policy,
            ("PUT", "set-policy"): self._set_policy,
        }.get((method, operation))
        if handler is None:
            raise FakeError(405 if operation else 404, "MethodNotAllowed", "no admin route %s %s" % (method, operation))
        return handler(query, body)

    def _user_info_body(self, user):
        info = {"status": user["status"], "updatedAt": user["updatedAt"]}
        if user["policies"]:
            info["policyName"] = ",".join(user["policies"])
        return info

    def _require_user(self, access_key):
        if not access_key:
            raise FakeError(400, "InvalidArgument", "access key is empty")
        if access_key not in self.users:
            raise FakeError(404, "NoSuchResource", "user '%s' does not exist" % access_key)
        return self.users[access_key]

    def _add_user(self, query, body):
        access_key = query.get("accessKey", "")
        if not access_key:
            raise FakeError(400, "InvalidArgument", "access key is empty")
        try:
            args = json.loads(body or b"null")
        except ValueError as exc:
            raise FakeError(400, "InvalidRequest", "invalid JSON: %s" % exc)
        if not isinstance(args, dict) or "secretKey" not in args:
            raise FakeError(400, "InvalidRequest", "invalid JSON: missing field `secretKey`")
        if "status" not in args:
            raise FakeError(400, "InvalidRequest", "invalid JSON: missing field `status`")
        if args["status"] not in ("enabled", "disabled"):
            raise FakeError(400, "InvalidRequest", "invalid JSON: unknown variant `%s`" % args["status"])
        if access_key == self.root_access_key:
            raise FakeError(400, "InvalidArgument", "cannot create a user with the system access key")
        if any(c.isspace() for c in access_key):
            raise FakeError(400, "InvalidArgument", "access key contains spaces")
        if len(access_key) < 3:
            raise FakeError(400, "InvalidArgument", "invalid access key length")
        if "=" in access_key or "," in access_key:
            raise FakeError(400, "InvalidArgument", "access key contains reserved characters =,")
        if len(args["secretKey"]) < 8:
            raise FakeError(400, "InvalidArgument", "invalid secret key length")
        # Quirk: an existing user is silently overwritten (its policy mapping is kept).
        previous = self.users.get(access_key, {})
        self.users[access_key] = {"secretKey": args["secretKey"], "status": args["status"],
                                  "policies": previous.get("policies", []), "updatedAt": _now()}
        return None

    def _user_info(self, query, _body):
        return self._user_info_body(self._require_user(query.get("accessKey", "")))

    def _list_users(self, _query, _body):
        return dict((k, self._user_info_body(v)) for k, v in self.users.items())

    def _remove_user(self, query, _body):
        self._require_user(query.get("accessKey", ""))
        del self.users[query["accessKey"]]

    def _set_user_status(self, query, _body):
        user = self._require_user(query.get("accessKey", ""))
        if query.get("status") not in ("enabled", "disabled"):
            raise FakeError(400, "InvalidArgument", "invalid account status: %s" % query.get("status", ""))
        user["status"], user["updatedAt"] = query["status"], _now()

    def _add_policy(self, query, body):
        name = query.get("name", "")
        if not name:
            raise FakeError(400, "InvalidArgument", "policy name is empty")
        if any(c.isspace() for c in name):
            raise FakeError(400, "InvalidArgument", "policy name has space")
        try:
            policy = json.loads(body or b"null")
        except ValueError as exc:
            raise FakeError(400, "InvalidRequest", "invalid policy JSON: %s" % exc)
        if not isinstance(policy, dict) or set(policy) - {"ID", "Version", "Statement"}:
            raise FakeError(400, "InvalidRequest", "unknown field in policy")
        if not policy.get("Version"):
            raise FakeError(400, "InvalidArgument", "policy version is empty")
        for stmt in _listify(policy.get("Statement")):
            if not isinstance(stmt, dict) or set(stmt) - STATEMENT_FIELDS or stmt.get("Effect") not in ("Allow", "Deny"):
                raise FakeError(400, "InvalidRequest", "invalid statement in policy")
        # Quirk: an existing policy is silently overwritten.
        created = self.policies.get(name, {}).get("create_date", _now())
        self.policies[name] = {"policy": policy, "create_date": created, "update_date": _now()}

    def _all_policies(self):
        merged = dict((k, {"policy": v}) for k, v in BUILTIN_POLICIES.items())
        merged.update(self.policies)
        return merged

    def _info_policy(self, query, _body):
        name = query.get("name", "")
        entry = self._all_policies().get(name)
        if entry is None:
            # Quirk: a missing policy is an internal error, not a 404.
            raise FakeError(500, "InternalError", "policy not found")
        return {"policy_name": name, "policy": echo_policy(entry["policy"]),
                "create_date": entry.get("create_date"), "update_date": entry.get("update_date")}

    def _list_policies(self, _query, _body):
        return dict((k, echo_policy(v["policy"])) for k, v in self._all_policies().items())

    def _remove_policy(self, query, _body):
        name = query.get("name", "")
        if not name:
            raise FakeError(400, "InvalidArgument", "policy name is required")
        if name in BUILTIN_POLICIES:
            raise FakeError(500, "InternalError", "system policy can not be deleted")
        if any(name in u["policies"] for u in self.users.values()):
            raise FakeError(500, "InternalError", "policy in use")
        self.policies.pop(name, None)  # deleting a missing policy succeeds

    def _set_policy(self, query, _body):
        target = query.get("userOrGroup", "")
        if not target:
            raise FakeError(400, "InvalidArgument", "user or group is required")
        if query.get("isGroup", "false") != "false":
            raise FakeError(501, "NotImplemented", "groups are not part of this fake")
        if target not in self.users:
            raise FakeError(400, "InvalidArgument", "user not found")
        names = sorted(set(p for p in query.get("policyName", "").split(",") if p))
        for name in names:
            if name not in self._all_policies():
                raise FakeError(404, "NoSuchResource", "policy '%s' does not exist" % name)
        self.users[target]["policies"] = names
        self.users[target]["updatedAt"] = _now()

    # -- S3 --------------------------------------------------------------

    def _authorize(self, access_key, action, resource):
        if access_key == self.root_access_key:
            return
        user = self.users[access_key]
        docs = [self._all_policies()[p]["policy"] for p in user["policies"] if p in self._all_policies()]
        if not policy_allows(docs, action, resource):
            raise FakeError(403, "AccessDenied", "Access Denied.")

    def s3(self, method, path, query, body, access_key):
        """Returns (status, body bytes, content type)."""
        parts = unquote(path).lstrip("/").split("/", 1)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 else ""
        if not bucket:
            if method != "GET":
                raise FakeError(405, "MethodNotAllowed", "method not allowed")
            self._authorize(access_key, "s3:ListAllMyBuckets", "arn:aws:s3:::*")
            items = "".join("<Bucket><Name>%s</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket>" % escape(b)
                            for b in sorted(self.buckets))
            return 200, ("<ListAllMyBucketsResult><Owner><ID>rustfs</ID></Owner><Buckets>%s</Buckets></ListAllMyBucketsResult>"
                         % items).encode(), "application/xml"
        bucket_arn = "arn:aws:s3:::" + bucket
        if not key:
            if method == "PUT":
                self._authorize(access_key, "s3:CreateBucket", bucket_arn)
                self.buckets.setdefault(bucket, {})  # Quirk: re-creation answers 200.
                return 200, b"", "application/xml"
            if method == "HEAD":
                self._authorize(access_key, "s3:ListBucket", bucket_arn)
                self._bucket(bucket)
                return 200, b"", "application/xml"
            if method == "DELETE":
                self._authorize(access_key, "s3:DeleteBucket", bucket_arn)
                if self._bucket(bucket):
                    raise FakeError(409, "BucketNotEmpty", "The bucket you tried to delete is not empty")
                del self.buckets[bucket]
                return 204, b"", "application/xml"
            if method == "GET" and "location" in query:
                self._authorize(access_key, "s3:GetBucketLocation", bucket_arn)
                self._bucket(bucket)
                return 200, ("<LocationConstraint>%s</LocationConstraint>" % self.region).encode(), "application/xml"
            if method == "GET":
                self._authorize(access_key, "s3:ListBucket", bucket_arn)
                objects = self._bucket(bucket)
                prefix = query.get("prefix", "")
                items = "".join("<Contents><Key>%s</Key><Size>%d</Size></Contents>" % (escape(k), len(v))
                                for k, v in sorted(objects.items()) if k.startswith(prefix))
                return 200, ("<ListBucketResult><Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount>"
                             "<IsTruncated>false</IsTruncated>%s</ListBucketResult>"
                             % (escape(bucket), escape(prefix), items.count("<Contents>"), items)).encode(), "application/xml"
            raise FakeError(405, "MethodNotAllowed", "method not allowed")
        object_arn = "%s/%s" % (bucket_arn, key)
        if method == "PUT":
            self._authorize(access_key, "s3:PutObject", object_arn)
            self._bucket(bucket)[key] = body
            return 200, b"", "application/xml"
        if method in ("GET", "HEAD"):
            self._authorize(access_key, "s3:GetObject", object_arn)
            objects = self._bucket(bucket)
            if key not in objects:
                raise FakeError(404, "NoSuchKey", "The specified key does not exist.")
            return 200, objects[key], "application/octet-stream"
        if method == "DELETE":
            self._authorize(access_key, "s3:DeleteObject", object_arn)
            self._bucket(bucket).pop(key, None)
            return 204, b"", "application/xml"
        raise FakeError(405, "MethodNotAllowed", "method not allowed")

    def _bucket(self, name):
        if name not in self.buckets:
            raise FakeError(404, "NoSuchBucket", "The specified bucket does not exist")
        return self.buckets[name]

    # -- HTTP plumbing ---------------------------------------------------

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive and Expect: 100-continue, as botocore expects

            def log_message(self, *_args):  # quiet; the request log is fake.requests
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                query = dict(parse_qsl(split.query, keep_blank_values=True))
                access_key = None
                status, payload, ctype = 500, b"", "application/json"
                with fake.lock:
                    if self.command in ("PUT", "POST", "DELETE"):
                        fake.write_count += 1
                    try:
                        access_key = fake.authenticate(self.command, split.path, split.query, self.headers, body)
                        if split.path.startswith(ADMIN_PREFIX):
                            if access_key != fake.root_access_key:
                                raise FakeError(403, "AccessDenied", "Access Denied.")
                            answer = fake.admin(self.command, split.path[len(ADMIN_PREFIX):], query, body)
                            status = 200
                            payload = b"" if answer is None else json.dumps(answer).encode()
                        else:
                            status, payload, ctype = fake.s3(self.command, split.path, query, body, access_key)
                    except FakeError as exc:
                        status, ctype = exc.status, "application/xml"
                        payload = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message>"
                                   "<Resource>%s</Resource><RequestId>%s</RequestId></Error>"
                                   % (exc.code, escape(exc.message), escape(split.path), uuid.uuid4().hex)).encode()
                    fake.requests.append((self.command, split.path, status, access_key))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-amz-request-id", uuid.uuid4().hex)
                self.end_headers()
                if self.command != "HEAD" and payload:
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description="FAKE RustFS admin/S3 server for tests (not RustFS).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--access-key", default="rustfsadmin")
    parser.add_argument("--secret-key", default="rustfsadmin-secret")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    fake = RustfsFake(args.access_key, args.secret_key, args.region, args.host, args.port)
    print("RustFS FAKE listening on %s (admin API under %s)" % (fake.endpoint, ADMIN_PREFIX.rstrip("/")), flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._server.server_close()


if __name__ == "__main__":
    main()
