#!/usr/bin/env bash
# Prints the directory that holds the control-plane binaries built by build.sh:
# $TOLLGATE_BIN_CACHE (default ~/.cache/tollgate/bin) plus a key hashed from
# go.mod, go.sum and build.sh, so a change of pins or flags gets its own build
# and identical checkouts share one. Outside the repository on purpose: a
# fresh clone (CI) or another worktree reuses the build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${TOLLGATE_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tollgate/bin}"
key="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
echo "$cache/controlplane-$key"
