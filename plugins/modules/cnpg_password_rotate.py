#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cnpg_password_rotate
short_description: Rotate the password of a CloudNativePG database role safely
version_added: "0.1.0"
description:
  - Rotates the password of a PostgreSQL role whose password lives in a Kubernetes Secret used by
    a CloudNativePG C(Cluster) (C(spec.managed.roles[].passwordSecret) or C(spec.bootstrap.initdb.secret)).
  - Takes O(password) or generates one, writes it to the role's Secret (label C(cnpg.io/reload=true),
    rotation time in the annotation C(aiplatform.obot/password-rotated-at)), waits until CloudNativePG
    reports that Secret version applied (O(mode=operator)) or runs C(ALTER ROLE) itself over a
    superuser connection (O(mode=direct)), proves over TCP that the new password logs in and the old
    one is refused (when O(host) is given), then updates every dependent Secret key (for example the
    DSNs in C(obot-secret)) and restarts the dependent Deployments through a pod-template annotation.
  - If any step after the first write fails or cannot be proven, every value written is restored and
    the task fails with a message saying what was restored. A run interrupted between steps is healed
    by the next run, which finds out which password the database accepts and finishes the job.
  - The password is never part of SQL text (a SCRAM-SHA-256 verifier is computed locally), results,
    errors or diffs.
author:
  - aiplatform.obot developers (!UNKNOWN)
requirements:
  - kubernetes >= 29.0.0 (Python)
  - psycopg >= 3.1 (Python), when O(host) is given or O(mode=direct)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the Cluster, the Secrets and (when reachable) the database; changes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Lists the Secret keys and the role that would change, with values masked.
options:
  namespace:
    description: Namespace of the Cluster, the Secrets and the Deployments.
    type: str
    required: true
  cluster:
    description:
      - Name of the CloudNativePG C(Cluster). Required when O(mode=operator).
      - The role's password Secret is taken from it unless O(password_secret) is given.
    type: str
  role:
    description:
      - The database role. Defaults to the Cluster's C(spec.bootstrap.initdb.owner), or the
        O(username_key) of O(password_secret) when no Cluster is given.
    type: str
  password_secret:
    description: Name of the Secret holding the role's password (overrides what the Cluster says).
    type: str
  password_key:
    description: Key of the password in O(password_secret).
    type: str
    default: password
  username_key:
    description: Key of the user name in O(password_secret).
    type: str
    default: username
  password:
    description:
      - The new password. When it is already in effect everywhere, nothing changes.
      - When omitted a random password is generated (see O(password_length), O(password_alphabet)
        and O(max_age)).
    type: str
  password_length:
    description: Length of a generated password (at least 12).
    type: int
    default: 32
  password_alphabet:
    description: Characters a generated password is made of (at least 10 different ones).
    type: str
    default: abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789
  max_age:
    description:
      - Rotate a generated password only when the last rotation recorded on the password Secret is
        at least this old, for example V(90d), V(12h), V(30m), V(3600) (seconds) or V(2w).
      - Without it every run without O(password) rotates.
    type: str
  dependent_secrets:
    description: Secret keys that carry the password too; updated once the database accepts it.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Secret name.
        type: str
        required: true
      keys:
        description: Keys to update.
        type: list
        elements: str
        required: true
      format:
        description:
          - V(dsn) replaces the password part of a C(postgresql://user:password@host/db) URL
            (percent-encoded); V(password) stores the bare password.
        type: str
        choices: [dsn, password]
        default: dsn
  deployments:
    description: Deployments to restart (annotation C(kubectl.kubernetes.io/restartedAt)) after the change.
    type: list
    elements: str
    default: []
  wait:
    description: Wait for the restarted Deployments to finish rolling out.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the rollout.
    type: int
    default: 300
  mode:
    description:
      - V(operator) lets CloudNativePG apply the Secret and waits for its status
        C(status.managedRolesStatus.passwordStatus.<role>.resourceVersion) (or
        C(status.secretsResourceVersion.applicationSecretVersion) for the initdb owner).
      - V(direct) runs C(ALTER ROLE) over a superuser connection (O(login_user) at O(host)), for
        databases no operator manages.
    type: str
    choices: [operator, direct]
    default: operator
  apply_timeout:
    description: Seconds to wait for CloudNativePG to report the Secret applied.
    type: int
    default: 120
  poll_interval:
    description: Seconds between status polls.
    type: float
    default: 1.0
  host:
    description:
      - TCP address of the database. When given, the new password is proven to log in and the old
        one to be refused. Required when O(mode=direct).
    type: str
  port:
    description: TCP port of the database.
    type: int
    default: 5432
  database:
    description: Database to log in to; defaults to the Cluster's C(spec.bootstrap.initdb.database), else V(postgres).
    type: str
  sslmode:
    description: libpq C(sslmode) for every connection.
    type: str
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
    default: prefer
  connect_timeout:
    description: Seconds to wait for a connection.
    type: int
    default: 10
  login_user:
    description: Superuser for O(mode=direct).
    type: str
    default: postgres
  login_password:
    description: Password of O(login_user). Required when O(mode=direct).
    type: str
  login_database:
    description: Database the superuser connects to.
    type: str
    default: postgres
  kubeconfig:
    description: Path to a kubeconfig file; defaults to E(K8S_AUTH_KUBECONFIG), then the client's default.
    type: path
  context:
    description: kubeconfig context; defaults to E(K8S_AUTH_CONTEXT), then the current context.
    type: str
notes:
  - O(max_age) and O(password) are mutually exclusive.
  - The rotation time annotation is only written by this module.
"""

EXAMPLES = r"""
- name: Rotate the Obot database password every 90 days (scheduled runs change nothing before that)
  aiplatform.obot.cnpg_password_rotate:
    namespace: ai-system
    cluster: obot-postgresql
    role: obot
    max_age: 90d
    dependent_secrets:
      - name: obot-secret
        keys: [OBOT_SERVER_DSN, OBOT_AUTH_PROVIDER_POSTGRES_CONNECTION_DSN]
    deployments: [obot]
    wait: true

- name: Set a given password on a database no operator manages
  aiplatform.obot.cnpg_password_rotate:
    namespace: ai-system
    mode: direct
    password_secret: obot-db-secret
    role: obot
    password: "{{ new_db_password }}"
    host: db.example.internal
    login_password: "{{ postgres_superuser_password }}"
"""

RETURN = r"""
rotation:
  description: What the run did (or would do in check mode) - V(none), V(rotate), or V(heal) (finish an interrupted rotation).
  returned: always
  type: str
  sample: rotate
role:
  description: The database role.
  returned: always
  type: str
  sample: obot
password_secret:
  description: Name of the Secret holding the role's password.
  returned: always
  type: str
  sample: obot-db-secret
cluster:
  description: The CloudNativePG Cluster name, if one was given.
  returned: always
  type: str
  sample: obot-postgresql
updated:
  description: Secret keys written, as C(secret/key).
  returned: always
  type: list
  elements: str
  sample: [obot-db-secret/password, obot-secret/OBOT_SERVER_DSN]
restarted:
  description: Deployments restarted.
  returned: always
  type: list
  elements: str
  sample: [obot]
rotated_at:
  description: Rotation time recorded on the password Secret (UTC).
  returned: when something changed
  type: str
  sample: "2026-01-31T12:00:00Z"
"""

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.aiplatform.obot.plugins.module_utils.cnpg_kube import KubeClient
from ansible_collections.aiplatform.obot.plugins.module_utils.kube import HAS_KUBERNETES, KUBERNETES_IMPORT_ERROR, KubeError
from ansible_collections.aiplatform.obot.plugins.module_utils.cnpg_rotation import (
    DEFAULT_ALPHABET,
    Rotation,
    RotationError,
)
from ansible_collections.aiplatform.obot.plugins.module_utils.postgres import (
    HAS_PSYCOPG,
    PSYCOPG_IMPORT_ERROR,
    PostgresError,
)


def argument_spec():
    return dict(
        namespace=dict(type="str", required=True),
        cluster=dict(type="str"),
        role=dict(type="str"),
        password_secret=dict(type="str", no_log=False),
        password_key=dict(type="str", default="password", no_log=False),
        username_key=dict(type="str", default="username", no_log=False),
        password=dict(type="str", no_log=True),
        password_length=dict(type="int", default=32, no_log=False),
        password_alphabet=dict(type="str", default=DEFAULT_ALPHABET, no_log=False),
        max_age=dict(type="str"),
        dependent_secrets=dict(type="list", elements="dict", default=[], no_log=False, options=dict(
            name=dict(type="str", required=True),
            keys=dict(type="list", elements="str", required=True, no_log=False),
            format=dict(type="str", choices=["dsn", "password"], default="dsn"),
        )),
        deployments=dict(type="list", elements="str", default=[]),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        mode=dict(type="str", choices=["operator", "direct"], default="operator"),
        apply_timeout=dict(type="int", default=120),
        poll_interval=dict(type="float", default=1.0),
        host=dict(type="str"),
        port=dict(type="int", default=5432),
        database=dict(type="str"),
        sslmode=dict(type="str", choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"], default="prefer"),
        connect_timeout=dict(type="int", default=10),
        login_user=dict(type="str", default="postgres"),
        login_password=dict(type="str", no_log=True),
        login_database=dict(type="str", default="postgres"),
        kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"])),
        context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
    )


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("password", "max_age")],
        required_if=[("mode", "operator", ["cluster"]), ("mode", "direct", ["host", "login_password"])],
        required_one_of=[("cluster", "password_secret")],
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(KUBERNETES_IMPORT_ERROR))
    if not HAS_PSYCOPG and (module.params["host"] or module.params["mode"] == "direct"):
        module.fail_json(msg=missing_required_lib("psycopg"), exception=str(PSYCOPG_IMPORT_ERROR))

    def protect(value):
        # Every password or DSN met is masked wherever it could appear in the module's output.
        if value:
            module.no_log_values.add(value)

    params = dict(module.params)
    try:
        kube = KubeClient(params["kubeconfig"], params["context"])
        if not params["database"]:
            params["database"] = database_default(kube, params)
        result = Rotation(kube, params, protect, check_mode=module.check_mode).run()
    except (RotationError, KubeError, PostgresError) as exc:
        module.fail_json(msg=str(exc))
    diff = result.pop("diff")
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = diff
    module.exit_json(**result)


def database_default(kube, params):
    """The Cluster's application database, else postgres."""
    if params["cluster"]:
        cluster = kube.get_cluster(params["namespace"], params["cluster"]) or {}
        initdb = ((cluster.get("spec") or {}).get("bootstrap") or {}).get("initdb") or {}
        if initdb.get("database"):
            return initdb["database"]
    return "postgres"


if __name__ == "__main__":
    main()
