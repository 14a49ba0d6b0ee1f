"""The objects of a test's namespaces: create the namespaces a real cluster already has, and
snapshot their objects to prove a run created, deleted or changed nothing (used by the site
tests, the benchmarks and the reliability suite)."""

from __future__ import annotations

import time


def ensure_namespaces(client, names) -> None:
    """Create the namespaces that do not exist yet."""
    from kubernetes import client as k8s  # pylint: disable=import-outside-toplevel
    from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel

    core = k8s.CoreV1Api(client)
    for name in names:
        try:
            core.create_namespace({"metadata": {"name": name}})
        except ApiException as exc:
            if exc.status != 409:
                raise


def snapshot(client, namespaces) -> dict:
    """{(group/version, kind, namespace, name): (resourceVersion, uid)} of every object in
    ``namespaces``, plus the namespaces themselves and cluster-scoped objects whose name holds
    one of them. Events and Leases are left out (controllers write those)."""
    from kubernetes import dynamic  # pylint: disable=import-outside-toplevel
    from kubernetes.client.exceptions import ApiException  # pylint: disable=import-outside-toplevel

    dyn = dynamic.DynamicClient(client)
    found = {}
    for resource in dyn.resources.search():
        if ("list" not in (resource.verbs or []) or resource.kind in ("Event", "Lease") or resource.kind.endswith("List")
                or "/" in resource.name):
            continue
        for namespace in (namespaces if resource.namespaced else [None]):
            try:
                items = resource.get(namespace=namespace).to_dict().get("items", [])
            except ApiException:
                continue
            for item in items:
                meta = item["metadata"]
                if namespace is None and resource.kind != "Namespace" and not any(ns in meta["name"] for ns in namespaces):
                    continue
                if namespace is None and resource.kind == "Namespace" and meta["name"] not in namespaces:
                    continue
                key = (resource.group_version, resource.kind, meta.get("namespace"), meta["name"])
                found[key] = (meta["resourceVersion"], meta["uid"])
    return found


def wait_until_settled(client, namespaces, quiet: float = 4, timeout: float = 60) -> dict:
    """A snapshot taken once controllers stopped updating the objects (quota status, …)."""
    deadline = time.monotonic() + timeout
    previous = snapshot(client, namespaces)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        current = snapshot(client, namespaces)
        if current == previous:
            return current
        previous = current
    return previous


def moved(before: dict, after: dict) -> dict:
    """Objects created, deleted or whose resourceVersion moved between two snapshots."""
    return {
        "created": sorted(map(list, set(after) - set(before))),
        "deleted": sorted(map(list, set(before) - set(after))),
        "updated": sorted(list(key) for key in set(before) & set(after) if before[key] != after[key]),
    }
