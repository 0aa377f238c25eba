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

# One real node per machine. Two kubelets would share the host's cgroup tree
# (/kubepods) and /var/log/pods, and each removes there what it does not know,
# so a second node (another clone's CI, another worktree) waits for the first
# to stop instead of colliding: up.sh takes this machine-wide lock through a
# holder process, which down.sh stops by its pid.
node_lock="${TOLLGATE_NODE_LOCK:-/run/lock/tollgate-node.lock}"
lock_pidfile="$pid_dir/node-lock.pid"

# take_node_lock SECONDS: hold the machine's node lock (now or within SECONDS);
# else fail, naming the run directory of the node that holds it.
take_node_lock() {
  local wait="$1" holder
  pid_alive "$lock_pidfile" && return 0
  mkdir -p "$pid_dir" "$(dirname "$node_lock")"
  rm -f "$lock_pidfile"
  # The holder locks, names its node in the lock file, records its pid and
  # becomes `sleep`, which keeps the lock until it is stopped.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'exec 8>>"$1"; flock -w "$2" 8 || exit 1; printf "%s\n" "$3" > "$1";
    printf "%s\n%s\n" "$$" "$(readlink -f "$(command -v sleep)")" > "$4"; exec sleep infinity' \
    _ "$node_lock" "$wait" "$run_dir" "$lock_pidfile" < /dev/null > /dev/null 2>&1 8>&- 9>&- &
  holder=$!
  while [ ! -s "$lock_pidfile" ]; do
    if ! kill -0 "$holder" 2>/dev/null; then
      wait "$holder" 2>/dev/null || true
      [ -s "$lock_pidfile" ] && break
      echo "another node held $node_lock for ${wait}s: the one in $(cat "$node_lock" 2>/dev/null || echo '(unknown)');" \
        "stop it with TOLLGATE_NODE_RUN_DIR=<that directory> npm run node:down" >&2
      return 1
    fi
    sleep 0.5
  done
}

# release_node_lock: stop the holder (the caller defines log and stop_timeout).
release_node_lock() {
  if pid_alive "$lock_pidfile"; then terminate "node lock" "$(head -n1 "$lock_pidfile")"; fi
  rm -f "$lock_pidfile"
}

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
