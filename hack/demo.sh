#!/usr/bin/env bash
# `make demo`: the whole stack on this machine, twice. Starts the local Kubernetes control plane,
# the test Keycloak and the RustFS fake at the addresses the example inventory names, runs
# site.yml with the example inventory, runs it again and proves the second run changed nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.cache/venv/bin
LOGS=$ROOT/.cache/demo
mkdir -p "$LOGS"

export PATH="$BIN:$PATH"
export PYTHONPATH="$ROOT/tests"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections"
export SOPS_DISABLE_VERSION_CHECK=1
# The example secrets are encrypted to the TEST age key (public, in git): never use it for real secrets.
export SOPS_AGE_KEY_FILE="${SOPS_AGE_KEY_FILE:-$ROOT/tests/fixtures/age/test-key.txt}"
# community.sops decrypts group_vars/*/*.sops.yaml (same setting as ansible.cfg's vars_plugins_enabled).
export ANSIBLE_VARS_ENABLED="${ANSIBLE_VARS_ENABLED:-host_group_vars,community.sops.sops}"
# A loaded machine can take minutes to start Keycloak.
export KEYCLOAK_START_TIMEOUT="${KEYCLOAK_START_TIMEOUT:-600}"
export KUBECONFIG="$ROOT/.cache/cluster/kubeconfig" K8S_AUTH_KUBECONFIG="$ROOT/.cache/cluster/kubeconfig"

step() { printf '\n==> %s\n' "$*"; }

step "Local Kubernetes control plane (first start builds it: several minutes)"
"$BIN/python" -m testbed.controlplane up

step "Test Keycloak (127.0.0.1:18080) and RustFS fake (127.0.0.1:19000)"
"$BIN/python" -m testbed.demo up

step "Namespaces a real cluster already has (the Gateway's 'network', the shared 'ai-system')"
"$BIN/python" - <<'PY'
import os
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
core = client.CoreV1Api(config.new_client_from_config(config_file=os.environ["KUBECONFIG"]))
for name in ("network", "ai-system"):
    try:
        core.create_namespace({"metadata": {"name": name}})
        print(f"created namespace {name}")
    except ApiException as exc:
        if exc.status != 409:
            raise
        print(f"namespace {name} exists")
PY

# Runs site.yml; fails when the run fails; prints the recap.
converge() {
    local log=$1
    if ! ansible-playbook site.yml -i inventory/ >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "site.yml failed; full log: $log" >&2
        exit 1
    fi
    sed -n '/PLAY RECAP/,$p' "$log"
}

step "First run: ansible-playbook site.yml -i inventory/   (log: .cache/demo/first-run.log)"
converge "$LOGS/first-run.log"

step "Second run: must change nothing   (log: .cache/demo/second-run.log)"
converge "$LOGS/second-run.log"
if ! awk '/PLAY RECAP/ {recap = 1; next}
          recap && /changed=/ { hosts++; for (i = 1; i <= NF; i++) if ($i ~ /^(changed|failed|unreachable)=/ && $i !~ /=0$/) bad = 1 }
          END { exit (hosts == 0 || bad) }' "$LOGS/second-run.log"; then
    echo "FAILED: the second run changed something (see $LOGS/second-run.log)" >&2
    exit 1
fi
echo "OK: the second run changed nothing (changed=0 on every host)."

cat <<MSG

==> Look at the result (there is no kubectl here; the Python client or Ansible works):
  export KUBECONFIG=$KUBECONFIG
  $BIN/python -c "from kubernetes import client, config; config.load_kube_config(); [print(d.metadata.namespace, d.metadata.name) for d in client.AppsV1Api().list_deployment_for_all_namespaces().items]"
  ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH $BIN/ansible localhost -m kubernetes.core.k8s_info -a 'kind=ResourceQuota namespace=obot-mcp'
  Pods stay Pending: the local control plane runs no kubelet and no CloudNativePG operator.

==> Stop it:
  PYTHONPATH=tests $BIN/python -m testbed.demo down   # Keycloak and the RustFS fake
  make cluster-down                                      # the control plane
  ansible-playbook playbooks/teardown.yml -i inventory/  # or just remove what site.yml created (keeps the data)
MSG
