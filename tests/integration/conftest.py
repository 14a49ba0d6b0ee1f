"""Fixtures shared by the integration tests: the local Kubernetes control plane.

``kube_cluster`` reuses the control plane started with ``make cluster-up`` (state in
``.cache/cluster``). Otherwise it starts a private one for this pytest session (state in
``.cache/cluster-session-<pid>``, so parallel sessions do not stop each other's cluster)
and stops it at the end, also when tests fail or on Ctrl-C; its processes are tied to
pytest, so even a killed pytest leaves none behind. OBOT_CLUSTER_REUSE=0 forces a private
cluster even when the shared one runs.
"""

from __future__ import annotations

import os
import shutil

import pytest

from testbed.controlplane import REPO_ROOT, ControlPlane, ControlPlaneError

# One Keycloak per session for the module and the role tests.
from integration.keycloak_fixtures import admin_api, keycloak, proxy, realm  # pylint: disable=unused-import

SESSION_PREFIX = "cluster-session-"


def _remove_stale_session_dirs() -> None:
    """State of private clusters whose pytest was killed (its processes died with it)."""
    for path in (REPO_ROOT / ".cache").glob(SESSION_PREFIX + "*"):
        pid = path.name[len(SESSION_PREFIX):]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def kube_cluster():
    """The running ControlPlane; KUBECONFIG and K8S_AUTH_KUBECONFIG point at it."""
    plane = ControlPlane()
    started = False
    if os.environ.get("OBOT_CLUSTER_REUSE", "1") == "0" or not plane.is_up():
        _remove_stale_session_dirs()
        plane = ControlPlane(state_dir=REPO_ROOT / ".cache" / f"{SESSION_PREFIX}{os.getpid()}")
        try:
            started = plane.up(die_with_parent=True)
        except ControlPlaneError as exc:
            pytest.fail(f"the local Kubernetes control plane did not start: {exc}", pytrace=False)
    saved = {name: os.environ.get(name) for name in plane.env()}
    os.environ.update(plane.env())
    try:
        yield plane
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if started:
            plane.down()
            shutil.rmtree(plane.state, ignore_errors=True)


@pytest.fixture(scope="session")
def kube_api(kube_cluster):
    """A kubernetes.client.ApiClient with the admin kubeconfig."""
    from kubernetes import config  # pylint: disable=import-outside-toplevel

    client = config.new_client_from_config(config_file=str(kube_cluster.kubeconfig))
    yield client
    client.close()
