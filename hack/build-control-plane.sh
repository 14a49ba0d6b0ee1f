#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes),
# etcd (go.etcd.io/etcd/server/v3) and kwok (fake nodes; optional: a failed kwok
# build only warns) from the Go module proxy, and cache them under
# ~/.cache/aiplatform-obot/control-plane/<versions>/bin. Both modules carry
# `replace` lines, so `go install` refuses them: each is built from a small
# wrapper module that pins the replaced modules to their published tags.
# Prints the bin directory on the last line of stdout.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
CACHE_ROOT="${OBOT_CACHE_DIR:-$HOME/.cache/aiplatform-obot}"
OUT="$CACHE_ROOT/control-plane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION"
BIN="$OUT/bin"

K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler)
all_built() {
  local cmd
  for cmd in "${K8S_COMMANDS[@]}" etcd; do [[ -x "$BIN/$cmd" ]] || return 1; done
  # kwok is optional: after one failed attempt (marker file) do not retry on every start.
  [[ (-x "$BIN/kwok" && -f "$BIN/kwok-stages.yaml") || -e "$OUT/kwok.failed" ]]
}
if all_built; then
  echo "$BIN"; exit 0
fi
mkdir -p "$BIN" "$OUT/src"
# Test sessions may call this script at the same time: one builds, the others wait.
exec 9>"$OUT/build.lock"
flock 9
if all_built; then
  echo "$BIN"; exit 0
fi
export GOFLAGS="-mod=mod" CGO_ENABLED=0 GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

# Parallel compile jobs: the generated OpenAPI package needs a few GB per job.
build_flags=(-trimpath -p 2)

k8s_src="$OUT/src/k8s"
if [[ ! -x "$BIN/kube-apiserver" || ! -x "$BIN/kube-controller-manager" || ! -x "$BIN/kube-scheduler" ]]; then
  mkdir -p "$k8s_src"
  modfile="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
  staging_tag="v0.${K8S_VERSION#v1.}"
  {
    echo "module aiplatform.obot/controlplane"
    echo
    grep -E '^go ' "$modfile"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    grep -E '=> \./staging/' "$modfile" | awk -v tag="$staging_tag" '{print "replace " $1 " => " $1 " " tag}'
  } >"$k8s_src/go.mod"
  cat >"$k8s_src/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  (cd "$k8s_src" && go mod tidy -e >/dev/null 2>&1) || true
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  for cmd in "${K8S_COMMANDS[@]}"; do
    [[ -x "$BIN/$cmd" ]] && continue
    echo "building $cmd $K8S_VERSION (cold build takes several minutes)" >&2
    (cd "$k8s_src" && go build "${build_flags[@]}" -tags=selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$BIN/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv "$BIN/$cmd.tmp" "$BIN/$cmd"
  done
fi

if [[ ! -x "$BIN/etcd" ]]; then
  etcd_src="$OUT/src/etcd"
  mkdir -p "$etcd_src"
  modfile="$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
  {
    echo "module aiplatform.obot/etcd"
    echo
    grep -E '^go ' "$modfile"
    echo
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo
    grep -E '^\s*go\.etcd\.io/etcd/[^ ]+ => \.\./' "$modfile" | awk -v tag="$ETCD_VERSION" '{print "replace " $1 " => " $1 " " tag}'
  } >"$etcd_src/go.mod"
  cat >"$etcd_src/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  (cd "$etcd_src" && go mod tidy -e >/dev/null 2>&1) || true
  echo "building etcd $ETCD_VERSION" >&2
  (cd "$etcd_src" && go build "${build_flags[@]}" -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$BIN/etcd.tmp" "$BIN/etcd"
fi

# kwok has no replace lines: a plain `go install` works. Its stages (how fake nodes and
# pods change state) ship as YAML in the module: node-initialize + the "fast" pod stages
# (Ready at once; deleted pods go away, else they stay Terminating without a kubelet).
if [[ ! -x "$BIN/kwok" || ! -f "$BIN/kwok-stages.yaml" ]]; then
  echo "building kwok $KWOK_VERSION" >&2
  kwok_bin="$OUT/src/kwok-bin"
  if GOFLAGS="" GOBIN="$kwok_bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" &&
    kwok_dir="$(GOFLAGS="" go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"; then
    stages="$kwok_dir/kustomize/stage"
    for f in "$stages/node/fast/node-initialize.yaml" "$stages"/pod/fast/pod-{ready,complete,delete}.yaml; do
      cat "$f"; echo "---"
    done >"$BIN/kwok-stages.yaml.tmp"
    mv "$BIN/kwok-stages.yaml.tmp" "$BIN/kwok-stages.yaml"
    mv "$kwok_bin/kwok" "$BIN/kwok"
  else
    touch "$OUT/kwok.failed"
    echo "warning: kwok $KWOK_VERSION did not build; the cluster runs without fake nodes" >&2
  fi
fi
echo "$BIN"
