"""Fixtures of the reliability suite: one private control plane for the whole suite (its
kube-apiserver gets killed, so never the shared one) and one clean reference converge that
the other tests compare against."""

from __future__ import annotations

import pytest

from bench import harness
from reliability import support


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/reliability/" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def plane():
    with harness.private_plane("reliability-cluster") as started:
        yield started


@pytest.fixture(scope="session")
def reference(plane):
    """One clean cold converge at -vvvv --diff (its output is also checked for secrets), and the
    objects it left, namespaces replaced by placeholders."""
    names = support.isolated_names("rel-ref")
    support.prepare_namespaces(plane, names)
    run = support.converge(plane, names, "-vvvv", "--diff")
    assert run.returncode == 0, run.output[-6000:]
    objects = support.stack_objects(plane, names)
    assert {("Deployment", "NS", "obot"), ("Cluster", "NS", "obot-postgresql"), ("Secret", "NS", "obot-db-secret"),
            ("ResourceQuota", "MCP", "mcp-servers-quota")} <= set(objects), sorted(objects)
    return {"names": names, "run": run, "objects": objects}


@pytest.fixture(scope="session")
def sops_secrets():
    """Every secret of the example inventory, decrypted with the TEST age key."""
    return {name: value for name, value in harness.example_secrets().items() if value}
