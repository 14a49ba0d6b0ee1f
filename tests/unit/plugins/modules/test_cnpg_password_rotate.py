"""Unit tests for the CNPG password rotation: DSN rewriting, password generation, SCRAM
verifiers, and the decision logic. No servers needed."""

import datetime
import string

import pytest

from ansible_collections.aiplatform.obot.plugins.module_utils import cnpg_rotation as rot
from ansible_collections.aiplatform.obot.plugins.module_utils import postgres as pg
from ansible_collections.aiplatform.obot.plugins.module_utils.cnpg_kube import deployment_rolled_out

# A verifier PostgreSQL 18 stored for a throwaway test password (initdb --pwfile).
PG_PASSWORD = "pARgqAy2n-u8Ny_T8QPZ7Cyh"
PG_VERIFIER = ("SCRAM-SHA-256$4096:a9HWyVeQtzgVs1xxKvnnQA==$BcKGUjgrTwxZmHu4WfQMbbw8ElKXtPpG1CuzHRhbsfI="
               ":Vkb4iDzruj7OzB8swsBrQswg6sqPiLd66YmI9k+QQss=")
NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


# -- DSNs -------------------------------------------------------------------------------------

DSN = "postgresql://obot:old-pw@obot-postgresql-rw.ai-system.svc.cluster.local:5432/obot?sslmode=require"


def test_dsn_password_replaced_and_rest_untouched():
    new = rot.dsn_with_password(DSN, "n3w")
    assert new == "postgresql://obot:n3w@obot-postgresql-rw.ai-system.svc.cluster.local:5432/obot?sslmode=require"
    assert rot.dsn_password(new) == "n3w"


@pytest.mark.parametrize("password", ["p@ss:w/rd?#%", "with space", "ünïcødé", "a+b=c&d"])
def test_dsn_password_percent_encoded_round_trip(password):
    new = rot.dsn_with_password(DSN, password)
    authority = new.split("://", 1)[1].split("/", 1)[0]
    assert authority.count("@") == 1 and authority.count(":") == 2  # user:pw@host:port only
    assert rot.dsn_password(new) == password
    assert new.endswith("@obot-postgresql-rw.ai-system.svc.cluster.local:5432/obot?sslmode=require")


def test_dsn_without_password_gets_one():
    assert rot.dsn_password("postgres://app@db/app") is None
    assert rot.dsn_with_password("postgres://app@db/app", "x") == "postgres://app:x@db/app"


def test_dsn_encoded_password_is_decoded():
    assert rot.dsn_password("postgresql://u:a%40b@h/d") == "a@b"


@pytest.mark.parametrize("value", ["host=db user=obot password=x", "postgresql://db/obot", "", "not a url"])
def test_dsn_rejects_values_it_cannot_rewrite(value):
    with pytest.raises(rot.RotationError) as info:
        rot.dsn_with_password(value, "secret-value")
    assert "secret-value" not in str(info.value)


# -- password generation -----------------------------------------------------------------------

def test_generated_password_uses_length_and_alphabet():
    password = rot.generate_password(40, "abcdefghij")
    assert len(password) == 40 and set(password) <= set("abcdefghij")
    assert rot.generate_password() != rot.generate_password()
    assert set(rot.generate_password(200)) <= set(string.ascii_letters + string.digits)


@pytest.mark.parametrize("length,alphabet", [(8, rot.DEFAULT_ALPHABET), (32, "abc"), (32, "aaaaaaaaaaaaaa")])
def test_generation_refuses_weak_settings(length, alphabet):
    with pytest.raises(rot.RotationError):
        rot.generate_password(length, alphabet)


# -- SCRAM verifiers ----------------------------------------------------------------------------

def test_verifier_from_postgresql_matches_its_password_only():
    assert pg.verifier_matches(PG_VERIFIER, PG_PASSWORD)
    assert not pg.verifier_matches(PG_VERIFIER, PG_PASSWORD + "x")
    assert not pg.verifier_matches(None, PG_PASSWORD)
    assert not pg.verifier_matches("garbage", PG_PASSWORD)


def test_verifier_recomputed_from_stored_salt_is_identical():
    iterations, salt, _stored, _server = pg.parse_scram_verifier(PG_VERIFIER)
    assert pg.scram_sha256_verifier(PG_PASSWORD, salt=salt, iterations=iterations) == PG_VERIFIER


def test_new_verifier_is_salted_and_matches():
    first, second = pg.scram_sha256_verifier("s3cret"), pg.scram_sha256_verifier("s3cret")
    assert first != second  # fresh salt each time
    assert first.startswith("SCRAM-SHA-256$4096:") and "s3cret" not in first
    assert pg.verifier_matches(first, "s3cret") and pg.verifier_matches(second, "s3cret")
    assert len(pg.parse_scram_verifier(first)[1]) == 16


def test_md5_verifier_needs_user_name():
    verifier = "md5" + __import__("hashlib").md5(b"pwobot").hexdigest()
    assert pg.verifier_matches(verifier, "pw", "obot")
    assert not pg.verifier_matches(verifier, "pw", "other")
    assert not pg.verifier_matches(verifier, "pw")


def test_saslprep_maps_like_postgresql():
    assert pg.saslprep("plain-ASCII") == b"plain-ASCII"
    assert pg.saslprep("a\u00a0b") == b"a b"  # non-ASCII space mapped to space
    assert pg.saslprep("a\u00adb") == b"ab"  # soft hyphen mapped to nothing
    assert pg.saslprep("\u2168") == b"IX"  # NFKC
    assert pg.saslprep("a\x07b") == b"a\x07b"  # prohibited: raw bytes, as PostgreSQL does


def test_connection_error_text_is_cleaned():
    assert pg._clean("failed for user \"x\" with hunter2\n  more", ["hunter2"]) == 'failed for user "x" with ******** more'


# -- durations and the rotation record ----------------------------------------------------------

@pytest.mark.parametrize("text,seconds", [("3600", 3600), ("45s", 45), ("30m", 1800), ("12h", 43200), ("90d", 7776000), ("2w", 1209600)])
def test_parse_duration(text, seconds):
    assert rot.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten days", "5y", "-1d"])
def test_parse_duration_rejects(text):
    with pytest.raises(rot.RotationError):
        rot.parse_duration(text)


def test_rotation_due():
    day = 86400
    assert rot.rotation_due(None, day, NOW)
    assert rot.rotation_due("yesterday", day, NOW)
    assert rot.rotation_due("2026-02-28T12:00:00Z", day, NOW)
    assert not rot.rotation_due("2026-02-28T12:00:01Z", day, NOW)
    assert rot.format_time(NOW) == "2026-03-01T12:00:00Z"


# -- the Cluster ----------------------------------------------------------------------------------

CLUSTER = {
    "metadata": {"name": "obot-postgresql"},
    "spec": {
        "bootstrap": {"initdb": {"database": "obot", "owner": "obot", "secret": {"name": "obot-db-secret"}}},
        "managed": {"roles": [{"name": "obot", "passwordSecret": {"name": "obot-db-secret"}},
                              {"name": "reporter", "passwordSecret": {"name": "reporter-secret"}}]},
    },
    "status": {
        "managedRolesStatus": {"passwordStatus": {"obot": {"resourceVersion": "41", "transactionID": 9}},
                               "cannotReconcile": {"reporter": ["could not fetch secret"]}},
        "secretsResourceVersion": {"applicationSecretVersion": "17"},
    },
}


def test_password_secret_of_managed_role_and_owner():
    assert rot.find_password_secret(CLUSTER) == ("obot", "obot-db-secret", "managed")
    assert rot.find_password_secret(CLUSTER, "reporter") == ("reporter", "reporter-secret", "managed")
    initdb_only = {"spec": {"bootstrap": {"initdb": {"owner": "app", "secret": {"name": "app-secret"}}}}}
    assert rot.find_password_secret(initdb_only) == ("app", "app-secret", "initdb")


def test_password_secret_missing_names_the_role():
    with pytest.raises(rot.RotationError, match="role ghost"):
        rot.find_password_secret(CLUSTER, "ghost")


def test_applied_version_and_problems():
    assert rot.applied_version(CLUSTER, "obot", "managed") == "41"
    assert rot.applied_version(CLUSTER, "app", "initdb") == "17"
    assert rot.applied_version({}, "obot", "managed") is None
    assert rot.cannot_reconcile(CLUSTER, "reporter") == ["could not fetch secret"]
    assert rot.cannot_reconcile(CLUSTER, "obot") == []


# -- the decision ---------------------------------------------------------------------------------

@pytest.mark.parametrize("target,secret,in_sync,max_age,rotated_at,expected", [
    ("same", "same", True, None, None, rot.ACTION_NONE),  # given and in effect
    ("same", "same", False, None, None, rot.ACTION_HEAL),  # given, Secret has it, database/dependents lag
    ("new", "old", True, None, None, rot.ACTION_ROTATE),
    (None, "old", True, None, None, rot.ACTION_ROTATE),  # no max_age: every run rotates
    (None, "old", True, 86400, "2026-03-01T00:00:00Z", rot.ACTION_NONE),  # rotated recently
    (None, "old", False, 86400, "2026-03-01T00:00:00Z", rot.ACTION_HEAL),  # recent but interrupted
    (None, "old", True, 86400, "2026-02-01T00:00:00Z", rot.ACTION_ROTATE),  # too old
    (None, "old", True, 86400, None, rot.ACTION_ROTATE),  # never recorded
    (None, None, True, 86400, "2026-03-01T00:00:00Z", rot.ACTION_ROTATE),  # Secret has no password yet
])
def test_decide(target, secret, in_sync, max_age, rotated_at, expected):
    assert rot.decide(target, secret, in_sync, max_age, rotated_at, NOW) == expected


# -- rollout --------------------------------------------------------------------------------------

@pytest.mark.parametrize("deployment,done", [
    ({"metadata": {"generation": 2}, "spec": {"replicas": 1},
      "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}}, True),
    ({"metadata": {"generation": 3}, "spec": {"replicas": 1},
      "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}}, False),
    ({"metadata": {"generation": 2}, "spec": {"replicas": 2},
      "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}}, False),
    ({"metadata": {"generation": 2}, "spec": {"replicas": 1},
      "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 0}}, False),
])
def test_deployment_rolled_out(deployment, done):
    assert deployment_rolled_out(deployment) is done


# -- the guarded sequence, with Kubernetes faked at the client boundary --------------------------

class FakeKube:
    """Secrets and a Cluster in memory; the Cluster's status follows every password Secret write
    (as CloudNativePG would) unless ``operator_running`` is False."""

    def __init__(self, fail_patch_of=(), fail_restore_of=()):
        self.version = 10
        self.secrets = {}
        self.fail_patch_of, self.fail_restore_of = set(fail_patch_of), set(fail_restore_of)
        self.operator_running = True
        self.applied = None
        self.writes = []
        self.add_secret("obot-db-secret", {"username": "obot", "password": "old-password-1"})
        self.add_secret("obot-secret", {"OBOT_SERVER_DSN": "postgresql://obot:old-password-1@db:5432/obot"})
        self.applied = self.secrets["obot-db-secret"]["metadata"]["resourceVersion"]

    def _bump(self):
        self.version += 1
        return str(self.version)

    def add_secret(self, name, values):
        from ansible_collections.aiplatform.obot.plugins.module_utils.cnpg_kube import b64encode_text

        self.secrets[name] = {"metadata": {"name": name, "resourceVersion": self._bump(), "annotations": {}, "labels": {}},
                              "data": {k: b64encode_text(v) for k, v in values.items()}}

    def get_cluster(self, namespace, name):
        cluster = {"metadata": {"name": name}, "spec": CLUSTER["spec"]}
        cluster["status"] = {"managedRolesStatus": {"passwordStatus": {"obot": {"resourceVersion": self.applied}}}}
        return cluster

    def get_secret(self, namespace, name):
        return self.secrets.get(name)

    def get_deployment(self, namespace, name):
        return {"metadata": {"name": name}}

    def restart_deployment(self, namespace, name, stamp):
        self.writes.append(("restart", name))

    def patch_secret(self, namespace, name, data=None, annotations=None, labels=None, resource_version=None):
        from ansible_collections.aiplatform.obot.plugins.module_utils.cnpg_kube import KubeError, b64encode_text

        restoring = ("patch", name) in self.writes  # a second write to a Secret is the undo
        if (name in self.fail_restore_of and restoring) or (name in self.fail_patch_of and not restoring):
            raise KubeError("cannot update Secret %s: 500 boom" % name)
        self.writes.append(("patch", name))
        secret = self.secrets[name]
        for key, value in (data or {}).items():
            if value is None:
                secret["data"].pop(key, None)
            else:
                secret["data"][key] = b64encode_text(value)
        for key, value in (annotations or {}).items():
            if value is None:
                secret["metadata"]["annotations"].pop(key, None)
            else:
                secret["metadata"]["annotations"][key] = value
        secret["metadata"]["resourceVersion"] = self._bump()
        if name == "obot-db-secret" and self.operator_running:
            self.applied = secret["metadata"]["resourceVersion"]
        return secret


def operator_params(**extra):
    params = {"namespace": "ai-system", "mode": "operator", "cluster": "obot-postgresql", "role": None, "password_secret": None,
              "password_key": "password", "username_key": "username", "password": None, "password_length": 32,
              "password_alphabet": rot.DEFAULT_ALPHABET, "max_age": None,
              "dependent_secrets": [{"name": "obot-secret", "keys": ["OBOT_SERVER_DSN"], "format": "dsn"}],
              "deployments": ["obot"], "wait": False, "wait_timeout": 5, "apply_timeout": 1, "poll_interval": 0.01, "host": None}
    params.update(extra)
    return params


def secret_text(kube, name, key):
    from ansible_collections.aiplatform.obot.plugins.module_utils.cnpg_kube import secret_value

    return secret_value(kube.secrets[name], key)


def test_operator_rotation_updates_in_order_and_masks():
    kube, protected = FakeKube(), set()
    result = rot.Rotation(kube, operator_params(password="new-password-22"), protected.add).run()
    assert result["changed"] and result["rotation"] == "rotate"
    assert kube.writes == [("patch", "obot-db-secret"), ("patch", "obot-secret"), ("restart", "obot")]
    assert secret_text(kube, "obot-secret", "OBOT_SERVER_DSN") == "postgresql://obot:new-password-22@db:5432/obot"
    assert {"new-password-22", "old-password-1", "postgresql://obot:new-password-22@db:5432/obot"} <= protected
    assert "new-password-22" not in repr(result)
    again = rot.Rotation(kube, operator_params(password="new-password-22"), protected.add).run()
    assert not again["changed"] and again["rotation"] == "none"


def test_check_mode_plans_without_writing():
    kube = FakeKube()
    result = rot.Rotation(kube, operator_params(), lambda value: None, check_mode=True).run()
    assert result["changed"] and kube.writes == []
    assert result["diff"]["after"]["ai-system/obot-secret"] == {"OBOT_SERVER_DSN": rot.MASK_NEW}


def test_failure_after_first_write_restores_and_says_so():
    kube = FakeKube(fail_patch_of={"obot-secret"})
    with pytest.raises(rot.RotationError) as info:
        rot.Rotation(kube, operator_params(password="new-password-22"), lambda value: None).run()
    message = str(info.value)
    assert message.startswith("updating the dependent Secrets failed")
    assert "Restored the previous values of: Secret obot-db-secret." in message and "new-password-22" not in message
    assert secret_text(kube, "obot-db-secret", "password") == "old-password-1"
    assert kube.applied == kube.secrets["obot-db-secret"]["metadata"]["resourceVersion"]  # operator took the old one back
    assert ("restart", "obot") not in kube.writes


def test_operator_that_never_applies_is_reported_and_restored():
    kube = FakeKube()
    kube.operator_running = False
    with pytest.raises(rot.RotationError) as info:
        rot.Rotation(kube, operator_params(password="new-password-22"), lambda value: None).run()
    message = str(info.value)
    assert "did not report" in message and "Restored the previous values of: Secret obot-db-secret" in message
    assert "CloudNativePG has not confirmed the restored Secret yet" in message
    assert secret_text(kube, "obot-db-secret", "password") == "old-password-1"


def test_restore_that_fails_is_named():
    kube = FakeKube(fail_patch_of={"obot-secret"}, fail_restore_of={"obot-db-secret"})
    with pytest.raises(rot.RotationError) as info:
        rot.Rotation(kube, operator_params(password="new-password-22"), lambda value: None).run()
    assert "COULD NOT RESTORE: Secret obot-db-secret" in str(info.value)


def test_interrupted_operator_run_is_healed():
    kube = FakeKube()
    kube.patch_secret("ai-system", "obot-db-secret", data={"password": "half-done-pw-1"},
                      annotations={rot.ROTATED_AT_ANNOTATION: rot.format_time(rot.utc_now())})  # killed after this write
    kube.writes.clear()
    result = rot.Rotation(kube, operator_params(max_age="1d"), lambda value: None).run()
    assert result["rotation"] == "heal"
    assert kube.writes == [("patch", "obot-secret"), ("restart", "obot")]
    assert secret_text(kube, "obot-secret", "OBOT_SERVER_DSN") == "postgresql://obot:half-done-pw-1@db:5432/obot"
