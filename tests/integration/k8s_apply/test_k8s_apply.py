"""Action plugin aiplatform.obot.k8s_apply on the local control plane: one diff per changed
object under --diff, idempotence, check mode, removal (unknown kinds included) and the API
server's strict field validation."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from testbed.playbook import run_playbook

pytestmark = pytest.mark.cluster

PLAYBOOK = """\
- name: Exercise k8s_apply
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Apply the objects
      aiplatform.obot.k8s_apply:
        state: "{{ apply_state }}"
        definition: "{{ apply_objects }}"
"""


class Runner:
    """Runs the one-task playbook on a list of objects."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.playbook = tmp_path / "apply.yml"
        self.playbook.write_text(PLAYBOOK)

    def __call__(self, objects: list, *args: str, state: str = "present", json_output: bool = True):
        """The task's result with the JSON callback, else the PlaybookRun."""
        run = run_playbook(self.playbook, *args, cwd=self.tmp_path, extra_vars={"apply_objects": objects, "apply_state": state},
                           json_output=json_output, timeout=300)
        return run.task_results()[0] if json_output else run


class Cluster:
    """Reads (and cleans) a fresh namespace."""

    def __init__(self, api_client, name: str):
        from kubernetes import client  # pylint: disable=import-outside-toplevel

        self.name = name
        self.core = client.CoreV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)

    def config_maps(self) -> dict:
        """name -> (resourceVersion, data) of the namespace's ConfigMaps, the API server's own left out."""
        return {item.metadata.name: (item.metadata.resource_version, item.data)
                for item in self.core.list_namespaced_config_map(self.name).items if item.metadata.name != "kube-root-ca.crt"}


@pytest.fixture(name="run")
def fixture_run(tmp_path):
    return Runner(tmp_path)


@pytest.fixture(name="cluster")
def fixture_cluster(kube_cluster, kube_api):  # pylint: disable=unused-argument
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    name = "k8sapply-" + uuid.uuid4().hex[:8]
    core = client.CoreV1Api(kube_api)
    core.create_namespace({"metadata": {"name": name}})
    yield Cluster(kube_api, name)
    core.delete_namespace(name)


def config_map(namespace: str, name: str, value: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": {"value": value}}


def diff_headers(output: str) -> list:
    """The objects --diff printed a diff for, in order."""
    return [line.split("+++ after: ", 1)[1].strip() for line in output.splitlines() if line.startswith("+++ after: ")]


def test_diff_shows_one_diff_per_changed_object_and_a_second_apply_changes_nothing(run, cluster):
    ns = cluster.name
    first = run([config_map(ns, name, "1") for name in ("a", "b", "c")], "--diff", json_output=False)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert diff_headers(first.stdout) == [f"ConfigMap {ns}/a", f"ConfigMap {ns}/b", f"ConfigMap {ns}/c"]
    created = cluster.config_maps()
    assert {name: entry[1] for name, entry in created.items()} == {name: {"value": "1"} for name in "abc"}

    second = run([config_map(ns, name, "1") for name in ("a", "b", "c")])
    assert second["changed"] is False
    assert second["results"] == [{"object": f"ConfigMap {ns}/{name}", "changed": False} for name in "abc"]
    assert cluster.config_maps() == created

    # Two of three objects change: two diffs, each with its own change, and nothing for the third.
    third = run([config_map(ns, "a", "1"), config_map(ns, "b", "2"), config_map(ns, "c", "3")], "--diff", json_output=False)
    assert third.returncode == 0, third.stdout[-3000:]
    assert diff_headers(third.stdout) == [f"ConfigMap {ns}/b", f"ConfigMap {ns}/c"]
    assert '+        "value": "2"' in third.stdout and '+        "value": "3"' in third.stdout
    now = cluster.config_maps()
    assert now["a"] == created["a"] and now["b"][1] == {"value": "2"} and now["c"][1] == {"value": "3"}


def test_check_mode_reports_changes_and_writes_nothing(run, cluster):
    ns = cluster.name
    assert run([config_map(ns, "a", "1")])["changed"] is True
    before = cluster.config_maps()

    checked = run([config_map(ns, "a", "2"), config_map(ns, "new", "1")], "--check", "--diff")
    assert checked["changed"] is True
    assert checked["results"] == [{"object": f"ConfigMap {ns}/a", "changed": True},
                                  {"object": f"ConfigMap {ns}/new", "changed": True}]
    diffs = {diff["before_header"]: diff for diff in checked["diff"]}
    assert diffs[f"ConfigMap {ns}/a"]["before"]["data"] == {"value": "1"}
    assert diffs[f"ConfigMap {ns}/a"]["after"]["data"] == {"value": "2"}
    assert diffs[f"ConfigMap {ns}/new"]["before"] == {}
    assert cluster.config_maps() == before


def test_check_mode_with_a_new_namespace_reports_it_and_its_objects_and_creates_nothing(run, cluster, kube_cluster):
    """A dry run cannot place an object in a namespace the same list creates: both are reported
    as ones that would be created, each with its diff, and nothing reaches the cluster."""
    new_ns = "k8sapply-new-" + uuid.uuid4().hex[:8]
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": new_ns}}
    mark = kube_cluster.audit_mark()
    checked = run([namespace, config_map(new_ns, "inside", "1")], "--check", "--diff")
    assert not checked.get("failed"), checked
    assert checked["changed"] is True
    assert checked["results"] == [{"object": f"Namespace {new_ns}", "changed": True},
                                  {"object": f"ConfigMap {new_ns}/inside", "changed": True}]
    diffs = {diff["before_header"]: diff for diff in checked["diff"]}
    assert set(diffs) == {f"Namespace {new_ns}", f"ConfigMap {new_ns}/inside"}
    assert diffs[f"Namespace {new_ns}"]["after"]["metadata"]["name"] == new_ns
    assert diffs[f"ConfigMap {new_ns}/inside"]["before"] == {}
    assert diffs[f"ConfigMap {new_ns}/inside"]["after"]["data"] == {"value": "1"}
    writes = [event for event in kube_cluster.write_events_since(mark) if "dryRun" not in event.get("requestURI", "")
              and new_ns in (event.get("objectRef", {}).get("namespace"), event.get("objectRef", {}).get("name"))]
    assert not writes, writes
    assert not cluster.core.list_namespace(field_selector=f"metadata.name={new_ns}").items

    # Without the Namespace in the list, a missing namespace stays an error.
    alone = run([config_map(new_ns, "inside", "1")], "--check")
    assert alone.get("failed") is True and "not found" in alone["msg"]


def test_absent_deletes_real_objects_and_skips_kinds_the_cluster_does_not_serve(run, cluster):
    ns = cluster.name
    assert run([config_map(ns, "keep", "1"), config_map(ns, "gone", "1")])["changed"] is True
    unknown = {"apiVersion": "nothing.example.com/v1", "kind": "NoSuchKind", "metadata": {"name": "x", "namespace": ns}}
    stub = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gone", "namespace": ns}}

    checked = run([stub, unknown], "--check", state="absent")
    assert checked["changed"] is True and not checked.get("failed")
    assert set(cluster.config_maps()) == {"keep", "gone"}

    removed = run([stub, unknown], "--diff", state="absent")
    assert not removed.get("failed"), removed
    assert removed["changed"] is True
    assert removed["results"] == [{"object": f"ConfigMap {ns}/gone", "changed": True},
                                  {"object": f"NoSuchKind {ns}/x", "changed": False}]
    assert [diff["before_header"] for diff in removed["diff"]] == [f"ConfigMap {ns}/gone"]
    assert removed["diff"][0]["after"] == {}
    assert set(cluster.config_maps()) == {"keep"}

    again = run([stub, unknown], state="absent")
    assert again["changed"] is False and not again.get("failed")

    only_unknown = run([unknown], state="absent")
    assert only_unknown["changed"] is False and not only_unknown.get("failed")


def test_a_misspelled_field_in_a_custom_resource_fails_with_the_servers_message(run, cluster):
    ns = cluster.name
    canary = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "canary", "namespace": ns},
              "spec": {"instances": 1, "storage": {"size": "1Gi"}, "enablePodMonitorr": True}}
    failed = run([config_map(ns, "a", "1"), canary])
    assert failed["failed"] is True
    assert "enablePodMonitorr" in failed["msg"]
    assert "field not declared in schema" in failed["msg"] or "unknown field" in failed["msg"], failed["msg"]
    assert not cluster.custom.list_namespaced_custom_object("postgresql.cnpg.io", "v1", ns, "clusters")["items"]


def test_a_secret_diff_names_its_keys_never_its_values(run, cluster):
    ns = cluster.name
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": ns},
              "stringData": {"kept": "first-plain-value", "changed": "second-plain-value"}}
    first = run([secret], "--diff", "-vvv", json_output=False)
    assert first.returncode == 0, first.stdout[-3000:]
    secret["stringData"]["changed"] = "third-plain-value"
    second = run([secret], "--diff", "-vvv", json_output=False)
    assert second.returncode == 0, second.stdout[-3000:]
    assert diff_headers(second.stdout) == [f"Secret {ns}/s"]
    assert '-        "changed": "VALUE_HIDDEN (old)",' in second.stdout, second.stdout[-3000:]
    assert '+        "changed": "VALUE_HIDDEN (new)",' in second.stdout
    assert '"kept": "VALUE_HIDDEN"' in second.stdout
    for output in (first.stdout + first.stderr, second.stdout + second.stderr):
        for value in ("first-plain-value", "second-plain-value", "third-plain-value"):
            assert value not in output
            assert base64.b64encode(value.encode()).decode() not in output


READ_PLAYBOOK = """\
- name: Exercise k8s_read
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read
      aiplatform.obot.k8s_read:
        queries: "{{ read_queries }}"
"""


def test_read_answers_each_query_by_name_in_one_task(cluster, tmp_path, run):
    ns = cluster.name
    assert run([config_map(ns, "a", "1"), config_map(ns, "b", "2")])["changed"] is True
    cluster.core.patch_namespaced_config_map("b", ns, {"metadata": {"labels": {"pick": "me"}}})
    playbook = tmp_path / "read.yml"
    playbook.write_text(READ_PLAYBOOK)
    queries = {
        "one": {"api_version": "v1", "kind": "ConfigMap", "namespace": ns, "name": "a"},
        "missing": {"api_version": "v1", "kind": "ConfigMap", "namespace": ns, "name": "nope"},
        "labelled": {"api_version": "v1", "kind": "ConfigMap", "namespace": ns, "label_selectors": ["pick=me"]},
        "all": {"api_version": "v1", "kind": "ConfigMap", "namespace": ns},
        "no_crd": {"api_version": "nothing.example.com/v1", "kind": "NoSuchKind", "namespace": ns, "name": "x"},
        "no_kind": {"api_version": "v1", "kind": "NoSuchKind", "namespace": ns, "name": "x"},
    }
    for check in ((), ("--check",)):
        result = run_playbook(playbook, *check, cwd=tmp_path, extra_vars={"read_queries": queries}, json_output=True).task_results()[0]
        assert result["changed"] is False and not result.get("failed"), result
        answers = result["results"]
        assert [obj["data"] for obj in answers["one"]["resources"]] == [{"value": "1"}]
        assert "managedFields" not in answers["one"]["resources"][0]["metadata"]
        assert answers["missing"] == {"api_found": True, "resources": []}
        assert [obj["metadata"]["name"] for obj in answers["labelled"]["resources"]] == ["b"]
        assert answers["labelled"]["resources"][0]["kind"] == "ConfigMap"
        assert {obj["metadata"]["name"] for obj in answers["all"]["resources"]} >= {"a", "b"}
        assert answers["no_crd"] == {"api_found": False, "resources": []}
        assert answers["no_kind"] == {"api_found": False, "resources": []}

    bad = run_playbook(playbook, cwd=tmp_path, extra_vars={"read_queries": {"broken": {"kind": "ConfigMap"}}}, json_output=True)
    failure = bad.task_results()[0]
    assert failure.get("failed") is True and "queries.broken" in failure["msg"] and "api_version" in failure["msg"], failure
