"""The collection's Kubernetes client without a cluster: connection errors name the setting,
REST paths follow discovery, Status messages are read (the requests themselves run against the
local control plane in tests/integration/k8s_apply)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.aiplatform.obot.plugins.module_utils import kube


def test_a_missing_kubeconfig_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("K8S_AUTH_KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    missing = tmp_path / "nope.yaml"
    with pytest.raises(kube.KubeError, match="kubeconfig %s" % missing):
        kube.connect(str(missing), "ctx")


def test_the_environment_gives_the_kubeconfig(tmp_path, monkeypatch):
    missing = tmp_path / "from-env.yaml"
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(missing))
    with pytest.raises(kube.KubeError, match="from-env.yaml"):
        kube.connect()


def test_a_kubeconfig_dict_is_accepted_and_its_context_checked():
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "one",
              "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
              "users": [{"name": "u", "user": {"token": "t0ken"}}],
              "contexts": [{"name": "one", "context": {"cluster": "c", "user": "u"}}]}
    client = kube.connect(config)
    assert client.server == "https://127.0.0.1:1"
    with pytest.raises(kube.KubeError, match="kubeconfig given as a dict, context two") as failure:
        kube.connect(config, "two")
    assert "t0ken" not in str(failure.value)


class Discovered(kube.Kube):
    """A client whose discovery answers are given."""

    def __init__(self, kinds, cache_dir=None):
        self.asked = []
        self.kinds = kinds
        super().__init__(SimpleNamespace(configuration=SimpleNamespace(host="https://127.0.0.1:6443")), cache_dir)

    def _request(self, method, path, query=None, body=None, content_type="application/json"):
        self.asked.append((method, path))
        return self.kinds.get(path)


def discovered(cache_dir=None):
    return Discovered(cache_dir=cache_dir, kinds={
        "/api/v1": {"resources": [{"name": "secrets", "kind": "Secret", "namespaced": True},
                                  {"name": "namespaces", "kind": "Namespace", "namespaced": False},
                                  {"name": "namespaces/status", "kind": "Namespace", "namespaced": False}]},
        "/apis/apps/v1": {"resources": [{"name": "deployments", "kind": "Deployment", "namespaced": True}]},
    })


def test_the_tasks_of_a_run_share_discovery_through_the_cache_dir(tmp_path):
    first = discovered(tmp_path)
    assert first.resource("v1", "Secret") and first.resource("apps/v1", "Deployment")
    assert first.resource("cilium.io/v2", "CiliumNetworkPolicy") is None
    second = discovered(tmp_path)
    assert second.path("apps/v1", "Deployment", "ns", "d") == "/apis/apps/v1/namespaces/ns/deployments/d"
    assert second.asked == [], "a cached group-version is not asked for again"
    # A group-version not served was not cached; a kind missing from a cached answer is asked for once.
    assert second.resource("cilium.io/v2", "CiliumNetworkPolicy") is None
    assert second.resource("v1", "NoSuchKind") is None and second.resource("v1", "NoSuchKind") is None
    assert second.asked == [("GET", "/apis/cilium.io/v2"), ("GET", "/api/v1")]


def test_paths_follow_discovery_asked_once_per_group_version():
    client = discovered()
    assert client.path("v1", "Secret", "ns", "s") == "/api/v1/namespaces/ns/secrets/s"
    assert client.path("v1", "Namespace", None, "ns") == "/api/v1/namespaces/ns"
    assert client.path("apps/v1", "Deployment", "ns") == "/apis/apps/v1/namespaces/ns/deployments"
    assert client.asked == [("GET", "/api/v1"), ("GET", "/apis/apps/v1")]


def test_a_kind_not_served_is_none_or_a_clear_error():
    client = discovered()
    assert client.resource("cilium.io/v2", "CiliumNetworkPolicy") is None
    assert client.list("cilium.io/v2", "CiliumNetworkPolicy", "ns") is None
    with pytest.raises(kube.KubeError, match="serves no cilium.io/v2 CiliumNetworkPolicy"):
        client.path("cilium.io/v2", "CiliumNetworkPolicy", "ns", "x")


def test_a_namespaced_object_needs_its_namespace():
    with pytest.raises(kube.KubeError, match="Secret s is namespaced"):
        discovered().object_path({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})


def test_labels_and_status_messages():
    assert kube.label({"kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}) == "Secret ns/s"
    assert kube.label({"kind": "Namespace", "metadata": {"name": "ns"}}) == "Namespace ns"
    assert kube._status_message(b'{"kind": "Status", "message": "no"}') == "no"  # pylint: disable=protected-access
    assert kube._status_message(b"<html>") == ""  # pylint: disable=protected-access
    assert kube._status_message(None) == ""  # pylint: disable=protected-access
