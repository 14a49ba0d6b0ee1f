# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small client for the RustFS admin API and the S3 bucket calls the rustfs_* modules need.

RustFS speaks the MinIO admin API shapes under /rustfs/admin/v3, signed with AWS SigV4
(service ``s3``), with plain JSON bodies (the /minio/admin prefix would need the encrypted
MinIO bodies). Quirks handled here: add-user and add-canned-policy silently overwrite (so
callers read before they write), a missing policy answers 500, a missing user 404 (500 on
older servers), and policies come back with statements reordered and empty fields added.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import socket
import ssl
import time
import xml.etree.ElementTree as ET

from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit
from urllib.request import Request, build_opener, HTTPSHandler

from ansible.module_utils.basic import missing_required_lib

try:
    import boto3
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the modules
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = exc

ADMIN_PREFIX = "/rustfs/admin/v3"
MASK = "********"
# Errors that mean "these credentials are not accepted" rather than "not allowed".
AUTH_ERROR_CODES = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessKeyDisabled", "InvalidToken")
CONNECTION_RETRIES = 3
RETRY_DELAY = 0.5

ACCESS_KEY_MIN, ACCESS_KEY_MAX = 3, 128
SECRET_KEY_MIN, SECRET_KEY_MAX = 8, 40
BUCKET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
POLICY_LIST_FIELDS = ("Action", "NotAction", "Resource", "NotResource")


class RustfsError(Exception):
    """Any failure talking to RustFS or any invalid input; the message is safe to show."""

    def __init__(self, message, operation=None, status=None):
        super(RustfsError, self).__init__(message)
        self.operation = operation
        self.status = status


def rustfs_argument_spec():
    """Connection options shared by every rustfs_* module (see doc fragment aiplatform.obot.rustfs)."""
    return dict(
        endpoint=dict(type="str", required=True),
        access_key=dict(type="str", required=True, no_log=False),
        secret_key=dict(type="str", required=True, no_log=True),
        region=dict(type="str", default="us-east-1"),
        validate_certs=dict(type="bool", default=True),
    )


# ---------------------------------------------------------------------------
# Validation (runs before any request)
# ---------------------------------------------------------------------------

def validate_access_key(access_key, option="name"):
    if not isinstance(access_key, str) or not access_key:
        raise RustfsError("%s: the access key is empty" % option)
    if not ACCESS_KEY_MIN <= len(access_key) <= ACCESS_KEY_MAX:
        raise RustfsError("%s: access key '%s' must be %d to %d characters long"
                          % (option, access_key, ACCESS_KEY_MIN, ACCESS_KEY_MAX))
    bad = sorted(set(c for c in access_key if c in "/=," or c.isspace()))
    if bad:
        raise RustfsError("%s: access key '%s' contains %s; use letters, digits, '-', '_' or '.'"
                          % (option, access_key, " ".join(repr(c) for c in bad)))


def validate_secret_key(secret_key, option="secret_key"):
    """Check the length only; the message never holds the value."""
    if not isinstance(secret_key, str) or not SECRET_KEY_MIN <= len(secret_key) <= SECRET_KEY_MAX:
        length = len(secret_key) if isinstance(secret_key, str) else 0
        raise RustfsError("%s: the secret key must be %d to %d characters long (got %d)"
                          % (option, SECRET_KEY_MIN, SECRET_KEY_MAX, length))


def validate_bucket_name(name, option="name"):
    """S3 bucket naming rules (the subset RustFS enforces, plus the AWS ones users expect)."""
    problem = None
    if not isinstance(name, str) or not BUCKET_NAME_RE.match(name):
        problem = "must be 3 to 63 characters of lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
    elif ".." in name or ".-" in name or "-." in name:
        problem = "must not contain '..', '.-' or '-.'"
    elif name.startswith("xn--") or name.endswith("-s3alias"):
        problem = "must not start with 'xn--' or end with '-s3alias'"
    else:
        try:
            ipaddress.ip_address(name)
            problem = "must not look like an IP address"
        except ValueError:
            pass
    if problem:
        raise RustfsError("%s: bucket name '%s' %s" % (option, name, problem))


def validate_policy_name(name, option="name"):
    if not isinstance(name, str) or not name or any(c.isspace() for c in name) or "," in name:
        raise RustfsError("%s: policy name '%s' must be non-empty, without spaces or commas" % (option, name))


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def validate_policy(doc, option="policy"):
    """Refuse documents RustFS would reject or silently misread; returns the parsed dict."""
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise RustfsError("%s: not valid JSON (%s)" % (option, exc))
    if not isinstance(doc, dict):
        raise RustfsError("%s: must be a mapping (a policy document)" % option)
    unknown = sorted(set(doc) - {"Version", "Statement", "ID", "Id"})
    if unknown:
        raise RustfsError("%s: unknown top-level field(s) %s" % (option, ", ".join(unknown)))
    if not isinstance(doc.get("Version"), str) or not doc.get("Version"):
        raise RustfsError("%s: 'Version' is missing; add Version: '2012-10-17'" % option)
    statements = _as_list(doc.get("Statement"))
    if not statements:
        raise RustfsError("%s: 'Statement' is missing or empty" % option)
    for index, stmt in enumerate(statements):
        where = "%s: Statement[%d]" % (option, index)
        if not isinstance(stmt, dict):
            raise RustfsError("%s must be a mapping" % where)
        if stmt.get("Effect") not in ("Allow", "Deny"):
            raise RustfsError("%s: 'Effect' must be 'Allow' or 'Deny'" % where)
        if not any(_as_list(stmt.get(k)) for k in ("Action", "NotAction")):
            raise RustfsError("%s: 'Action' is missing or empty" % where)
        resources = _as_list(stmt.get("Resource")) + _as_list(stmt.get("NotResource"))
        if not resources or any(not isinstance(r, str) or not r.strip() for r in resources):
            raise RustfsError("%s: 'Resource' is missing or empty; name the bucket ARN, e.g. arn:aws:s3:::my-bucket/*" % where)
    return doc


def canonical_policy(doc):
    """A form that compares equal whatever order or empty fields the server echoes back."""
    if doc is None:
        return None
    if isinstance(doc, str):
        doc = json.loads(doc)
    doc = copy.deepcopy(doc)
    out = {}
    for key in ("ID", "Id"):
        if doc.get(key):
            out["ID"] = doc[key]
    out["Version"] = doc.get("Version", "")
    statements = []
    for stmt in _as_list(doc.get("Statement")):
        clean = {}
        for key, value in stmt.items():
            if key in POLICY_LIST_FIELDS:
                value = sorted(set(str(v) for v in _as_list(value)))
            if value in ("", [], {}, None):
                continue  # the server adds empty Sid/NotAction/Condition fields
            clean[key] = value
        statements.append(clean)
    out["Statement"] = sorted(statements, key=lambda s: json.dumps(s, sort_keys=True))
    return out


def policies_equal(left, right):
    return canonical_policy(left) == canonical_policy(right)


def split_policy_names(value):
    """user-info answers policyName as one comma-joined string."""
    if not value:
        return []
    if isinstance(value, list):
        return sorted(set(v.strip() for v in value if v and v.strip()))
    return sorted(set(p.strip() for p in value.split(",") if p.strip()))


# ---------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------

def _error_details(body):
    """(code, message) from an S3-style XML error or a JSON error body."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    text = text.strip()
    if text.startswith("<"):
        try:
            root = ET.fromstring(text)
            return (root.findtext("Code") or "", root.findtext("Message") or "")
        except ET.ParseError:
            pass
    if text.startswith("{"):
        try:
            data = json.loads(text)
            return (str(data.get("Code") or data.get("code") or ""),
                    str(data.get("Message") or data.get("message") or data.get("error") or ""))
        except ValueError:
            pass
    return ("", text[:200])


class RustfsClient(object):
    """Admin API over urllib with botocore SigV4 signing; buckets through boto3."""

    def __init__(self, endpoint, access_key, secret_key, region="us-east-1", validate_certs=True, timeout=30):
        if not HAS_BOTO3:
            raise RustfsError("boto3 and botocore are required on the controller: %s" % BOTO3_IMPORT_ERROR)
        parts = urlsplit(endpoint or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RustfsError("endpoint: '%s' is not an http(s) URL such as http://127.0.0.1:9000" % endpoint)
        self.endpoint = "%s://%s" % (parts.scheme, parts.netloc)
        self.access_key = access_key
        self._secret_key = secret_key
        self.region = region or "us-east-1"
        self.validate_certs = validate_certs
        self.timeout = timeout
        self._secrets = [secret_key]
        handlers = []
        if parts.scheme == "https" and not validate_certs:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            handlers.append(HTTPSHandler(context=context))
        self._opener = build_opener(*handlers)
        self._root_s3 = None

    def remember_secret(self, value):
        """Values to scrub from any error text (defence in depth)."""
        if value:
            self._secrets.append(value)

    def _scrub(self, text):
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, MASK)
        return text

    def _fail(self, operation, status, code, message):
        if status == 403 and code in AUTH_ERROR_CODES:
            text = ("RustFS %s: HTTP 403 %s: the admin credentials were rejected; check access_key and secret_key"
                    % (operation, code))
        else:
            text = "RustFS %s: HTTP %s %s: %s" % (operation, status, code, message)
        raise RustfsError(self._scrub(text.strip()), operation=operation, status=status)

    # -- admin API ---------------------------------------------------------

    def request(self, operation, method, params=None, body=None, allow=(200, 204)):
        """Signed admin call; returns (status, body bytes). Retries only when no answer came."""
        query = "&".join("%s=%s" % (quote(k, safe="-_.~"), quote(str(v), safe="-_.~"))
                         for k, v in sorted((params or {}).items()))
        url = "%s%s/%s%s" % (self.endpoint, ADMIN_PREFIX, operation, "?" + query if query else "")
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode("utf-8"))
        for attempt in range(CONNECTION_RETRIES):
            aws_request = AWSRequest(method=method, url=url, data=data,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
            # S3SigV4Auth always sets x-amz-content-sha256 (the body hash) and signs it.
            S3SigV4Auth(Credentials(self.access_key, self._secret_key), "s3", self.region).add_auth(aws_request)
            headers = dict(aws_request.headers.items())
            http_request = Request(url, data=data if method in ("PUT", "POST") else None, headers=headers, method=method)
            try:
                with self._opener.open(http_request, timeout=self.timeout) as response:
                    return response.status, response.read()
            except HTTPError as exc:
                payload = exc.read()
                if exc.code in allow:
                    return exc.code, payload
                code, message = _error_details(payload)
                self._fail(operation, exc.code, code, message)
            except (URLError, socket.timeout, ConnectionError) as exc:
                if attempt + 1 == CONNECTION_RETRIES:
                    reason = getattr(exc, "reason", exc)
                    raise RustfsError("RustFS %s: cannot reach %s after %d attempts: %s"
                                      % (operation, self.endpoint, CONNECTION_RETRIES, reason), operation=operation)
                time.sleep(RETRY_DELAY * (attempt + 1))
        raise RustfsError("RustFS %s: no answer" % operation, operation=operation)  # pragma: no cover

    def _json(self, operation, method, params=None, body=None):
        _status, payload = self.request(operation, method, params=params, body=body)
        if not payload:
            return {}
        try:
            return json.loads(payload.decode("utf-8"))
        except ValueError:
            raise RustfsError("RustFS %s: the answer is not JSON (an encrypted MinIO-style body?)" % operation,
                              operation=operation)

    def user_info(self, access_key):
        """The user's {status, policyName, ...} or None when it does not exist."""
        try:
            return self._json("user-info", "GET", {"accessKey": access_key})
        except RustfsError as exc:
            if exc.status == 404 or (exc.status == 500 and "no such user" in str(exc).lower()):
                return None
            raise

    def list_users(self):
        return self._json("list-users", "GET") or {}

    def add_user(self, access_key, secret_key, status="enabled"):
        self.remember_secret(secret_key)
        self.request("add-user", "PUT", {"accessKey": access_key}, {"secretKey": secret_key, "status": status})

    def set_user_status(self, access_key, status):
        self.request("set-user-status", "PUT", {"accessKey": access_key, "status": status})

    def remove_user(self, access_key):
        self.request("remove-user", "DELETE", {"accessKey": access_key})

    def set_user_policies(self, access_key, policy_names):
        """Attach exactly these policies (an empty list detaches all)."""
        self.request("set-user-or-group-policy", "PUT",
                     {"policyName": ",".join(sorted(policy_names)), "userOrGroup": access_key, "isGroup": "false"})

    def policy_info(self, name):
        """The stored policy document, or None when there is none (RustFS answers 500 then)."""
        try:
            data = self._json("info-canned-policy", "GET", {"name": name})
        except RustfsError as exc:
            if exc.status in (404, 500):
                return None
            raise
        # Current servers wrap the document ({"policy_name", "policy", ...}); MinIO v1 returns it bare.
        for key in ("policy", "Policy"):
            if isinstance(data.get(key), dict):
                return data[key]
            if isinstance(data.get(key), str):
                return json.loads(data[key])
        return data

    def list_policies(self):
        return self._json("list-canned-policies", "GET") or {}

    def add_policy(self, name, document):
        self.request("add-canned-policy", "PUT", {"name": name}, document)

    def remove_policy(self, name):
        self.request("remove-canned-policy", "DELETE", {"name": name})

    # -- S3 ------------------------------------------------------------------

    def s3_client(self, access_key=None, secret_key=None):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self._secret_key,
            region_name=self.region,
            verify=self.validate_certs,
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                retries={"total_max_attempts": 1},
                connect_timeout=self.timeout,
                read_timeout=self.timeout,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def _s3_call(self, operation, func, **kwargs):
        """One S3 call; retried only on connection errors; ClientError re-raised to the caller."""
        for attempt in range(CONNECTION_RETRIES):
            try:
                return func(**kwargs)
            except (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError) as exc:
                if attempt + 1 == CONNECTION_RETRIES:
                    raise RustfsError("RustFS %s: cannot reach %s after %d attempts: %s"
                                      % (operation, self.endpoint, CONNECTION_RETRIES, exc), operation=operation)
                time.sleep(RETRY_DELAY * (attempt + 1))
            except ClientError:
                raise
            except BotoCoreError as exc:
                raise RustfsError(self._scrub("RustFS %s: %s" % (operation, exc)), operation=operation)
        raise RustfsError("RustFS %s: no answer" % operation, operation=operation)  # pragma: no cover

    def _client_error(self, operation, exc):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        self._fail(operation, status, error.get("Code", ""), error.get("Message", ""))

    def _s3(self):
        if self._root_s3 is None:
            self._root_s3 = self.s3_client()
        return self._root_s3

    def bucket_exists(self, name):
        try:
            self._s3_call("head-bucket", self._s3().head_bucket, Bucket=name)
            return True
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 or exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
                return False
            if status == 403 and exc.response.get("Error", {}).get("Code") in ("403", "Forbidden"):
                # HEAD answers carry no body, so ask again with a GET to learn why.
                try:
                    self._s3_call("head-bucket", self._s3().list_buckets)
                except ClientError as detail:
                    exc = detail
            self._client_error("head-bucket", exc)
        return False  # pragma: no cover

    def create_bucket(self, name):
        try:
            self._s3_call("create-bucket", self._s3().create_bucket, Bucket=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                self._client_error("create-bucket", exc)

    def delete_bucket(self, name):
        try:
            self._s3_call("delete-bucket", self._s3().delete_bucket, Bucket=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "BucketNotEmpty":
                raise RustfsError("RustFS delete-bucket: bucket '%s' is not empty; empty it first" % name,
                                  operation="delete-bucket", status=409)
            self._client_error("delete-bucket", exc)

    def list_buckets(self):
        try:
            answer = self._s3_call("list-buckets", self._s3().list_buckets)
        except ClientError as exc:
            self._client_error("list-buckets", exc)
        return sorted(b["Name"] for b in answer.get("Buckets", []))

    def secret_works(self, access_key, secret_key):
        """True when RustFS accepts a request signed with this key pair (a read, never a write)."""
        self.remember_secret(secret_key)
        client = self.s3_client(access_key, secret_key)
        try:
            self._s3_call("verify-secret", client.list_buckets)
        except ClientError as exc:
            return exc.response.get("Error", {}).get("Code") not in AUTH_ERROR_CODES
        return True


# ---------------------------------------------------------------------------
# Desired-state logic used by the modules (reads first, writes only on change)
# ---------------------------------------------------------------------------

def _user_view(access_key, info):
    if info is None:
        return {}
    return {
        "access_key": access_key,
        "status": info.get("status", "enabled"),
        "policies": split_policy_names(info.get("policyName")),
    }


def ensure_user(client, name, secret_key=None, state="present", status="enabled",
                update_password="always", policies=None, check_mode=False):
    """Converge one user. Returns dict(changed, actions, before, after, warnings); never holds the secret."""
    validate_access_key(name, "name")
    if secret_key is not None:
        validate_secret_key(secret_key, "user_secret_key")
    for policy in policies or []:
        validate_policy_name(policy, "policies")
    if name == client.access_key:
        raise RustfsError("name: '%s' is the admin access key; RustFS does not manage the root user" % name)
    if secret_key is not None:
        client.remember_secret(secret_key)

    info = client.user_info(name)
    before = _user_view(name, info)
    actions, warnings = [], []

    if state == "absent":
        if info is not None:
            actions.append("remove-user")
            if not check_mode:
                client.remove_user(name)
        return dict(changed=bool(actions), actions=actions, before=before, after={}, warnings=warnings)

    wanted_policies = before.get("policies", []) if policies is None else sorted(set(policies))
    after = {"access_key": name, "status": status, "policies": wanted_policies}

    if info is None:
        if secret_key is None:
            raise RustfsError("user_secret_key: user '%s' does not exist yet, so a secret key is needed to create it" % name)
        actions.append("add-user")
        if wanted_policies:
            actions.append("set-user-or-group-policy")
    else:
        rewrite_secret = False
        if secret_key is not None and update_password == "always":
            if before["status"] == "enabled":
                rewrite_secret = not client.secret_works(name, secret_key)
            else:
                # A disabled user's key cannot sign requests, so it cannot be compared: rewrite it.
                rewrite_secret = True
                warnings.append("user '%s' is disabled, so its secret key cannot be verified and was rewritten" % name)
        if rewrite_secret:
            actions.append("add-user")  # add-user overwrites: secret and status in one call
            after["secret_key_updated"] = True
        elif before["status"] != status:
            actions.append("set-user-status")
        if wanted_policies != before["policies"]:
            actions.append("set-user-or-group-policy")

    if actions and not check_mode:
        if "set-user-or-group-policy" in actions:
            missing = [p for p in wanted_policies if client.policy_info(p) is None]
            if missing:
                raise RustfsError("policies: %s do(es) not exist on the server; create them first (aiplatform.obot.rustfs_policy)"
                                  % ", ".join(missing))
        if "add-user" in actions:
            client.add_user(name, secret_key, status)
        if "set-user-status" in actions:
            client.set_user_status(name, status)
        if "set-user-or-group-policy" in actions:
            client.set_user_policies(name, wanted_policies)
    return dict(changed=bool(actions), actions=actions, before=before, after=after, warnings=warnings)


def ensure_policy(client, name, policy=None, state="present", check_mode=False):
    """Converge one canned policy; compares canonical forms so server reordering is not a change."""
    validate_policy_name(name, "name")
    desired = None
    if state == "present":
        if policy is None:
            raise RustfsError("policy: required when state=present")
        desired = validate_policy(policy, "policy")
    current = client.policy_info(name)
    before = canonical_policy(current) if current is not None else {}
    actions = []
    if state == "absent":
        if current is not None:
            actions.append("remove-canned-policy")
            if not check_mode:
                client.remove_policy(name)
        return dict(changed=bool(actions), actions=actions, before=before, after={})
    after = canonical_policy(desired)
    if before != after:
        actions.append("add-canned-policy")
        if not check_mode:
            client.add_policy(name, desired)
    return dict(changed=bool(actions), actions=actions, before=before, after=after)


def ensure_bucket(client, name, state="present", check_mode=False):
    """Head first: RustFS answers 200 to a re-creation, so the answer cannot tell us."""
    validate_bucket_name(name, "name")
    exists = client.bucket_exists(name)
    actions = []
    if state == "present" and not exists:
        actions.append("create-bucket")
        if not check_mode:
            client.create_bucket(name)
    elif state == "absent" and exists:
        actions.append("delete-bucket")
        if not check_mode:
            client.delete_bucket(name)
    before = {"name": name, "exists": exists}
    after = {"name": name, "exists": state == "present"}
    return dict(changed=bool(actions), actions=actions, before=before, after=after)


def gather_info(client, subsets):
    """Users (status, policies), canonical policies and bucket names; no secrets."""
    result = {}
    if "users" in subsets:
        result["users"] = dict(
            (key, {"status": value.get("status", "enabled"), "policies": split_policy_names(value.get("policyName"))})
            for key, value in sorted(client.list_users().items()))
    if "policies" in subsets:
        result["policies"] = dict((key, canonical_policy(value)) for key, value in sorted(client.list_policies().items()))
    if "buckets" in subsets:
        result["buckets"] = client.list_buckets()
    return result


PROBE_KEY = ".aiplatform-obot-access-check"
DENIED_CODES = ("AccessDenied", "403", "Forbidden")


def check_access(client, access_key, secret_key, bucket, denied_buckets=(), check_mode=False, timeout=30):
    """Prove a user can list, write, read and delete in its bucket and is denied on the others.

    Leaves nothing behind (the probe object is deleted). In check mode only listing is probed,
    because a probe write would be a write. Raises RustfsError naming the user and bucket.
    """
    validate_access_key(access_key, "user_access_key")
    validate_secret_key(secret_key, "user_secret_key")
    for name in [bucket] + list(denied_buckets):
        validate_bucket_name(name, "buckets")
    client.remember_secret(secret_key)
    s3 = client.s3_client(access_key, secret_key)
    probes = []

    def attempt(operation, call, **kwargs):
        try:
            return "allowed", client._s3_call(operation, call, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            return ("denied" if code in DENIED_CODES else code or "error"), None

    # A new user or policy can take a moment to reach every node of a real server.
    deadline = time.time() + timeout
    while True:
        outcome, _answer = attempt("list-objects", s3.list_objects_v2, Bucket=bucket, MaxKeys=1)
        if outcome == "allowed" or time.time() > deadline:
            break
        time.sleep(1)
    probes.append({"bucket": bucket, "operation": "list", "expected": "allowed", "outcome": outcome})
    if not check_mode:
        body = b"aiplatform.obot access check"
        outcome, _answer = attempt("put-object", s3.put_object, Bucket=bucket, Key=PROBE_KEY, Body=body)
        probes.append({"bucket": bucket, "operation": "write", "expected": "allowed", "outcome": outcome})
        outcome, answer = attempt("get-object", s3.get_object, Bucket=bucket, Key=PROBE_KEY)
        if outcome == "allowed" and answer["Body"].read() != body:
            outcome = "wrong content"
        probes.append({"bucket": bucket, "operation": "read", "expected": "allowed", "outcome": outcome})
        outcome, _answer = attempt("delete-object", s3.delete_object, Bucket=bucket, Key=PROBE_KEY)
        probes.append({"bucket": bucket, "operation": "delete", "expected": "allowed", "outcome": outcome})
    for other in denied_buckets:
        outcome, _answer = attempt("list-objects", s3.list_objects_v2, Bucket=other, MaxKeys=1)
        probes.append({"bucket": other, "operation": "list", "expected": "denied", "outcome": outcome})
        if not check_mode:
            outcome, _answer = attempt("put-object", s3.put_object, Bucket=other, Key=PROBE_KEY, Body=b"x")
            probes.append({"bucket": other, "operation": "write", "expected": "denied", "outcome": outcome})
            if outcome == "allowed":  # it must not stay there
                client._s3_call("delete-object", client._s3().delete_object, Bucket=other, Key=PROBE_KEY)
    wrong = [p for p in probes if p["outcome"] != p["expected"]]
    if wrong:
        raise RustfsError("user '%s' has the wrong access: %s" % (access_key, "; ".join(
            "%s on bucket '%s' should be %s but was %s" % (p["operation"], p["bucket"], p["expected"], p["outcome"])
            for p in wrong)), operation="access-check")
    return probes


def run_module(module, action, result_key=None):
    """What every rustfs_* module does once its AnsibleModule is built: require boto3, connect
    with the shared options, run ``action(client, params)`` (RustfsError becomes fail_json here,
    once) and exit. With ``result_key`` the action returns an ensure_* result: its warnings are
    shown, ``after`` is returned under that key and before/after as the diff; without it the
    action's dict is returned as it is, unchanged."""
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(BOTO3_IMPORT_ERROR))
    params = module.params
    try:
        client = RustfsClient(params["endpoint"], params["access_key"], params["secret_key"], params["region"],
                              params["validate_certs"])
        result = action(client, params)
    except RustfsError as exc:
        module.fail_json(msg=str(exc))
    if result_key is None:
        module.exit_json(changed=False, **result)
    for warning in result.get("warnings", ()):
        module.warn(warning)
    output = dict(changed=result["changed"], actions=result["actions"])
    output[result_key] = result["after"]
    if module._diff:  # pylint: disable=protected-access
        output["diff"] = dict(before=result["before"], after=result["after"])
    module.exit_json(**output)
