#!/usr/bin/env bash
# Build cert-manager's controller and cainjector (controller/, cainjector/: our
# own main packages over the pinned github.com/cert-manager/cert-manager
# module) and copy the cert-manager.io CRDs out of that module's source, for the
# one-node cluster (test/node/up.sh, test/node/cluster/leader.test.ts).
#
# Output goes outside the repository, to $TOLLGATE_BIN_CACHE/cert-manager-<key>/
# (default ~/.cache/tollgate/bin/), keyed by go.mod, go.sum and this script
# (test/e2e/controlplane/bin-dir.sh) plus the main packages' sources, shared by
# every clone:
#   controller, cainjector   static binaries
#   crds/*.yaml              the CustomResourceDefinitions of that release
# The directory is printed last; `build.sh --print-dir` prints only that.
#
# Usage: test/node/cert-manager/build.sh [--force]
# Env: GO (go command), BUILD_JOBS (go build -p).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
base="$("$here/../../e2e/controlplane/bin-dir.sh" "$here" cert-manager)"
sources="$(cat "$here"/controller/*.go "$here"/cainjector/*.go | sha256sum | cut -c1-8)"
bin_dir="$base-$sources"
force=0
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

read -r version module_dir < <("$go_cmd" list -m -f '{{.Version}} {{.Dir}}' github.com/cert-manager/cert-manager)
if [ -z "$module_dir" ]; then
  "$go_cmd" mod download github.com/cert-manager/cert-manager
  read -r version module_dir < <("$go_cmd" list -m -f '{{.Version}} {{.Dir}}' github.com/cert-manager/cert-manager)
fi
# cert-manager reports its version in its User-Agent.
ldflags="-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=$version"
echo "cert-manager: $version ($("$go_cmd" env GOVERSION), -p $jobs) -> $bin_dir"

for name in controller cainjector; do
  out="$bin_dir/$name"
  if [ "$force" != 1 ] && [ -x "$out" ]; then
    echo "  $name: up to date"
    continue
  fi
  t0=$SECONDS
  tmp="$bin_dir/.$name.tmp.$$"
  if ! "$go_cmd" build -p "$jobs" -trimpath -ldflags="$ldflags" -o "$tmp" "./$name"; then
    rm -f "$tmp"
    echo "  FAILED: $name after $((SECONDS - t0))s" >&2
    exit 1
  fi
  mv -f "$tmp" "$out"
  echo "  built $name in $((SECONDS - t0))s"
done

# Only the cert-manager.io group: the ACME kinds (Orders, Challenges) belong to
# control loops this build leaves out.
if [ "$force" = 1 ] || [ ! -d "$bin_dir/crds" ]; then
  rm -rf "$bin_dir/.crds.tmp"
  mkdir -p "$bin_dir/.crds.tmp"
  cp "$module_dir"/deploy/crds/cert-manager.io_*.yaml "$bin_dir/.crds.tmp/"
  chmod 0644 "$bin_dir"/.crds.tmp/*.yaml
  rm -rf "$bin_dir/crds"
  mv "$bin_dir/.crds.tmp" "$bin_dir/crds"
  echo "  crds: $(cd "$bin_dir/crds" && echo *.yaml)"
fi
echo "$bin_dir"
