#!/usr/bin/env bash
# Create (or delete) a kind cluster for Tollgate's e2e tests.
#
# REQUIRES DOCKER (or podman) AND THE `kind` CLI. It cannot run on the
# project's Docker-less dev/CI machines (and has not been run there); those
# use test/e2e/controlplane/up.sh. This script is for developers who have
# Docker and want to point the same e2e tests at a full cluster.
#
# Usage:
#   test/e2e/kind/kind.sh [up]     create the cluster (no-op if it exists)
#   test/e2e/kind/kind.sh down     delete it
# Env:
#   KIND_CLUSTER_NAME  cluster name (default: tollgate-e2e)
#   KIND_NODE_IMAGE    node image, e.g. kindest/node:v1.37.2 to match the
#                      version pinned in test/e2e/controlplane/go.mod
#                      (default: the kind release's own default image)
#   KIND               kind binary (default: kind on PATH)
#
# Output (test/e2e/.run/kind/, gitignored):
#   kubeconfig   admin kubeconfig for the cluster
#   env          `. test/e2e/.run/kind/env` exports KUBECONFIG and the
#                TOLLGATE_E2E_* variables that up.sh also writes (where they
#                make sense), so tests can run unchanged via KUBECONFIG.
#   audit/audit.log  kube-apiserver audit log (written by root in the node
#                container; may need sudo to read)
#
# Note for webhooks: kube-apiserver runs inside the node container, so a
# Tollgate process on the host is NOT reachable at 127.0.0.1 from it. Either
# deploy Tollgate into the cluster (clientConfig.service), or register
# clientConfig.url with the host's address as seen from the kind network
# (e.g. the docker network gateway) and put that IP in the serving cert's SANs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
e2e_dir="$(dirname "$here")"
state_dir="$e2e_dir/.run/kind"
name="${KIND_CLUSTER_NAME:-tollgate-e2e}"
kind_cmd="${KIND:-kind}"
action="${1:-up}"

command -v "$kind_cmd" >/dev/null 2>&1 || { echo "kind.sh: '$kind_cmd' not found (https://kind.sigs.k8s.io)" >&2; exit 1; }

cluster_exists() { "$kind_cmd" get clusters 2>/dev/null | grep -qx "$name"; }

case "$action" in
  down|delete)
    if cluster_exists; then
      "$kind_cmd" delete cluster --name "$name"
    else
      echo "kind.sh: cluster $name does not exist"
    fi
    rm -f "$state_dir/env" "$state_dir/kubeconfig"
    exit 0
    ;;
  up|create) ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac

mkdir -p "$state_dir/audit"
config="$state_dir/kind-config.yaml"
sed "s#@E2E_DIR@#$e2e_dir#g" "$here/kind-config.yaml" > "$config"

if cluster_exists; then
  echo "kind.sh: cluster $name already exists"
else
  args=(create cluster --name "$name" --config "$config" --wait 120s)
  if [ -n "${KIND_NODE_IMAGE:-}" ]; then
    args+=(--image "$KIND_NODE_IMAGE")
  fi
  "$kind_cmd" "${args[@]}"
fi

"$kind_cmd" get kubeconfig --name "$name" > "$state_dir/kubeconfig.tmp"
chmod 600 "$state_dir/kubeconfig.tmp"
mv -f "$state_dir/kubeconfig.tmp" "$state_dir/kubeconfig"

server="$(awk '/server:/ {print $2; exit}' "$state_dir/kubeconfig")"
port="${server##*:}"
kubectl_path="$(command -v kubectl || true)"
{
  echo "# Written by test/e2e/kind/kind.sh; source it: . $state_dir/env"
  printf 'export KUBECONFIG=%q\n' "$state_dir/kubeconfig"
  printf 'export TOLLGATE_E2E_CLUSTER=kind\n'
  printf 'export TOLLGATE_E2E_APISERVER_URL=%q\n' "$server"
  printf 'export TOLLGATE_E2E_APISERVER_PORT=%q\n' "$port"
  printf 'export TOLLGATE_E2E_AUDIT_LOG=%q\n' "$state_dir/audit/audit.log"
  if [ -n "$kubectl_path" ]; then
    printf 'export TOLLGATE_E2E_KUBECTL=%q\n' "$kubectl_path"
  fi
} > "$state_dir/env"

echo "kind.sh: cluster $name ready"
echo "  kubeconfig: $state_dir/kubeconfig"
echo "  env file:   $state_dir/env   (. $state_dir/env)"
