#!/usr/bin/env bash
# Build kubelet, kube-controller-manager and kube-scheduler for the one-node
# cluster of `npm run node:up`, from the same k8s.io/kubernetes release as the
# control plane in test/e2e/controlplane (test/node/versions.test.ts checks
# that the two go.mod files agree on every module they share).
#
# Binaries go outside the repository, to $TOLLGATE_BIN_CACHE/node-<key>/
# (default ~/.cache/tollgate/bin/), keyed by go.mod, go.sum and this script
# (see test/e2e/controlplane/bin-dir.sh), and are shared by every clone. The
# path is printed last; `build.sh --print-dir` prints only that path.
#
# Usage: test/node/build.sh [--force]
# Env: GO (go command), BUILD_JOBS (go build -p).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="$("$here/../e2e/controlplane/bin-dir.sh" "$here" node)"
force="${FORCE:-0}"
for arg in "$@"; do
  case "$arg" in
    --print-dir) echo "$bin_dir"; exit 0 ;;
    --force|-f) force=1 ;;
    *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

go_cmd="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[ -x "$go_cmd" ] || { echo "build.sh: no Go toolchain found (set GO=/path/to/go)" >&2; exit 1; }
jobs="${BUILD_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}"
mkdir -p "$bin_dir"
cd "$here"
export CGO_ENABLED=0

read -r version stamp < <("$go_cmd" list -m -f '{{.Version}} {{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
major="${version#v}"; major="${major%%.*}"
minor="${version#v*.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitCommit= -X $pkg.gitTreeState=archive -X $pkg.buildDate=$stamp"
done
echo "node: kubernetes $version ($("$go_cmd" env GOVERSION), -p $jobs) -> $bin_dir"

for name in kubelet kube-controller-manager kube-scheduler; do
  out="$bin_dir/$name"
  if [ "$force" != 1 ] && [ -x "$out" ]; then
    echo "  $name: up to date"
    continue
  fi
  t0=$SECONDS
  tmp="$bin_dir/.$name.tmp.$$"
  if ! "$go_cmd" build -p "$jobs" -trimpath -ldflags="$ldflags" -o "$tmp" "k8s.io/kubernetes/cmd/$name"; then
    rm -f "$tmp"
    echo "  FAILED: $name after $((SECONDS - t0))s" >&2
    exit 1
  fi
  mv -f "$tmp" "$out"
  echo "  built $name in $((SECONDS - t0))s"
done
echo "$bin_dir"
