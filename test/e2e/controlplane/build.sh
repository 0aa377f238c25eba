#!/usr/bin/env bash
# Build etcd, kube-apiserver and kubectl for the loopback e2e control plane.
#
# Versions come from go.mod / go.sum in this directory (k8s.io/kubernetes and
# go.etcd.io/etcd/server/v3); bump them there, not here. Binaries are written
# outside the repository, to $TOLLGATE_BIN_CACHE/<key>/ (default
# ~/.cache/tollgate/bin/<key>/), where <key> is a hash of go.mod, go.sum and
# this script: every clone and worktree with the same pins shares one build,
# and a fresh clone in CI reuses it. Go's usual module and build caches are
# used (`go env GOMODCACHE` / `go env GOCACHE`). The path of the binaries is
# printed last; `build.sh --print-dir` prints only that path.
#
# Usage: test/e2e/controlplane/build.sh [--force]
#   --force / FORCE=1   rebuild even if the binaries look up to date
# Env:
#   GO         go command to use (default: `go` on PATH, else /usr/local/go/bin/go)
#   BUILD_JOBS value for `go build -p` (default: number of CPUs, at most 2..4)
#
# A binary is skipped when it exists in the keyed directory (it is renamed into
# place only after a complete build). Only the module proxy is needed: go.sum
# is committed, so `go build` runs with the default -mod=readonly.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
e2e_dir="$(dirname "$here")"
bin_dir="$("$here/bin-dir.sh")"
# The state directory's bin/ is a link to the shared build, so scripts and tests
# keep finding <run dir>/bin/kubectl.
run_dir="${TOLLGATE_E2E_RUN_DIR:-$e2e_dir/.run}"

force="${FORCE:-0}"
for arg in "$@"; do
  case "$arg" in
    --print-dir) echo "$bin_dir"; exit 0 ;;
    --force|-f) force=1 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [ -n "${GO:-}" ]; then
  go_cmd="$GO"
elif command -v go >/dev/null 2>&1; then
  go_cmd="$(command -v go)"
elif [ -x /usr/local/go/bin/go ]; then
  go_cmd=/usr/local/go/bin/go
else
  echo "build.sh: no Go toolchain found (set GO=/path/to/go)" >&2
  exit 1
fi

cpus="$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
jobs="${BUILD_JOBS:-$cpus}"

mkdir -p "$bin_dir" "$run_dir"
if [ "$(readlink "$run_dir/bin" 2>/dev/null)" != "$bin_dir" ]; then
  rm -rf "$run_dir/bin"
  ln -s "$bin_dir" "$run_dir/bin"
fi
cd "$here"

export CGO_ENABLED=0

# Read the pinned versions from the module graph so ldflags always match go.mod.
# The release timestamp from the module proxy doubles as a deterministic build
# date (a wall-clock date would make every build relink).
read -r k8s_version k8s_time < <("$go_cmd" list -m -f '{{.Version}} {{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
read -r etcd_version < <("$go_cmd" list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)

k8s_major="${k8s_version#v}"; k8s_major="${k8s_major%%.*}"
k8s_minor="${k8s_version#v*.}"; k8s_minor="${k8s_minor%%.*}"

k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version"
  k8s_ldflags+=" -X $pkg.gitMajor=$k8s_major"
  k8s_ldflags+=" -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitCommit="
  k8s_ldflags+=" -X $pkg.gitTreeState=archive"
  k8s_ldflags+=" -X $pkg.buildDate=$k8s_time"
done
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=none-go-module-$etcd_version"

echo "control plane: kubernetes $k8s_version, etcd $etcd_version ($("$go_cmd" env GOVERSION), -p $jobs)"
echo "output: $bin_dir"

start_all=$SECONDS

# build NAME PACKAGE LDFLAGS HINT
build() {
  local name="$1" pkg="$2" ldflags="$3" hint="$4"
  local out="$bin_dir/$name"
  if [ "$force" != 1 ] && [ -x "$out" ]; then
    echo "  $name: up to date, skipped"
    return 0
  fi
  echo "  building $name ($hint)..."
  local t0=$SECONDS
  # Build to a temp name and rename, so an interrupted build never leaves a
  # half-written binary that the freshness check above would accept.
  local tmp="$bin_dir/.$name.tmp.$$"
  if ! "$go_cmd" build -p "$jobs" -trimpath -ldflags="$ldflags" -o "$tmp" "$pkg"; then
    rm -f "$tmp"
    echo "  FAILED: $name after $((SECONDS - t0))s" >&2
    return 1
  fi
  mv -f "$tmp" "$out"
  echo "  built $name in $((SECONDS - t0))s"
}

build etcd go.etcd.io/etcd/server/v3 "$etcd_ldflags" "first build takes a few minutes"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags" "first build can take 10+ minutes"
build kubectl k8s.io/kubernetes/cmd/kubectl "$k8s_ldflags" "reuses most of kube-apiserver's packages"

echo "done in $((SECONDS - start_all))s:"
for name in etcd kube-apiserver kubectl; do
  printf '  %s\n' "$bin_dir/$name"
done
