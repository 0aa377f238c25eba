#!/usr/bin/env bash
# Stop the one-node cluster of up.sh (`npm run node:down`). Idempotent: exits 0
# when nothing runs. Every process is stopped by its PID:
#   1. kubelet, kube-controller-manager, kube-scheduler (pids/*.pid);
#   2. the containers: each containerd task is killed and deleted, then any
#      shim left is stopped by the pid containerd recorded (shim.pid);
#   3. containerd; 4. etcd and kube-apiserver (test/e2e/controlplane/down.sh);
#   5. as a last resort, any process still inside the node's network
#      namespace, found by /proc/PID/ns/net, is listed and killed.
# Then the namespaces go: the mount namespace (and with it every mount the
# kubelet and containerd made) and the network namespace (bridge, veths,
# addresses, iptables rules). Last, the machine's node lock is released.
# Usage: test/node/down.sh [--clean]   --clean also deletes the run directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
clean=0
[ "${1:-}" = --clean ] && clean=1
stop_timeout="${TOLLGATE_NODE_STOP_TIMEOUT:-20}"
log() { printf '[node:down] %s\n' "$*"; }

stop_pidfile() {
  local name="$1" file="$pid_dir/$1.pid"
  if pid_alive "$file"; then terminate "$name" "$(head -n1 "$file")"; fi
  rm -f "$file"
}

for name in kubelet kube-controller-manager kube-scheduler; do stop_pidfile "$name"; done

sock="$ns_dir/containerd.sock"
if pid_alive "$pid_dir/containerd.pid" && [ -S "$sock" ]; then
  ctr_() { timeout 20 nsenter --net="/run/netns/$netns" --mount="$ns_dir/mnt" -- ctr --address "$sock" -n k8s.io "$@"; }
  tasks="$(ctr_ tasks ls -q 2>/dev/null || true)"
  if [ -n "$tasks" ]; then
    log "killing $(wc -w <<<"$tasks") containers"
    for t in $tasks; do ctr_ tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    for t in $tasks; do ctr_ tasks delete -f "$t" >/dev/null 2>&1 || true; done
  fi
fi
shims=()
for f in "$ns_dir"/containerd-state/io.containerd.runtime.v2.task/*/*/shim.pid; do
  [ -s "$f" ] || continue
  p="$(cat "$f")"
  [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = /usr/bin/containerd-shim-runc-v2 ] && shims+=("$p")
done
[ "${#shims[@]}" -eq 0 ] || terminate "containerd shims" "${shims[@]}"
stop_pidfile containerd

if [ -d "$cp_dir" ]; then
  TOLLGATE_E2E_RUN_DIR="$cp_dir" bash "$here/../e2e/controlplane/down.sh" | sed 's/^/  /'
fi

if [ -e "/run/netns/$netns" ]; then
  ns_inode="$(stat -L -c %i "/run/netns/$netns")"
  strays=()
  for link in /proc/[0-9]*/ns/net; do
    [ "$(stat -L -c %i "$link" 2>/dev/null)" = "$ns_inode" ] || continue
    p="${link#/proc/}"; p="${p%/ns/net}"
    [ "$p" = "$$" ] || strays+=("$p")
  done
  if [ "${#strays[@]}" -gt 0 ]; then
    for p in "${strays[@]}"; do log "left in the namespace: $p $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | cut -c1-100)"; done
    terminate "processes left in $netns" "${strays[@]}"
  fi
  ip netns del "$netns"
  log "deleted network namespace $netns"
fi
if mountpoint -q "$ns_dir/mnt" 2>/dev/null; then umount "$ns_dir/mnt"; fi
if mountpoint -q "$ns_dir" 2>/dev/null; then umount -l "$ns_dir"; fi
rm -rf "$ns_dir"
rm -f "$run_dir/env"
# Last: another node may start once this one's namespaces and mounts are gone.
release_node_lock
if [ "$clean" = 1 ]; then
  log "removing $run_dir"
  rm -rf "$run_dir"
fi
log "stopped"
