"""Proofs that the local control plane enforces real Kubernetes API semantics:
admission (Pod Security, LimitRange, ResourceQuota), CRD schemas with strict field
validation, RBAC, the controllers, and the audit log."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest
from kubernetes import client

pytestmark = pytest.mark.cluster

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"


def wait_for(what, check, timeout=60.0, interval=0.3):
    """Poll check() until it returns a truthy value; fail with ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def api_error(call, *args, **kwargs) -> client.ApiException:
    """The ApiException a call raises (fails the test when it succeeds)."""
    with pytest.raises(client.ApiException) as excinfo:
        call(*args, **kwargs)
    return excinfo.value


@pytest.fixture
def core(kube_api):
    return client.CoreV1Api(kube_api)


@pytest.fixture
def make_namespace(core):
    """Create a uniquely named namespace (deleted after the test) and wait for its
    default ServiceAccount, which the ServiceAccount admission plugin needs for Pods."""
    created = []

    def make(prefix, labels=None):
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        core.create_namespace({"metadata": {"name": name, "labels": labels or {}}})
        created.append(name)
        wait_for(f"ServiceAccount default in {name}", lambda: core.list_namespaced_service_account(name).items)
        return name

    yield make
    for name in created:
        try:
            core.delete_namespace(name)
        except client.ApiException as exc:
            if exc.status != 404:
                raise


def pod(name, resources=None, security=None, container_security=None):
    container = {"name": "main", "image": PAUSE_IMAGE}
    if resources is not None:
        container["resources"] = resources
    if container_security is not None:
        container["securityContext"] = container_security
    spec = {"containers": [container]}
    if security is not None:
        spec["securityContext"] = security
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def test_cluster_env_points_at_kubeconfig(kube_cluster):
    assert os.environ["KUBECONFIG"] == str(kube_cluster.kubeconfig)
    assert os.environ["K8S_AUTH_KUBECONFIG"] == str(kube_cluster.kubeconfig)
    assert kube_cluster.kubeconfig.is_file()


def test_version_is_the_built_release(kube_api):
    assert client.VersionApi(kube_api).get_code().git_version.startswith("v1.")


def test_pod_security_restricted_rejects_privileged_admits_compliant(core, make_namespace):
    ns = make_namespace("psa", {"pod-security.kubernetes.io/enforce": "restricted"})

    error = api_error(core.create_namespaced_pod, ns, pod("privileged", container_security={"privileged": True}))
    assert error.status == 403
    assert "violates PodSecurity" in error.body
    assert "privileged" in error.body

    compliant = pod(
        "compliant",
        security={"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
        container_security={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    )
    created = core.create_namespaced_pod(ns, compliant)
    assert created.metadata.uid
    assert core.read_namespaced_pod("compliant", ns).metadata.name == "compliant"


def test_limit_range_defaults_applied_to_pod_without_resources(core, make_namespace):
    ns = make_namespace("limits")
    core.create_namespaced_limit_range(ns, {
        "metadata": {"name": "defaults"},
        "spec": {"limits": [{
            "type": "Container",
            "default": {"cpu": "200m", "memory": "64Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "32Mi"},
        }]},
    })

    core.create_namespaced_pod(ns, pod("no-resources"))

    resources = core.read_namespaced_pod("no-resources", ns).spec.containers[0].resources
    assert resources.limits == {"cpu": "200m", "memory": "64Mi"}
    assert resources.requests == {"cpu": "100m", "memory": "32Mi"}


def test_resource_quota_rejects_pod_over_quota_once_status_is_filled(core, make_namespace):
    ns = make_namespace("quota")
    hard = {"pods": "5", "requests.cpu": "300m"}
    core.create_namespaced_resource_quota(ns, {"metadata": {"name": "small"}, "spec": {"hard": hard}})
    # The quota controller (not admission) fills status.hard; until then nothing is enforced.
    wait_for("ResourceQuota status", lambda: (core.read_namespaced_resource_quota("small", ns).status.hard or {}) == hard)

    within = {"requests": {"cpu": "200m"}, "limits": {"cpu": "200m"}}
    core.create_namespaced_pod(ns, pod("first", resources=within))

    error = api_error(core.create_namespaced_pod, ns, pod("second", resources=within))
    assert error.status == 403
    assert "exceeded quota" in error.body
    assert "requests.cpu" in error.body
    used = wait_for("quota usage", lambda: core.read_namespaced_resource_quota("small", ns).status.used)
    assert used["requests.cpu"] == "200m"
    assert used["pods"] == "1"


def cnpg_cluster(name, spec):
    return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": name}, "spec": spec}


def test_cnpg_cluster_misspelled_field_rejected_under_strict_validation(kube_api, make_namespace):
    ns = make_namespace("cnpg")
    custom = client.CustomObjectsApi(kube_api)
    args = ("postgresql.cnpg.io", "v1", ns, "clusters")

    error = api_error(
        custom.create_namespaced_custom_object, *args,
        cnpg_cluster("typo", {"instances": 1, "storage": {"size": "1Gi"}, "instancse": 3}),
        field_validation="Strict",
    )
    assert error.status == 400
    assert 'unknown field "spec.instancse"' in json.loads(error.body)["message"]

    # The upstream schema also checks types, not only field names.
    error = api_error(custom.create_namespaced_custom_object, *args, cnpg_cluster("badtype", {"instances": "three", "storage": {"size": "1Gi"}}),
                      field_validation="Strict")
    assert error.status == 422

    custom.create_namespaced_custom_object(*args, cnpg_cluster("good", {"instances": 1, "storage": {"size": "1Gi"}}), field_validation="Strict")
    stored = custom.get_namespaced_custom_object(*args, "good")
    assert stored["spec"]["instances"] == 1


def test_subject_access_review_follows_rbac(kube_api, make_namespace):
    rbac = client.RbacAuthorizationV1Api(kube_api)
    authz = client.AuthorizationV1Api(kube_api)
    granted, other = make_namespace("rbac-yes"), make_namespace("rbac-no")
    user = f"jane-{uuid.uuid4().hex[:6]}"
    rbac.create_namespaced_role(granted, {
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    })
    rbac.create_namespaced_role_binding(granted, {
        "metadata": {"name": "pod-reader"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
    })

    def allowed(namespace, verb="get"):
        review = authz.create_subject_access_review({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": user, "resourceAttributes": {"namespace": namespace, "verb": verb, "resource": "pods"}},
        })
        return review.status.allowed

    # The RBAC authorizer reads bindings from a watch cache: allow a moment to catch up.
    wait_for("RBAC to allow the bound user", lambda: allowed(granted))
    assert not allowed(other)
    assert not allowed(granted, verb="delete")


def test_audit_log_records_requests_without_bodies(kube_cluster, core, make_namespace):
    ns = make_namespace("audit")
    secret_value = f"do-not-log-{uuid.uuid4().hex}"
    mark = kube_cluster.audit_mark()

    core.read_namespace(ns)
    core.list_namespaced_config_map(ns)
    assert kube_cluster.write_events_since(mark) == []  # reads are not writes

    core.create_namespaced_config_map(ns, {"metadata": {"name": "recorded"}, "data": {"k": "v"}})
    core.create_namespaced_secret(ns, {"metadata": {"name": "hidden"}, "stringData": {"password": secret_value}})

    def created(resource, name):
        return [
            e for e in kube_cluster.write_events_since(mark, settle=0)
            if e["verb"] == "create" and e.get("objectRef", {}).get("resource") == resource and e["objectRef"].get("name") == name
        ]

    event = wait_for("audit events of the creates", lambda: created("configmaps", "recorded") and created("secrets", "hidden"))[0]
    assert event["user"]["username"] == "admin"
    assert event["objectRef"]["namespace"] == ns
    assert event["level"] == "Metadata"
    assert event["responseStatus"]["code"] == 201
    assert "requestObject" not in event and "responseObject" not in event

    reads = [e for e in kube_cluster.audit_events_since(mark, settle=0) if e["verb"] == "list" and e.get("objectRef", {}).get("namespace") == ns]
    assert reads, "the list request is in the audit log too"
    assert secret_value not in json.dumps(kube_cluster.audit_events_since(mark, settle=0))
    assert secret_value not in kube_cluster.audit_log.read_text()


def test_controllers_run(kube_api, core, make_namespace):
    # clusterrole-aggregation: the built-in "view" role is filled from aggregated roles.
    view = client.RbacAuthorizationV1Api(kube_api).read_cluster_role("view")
    assert view.rules, "clusterrole-aggregation controller did not fill the view role"

    ns = make_namespace("gc")
    # root-ca-cert-publisher puts the cluster CA into every namespace.
    wait_for("kube-root-ca.crt", lambda: core.list_namespaced_config_map(ns, field_selector="metadata.name=kube-root-ca.crt").items)

    # garbage collector: a dependent goes away with its owner.
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(ns, {"metadata": {
        "name": "dependent",
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}],
    }})
    core.delete_namespaced_config_map("owner", ns)
    wait_for("the garbage collector to delete the dependent",
             lambda: not core.list_namespaced_config_map(ns, field_selector="metadata.name=dependent").items)

    # namespace controller: a deleted namespace is emptied and removed.
    core.delete_namespace(ns)

    def gone():
        try:
            core.read_namespace(ns)
        except client.ApiException as exc:
            return exc.status == 404
        return False

    wait_for(f"namespace {ns} to be finalized", gone, timeout=90)


def test_deployment_becomes_available_on_fake_node(kube_cluster, kube_api, core, make_namespace):
    assert kube_cluster.has_nodes, "no kube-scheduler + kwok in this cluster: run hack/build-control-plane.sh, then make cluster-down cluster-up"
    ns = make_namespace("deploy")
    labels = {"app": "web"}
    client.AppsV1Api(kube_api).create_namespaced_deployment(ns, {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": PAUSE_IMAGE}]}},
        },
    })

    def available():
        status = client.AppsV1Api(kube_api).read_namespaced_deployment_status("web", ns).status
        conditions = {c.type: c.status for c in status.conditions or []}
        return status.available_replicas == 2 and conditions.get("Available") == "True"

    wait_for("Deployment web to become Available", available, timeout=90)
    pods = core.list_namespaced_pod(ns, label_selector="app=web").items
    assert len(pods) == 2
    assert {p.spec.node_name for p in pods} == {"kwok-node-0"}
    assert all(p.status.pod_ip and p.status.phase == "Running" for p in pods)
