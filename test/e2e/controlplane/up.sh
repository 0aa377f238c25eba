#!/usr/bin/env bash
# Start a throwaway Kubernetes control plane (etcd + kube-apiserver) on
# 127.0.0.1 for Tollgate's end-to-end tests. No Docker, no kubelet, no
# scheduler, no controller-manager: objects are stored and go through
# authentication, RBAC and admission (including admission webhooks), but pods
# never run.
#
# Usage: test/e2e/controlplane/up.sh        (stop with down.sh)
#
# Everything lives in the state directory (default test/e2e/.run/):
#   bin/{etcd,kube-apiserver,kubectl}   built by build.sh (run automatically)
#   env                 source it: KUBECONFIG, ports, paths (TOLLGATE_E2E_*)
#   kubeconfig          admin (CN=admin, O=system:masters), self-contained
#   pki/                ca.{crt,key}, apiserver.{crt,key}, admin.{crt,key},
#                       sa.{key,pub}, webhook.{crt,key} (spare serving cert
#                       for a webhook on 127.0.0.1, signed by the same CA)
#   pids/*.pid          one file per process; down.sh stops all of them
#   logs/*.log          etcd.log, kube-apiserver.log
#   audit.log           kube-apiserver audit log (JSON lines, Metadata level)
#   etcd-data/          wiped on every fresh start
#
# Environment:
#   TOLLGATE_E2E_RUN_DIR        state directory (default: test/e2e/.run)
#   TOLLGATE_E2E_SKIP_BUILD=1   do not call build.sh (binaries must exist)
#   TOLLGATE_E2E_UP_HOOK        executable run once the control plane is
#                               ready (see the HOOK POINT below)
#   TOLLGATE_E2E_APISERVER_ARGS extra kube-apiserver flags, appended last
#                               (word-split; later flags win)
#   TOLLGATE_E2E_SERVICE_ACCOUNTS=1  enable the ServiceAccount admission plugin
#                               (for a cluster whose controller-manager
#                               creates the ServiceAccounts, as test/node does)
#   TOLLGATE_E2E_START_TIMEOUT  seconds to wait for each component (default 90)
#   TOLLGATE_E2E_KEEP_ON_FAILURE=1  leave processes running if up.sh fails
#
# If the control plane is already running and healthy, up.sh says so and exits
# 0 without touching it.
#
# Loopback only: etcd and kube-apiserver listen on 127.0.0.1. The service CIDR
# (10.96.0.0/16) is only a config value. Admission webhooks must therefore be
# registered with clientConfig.url (https://127.0.0.1:PORT/...), never with a
# clientConfig.service reference: kube-apiserver would resolve a service to its
# ClusterIP, which does not exist here.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
e2e_dir="$(dirname "$here")"
run_dir="${TOLLGATE_E2E_RUN_DIR:-$e2e_dir/.run}"
mkdir -p "$run_dir"
run_dir="$(cd "$run_dir" && pwd)"
bin_dir="$run_dir/bin"
pki_dir="$run_dir/pki"
pid_dir="$run_dir/pids"
log_dir="$run_dir/logs"
env_file="$run_dir/env"
kubeconfig="$run_dir/kubeconfig"
audit_log="$run_dir/audit.log"
etcd_data="$run_dir/etcd-data"
start_timeout="${TOLLGATE_E2E_START_TIMEOUT:-90}"

etcd_bin="$bin_dir/etcd"
apiserver_bin="$bin_dir/kube-apiserver"
kubectl_bin="$bin_dir/kubectl"

log() { printf '[up] %s\n' "$*"; }
die() { printf '[up] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# helpers

# shellcheck source=pids.sh
. "$(dirname "${BASH_SOURCE[0]}")/pids.sh"

# free_ports N: print N distinct free TCP ports on 127.0.0.1.
free_ports() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
' "$1"
  elif command -v node >/dev/null 2>&1; then
    node -e '
const net = require("net");
const n = Number(process.argv[1]), servers = [], ports = [];
const next = () => {
  if (ports.length === n) { console.log(ports.join(" ")); servers.forEach(s => s.close()); return; }
  const s = net.createServer();
  s.listen(0, "127.0.0.1", () => { servers.push(s); ports.push(s.address().port); next(); });
};
next();
' "$1"
  else
    die "need python3 or node to pick free ports"
  fi
}

# start NAME BINARY ARGS...: start a process in its own session, detached from
# our stdio, and record "pid\nexecutable" in pids/NAME.pid. The wrapper shell
# writes its own pid and then execs the binary, so the pid is exact.
start() {
  local name="$1"; shift
  local pidfile="$pid_dir/$name.pid"
  : > "$log_dir/$name.log"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'printf "%s\n%s\n" "$$" "$2" > "$1"; shift; exec "$@"' \
    _ "$pidfile" "$@" < /dev/null >> "$log_dir/$name.log" 2>&1 9>&- &
  local _
  for _ in $(seq 1 50); do
    [ -s "$pidfile" ] && break
    sleep 0.1
  done
  [ -s "$pidfile" ] || die "$name did not start (no pid file)"
}

# wait_for NAME TIMEOUT COMMAND...: poll COMMAND until it succeeds; fail early
# if the process NAME exits.
wait_for() {
  local name="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$pid_dir/$name.pid"; then
      echo "[up] $name exited during startup; last lines of $log_dir/$name.log:" >&2
      tail -n 30 "$log_dir/$name.log" >&2 || true
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "[up] $name not ready after ${timeout}s; last lines of $log_dir/$name.log:" >&2
      tail -n 30 "$log_dir/$name.log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

b64() { base64 | tr -d '\n'; }

readyz() {
  curl -fsS --max-time 5 --cacert "$pki_dir/ca.crt" \
    --cert "$pki_dir/admin.crt" --key "$pki_dir/admin.key" \
    "https://127.0.0.1:$apiserver_port/readyz" | grep -qx ok
}

etcd_health() {
  curl -fsS --max-time 5 "http://127.0.0.1:$etcd_client_port/health" | grep -q '"health":"true"'
}

print_summary() {
  # shellcheck disable=SC1090 # variables come from the env file
  . "$env_file"
  cat <<EOF
[up] control plane on 127.0.0.1:
       kube-apiserver  $TOLLGATE_E2E_APISERVER_URL  (pid $(head -n1 "$pid_dir/kube-apiserver.pid"), log $log_dir/kube-apiserver.log)
       etcd            http://127.0.0.1:$TOLLGATE_E2E_ETCD_PORT  (peer $TOLLGATE_E2E_ETCD_PEER_PORT, pid $(head -n1 "$pid_dir/etcd.pid"), log $log_dir/etcd.log)
       kubeconfig      $kubeconfig
       kubectl         $TOLLGATE_E2E_KUBECTL
       audit log       $TOLLGATE_E2E_AUDIT_LOG
       env file        $env_file   (. $env_file)
       stop with       $here/down.sh
EOF
}

# ---------------------------------------------------------------------------
# HOOK POINT: everything after the bare control plane (e.g. starting
# `tollgate serve` and applying the webhook manifests) goes here.
#
# Runs TOLLGATE_E2E_UP_HOOK (if set and executable) with the env file already
# sourced, so it sees KUBECONFIG, TOLLGATE_E2E_APISERVER_PORT,
# TOLLGATE_E2E_WEBHOOK_CERT/KEY, TOLLGATE_E2E_CA_CERT, TOLLGATE_E2E_PID_DIR...
# Contract for the hook:
#   - start long-running processes detached (setsid ... </dev/null >log 2>&1 &)
#     and write their pid to "$TOLLGATE_E2E_PID_DIR/<name>.pid" (line 1: pid,
#     optional line 2: absolute path of the executable, used to guard against
#     pid reuse). down.sh stops every pid file there, before kube-apiserver.
#   - write logs to "$TOLLGATE_E2E_LOG_DIR"; listen on 127.0.0.1 only.
#   - exit non-zero on failure: up.sh then fails and stops everything.
# To hard-wire the steps instead, replace the body of this function.
after_control_plane_ready() {
  local hook="${TOLLGATE_E2E_UP_HOOK:-}"
  [ -n "$hook" ] || return 0
  [ -x "$hook" ] || die "TOLLGATE_E2E_UP_HOOK=$hook is not executable"
  log "running hook $hook"
  (
    # shellcheck disable=SC1090
    . "$env_file"
    "$hook" 9>&-
  )
}

# ---------------------------------------------------------------------------
# already running?

# One up.sh at a time per state directory (e.g. parallel test workers).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$run_dir/.up.lock"
  flock -w 900 9 || die "another up.sh holds $run_dir/.up.lock"
fi

if pid_alive "$pid_dir/etcd.pid" && pid_alive "$pid_dir/kube-apiserver.pid" && [ -f "$env_file" ]; then
  # shellcheck disable=SC1090
  apiserver_port="$(. "$env_file"; echo "$TOLLGATE_E2E_APISERVER_PORT")"
  if readyz; then
    log "already running"
    # The hook is idempotent: it restarts what it owns only when outdated or dead.
    after_control_plane_ready
    print_summary
    exit 0
  fi
  log "processes exist but kube-apiserver is not ready; restarting"
fi
if compgen -G "$pid_dir/*.pid" >/dev/null; then
  "$here/down.sh"
fi

# ---------------------------------------------------------------------------
# binaries

if [ "${TOLLGATE_E2E_SKIP_BUILD:-0}" != 1 ]; then
  TOLLGATE_E2E_RUN_DIR="$run_dir" "$here/build.sh"
fi
for b in "$etcd_bin" "$apiserver_bin" "$kubectl_bin"; do
  [ -x "$b" ] || die "missing $b (run $here/build.sh)"
done
command -v openssl >/dev/null || die "openssl is required"
command -v curl >/dev/null || die "curl is required"
command -v setsid >/dev/null || die "setsid (util-linux) is required"

mkdir -p "$pki_dir" "$pid_dir" "$log_dir"

# ---------------------------------------------------------------------------
# certificates (generated once, reused until `down.sh --clean`)

# sign NAME SUBJECT EXTENSIONS: key + cert signed by the CA.
sign() {
  local name="$1" subj="$2" ext="$3"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki_dir/$name.key" \
    -subj "$subj" -out "$pki_dir/$name.csr" 2>/dev/null
  printf '%s\n' "$ext" > "$pki_dir/$name.ext"
  openssl x509 -req -in "$pki_dir/$name.csr" -CA "$pki_dir/ca.crt" -CAkey "$pki_dir/ca.key" \
    -CAcreateserial -days 825 -sha256 -extfile "$pki_dir/$name.ext" \
    -out "$pki_dir/$name.crt" 2>/dev/null
  rm -f "$pki_dir/$name.csr" "$pki_dir/$name.ext"
}

gen_pki() {
  log "generating certificates in $pki_dir"
  rm -f "$pki_dir"/*
  (
    umask 077
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout "$pki_dir/ca.key" -out "$pki_dir/ca.crt" -subj "/CN=tollgate-e2e-ca" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    sign apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1"
    sign admin "/O=system:masters/CN=admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    sign webhook "/CN=tollgate-webhook" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost"
    openssl genrsa -out "$pki_dir/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki_dir/sa.key" -pubout -out "$pki_dir/sa.pub" 2>/dev/null
  )
}

pki_ok() {
  local f
  for f in ca.crt ca.key apiserver.crt apiserver.key admin.crt admin.key webhook.crt webhook.key sa.key sa.pub; do
    [ -s "$pki_dir/$f" ] || return 1
  done
  # still valid for at least a day?
  openssl x509 -checkend 86400 -noout -in "$pki_dir/apiserver.crt" >/dev/null 2>&1 || return 1
  openssl x509 -checkend 86400 -noout -in "$pki_dir/admin.crt" >/dev/null 2>&1 || return 1
}

pki_ok || gen_pki

# ---------------------------------------------------------------------------
# start etcd + kube-apiserver

cleanup_on_failure() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "${TOLLGATE_E2E_KEEP_ON_FAILURE:-0}" != 1 ]; then
    echo "[up] startup failed (exit $rc); stopping what was started" >&2
    "$here/down.sh" >&2 || true
  fi
  exit "$rc"
}
trap cleanup_on_failure EXIT

start_control_plane() {
  read -r etcd_client_port etcd_peer_port apiserver_port < <(free_ports 3)

  rm -rf "$etcd_data"
  log "starting etcd on 127.0.0.1:$etcd_client_port (peer $etcd_peer_port)"
  start etcd "$etcd_bin" \
    --name=tollgate-e2e \
    --data-dir="$etcd_data" \
    --listen-client-urls="http://127.0.0.1:$etcd_client_port" \
    --advertise-client-urls="http://127.0.0.1:$etcd_client_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster="tollgate-e2e=http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster-state=new \
    --unsafe-no-fsync \
    --log-level=warn
  wait_for etcd "$start_timeout" etcd_health || return 1

  : > "$audit_log"
  log "starting kube-apiserver on 127.0.0.1:$apiserver_port"
  local extra=()
  # shellcheck disable=SC2206
  if [ -n "${TOLLGATE_E2E_APISERVER_ARGS:-}" ]; then
    extra=(${TOLLGATE_E2E_APISERVER_ARGS})
  fi
  # ServiceAccount admission is disabled: without kube-controller-manager
  # nobody creates the per-namespace "default" ServiceAccount, so every pod
  # create would be rejected. Re-enable via TOLLGATE_E2E_APISERVER_ARGS
  # (--disable-admission-plugins= --enable-admission-plugins=...,ServiceAccount)
  # if a test creates its ServiceAccounts itself.
  local plugins=NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook
  local disabled=(--disable-admission-plugins=ServiceAccount)
  if [ "${TOLLGATE_E2E_SERVICE_ACCOUNTS:-0}" = 1 ]; then
    plugins=NamespaceLifecycle,ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook
    disabled=()
  fi
  start kube-apiserver "$apiserver_bin" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="$apiserver_port" \
    --cert-dir="$pki_dir" \
    --tls-cert-file="$pki_dir/apiserver.crt" \
    --tls-private-key-file="$pki_dir/apiserver.key" \
    --client-ca-file="$pki_dir/ca.crt" \
    --etcd-servers="http://127.0.0.1:$etcd_client_port" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki_dir/sa.pub" \
    --service-account-signing-key-file="$pki_dir/sa.key" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins="$plugins" \
    ${disabled[@]+"${disabled[@]}"} \
    --allow-privileged=true \
    --audit-policy-file="$here/audit-policy.yaml" \
    --audit-log-path="$audit_log" \
    --audit-log-format=json \
    --audit-log-mode=blocking \
    --endpoint-reconciler-type=none \
    --profiling=false \
    --v=1 \
    ${extra[@]+"${extra[@]}"}
  wait_for kube-apiserver "$start_timeout" readyz || return 1
}

started=0
for attempt in 1 2 3; do
  if start_control_plane; then
    started=1
    break
  fi
  # A port picked as free can be taken by someone else before our process
  # binds it; only that case is worth another try with new ports.
  if [ "$attempt" -lt 3 ] && grep -qs "address already in use" "$log_dir/etcd.log" "$log_dir/kube-apiserver.log"; then
    log "port collision on attempt $attempt; retrying with new ports"
    "$here/down.sh" >/dev/null 2>&1 || true
    continue
  fi
  break
done
[ "$started" = 1 ] || die "control plane did not start; see $log_dir"

# ---------------------------------------------------------------------------
# kubeconfig + env file

(
  umask 077
  cat > "$kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: tollgate-e2e
  cluster:
    server: https://127.0.0.1:$apiserver_port
    certificate-authority-data: $(b64 < "$pki_dir/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(b64 < "$pki_dir/admin.crt")
    client-key-data: $(b64 < "$pki_dir/admin.key")
contexts:
- name: tollgate-e2e
  context:
    cluster: tollgate-e2e
    user: admin
current-context: tollgate-e2e
EOF
  mv -f "$kubeconfig.tmp" "$kubeconfig"
)

{
  echo "# Written by test/e2e/controlplane/up.sh; source it: . $env_file"
  printf 'export KUBECONFIG=%q\n' "$kubeconfig"
  printf 'export TOLLGATE_E2E_RUN_DIR=%q\n' "$run_dir"
  printf 'export TOLLGATE_E2E_APISERVER_PORT=%q\n' "$apiserver_port"
  printf 'export TOLLGATE_E2E_APISERVER_URL=%q\n' "https://127.0.0.1:$apiserver_port"
  printf 'export TOLLGATE_E2E_ETCD_PORT=%q\n' "$etcd_client_port"
  printf 'export TOLLGATE_E2E_ETCD_PEER_PORT=%q\n' "$etcd_peer_port"
  printf 'export TOLLGATE_E2E_KUBECTL=%q\n' "$kubectl_bin"
  printf 'export TOLLGATE_E2E_BIN_DIR=%q\n' "$bin_dir"
  printf 'export TOLLGATE_E2E_PKI_DIR=%q\n' "$pki_dir"
  printf 'export TOLLGATE_E2E_CA_CERT=%q\n' "$pki_dir/ca.crt"
  printf 'export TOLLGATE_E2E_CA_KEY=%q\n' "$pki_dir/ca.key"
  printf 'export TOLLGATE_E2E_WEBHOOK_CERT=%q\n' "$pki_dir/webhook.crt"
  printf 'export TOLLGATE_E2E_WEBHOOK_KEY=%q\n' "$pki_dir/webhook.key"
  printf 'export TOLLGATE_E2E_AUDIT_LOG=%q\n' "$audit_log"
  printf 'export TOLLGATE_E2E_PID_DIR=%q\n' "$pid_dir"
  printf 'export TOLLGATE_E2E_LOG_DIR=%q\n' "$log_dir"
} > "$env_file.tmp"
mv -f "$env_file.tmp" "$env_file"

# ---------------------------------------------------------------------------
# smoke check: kubectl works and the system namespaces exist

kubectl() { "$kubectl_bin" --kubeconfig "$kubeconfig" "$@"; }
deadline=$((SECONDS + start_timeout))
until kubectl get namespace default -o name >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || die "namespace 'default' did not appear; see $log_dir/kube-apiserver.log"
  sleep 0.5
done
kubectl get namespaces >/dev/null

after_control_plane_ready

trap - EXIT
log "ready"
print_summary
