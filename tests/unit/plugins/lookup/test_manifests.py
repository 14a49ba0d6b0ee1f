"""The manifests lookup: the objects a role's template renders, includes followed, empty
documents left out, rendered values never templated again."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.aiplatform.obot.plugins.lookup.manifests import LookupModule


@pytest.fixture(name="role")
def fixture_role(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "all.yml.j2").write_text(
        "{#- the objects of a task -#}\n{% include 'namespace.yml.j2' %}\n\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: {{ ns }}}\ndata: {value: {{ value | to_json }}}\n---\n")
    (templates / "namespace.yml.j2").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{ ns }}\n")
    (templates / "empty.yml.j2").write_text("{% if false %}\nkind: Nothing\n{% endif %}\n")
    return tmp_path


def query(role, *terms, **variables):
    loader = DataLoader()
    lookup = LookupModule(loader=loader, templar=Templar(loader=loader))
    return lookup.run(list(terms), variables=dict(variables, ansible_search_path=[str(role)]))


def test_a_template_gives_its_objects_in_order_with_includes(role):
    objects = query(role, "all.yml.j2", ns="ai", value="plain")
    assert objects == [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ai"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "ai"}, "data": {"value": "plain"}},
    ]


def test_several_templates_make_one_list_and_empty_documents_are_dropped(role):
    assert [obj["kind"] for obj in query(role, "namespace.yml.j2", "empty.yml.j2", "all.yml.j2", ns="ai", value="v")] == [
        "Namespace", "Namespace", "ConfigMap"]
    assert not query(role, "empty.yml.j2")


def test_a_rendered_value_is_data_not_a_template(role):
    (obj,) = [o for o in query(role, "all.yml.j2", ns="ai", value="{{ lookup('env', 'HOME') }}") if o["kind"] == "ConfigMap"]
    assert obj["data"]["value"] == "{{ lookup('env', 'HOME') }}"


def test_a_missing_template_is_named(role):
    with pytest.raises(AnsibleError, match="nope.yml.j2"):
        query(role, "nope.yml.j2")
