# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rotation of a CloudNativePG role password: decision logic (pure functions) and the guarded
sequence of writes used by the cnpg_password_rotate module.

Order of a rotation: password Secret (the first write) -> the database takes the new password
(CloudNativePG applies the Secret, or ALTER ROLE in direct mode) -> proof over TCP -> dependent
Secrets (DSNs) -> Deployment restart. Dependents change only once the database accepts the new
password, so an interrupted run never leaves the application with a password the database
refuses for longer than the run itself. Every write is recorded; if a later step fails or
cannot be proven, the recorded writes are undone and the error says what was restored.
A run killed between steps leaves a state the next run recognises (the database accepts the
Secret's password or the one in the dependents) and completes ("heals").
"""

from __future__ import annotations

import datetime
import re
import secrets
import string
import time

try:
    from urllib.parse import quote, unquote
except ImportError:  # pragma: no cover
    from urllib import quote, unquote  # type: ignore

from ansible_collections.aiplatform.obot.plugins.module_utils.cnpg_kube import (
    KubeError,
    deployment_rolled_out,
    secret_value,
)
from ansible_collections.aiplatform.obot.plugins.module_utils.postgres import (
    PostgresError,
    connect,
    password_accepted,
    role_password,
    set_role_password,
    set_role_verifier,
    verifier_matches,
)

ROTATED_AT_ANNOTATION = "aiplatform.obot/password-rotated-at"
RELOAD_LABEL = "cnpg.io/reload"
DEFAULT_ALPHABET = string.ascii_letters + string.digits
MASK_CURRENT = "******** (current)"
MASK_NEW = "******** (new)"
MIN_PASSWORD_LENGTH = 12

ACTION_NONE = "none"
ACTION_ROTATE = "rotate"
ACTION_HEAL = "heal"


class RotationError(Exception):
    """The rotation cannot start, or failed (after restoring what it had changed)."""


# -- pure helpers ------------------------------------------------------------------------------

def generate_password(length=32, alphabet=DEFAULT_ALPHABET):
    """A random password from ``alphabet`` (duplicates removed), using the OS's CSPRNG."""
    symbols = "".join(sorted(set(alphabet)))
    if length < MIN_PASSWORD_LENGTH:
        raise RotationError("password_length must be at least %d (got %d)" % (MIN_PASSWORD_LENGTH, length))
    if len(symbols) < 10:
        raise RotationError("password_alphabet must hold at least 10 different characters (got %d)" % len(symbols))
    return "".join(secrets.choice(symbols) for _position in range(length))


_URL_DSN = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#]*)(?P<rest>.*)$", re.S)


def _split_dsn(dsn):
    match = _URL_DSN.match(dsn or "")
    if not match or "@" not in match.group("authority"):
        raise RotationError("the value is not a postgresql:// URL with a user name (user[:password]@host)")
    userinfo, _sep, hostport = match.group("authority").rpartition("@")
    user, has_password, password = userinfo.partition(":")
    return match.group("scheme"), user, (password if has_password else None), hostport, match.group("rest")


def dsn_password(dsn):
    """The (decoded) password in a postgresql:// URL, or None when it has none."""
    password = _split_dsn(dsn)[2]
    return unquote(password) if password is not None else None


def dsn_with_password(dsn, password):
    """``dsn`` with its password replaced by ``password``, percent-encoded; the rest untouched."""
    scheme, user, _old, hostport, rest = _split_dsn(dsn)
    return "%s%s:%s@%s%s" % (scheme, user, quote(password, safe=""), hostport, rest)


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text):
    """Seconds in ``text``: a number with an optional unit s, m, h, d or w (``90d``, ``12h``)."""
    match = _DURATION.match(str(text))
    if not match:
        raise RotationError("max_age %r is not a duration such as 3600, 45m, 12h, 90d or 2w" % (text,))
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def format_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def rotation_due(rotated_at, max_age_seconds, now):
    """True when no valid rotation time is recorded or it is at least ``max_age_seconds`` old."""
    last = parse_time(rotated_at)
    return last is None or (now - last).total_seconds() >= max_age_seconds


def find_password_secret(cluster, role=None):
    """(role, Secret name, how CloudNativePG reports it applied) for ``role`` in a Cluster dict.

    A managed role (spec.managed.roles[].passwordSecret) reports in
    status.managedRolesStatus.passwordStatus.<role>; the initdb owner
    (spec.bootstrap.initdb.secret) in status.secretsResourceVersion.applicationSecretVersion.
    """
    spec = cluster.get("spec") or {}
    initdb = (spec.get("bootstrap") or {}).get("initdb") or {}
    owner = initdb.get("owner") or initdb.get("database") or "app"
    role = role or owner
    for entry in (spec.get("managed") or {}).get("roles") or []:
        if entry.get("name") == role and (entry.get("passwordSecret") or {}).get("name"):
            return role, entry["passwordSecret"]["name"], "managed"
    if role == owner and (initdb.get("secret") or {}).get("name"):
        return role, initdb["secret"]["name"], "initdb"
    name = (cluster.get("metadata") or {}).get("name")
    raise RotationError("Cluster %s has no password Secret for role %s (neither spec.managed.roles[].passwordSecret "
                        "nor spec.bootstrap.initdb.secret); set password_secret explicitly" % (name, role))


def applied_version(cluster, role, source):
    """The Secret resourceVersion CloudNativePG last applied for ``role``, or None."""
    status = (cluster or {}).get("status") or {}
    if source == "managed":
        return (((status.get("managedRolesStatus") or {}).get("passwordStatus") or {}).get(role) or {}).get("resourceVersion")
    return (status.get("secretsResourceVersion") or {}).get("applicationSecretVersion")


def cannot_reconcile(cluster, role):
    """CloudNativePG's own explanation when it cannot reconcile ``role`` (list of strings)."""
    status = (cluster or {}).get("status") or {}
    return ((status.get("managedRolesStatus") or {}).get("cannotReconcile") or {}).get(role) or []


def decide(target, secret_password, in_sync, max_age_seconds=None, rotated_at=None, now=None):
    """ACTION_NONE, ACTION_HEAL (finish putting the Secret's password everywhere) or ACTION_ROTATE.

    ``target`` is the requested password (None: generate one); ``in_sync`` says whether the
    database and every dependent already use the Secret's password.
    """
    if target is not None:
        if target == secret_password:
            return ACTION_NONE if in_sync else ACTION_HEAL
        return ACTION_ROTATE
    if max_age_seconds is not None and secret_password is not None and not rotation_due(rotated_at, max_age_seconds, now or utc_now()):
        return ACTION_NONE if in_sync else ACTION_HEAL
    return ACTION_ROTATE


# -- the rotation ------------------------------------------------------------------------------

class Rotation:
    """One run of the module. ``params`` are the module parameters; ``protect`` is called with
    every secret string met (so the module can mask it in any output)."""

    def __init__(self, kube, params, protect, check_mode=False, sleep=time.sleep, clock=time.monotonic):
        self.kube = kube
        self.p = params
        self.protect = protect
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.namespace = params["namespace"]
        self.operator = params["mode"] == "operator"
        self.cluster = None
        self.role = params.get("role")
        self.source = None
        self.secret_name = params.get("password_secret")
        self.secret = None
        self.dependents = []  # dicts: secret, key, format, value, password
        self.deployments = []
        self.db_verifier = None  # direct mode: pg_authid.rolpassword at the start
        self.undo = []  # (description, callable) in the order the writes happened
        self.restarted = []
        self.updated = []

    # -- reading the current state --------------------------------------------------------------
    def load(self):
        p = self.p
        if p.get("cluster"):
            self.cluster = self.kube.get_cluster(self.namespace, p["cluster"])
            if self.cluster is None:
                raise RotationError("CloudNativePG Cluster %s/%s not found" % (self.namespace, p["cluster"]))
            role, name, self.source = find_password_secret(self.cluster, self.role)
            self.role = role
            self.secret_name = self.secret_name or name
        elif self.operator:
            raise RotationError("mode=operator needs cluster (the CloudNativePG Cluster that applies the password)")
        self.secret = self.kube.get_secret(self.namespace, self.secret_name)
        if self.secret is None:
            raise RotationError("password Secret %s/%s not found (the obot_db role creates it)" % (self.namespace, self.secret_name))
        self.protect(self.secret_password)
        if not self.role:
            self.role = secret_value(self.secret, p["username_key"])
            if not self.role:
                raise RotationError("role is not given and Secret %s has no %s key" % (self.secret_name, p["username_key"]))
        for entry in p.get("dependent_secrets") or []:
            obj = self.kube.get_secret(self.namespace, entry["name"])
            if obj is None:
                raise RotationError("dependent Secret %s/%s not found" % (self.namespace, entry["name"]))
            for key in entry["keys"]:
                value = secret_value(obj, key)
                if value is None:
                    raise RotationError("dependent Secret %s has no key %s" % (entry["name"], key))
                self.protect(value)
                try:
                    password = dsn_password(value) if entry["format"] == "dsn" else value
                except RotationError as exc:
                    raise RotationError("dependent Secret %s key %s: %s" % (entry["name"], key, exc)) from None
                self.protect(password)
                self.dependents.append({"secret": entry["name"], "key": key, "format": entry["format"], "value": value, "password": password})
        for name in p.get("deployments") or []:
            if self.kube.get_deployment(self.namespace, name) is None:
                raise RotationError("Deployment %s/%s not found" % (self.namespace, name))
            self.deployments.append(name)

    @property
    def secret_password(self):
        return secret_value(self.secret, self.p["password_key"])

    @property
    def rotated_at(self):
        return ((self.secret.get("metadata") or {}).get("annotations") or {}).get(ROTATED_AT_ANNOTATION)

    def _superuser(self):
        p = self.p
        return connect(p["host"], p["port"], p["login_user"], p["login_password"], p["login_database"], p["sslmode"], p["connect_timeout"])

    def _accepted(self, password):
        p = self.p
        return password_accepted(p["host"], p["port"], self.role, password, p["database"], p["sslmode"], p["connect_timeout"])

    def _read_verifier(self):
        with self._superuser() as conn:
            exists, _can_login, verifier = role_password(conn, self.role)
        if not exists:
            raise RotationError("role %s does not exist in the database" % self.role)
        return verifier

    def database_password(self):
        """(accepts the Secret's password?, the password the database accepts if known).

        Direct mode compares the stored SCRAM verifier; operator mode trusts CloudNativePG's
        status and, when a TCP address is given, tries the candidates."""
        current = self.secret_password
        candidates = [current] + [d["password"] for d in self.dependents if d["password"] not in (None, current)]
        if not self.operator:
            self.db_verifier = self._read_verifier()
            for candidate in candidates:
                if verifier_matches(self.db_verifier, candidate, self.role):
                    return candidate == current, candidate
            return False, None
        applied = applied_version(self.cluster, self.role, self.source) == self.secret["metadata"]["resourceVersion"]
        if not self.p.get("host"):
            return applied, (current if applied else None)
        for candidate in candidates:
            if candidate is not None and self._accepted(candidate):
                return applied and candidate == current, candidate
        return False, None

    # -- the plan --------------------------------------------------------------------------------
    def plan(self):
        """Decide what to do: returns (action, new password or None)."""
        self.load()
        db_has_secret_password, self.db_password = self.database_password()
        dependents_current = all(d["password"] == self.secret_password for d in self.dependents)
        in_sync = db_has_secret_password and dependents_current
        max_age = parse_duration(self.p["max_age"]) if self.p.get("max_age") else None
        action = decide(self.p.get("password"), self.secret_password, in_sync, max_age, self.rotated_at)
        if action == ACTION_NONE:
            return action, None
        if action == ACTION_HEAL:
            return action, self.secret_password
        new = self.p.get("password") or generate_password(self.p["password_length"], self.p["password_alphabet"])
        self.protect(new)
        return action, new

    def diff(self, action, new):
        before, after = {}, {}
        if action == ACTION_NONE:
            return {"before": before, "after": after}
        secret_label = "%s/%s" % (self.namespace, self.secret_name)
        if action == ACTION_ROTATE:
            before[secret_label] = {self.p["password_key"]: MASK_CURRENT, "annotations": {ROTATED_AT_ANNOTATION: self.rotated_at}}
            after[secret_label] = {self.p["password_key"]: MASK_NEW, "annotations": {ROTATED_AT_ANNOTATION: "(now)"}}
        if action == ACTION_ROTATE or self.db_password != new:
            before["database role %s" % self.role] = MASK_CURRENT
            after["database role %s" % self.role] = MASK_NEW
        for dep in self.dependents:
            if dep["password"] != new:
                label = "%s/%s" % (self.namespace, dep["secret"])
                before.setdefault(label, {})[dep["key"]] = MASK_CURRENT
                after.setdefault(label, {})[dep["key"]] = MASK_NEW
        if self.deployments:
            after["restart"] = ["%s/%s" % (self.namespace, name) for name in self.deployments]
        return {"before": before, "after": after}

    # -- doing it ---------------------------------------------------------------------------------
    def execute(self, action, new):
        """Carry out ``action``; on failure undo every write and raise RotationError."""
        old = self.db_password if self.db_password not in (None, new) else None
        step = "writing the password Secret"
        try:
            if action == ACTION_ROTATE:
                self._write_password_secret(new)
            step = "applying the password in the database"
            self._apply(new)
            if self.p.get("host"):
                step = "proving the new password over TCP"
                self._prove(new, old)
            step = "updating the dependent Secrets"
            self._write_dependents(new)
            step = "restarting the Deployments"
            self._restart()
            if self.p["wait"] and self.deployments:
                step = "waiting for the Deployments to roll out"
                self._wait_rollouts()
        except (RotationError, KubeError, PostgresError) as exc:
            raise RotationError("%s failed: %s. %s" % (step, exc, self._restore(old))) from None

    def _write_password_secret(self, new):
        previous = {self.p["password_key"]: self.secret_password}
        previous_annotation = self.rotated_at
        name = self.secret_name
        updated = self.kube.patch_secret(self.namespace, name, data={self.p["password_key"]: new},
                                         annotations={ROTATED_AT_ANNOTATION: format_time(utc_now())},
                                         labels={RELOAD_LABEL: "true"}, resource_version=self.secret["metadata"]["resourceVersion"])

        def undo():
            restored = self.kube.patch_secret(self.namespace, name, data=previous, annotations={ROTATED_AT_ANNOTATION: previous_annotation})
            self.secret = restored
            if self.operator:
                try:
                    self._wait_applied(restored["metadata"]["resourceVersion"])
                except (RotationError, KubeError) as exc:
                    return "CloudNativePG has not confirmed the restored Secret yet (%s)" % exc
            return None
        self.undo.append(("Secret %s" % name, undo))
        self.secret = updated
        self.updated.append("%s/%s" % (name, self.p["password_key"]))

    def _apply(self, new):
        if self.operator:
            self._wait_applied(self.secret["metadata"]["resourceVersion"])
            return
        if verifier_matches(self.db_verifier, new, self.role):
            return
        previous = self.db_verifier
        with self._superuser() as conn:
            set_role_password(conn, self.role, new)

        def undo():
            with self._superuser() as conn:
                set_role_verifier(conn, self.role, previous)
        self.undo.append(("the password of database role %s" % self.role, undo))

    def _wait_applied(self, resource_version):
        """Wait until CloudNativePG reports ``resource_version`` of the password Secret applied."""
        deadline = self.clock() + self.p["apply_timeout"]
        while True:
            cluster = self.kube.get_cluster(self.namespace, self.p["cluster"])
            if applied_version(cluster, self.role, self.source) == resource_version:
                self.cluster = cluster
                return
            problems = cannot_reconcile(cluster, self.role)
            if problems:
                raise RotationError("CloudNativePG cannot reconcile role %s: %s" % (self.role, "; ".join(problems)))
            if self.clock() >= deadline:
                raise RotationError("CloudNativePG did not report Secret %s version %s applied to role %s within %ss"
                                    % (self.secret_name, resource_version, self.role, self.p["apply_timeout"]))
            self.sleep(self.p["poll_interval"])

    def _prove(self, new, old):
        if not self._accepted(new):
            raise RotationError("the database refuses the new password for role %s at %s:%s" % (self.role, self.p["host"], self.p["port"]))
        if old is not None and self._accepted(old):
            raise RotationError("the database still accepts the old password for role %s" % self.role)

    def _write_dependents(self, new):
        by_secret = {}
        for dep in self.dependents:
            if dep["password"] == new:
                continue
            value = dsn_with_password(dep["value"], new) if dep["format"] == "dsn" else new
            self.protect(value)
            by_secret.setdefault(dep["secret"], ({}, {}))
            by_secret[dep["secret"]][0][dep["key"]] = value
            by_secret[dep["secret"]][1][dep["key"]] = dep["value"]
        for name, (data, previous) in by_secret.items():
            self.kube.patch_secret(self.namespace, name, data=data)
            self.undo.append(("Secret %s" % name, self._undo_secret(name, previous)))
            self.updated.extend("%s/%s" % (name, key) for key in sorted(data))

    def _undo_secret(self, name, previous):
        def undo():
            self.kube.patch_secret(self.namespace, name, data=previous)
        return undo

    def _restart(self):
        stamp = format_time(utc_now())
        for name in self.deployments:
            self.kube.restart_deployment(self.namespace, name, stamp)
            self.restarted.append(name)

    def _wait_rollouts(self):
        deadline = self.clock() + self.p["wait_timeout"]
        pending = list(self.deployments)
        while pending:
            pending = [name for name in pending if not deployment_rolled_out(self.kube.get_deployment(self.namespace, name) or {})]
            if not pending:
                return
            if self.clock() >= deadline:
                raise RotationError("Deployment %s did not finish rolling out within %ss" % (", ".join(pending), self.p["wait_timeout"]))
            self.sleep(self.p["poll_interval"])

    def _restore(self, old):
        """Undo the recorded writes, newest first; a sentence saying what was restored."""
        restored, failed, notes = [], [], []
        for description, undo in reversed(self.undo):
            try:
                note = undo()
                restored.append(description)
                if note:
                    notes.append(note)
            except (RotationError, KubeError, PostgresError) as exc:
                failed.append("%s (%s)" % (description, exc))
        self.undo = []
        if self.restarted and restored:
            try:
                self._restart()
                restored.append("restarted Deployment %s again" % ", ".join(self.deployments))
            except KubeError as exc:
                failed.append("restart of %s (%s)" % (", ".join(self.deployments), exc))
        if restored and old is not None and self.p.get("host") and not failed and not notes:
            try:
                if not self._accepted(old):
                    notes.append("the database refuses the old password too (can role %s log in?)" % self.role)
            except PostgresError as exc:
                notes.append("could not prove the old password works again: %s" % exc)
        if not restored and not failed:
            return "Nothing had been changed."
        message = "Restored the previous values of: %s." % (", ".join(restored) if restored else "nothing")
        if notes:
            message += " Note: %s." % "; ".join(notes)
        if failed:
            message += " COULD NOT RESTORE: %s; fix these by hand." % "; ".join(failed)
        return message

    def run(self):
        action, new = self.plan()
        result = {"rotation": action, "role": self.role, "password_secret": self.secret_name, "cluster": self.p.get("cluster"),
                  "updated": [], "restarted": [], "diff": self.diff(action, new), "changed": action != ACTION_NONE}
        if action == ACTION_NONE or self.check_mode:
            return result
        self.execute(action, new)
        result["updated"] = self.updated
        result["restarted"] = self.restarted
        result["rotated_at"] = self.rotated_at
        return result
