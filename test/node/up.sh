#!/usr/bin/env bash
# Start a one-node Kubernetes cluster from real components, with Tollgate
# installed in it from deploy/overlays/node (`npm run node:up`; stop with
# down.sh). No Docker, no registry, no traffic outside this machine:
#
#   network namespace tollgate-node-<id>  (every address below lives only there)
#     etcd + kube-apiserver   test/e2e/controlplane/up.sh, listening on all
#                             addresses of the namespace, --enable-aggregator-routing
#     kube-controller-manager, kube-scheduler   (test/node/build.sh)
#     containerd + runc       Debian packages, state under the run directory
#     kubelet                 node "tollgate-node", cgroup v1, cgroupfs driver
#     CNI bridge tgbr0        10.244.0.0/24 from host-local (Debian's plugins)
#     10.96.0.1:443           the `kubernetes` Service, DNAT-ed to the API server
#                             (the only Service pods dial; no kube-proxy, no DNS)
#   a private mount namespace for containerd and the kubelet: every mount they
#   make (pod volumes, rootfs, netns) disappears with them.
#
# Everything is recorded under the run directory (default test/node/.run):
#   env           source it: KUBECONFIG, TOLLGATE_NODE_NETNS, TOLLGATE_NODE_RUN_DIR
#   cp/           control plane state (kubeconfig, pki, logs, pids)
#   pids/*.pid    containerd, kubelet, kube-controller-manager, kube-scheduler
#   logs/*.log    their logs
#   images/*.tar  the images built by image.mjs and imported into containerd
#
# cert-manager's controller and cainjector (test/node/cert-manager, built from
# its Go module) run in the namespace cert-manager, serving tollgate-system, so
# the cert-manager overlays can be tried (test/node/cluster/leader.test.ts).
#
# Idempotent: when the node is Ready and Tollgate is available it exits 0
# without touching anything. On failure it stops what it started (down.sh)
# unless TOLLGATE_NODE_KEEP_ON_FAILURE=1.
#
# Run a command in the namespace with test/node/exec.sh CMD... (kubectl, tests).
# One node per machine: a second up.sh (another clone or worktree) waits for
# the first's down.sh, at most TOLLGATE_NODE_LOCK_WAIT seconds (lib.sh).
#
# Env: TOLLGATE_NODE_RUN_DIR, TOLLGATE_NODE_TIMEOUT (seconds per wait, default 180),
#      TOLLGATE_NODE_OVERLAY (default deploy/overlays/node),
#      TOLLGATE_NODE_LOCK_WAIT (default 1800), TOLLGATE_NODE_LOCK (default /run/lock/tollgate-node.lock).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
timeout_s="${TOLLGATE_NODE_TIMEOUT:-180}"
overlay="${TOLLGATE_NODE_OVERLAY:-$repo/deploy/overlays/node}"

log() { printf '[node:up] %s\n' "$*"; }
die() { printf '[node:up] ERROR: %s\n' "$*" >&2; exit 1; }

for cmd in containerd ctr runc ip iptables nsenter unshare setsid openssl curl; do
  command -v "$cmd" >/dev/null || die "$cmd is missing (see test/node/setup.sh)"
done
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || die "CNI plugins missing in /usr/lib/cni (see test/node/setup.sh)"
[ -x /bin/busybox ] || die "/bin/busybox missing (see test/node/setup.sh)"

mkdir -p "$run_dir" "$pid_dir" "$log_dir"
exec 9>"$run_dir/.up.lock"
flock -w 900 9 || die "another up.sh holds $run_dir/.up.lock"

if [ -f "$run_dir/env" ] && pid_alive "$pid_dir/kubelet.pid" &&
  in_node "$kubectl_bin" --kubeconfig "$kubeconfig" -n tollgate-system wait --for=condition=Available deployment/tollgate --timeout=5s >/dev/null 2>&1 &&
  in_node "$kubectl_bin" --kubeconfig "$kubeconfig" -n cert-manager wait --for=condition=Available deployment/controller deployment/cainjector --timeout=5s >/dev/null 2>&1; then
  log "already running"
  exit 0
fi
if compgen -G "$pid_dir/*.pid" >/dev/null || [ -e "/run/netns/$netns" ]; then
  "$here/down.sh"
fi

cleanup_on_failure() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "${TOLLGATE_NODE_KEEP_ON_FAILURE:-0}" != 1 ]; then
    echo "[node:up] failed (exit $rc); stopping what was started (logs in $log_dir, $cp_dir/logs)" >&2
    "$here/down.sh" >&2 || true
  fi
  exit "$rc"
}
trap cleanup_on_failure EXIT

# --- binaries and images -----------------------------------------------------
TOLLGATE_E2E_RUN_DIR="$cp_dir" bash "$repo/test/e2e/controlplane/build.sh" >/dev/null
node_bin="$(bash "$here/build.sh" | tail -n1)"
cert_manager_bin="$(bash "$here/cert-manager/build.sh" | tail -n1)"
mkdir -p "$run_dir/images"
log "building images (test/node/image.mjs)"
node "$here/image.mjs" "$run_dir/images" --cert-manager "$cert_manager_bin"

# --- the machine's one node ---------------------------------------------------
lock_wait="${TOLLGATE_NODE_LOCK_WAIT:-1800}"
log "waiting (at most ${lock_wait}s) for $node_lock, the lock of this machine's one node"
take_node_lock "$lock_wait" || die "no node lock"

# --- namespaces --------------------------------------------------------------
log "network namespace $netns, mount namespace $ns_dir/mnt"
ip netns add "$netns"
mkdir -p "$ns_dir"
mount --bind "$ns_dir" "$ns_dir"
mount --make-private "$ns_dir"
touch "$ns_dir/mnt"
unshare --mount="$ns_dir/mnt" --propagation slave true
in_node ip link set lo up
in_node ip addr add 10.96.0.1/32 dev lo
in_node ip addr add "$node_ip/32" dev lo

# --- control plane -----------------------------------------------------------
log "control plane (test/e2e/controlplane/up.sh)"
in_node env TOLLGATE_E2E_RUN_DIR="$cp_dir" TOLLGATE_E2E_SKIP_BUILD=1 TOLLGATE_E2E_SERVICE_ACCOUNTS=1 \
  TOLLGATE_E2E_START_TIMEOUT="$timeout_s" \
  TOLLGATE_E2E_APISERVER_ARGS="--bind-address=0.0.0.0 --enable-aggregator-routing=true --kubelet-client-certificate=$cp_dir/pki/admin.crt --kubelet-client-key=$cp_dir/pki/admin.key --kubelet-preferred-address-types=InternalIP" \
  bash "$repo/test/e2e/controlplane/up.sh" > "$log_dir/controlplane.log" 2>&1 ||
  { tail -n 30 "$log_dir/controlplane.log" >&2; die "control plane did not start"; }
# shellcheck disable=SC1091
apiserver_port="$(. "$cp_dir/env"; echo "$TOLLGATE_E2E_APISERVER_PORT")"
pki="$cp_dir/pki"
# Pods reach the API server as the `kubernetes` Service, 10.96.0.1:443.
in_node iptables -t nat -A PREROUTING -d 10.96.0.1/32 -p tcp --dport 443 -j DNAT --to-destination "10.96.0.1:$apiserver_port"
in_node iptables -t nat -A OUTPUT -d 10.96.0.1/32 -p tcp --dport 443 -j DNAT --to-destination "10.96.0.1:$apiserver_port"

# --- containerd --------------------------------------------------------------
# A fresh node every time, like the fresh etcd: no containers, pods or
# volumes survive from an earlier run.
rm -rf "$run_dir/containerd" "$run_dir/kubelet" "$run_dir/cni"
mkdir -p "$run_dir/containerd" "$run_dir/cni/net.d" "$run_dir/cni/ipam"
sed -e "s#@RUN@#$run_dir#g" -e "s#@NS@#$ns_dir#g" "$here/containerd.toml" > "$run_dir/containerd/config.toml"
sed -e "s#@RUN@#$run_dir#g" "$here/cni.conflist" > "$run_dir/cni/net.d/10-tollgate.conflist"
log "containerd"
start containerd containerd --config "$run_dir/containerd/config.toml"
wait_for containerd "$timeout_s" in_node ctr --address "$ns_dir/containerd.sock" version
for image in pause busybox busybox-nonroot tollgate cert-manager; do
  in_node ctr --address "$ns_dir/containerd.sock" -n k8s.io images import --no-unpack=false "$run_dir/images/$image.tar" >/dev/null
done
log "images imported: $(in_node ctr --address "$ns_dir/containerd.sock" -n k8s.io images ls -q | tr '\n' ' ')"

# --- kubelet, controller-manager, scheduler ---------------------------------
sed -e "s#@NS@#$ns_dir#g" -e "s#@PKI@#$pki#g" "$here/kubelet.yaml" > "$run_dir/kubelet.yaml"
log "kubelet, kube-controller-manager, kube-scheduler"
start kubelet "$node_bin/kubelet" \
  --config="$run_dir/kubelet.yaml" \
  --kubeconfig="$kubeconfig" \
  --root-dir="$run_dir/kubelet" \
  --hostname-override=tollgate-node \
  --node-ip="$node_ip" \
  --v=1
start kube-controller-manager "$node_bin/kube-controller-manager" \
  --kubeconfig="$kubeconfig" \
  --authentication-kubeconfig="$kubeconfig" \
  --authorization-kubeconfig="$kubeconfig" \
  --bind-address=127.0.0.1 \
  --service-account-private-key-file="$pki/sa.key" \
  --root-ca-file="$pki/ca.crt" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --cluster-signing-cert-file="$pki/ca.crt" \
  --cluster-signing-key-file="$pki/ca.key" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --v=1
start kube-scheduler "$node_bin/kube-scheduler" \
  --kubeconfig="$kubeconfig" \
  --authentication-kubeconfig="$kubeconfig" \
  --authorization-kubeconfig="$kubeconfig" \
  --bind-address=127.0.0.1 \
  --leader-elect=false \
  --v=1

kubectl() { in_node "$kubectl_bin" --kubeconfig "$kubeconfig" "$@"; }
wait_for kubelet "$timeout_s" kubectl wait --for=condition=Ready node/tollgate-node --timeout=5s
wait_for kube-controller-manager "$timeout_s" kubectl get serviceaccount default -n default
log "node tollgate-node is Ready"

{
  echo "# Written by test/node/up.sh; source it: . $run_dir/env"
  printf 'export KUBECONFIG=%q\n' "$kubeconfig"
  printf 'export TOLLGATE_NODE_RUN_DIR=%q\n' "$run_dir"
  printf 'export TOLLGATE_NODE_NETNS=%q\n' "$netns"
  printf 'export TOLLGATE_NODE_KUBECTL=%q\n' "$kubectl_bin"
  printf 'export TOLLGATE_NODE_CONTAINERD=%q\n' "$ns_dir/containerd.sock"
} > "$run_dir/env"

# --- Tollgate ----------------------------------------------------------------
log "kubectl apply -k ${overlay#"$repo"/}"
kubectl apply -k "$overlay" > "$log_dir/apply.log"
wait_for kubelet "$timeout_s" kubectl -n tollgate-system wait --for=condition=Available deployment/tollgate --timeout=5s
log "tollgate is Available: $(kubectl -n tollgate-system get deployment tollgate -o jsonpath='{.status.readyReplicas}') ready replicas"

# --- cert-manager --------------------------------------------------------------
# After Tollgate: its Roles live in tollgate-system.
log "cert-manager: CRDs from $cert_manager_bin/crds, kubectl apply -k test/node/cert-manager/deploy"
kubectl apply --server-side -f "$cert_manager_bin/crds" > "$log_dir/cert-manager-apply.log"
kubectl wait --for=condition=Established crd --all --timeout="${timeout_s}s" >/dev/null
kubectl apply -k "$here/cert-manager/deploy" >> "$log_dir/cert-manager-apply.log"
for deployment in controller cainjector; do
  wait_for kubelet "$timeout_s" kubectl -n cert-manager wait --for=condition=Available "deployment/$deployment" --timeout=5s
done
log "cert-manager is Available"

trap - EXIT
log "ready; run commands in the namespace with test/node/exec.sh, stop with npm run node:down"
