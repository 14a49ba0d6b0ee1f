"""What k8s_apply counts as a change and what its diffs show (the API calls themselves are
exercised against the local control plane in tests/integration/k8s_apply)."""

from __future__ import annotations

import json

from ansible_collections.aiplatform.obot.plugins.action.k8s_apply import HIDDEN, LAST_APPLIED, comparable, identity, shown


def config_map(value, resource_version="1", time="2026-12-04T10:00:00Z", status=None):
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "a", "namespace": "ns", "resourceVersion": resource_version,
                        "managedFields": [{"manager": "aiplatform.obot", "operation": "Apply", "time": time,
                                           "fieldsV1": {"f:data": {"f:value": {}}}}]},
           "data": {"value": value}}
    if status is not None:
        obj["status"] = status
    return obj


def test_status_resource_version_and_managed_field_times_are_no_change():
    before = config_map("1", status={"phase": "old"})
    after = config_map("1", resource_version="2", time="2026-12-04T11:00:00Z", status={"phase": "new"})
    assert comparable(before) == comparable(after)


def test_data_and_field_ownership_are_changes():
    assert comparable(config_map("1")) != comparable(config_map("2"))
    taken_over = config_map("1")
    taken_over["metadata"]["managedFields"][0]["manager"] = "kubectl"
    assert comparable(config_map("1")) != comparable(taken_over)


def test_comparable_leaves_the_object_alone():
    obj = config_map("1", status={"phase": "x"})
    text = json.dumps(obj, sort_keys=True)
    comparable(obj)
    assert json.dumps(obj, sort_keys=True) == text


def secret(data, last_applied=None):
    metadata = {"name": "s", "namespace": "ns", "managedFields": [{"manager": "m"}]}
    if last_applied:
        metadata["annotations"] = {LAST_APPLIED: last_applied, "keep": "me"}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "data": data}


def test_a_secret_diff_shows_keys_never_values():
    before = secret({"same": "c2FtZQ==", "old": "b2xk"}, last_applied='{"data": {"same": "c2FtZQ=="}}')
    after = secret({"same": "c2FtZQ==", "old": "bmV3", "added": "YWRkZWQ="})
    shown_before, shown_after = shown(before, after, "old"), shown(after, before, "new")
    assert shown_before["data"] == {"same": HIDDEN, "old": HIDDEN + " (old)"}
    assert shown_after["data"] == {"same": HIDDEN, "old": HIDDEN + " (new)", "added": HIDDEN + " (new)"}
    assert shown_before["metadata"]["annotations"] == {LAST_APPLIED: HIDDEN, "keep": "me"}
    text = json.dumps([shown_before, shown_after])
    for value in ("c2FtZQ==", "b2xk", "bmV3", "YWRkZWQ="):
        assert value not in text
    assert before["data"]["old"] == "b2xk", "shown() must not change the object it was given"


def test_a_diff_leaves_managed_fields_out_and_shows_other_kinds_as_they_are():
    obj = config_map("1")
    assert shown(obj) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "ns", "resourceVersion": "1"},
                          "data": {"value": "1"}}
    assert shown(None) == {} and shown({}) == {}


def test_a_removal_names_the_object_only():
    assert identity(secret({"k": "dmFsdWU="})) == {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}
