"""The benchmark's floor: ONE Python process that server-side applies a list of objects with
the kubernetes client (field manager aiplatform.obot.bench), Namespaces first.

    python baseline_apply.py KUBECONFIG OBJECTS.json

Prints {"applied": n, "changed": n, "changed_objects": [...], "seconds": s} (seconds inside the process; the benchmark
times the whole process, interpreter start and imports included)."""

from __future__ import annotations

import json
import sys
import time

START = time.monotonic()

from kubernetes import config, dynamic  # noqa: E402  pylint: disable=wrong-import-position

FIELD_MANAGER = "aiplatform.obot.bench"


def main(kubeconfig: str, objects_file: str) -> int:
    with open(objects_file, encoding="utf-8") as handle:
        objects = json.load(handle)
    objects.sort(key=lambda obj: obj["kind"] != "Namespace")  # stable: keeps the roles' order otherwise
    client = dynamic.DynamicClient(config.new_client_from_config(config_file=kubeconfig))
    changed = []
    for obj in objects:
        resource = client.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        metadata = obj["metadata"]
        namespace = metadata.get("namespace") if resource.namespaced else None
        try:
            before = resource.get(name=metadata["name"], namespace=namespace).metadata.resourceVersion
        except dynamic.exceptions.NotFoundError:
            before = None
        after = resource.server_side_apply(body=obj, name=metadata["name"], namespace=namespace,
                                           field_manager=FIELD_MANAGER, force_conflicts=True)
        if after.metadata.resourceVersion != before:
            changed.append(f"{obj['kind']} {namespace or ''}/{metadata['name']}")
    print(json.dumps({"applied": len(objects), "changed": len(changed), "changed_objects": changed,
                      "seconds": time.monotonic() - START}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
