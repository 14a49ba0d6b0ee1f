"""`make bench`: site.yml against its floor, on a private local control plane.

One run, side by side:
- baseline: the objects the roles produce (written by playbooks/render.yml with the same
  settings, into namespaces of their own) server-side applied by ONE Python process with the
  kubernetes client — the floor; applied again for the floor of a re-run;
- site.yml cold converge, then no-op re-runs;
- API requests per run from the audit log (reads, writes, and no-op writes that changed an
  object: resourceVersions compared before and after);
- peak RSS of the ansible-playbook process tree;
- what bounds the no-op time: ansible-playbook start-up, the cost of one Kubernetes task (the
  collection's in-controller k8s_read against a kubernetes.core.k8s_info module run), and the
  tasks per role.

Settings: the example inventory (SOPS secrets, TEST age key) with Keycloak and RustFS switched
off and no waits (see harness.OFFLINE_SETTINGS). Results: .cache/bench/<timestamp>.json and
.cache/bench/latest.json; a table is printed (run pytest with -s to see it).
OBOT_BENCH_NOOP_RUNS (default 2) sets how many no-op re-runs are timed (the median counts).
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import sys

import pytest
import yaml

from bench import harness
from testbed.snapshots import ensure_namespaces, moved, wait_until_settled

BENCH_DIR = harness.ROOT / ".cache" / "bench"
BASELINE_NAMESPACES = {"obot_namespace": "bench-base", "obot_mcp_namespace": "bench-base-mcp",
                       "obot_gateway_namespace": "bench-base-gw"}
TEST_AGE_RECIPIENT = "age19psrmktmkg4lq2l8dv02lsg6dck68g52ym8r40yypth2n9c2wvvqgfa464"  # tests/fixtures/age
K8S_ACTIONS = ("kubernetes.core.", "aiplatform.obot.k8s_")
TARGET_NOOP_RATIO = 4.0

pytestmark = pytest.mark.cluster


def render_objects(tmp_path, env) -> list:
    """Every object the roles would apply, from playbooks/render.yml (Secrets decrypted)."""
    out = tmp_path / "rendered"
    extra = harness.write_extra_vars(tmp_path / "render-extra.json", **BASELINE_NAMESPACES)
    run = harness.run_ansible(["ansible-playbook", "playbooks/render.yml", "-i", str(harness.INVENTORY), "-e", f"@{extra}",
                               "-e", f"obot_render_dir={out}", "-e", f"obot_render_age_recipient={TEST_AGE_RECIPIENT}"], env)
    assert run.returncode == 0, run.output[-5000:]
    objects = []
    for path in sorted(out.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        objects.append(harness.decrypt_file(path) if path.name.endswith(".sops.yaml") else yaml.safe_load(path.read_text()))
    return objects


def timed_baseline(plane, objects_file) -> harness.Run:
    script = harness.ROOT / "tests" / "bench" / "baseline_apply.py"
    run = harness.run_ansible(["python", str(script), str(plane.kubeconfig), str(objects_file)], harness.ansible_env(plane.kubeconfig))
    assert run.returncode == 0, run.output[-5000:]
    return run


def task_breakdown(report: dict) -> dict:
    """Count and total seconds of the tasks that ran (not skipped), split into Kubernetes module
    runs and the rest, per role."""
    roles = {}
    for play in report.get("plays", []):
        for task in play["tasks"]:
            results = list(task["hosts"].values())
            if not results or all(r.get("skipped") for r in results):
                continue
            duration = task["task"].get("duration", {})
            try:
                start = datetime.datetime.fromisoformat(duration["start"].replace("Z", "+00:00"))
                end = datetime.datetime.fromisoformat(duration["end"].replace("Z", "+00:00"))
            except (KeyError, ValueError):
                continue
            seconds = (end - start).total_seconds()
            name = task["task"]["name"]
            role = name.split(" : ", 1)[0] if " : " in name else "(play)"
            action = results[0].get("action", "")
            kind = "k8s" if action.startswith(K8S_ACTIONS) else "other"
            entry = roles.setdefault(role, {"k8s_tasks": 0, "k8s_s": 0.0, "other_tasks": 0, "other_s": 0.0})
            entry[f"{kind}_tasks"] += 1
            entry[f"{kind}_s"] = round(entry[f"{kind}_s"] + seconds, 2)
    return roles


def fixed_costs(tmp_path, env, tasks: int = 5) -> dict:
    """ansible-playbook start-up with the example inventory (SOPS vars plugin included), and the
    cost per task of reading one object with a kubernetes.core.k8s_info module run (a new Python,
    the client imported, API discovery) versus the collection's k8s_read (in the controller),
    and of a task that does nothing (ansible.builtin.debug). Each playbook repeats its task
    ``tasks`` times; the best of two runs counts."""
    head = "- hosts: obot\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: {msg: \"{{ obot_namespace }}\"}\n"
    module = "    - kubernetes.core.k8s_info: {api_version: v1, kind: Namespace, name: default}\n"
    action = "    - aiplatform.obot.k8s_read: {queries: {ns: {api_version: v1, kind: Namespace, name: default}}}\n"
    empty = "    - ansible.builtin.debug: {msg: x}\n"
    books = {"startup": head, "module": head + module * tasks, "action": head + action * tasks, "empty": head + empty * tasks}
    best = {}
    for name, text in books.items():
        path = tmp_path / f"{name}.yml"
        path.write_text(text)
        runs = [harness.run_ansible(["ansible-playbook", str(path), "-i", str(harness.INVENTORY)], env) for _attempt in range(2)]
        for run in runs:
            assert run.returncode == 0, run.output[-3000:]
        best[name] = min(run.seconds for run in runs)
    return {"ansible_startup_s": round(best["startup"], 2),
            "k8s_module_run_s": round((best["module"] - best["startup"]) / tasks, 2),
            "k8s_read_task_s": round((best["action"] - best["startup"]) / tasks, 3),
            "empty_task_s": round((best["empty"] - best["startup"]) / tasks, 3)}


def site(plane, extra, env, json_report=True) -> tuple:
    mark = plane.audit_mark()
    run = harness.run_ansible(["ansible-playbook", "site.yml", "-i", str(harness.INVENTORY), "-e", f"@{extra}"], env,
                              json_report=json_report)
    events = plane.audit_events_since(mark)
    return run, events


def print_table(result: dict) -> None:
    rows = [
        ("baseline (1 Python process, SSA)", f"{result['baseline_s']:.2f} s", _req(result["requests_baseline"])),
        ("baseline re-apply", f"{result['baseline_reapply_s']:.2f} s", _req(result["requests_baseline_reapply"])),
        ("site.yml cold converge", f"{result['cold_s']:.2f} s", _req(result["requests_cold"])),
        ("site.yml no-op re-run (median)", f"{result['noop_s']:.2f} s", _req(result["requests_noop"])),
        ("cold / baseline", f"{result['cold_ratio']:.1f}x", ""),
        ("no-op / baseline", f"{result['noop_ratio']:.1f}x", f"target <= {TARGET_NOOP_RATIO:.0f}x"),
        ("no-op / baseline re-apply", f"{result['noop_ratio_vs_reapply']:.1f}x", ""),
        ("no-op writes that changed something", str(result["noop_changing_writes"]), "target 0"),
        ("peak RSS ansible-playbook tree", f"{result['peak_rss_mb']:.0f} MiB", ""),
        ("ansible-playbook start-up", f"{result['bounds']['ansible_startup_s']:.2f} s", ""),
        ("one kubernetes.core.k8s_info task", f"{result['bounds']['k8s_module_run_s']:.2f} s", "a module run"),
        ("one aiplatform.obot.k8s_read task", f"{result['bounds']['k8s_read_task_s']:.3f} s", "in the controller"),
        ("one task doing nothing", f"{result['bounds']['empty_task_s']:.3f} s", "ansible.builtin.debug"),
        ("Kubernetes tasks in a no-op", str(result["bounds"]["noop_k8s_tasks"]),
         f"{result['bounds']['noop_k8s_s']:.1f} s of {result['noop_s']:.1f} s"),
        ("other tasks in a no-op", str(result["bounds"]["noop_other_tasks"]),
         f"{result['bounds']['noop_other_s']:.1f} s of {result['noop_s']:.1f} s"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'metric'.ljust(width)}  {'value':>10}  requests / note", file=sys.stderr)
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>10}  {note}", file=sys.stderr)
    print(f"(machine {result['machine']}; results in {BENCH_DIR / 'latest.json'})", file=sys.stderr)


def _req(counts: dict) -> str:
    return f"{counts['reads']} reads ({counts['discovery']} discovery), {counts['writes']} writes" + (
        f", {counts['dry_run_writes']} dry-run" if counts.get("dry_run_writes") else "")


def test_bench(tmp_path):
    machine = harness.machine_info()
    noop_runs = int(os.environ.get("OBOT_BENCH_NOOP_RUNS", "2"))
    with harness.private_plane("bench-cluster") as plane:
        client = harness.api_client(plane)
        ensure_namespaces(client, list(harness.PREEXISTING_NAMESPACES)
                          + [BASELINE_NAMESPACES["obot_namespace"], BASELINE_NAMESPACES["obot_gateway_namespace"]])
        env = harness.ansible_env(plane.kubeconfig)

        # The floor: the roles' objects (rendered with the same settings) in namespaces of their own.
        objects = render_objects(tmp_path, env)
        objects_file = tmp_path / "objects.json"
        objects_file.write_text(json.dumps(objects))
        mark = plane.audit_mark()
        baseline = timed_baseline(plane, objects_file)
        requests_baseline = harness.request_counts(plane.audit_events_since(mark))
        mark = plane.audit_mark()
        reapply = timed_baseline(plane, objects_file)
        requests_reapply = harness.request_counts(plane.audit_events_since(mark))
        # (a controller updating status between the GET and the apply also moves a resourceVersion)
        reapply_changed = json.loads(reapply.stdout)["changed_objects"]

        extra = harness.write_extra_vars(tmp_path / "site-extra.json")
        cold, cold_events = site(plane, extra, env)
        assert cold.returncode == 0, cold.output[-6000:]
        stats = harness.recap_from_report(cold.report)
        assert stats and all(s["failures"] == 0 for s in stats.values()), stats

        noops = []
        for _attempt in range(noop_runs):
            before = wait_until_settled(client, harness.STACK_NAMESPACES)
            run, events = site(plane, extra, env)
            after = wait_until_settled(client, harness.STACK_NAMESPACES)
            assert run.returncode == 0, run.output[-6000:]
            noops.append((run, events, moved(before, after)))
        costs = fixed_costs(tmp_path, env)
        server_versions = harness.versions(client)
        client.close()

    noop_run, noop_events, noop_moved = noops[len(noops) // 2]
    noop_s = statistics.median(noop[0].seconds for noop in noops)
    # A write that changed something moves a resourceVersion: count the written objects that moved.
    written = {(target[2], target[1]) for target in harness.write_targets(noop_events)}
    changing = [key for key in noop_moved["updated"] + noop_moved["created"] + noop_moved["deleted"] if (key[3], key[2]) in written]
    breakdown = task_breakdown(noop_run.report)
    result = {
        "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "baseline_source": "playbooks/render.yml (same settings, namespaces renamed to bench-base*), Secrets decrypted",
        "objects": len(objects),
        "baseline_s": round(baseline.seconds, 2),
        "baseline_reapply_s": round(reapply.seconds, 2),
        "baseline_reapply_moved": reapply_changed,
        "cold_s": round(cold.seconds, 2),
        "noop_s": round(noop_s, 2),
        "noop_runs_s": [round(noop[0].seconds, 2) for noop in noops],
        "cold_ratio": round(cold.seconds / baseline.seconds, 2),
        "noop_ratio": round(noop_s / baseline.seconds, 2),
        "noop_ratio_vs_reapply": round(noop_s / reapply.seconds, 2),
        "noop_changing_writes": len(changing),
        "noop_changed_objects": changing,
        "noop_moved_by_anyone": noop_moved,
        "noop_write_requests": sorted(f"{verb} {resource} {namespace or ''}/{name}"
                                      for resource, namespace, name, verb in harness.write_targets(noop_events)),
        "noop_changed_tasks": sum(s["changed"] for s in harness.recap_from_report(noop_run.report).values()),
        "requests_baseline": requests_baseline,
        "requests_baseline_reapply": requests_reapply,
        "requests_cold": harness.request_counts(cold_events),
        "requests_noop": harness.request_counts(noop_events),
        "peak_rss_mb": round(max([cold.peak_rss_mb] + [noop[0].peak_rss_mb for noop in noops]), 1),
        "peak_rss_mb_baseline": round(baseline.peak_rss_mb, 1),
        "bounds": dict(costs, per_role=breakdown,
                       noop_k8s_tasks=sum(r["k8s_tasks"] for r in breakdown.values()),
                       noop_k8s_s=round(sum(r["k8s_s"] for r in breakdown.values()), 2),
                       noop_other_tasks=sum(r["other_tasks"] for r in breakdown.values()),
                       noop_other_s=round(sum(r["other_s"] for r in breakdown.values()), 2)),
        "targets": {"noop_ratio_le_4": noop_s / baseline.seconds <= TARGET_NOOP_RATIO, "noop_changing_writes_0": not changing},
        "settings": dict(harness.OFFLINE_SETTINGS, inventory="inventory/ (example, SOPS)"),
        "machine": dict(machine, load_average_at_end=[round(x, 2) for x in os.getloadavg()]),
        "versions": server_versions,
    }
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, default=str)
    (BENCH_DIR / f"{result['timestamp'].replace(':', '')}.json").write_text(text)
    (BENCH_DIR / "latest.json").write_text(text)
    print_table(result)

    assert result["noop_changed_tasks"] == 0, "the no-op re-run reported changes"
    assert not changing, f"the no-op re-run changed objects: {changing}"
