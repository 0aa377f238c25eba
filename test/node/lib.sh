# Shell helpers shared by up.sh, down.sh and exec.sh; sourced, never run.
# Expects $here (this directory). Sets the paths of one node's run directory.

run_dir="${TOLLGATE_NODE_RUN_DIR:-$here/.run}"
mkdir -p "$run_dir"
run_dir="$(cd "$run_dir" && pwd)"
# One node per run directory: its namespaces are named after it, so two
# checkouts never share or stop each other's.
node_id="$(printf '%s' "$run_dir" | sha256sum | cut -c1-8)"
netns="tollgate-node-$node_id"
# Short paths for sockets (a unix socket path is limited to 107 bytes) and the
# mount namespace file.
ns_dir="/run/tollgate-node-$node_id"
pid_dir="$run_dir/pids"
log_dir="$run_dir/logs"
cp_dir="$run_dir/cp"
kubeconfig="$cp_dir/kubeconfig"
kubectl_bin="$cp_dir/bin/kubectl"
# The node's own address, on the loopback link of the namespace.
node_ip=10.200.0.1

# shellcheck source=../e2e/controlplane/pids.sh
. "$here/../e2e/controlplane/pids.sh"

# in_node CMD...: run CMD in the node's network and mount namespaces.
in_node() { nsenter --net="/run/netns/$netns" --mount="$ns_dir/mnt" -- "$@"; }

# start NAME CMD...: start CMD detached in the node's namespaces and record
# "pid\nexecutable" in pids/NAME.pid; the wrapper execs, so the pid is exact.
start() {
  local name="$1"; shift
  local pidfile="$pid_dir/$name.pid" exe
  exe="$(readlink -f "$(command -v "$1")")"
  : > "$log_dir/$name.log"
  # shellcheck disable=SC2016 # expanded by the inner shell
  in_node setsid bash -c 'printf "%s\n%s\n" "$$" "$2" > "$1"; shift 2; exec "$@"' \
    _ "$pidfile" "$exe" "$@" < /dev/null >> "$log_dir/$name.log" 2>&1 9>&- &
  local _
  for _ in $(seq 1 50); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  echo "$name did not start (no pid file)" >&2
  return 1
}

# wait_for NAME TIMEOUT CMD...: poll CMD until it succeeds; fail early if the
# process NAME exits, with the end of its log.
wait_for() {
  local name="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$pid_dir/$name.pid" || [ "$SECONDS" -ge "$deadline" ]; then
      echo "$name: not ready after $((SECONDS + timeout - deadline))s ($*); last lines of $log_dir/$name.log:" >&2
      tail -n 30 "$log_dir/$name.log" >&2 || true
      return 1
    fi
    sleep 1
  done
}
