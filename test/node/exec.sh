#!/usr/bin/env bash
# Run a command in the network namespace of the node started by up.sh, with
# its env file sourced (KUBECONFIG, TOLLGATE_NODE_*):
#   test/node/exec.sh kubectl get pods -A
# `kubectl` is the one built for the control plane.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
[ -f "$run_dir/env" ] || { echo "exec.sh: no node running (npm run node:up)" >&2; exit 1; }
# shellcheck disable=SC1091
. "$run_dir/env"
export PATH="$(dirname "$TOLLGATE_NODE_KUBECTL"):$PATH"
exec nsenter --net="/run/netns/$netns" -- "$@"
