#!/usr/bin/env bash
# Build helm, kustomize and promtool for the chart, deploy and monitoring tests.
#
# Versions come from go.mod / go.sum in this directory (helm.sh/helm/v4,
# sigs.k8s.io/kustomize/kustomize/v5, github.com/prometheus/prometheus); bump
# them there with `go get -tool MODULE@VERSION`, not here. Binaries are written
# outside the repository, to $TOLLGATE_BIN_CACHE/tools-<key>/ (default
# ~/.cache/tollgate/bin/), keyed like the control plane's (see
# test/e2e/controlplane/bin-dir.sh): every clone and worktree with the same pins
# shares one build. The path of the binaries is printed last;
# `build.sh --print-dir` prints only that path.
#
# Usage: test/deploy/tools/build.sh [--force]
# Env: GO (go command), BUILD_JOBS (go build -p, default: number of CPUs)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="$("$here/../../e2e/controlplane/bin-dir.sh" "$here" tools)"

force="${FORCE:-0}"
for arg in "$@"; do
  case "$arg" in
    --print-dir) echo "$bin_dir"; exit 0 ;;
    --force|-f) force=1 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

go_cmd="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[ -x "$go_cmd" ] || { echo "build.sh: no Go toolchain found (set GO=/path/to/go)" >&2; exit 1; }
jobs="${BUILD_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}"

mkdir -p "$bin_dir"
cd "$here"
export CGO_ENABLED=0

version() { "$go_cmd" list -m -f '{{.Version}}' "$1"; }
helm_version="$(version helm.sh/helm/v4)"
prom_version="$(version github.com/prometheus/prometheus)"
kustomize_version="$(version sigs.k8s.io/kustomize/kustomize/v5)"

# build NAME PACKAGE LDFLAGS: to a temporary name, renamed into place only when
# complete, so an interrupted build never leaves a binary that looks done.
build() {
  local name="$1" pkg="$2" ldflags="$3" out="$bin_dir/$1"
  if [ "$force" != 1 ] && [ -x "$out" ]; then
    echo "  $name: up to date, skipped"
    return 0
  fi
  echo "  building $name ($pkg)..."
  local t0=$SECONDS tmp="$bin_dir/.$name.tmp.$$"
  if ! "$go_cmd" build -p "$jobs" -trimpath -ldflags="$ldflags" -o "$tmp" "$pkg"; then
    rm -f "$tmp"
    echo "  FAILED: $name after $((SECONDS - t0))s" >&2
    return 1
  fi
  mv -f "$tmp" "$out"
  echo "  built $name in $((SECONDS - t0))s"
}

echo "tools: helm $helm_version, kustomize $kustomize_version, promtool $prom_version ($("$go_cmd" env GOVERSION), -p $jobs)"
echo "output: $bin_dir"
start=$SECONDS
build helm helm.sh/helm/v4/cmd/helm "-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version"
build kustomize sigs.k8s.io/kustomize/kustomize/v5 "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=$kustomize_version"
# Prometheus tags v3.16.0 as module version v0.316.0.
prom_release="${prom_version#v0.}"
prom_release="${prom_release:0:1}.${prom_release:1}"
build promtool github.com/prometheus/prometheus/cmd/promtool "-s -w -X github.com/prometheus/common/version.Version=$prom_release"
echo "done in $((SECONDS - start))s:"
for name in helm kustomize promtool; do
  printf '  %s\n' "$bin_dir/$name"
done
