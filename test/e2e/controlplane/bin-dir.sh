#!/usr/bin/env bash
# Prints the directory that holds Go-built binaries: $TOLLGATE_BIN_CACHE
# (default ~/.cache/tollgate/bin) plus NAME and a key hashed from DIR's go.mod,
# go.sum and build.sh, so a change of pins or flags gets its own build and
# identical checkouts share one. Outside the repository on purpose: a fresh
# clone (CI) or another worktree reuses the build.
#
# Usage: bin-dir.sh [DIR NAME]   (default: this directory, "controlplane";
# test/deploy/tools/build.sh passes its own directory and "tools", test/node/build.sh
# its own and "node")
set -euo pipefail
here="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
name="${2:-controlplane}"
cache="${TOLLGATE_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tollgate/bin}"
key="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
echo "$cache/$name-$key"
