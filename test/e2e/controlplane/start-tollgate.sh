#!/usr/bin/env bash
# Start `tollgate serve` on 127.0.0.1 for the loopback control plane and
# register the shipped webhook configurations (deploy/overlays/localhost) with
# it. `npm run cluster:up` runs this as up.sh's TOLLGATE_E2E_UP_HOOK; the e2e
# suite also runs it to restart Tollgate.
#
# Usage: test/e2e/controlplane/start-tollgate.sh [--restart] [--no-register]
#   --restart       stop a running Tollgate first. Without it, a Tollgate that
#                   answers /readyz on the recorded port and was started after
#                   the last `npm run build` (pid file newer than
#                   dist/src/cli/main.js) is kept; an older one is restarted.
#   --no-register   only start the process; leave the webhook configurations
#                   as they are (the e2e suite restarts Tollgate this way)
#
# Environment: the variables of up.sh's env file (sourced from
# $TOLLGATE_E2E_RUN_DIR/env, default test/e2e/.run/env, when not already set),
# plus:
#   TOLLGATE_E2E_WEBHOOK_PORT   port to listen on (default: the one recorded in
#                               the env file, else a free port, recorded there)
#   TOLLGATE_E2E_POLICYSET      PolicySet file (default test/e2e/policyset.yaml)
#   TOLLGATE_E2E_START_TIMEOUT  seconds to wait for each step (default 90)
#
# Applies: the PolicyException CRD (deploy/crds/policyexceptions), which
# `serve --watch-exceptions` lists and watches.
# Writes: pids/tollgate.pid (pid, then the node executable), logs/tollgate.log
# (appended to across restarts), TOLLGATE_E2E_WEBHOOK_PORT in the env file.
# Ready means: /readyz answers, and (unless --no-register) the API server
# refuses a server-side dry-run of a privileged pod with Tollgate's own denial.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
e2e_dir="$(dirname "$here")"
repo="$(cd "$e2e_dir/../.." && pwd)"

restart=0
register=1
for arg in "$@"; do
  case "$arg" in
    --restart) restart=1 ;;
    --no-register) register=0 ;;
    -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-tollgate.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[tollgate] %s\n' "$*"; }
die() { printf '[tollgate] ERROR: %s\n' "$*" >&2; exit 1; }

if [ -z "${TOLLGATE_E2E_PID_DIR:-}" ]; then
  env_file="${TOLLGATE_E2E_RUN_DIR:-$e2e_dir/.run}/env"
  [ -f "$env_file" ] || die "no $env_file: start the control plane first (npm run cluster:up)"
  # shellcheck disable=SC1090
  . "$env_file"
fi
env_file="$TOLLGATE_E2E_RUN_DIR/env"
[ -f "$env_file" ] || die "no $env_file: start the control plane first (npm run cluster:up)"

pid_dir="$TOLLGATE_E2E_PID_DIR"
log_dir="$TOLLGATE_E2E_LOG_DIR"
pid_file="$pid_dir/tollgate.pid"
log_file="$log_dir/tollgate.log"
ca_file="$TOLLGATE_E2E_CA_CERT"
kubectl_bin="$TOLLGATE_E2E_KUBECTL"
policyset="${TOLLGATE_E2E_POLICYSET:-$e2e_dir/policyset.yaml}"
timeout="${TOLLGATE_E2E_START_TIMEOUT:-90}"
cli="$repo/dist/src/cli/main.js"
node_bin="$(command -v node)" || die "node is not on PATH"
node_bin="$(readlink -f "$node_bin")"

[ -f "$cli" ] || die "no $cli: run \`npm run build\` first"
[ -r "$policyset" ] || die "cannot read the policy set $policyset"
mkdir -p "$pid_dir" "$log_dir"

kubectl() { "$kubectl_bin" --kubeconfig "$KUBECONFIG" "$@"; }

# Same check as up.sh/down.sh: alive, from this boot, still running the executable.
pid_alive() {
  local file="$1" pid exe actual
  [ -f "$file" ] || return 1
  { read -r pid; read -r exe || true; } < "$file"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -n "${exe:-}" ] && [ -e "/proc/$pid/exe" ]; then
    actual="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
    [ "${actual% (deleted)}" = "$exe" ] || return 1
  fi
}

readyz() {
  curl -fsS --max-time 2 --cacert "$ca_file" "https://127.0.0.1:$1/readyz" >/dev/null 2>&1
}

free_port() {
  node -e '
const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });
'
}

# record_port PORT: set TOLLGATE_E2E_WEBHOOK_PORT in the env file (replacing an old value).
record_port() {
  local tmp="$env_file.tollgate.$$"
  grep -v '^export TOLLGATE_E2E_WEBHOOK_PORT=' "$env_file" > "$tmp" || true
  printf 'export TOLLGATE_E2E_WEBHOOK_PORT=%q\n' "$1" >> "$tmp"
  mv -f "$tmp" "$env_file"
}

stop_tollgate() {
  pid_alive "$pid_file" || { rm -f "$pid_file"; return 0; }
  local pid deadline
  pid="$(head -n1 "$pid_file")"
  log "stopping tollgate (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$pid_file"
}

# start_tollgate PORT: start the server detached; 0 once /readyz answers.
start_tollgate() {
  local port="$1"
  printf '\n--- %s start-tollgate.sh: serve on 127.0.0.1:%s\n' "$(date -u +%FT%TZ)" "$port" >> "$log_file"
  # Detached in its own session, stdio away from ours; the wrapper shell writes
  # its own pid, then execs node, so the pid file names the server itself.
  # --no-cluster: every webhook URL names its mode, as in the Deployment.
  # --drain-delay 0: no Service endpoints to wait for on 127.0.0.1.
  # --watch-exceptions: PolicyExceptions from the API server, as deploy/base
  # runs it (over the env file's admin KUBECONFIG here).
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'printf "%s\n%s\n" "$$" "$2" > "$1"; shift; exec "$@"' \
    _ "$pid_file" "$node_bin" "$cli" serve \
    --config "$policyset" \
    --host 127.0.0.1 \
    --port "$port" \
    --cert "$TOLLGATE_E2E_WEBHOOK_CERT" \
    --key "$TOLLGATE_E2E_WEBHOOK_KEY" \
    --no-cluster \
    --drain-delay 0 \
    --watch-exceptions \
    < /dev/null >> "$log_file" 2>&1 9>&- &
  local deadline=$((SECONDS + timeout))
  until [ -s "$pid_file" ] && readyz "$port"; do
    if [ -s "$pid_file" ] && ! pid_alive "$pid_file"; then
      echo "[tollgate] exited during startup; last lines of $log_file:" >&2
      tail -n 20 "$log_file" >&2 || true
      rm -f "$pid_file"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "[tollgate] /readyz not answering after ${timeout}s; last lines of $log_file:" >&2
      tail -n 20 "$log_file" >&2 || true
      stop_tollgate
      return 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------
# the PolicyException CRD, as deploy/base installs it, so the watch finds it

kubectl apply -f "$repo/deploy/crds/policyexceptions/policyexceptions.yaml" >/dev/null
kubectl wait --for condition=established --timeout="${timeout}s" \
  crd/policyexceptions.tollgate.dev >/dev/null

# ---------------------------------------------------------------------------
# the process

port="${TOLLGATE_E2E_WEBHOOK_PORT:-}"
if [ "$restart" = 1 ]; then
  stop_tollgate
fi
started=0
if pid_alive "$pid_file" && [ -n "$port" ] && readyz "$port" && [ ! "$cli" -nt "$pid_file" ]; then
  log "already running on 127.0.0.1:$port (pid $(head -n1 "$pid_file")), started after the last build"
else
  started=1
  stop_tollgate
  if [ -n "$port" ]; then
    log "starting tollgate on 127.0.0.1:$port"
    start_tollgate "$port" || die "tollgate did not start on port $port; see $log_file"
  else
    # A port found free can be taken before node binds it: retry with another.
    ok=0
    for attempt in 1 2 3; do
      port="$(free_port)"
      log "starting tollgate on 127.0.0.1:$port"
      if start_tollgate "$port"; then
        ok=1
        break
      fi
      tail -n 20 "$log_file" | grep -q "address already in use" || break
      log "port $port was taken (attempt $attempt); trying another"
    done
    [ "$ok" = 1 ] || die "tollgate did not start; see $log_file"
  fi
  record_port "$port"
fi

# ---------------------------------------------------------------------------
# the webhook configurations, exactly as shipped (deploy/overlays/localhost)

probe_ns=tollgate-e2e-probe
probe_pod() {
  cat <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: tollgate-probe
  namespace: tollgate-e2e-probe
spec:
  containers:
    - name: probe
      image: registry.e2e.tollgate.test/probe:1.0
      securityContext:
        privileged: true
EOF
}

if [ "$register" = 1 ]; then
  log "registering the webhook configurations (deploy/overlays/localhost, port $port)"
  KUBECTL="$kubectl_bin" "$repo/deploy/overlays/localhost/render.sh" "$port" "$ca_file" \
    | kubectl apply -f - >/dev/null
  # An unlabelled namespace is enforced. Namespaces cannot be deleted on this
  # control plane (no namespace controller), so the probe namespace is reused.
  kubectl get namespace "$probe_ns" >/dev/null 2>&1 \
    || kubectl create namespace "$probe_ns" >/dev/null
  deadline=$((SECONDS + timeout))
  until out="$(probe_pod | kubectl create --dry-run=server -f - 2>&1)"; [[ "$out" == *'admission webhook "enforce.tollgate.dev" denied the request'* ]]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "[tollgate] the API server does not call Tollgate after ${timeout}s; last answer:" >&2
      printf '%s\n' "$out" >&2
      exit 1
    fi
    sleep 0.5
  done
  log "the API server calls tollgate: a privileged pod is refused by enforce.tollgate.dev"
fi

[ "$started" = 1 ] || exit 0
cat <<EOF
[tollgate] webhook on https://127.0.0.1:$port:
       tollgate        pid $(head -n1 "$pid_file"), log $log_file
       policy set      $policyset
       certificate     $TOLLGATE_E2E_WEBHOOK_CERT (CA $ca_file)
       webhooks        MutatingWebhookConfiguration tollgate; ValidatingWebhookConfiguration tollgate-enforce, tollgate-report
       port            TOLLGATE_E2E_WEBHOOK_PORT=$port in $env_file
EOF
