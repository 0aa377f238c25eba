#!/usr/bin/env bash
# Builds the small Go program in a module directory of this repository and
# prints the path of its binary. The binary lives outside the repository, in
# $TOLLGATE_BIN_CACHE (default ~/.cache/tollgate/bin) under <name>-<key>/,
# where <key> hashes the module's go.mod, go.sum and *.go files and this
# script: a change of pins or code gets its own build, and every clone and
# worktree with the same sources shares one (like test/e2e/controlplane).
# Go's usual module and build caches are used; go.sum is committed, so only
# the module proxy is needed.
#
# Usage: test/support/go-tool.sh <module dir> <name>
# Env:   GO  go command (default: `go` on PATH, else /usr/local/go/bin/go)
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: go-tool.sh <module dir> <name>" >&2
  exit 2
fi
module="$(cd "$1" && pwd)"
name="$2"
self="${BASH_SOURCE[0]}"

cache="${TOLLGATE_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tollgate/bin}"
key="$(cat "$module/go.mod" "$module/go.sum" "$module"/*.go "$self" | sha256sum | cut -c1-16)"
dir="$cache/$name-$key"
if [ -x "$dir/$name" ]; then
  echo "$dir/$name"
  exit 0
fi

if [ -n "${GO:-}" ]; then
  go_cmd="$GO"
elif command -v go >/dev/null 2>&1; then
  go_cmd="$(command -v go)"
elif [ -x /usr/local/go/bin/go ]; then
  go_cmd=/usr/local/go/bin/go
else
  echo "go-tool.sh: no Go toolchain found (set GO=/path/to/go)" >&2
  exit 1
fi

mkdir -p "$dir"
# Built under a temporary name and renamed, so a broken build is never used.
tmp="$dir/.$name.$$"
trap 'rm -f "$tmp"' EXIT
(cd "$module" && CGO_ENABLED=0 "$go_cmd" build -trimpath -ldflags="-s -w" -o "$tmp" .)
mv -f "$tmp" "$dir/$name"
echo "$dir/$name"
