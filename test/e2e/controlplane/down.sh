#!/usr/bin/env bash
# Stop the loopback control plane started by up.sh, plus anything a hook
# registered in the pid directory. Exits 0 when nothing is running.
#
# Usage: test/e2e/controlplane/down.sh [--clean]
#   --clean   also delete the state (certs, kubeconfig, logs, audit log,
#             etcd data); keeps bin/ so the next up.sh does not rebuild
# Env: TOLLGATE_E2E_RUN_DIR (default test/e2e/.run), TOLLGATE_E2E_STOP_TIMEOUT
#      (seconds to wait after SIGTERM before SIGKILL, default 15)
#
# Order: hook-registered processes (pids/*.pid other than the two below),
# then kube-apiserver, then etcd. Afterwards any process still running an
# executable from <run dir>/bin/ whose command line names <run dir> is killed
# as a fallback (matched on /proc/PID/exe and cmdline: bin/ is shared with
# other checkouts, whose control planes are left alone).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
e2e_dir="$(dirname "$here")"
run_dir="${TOLLGATE_E2E_RUN_DIR:-$e2e_dir/.run}"
stop_timeout="${TOLLGATE_E2E_STOP_TIMEOUT:-15}"

clean=0
for arg in "$@"; do
  case "$arg" in
    --clean) clean=1 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "down.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[down] %s\n' "$*"; }

if [ ! -d "$run_dir" ]; then
  log "nothing running (no $run_dir)"
  exit 0
fi
run_dir="$(cd "$run_dir" && pwd)"
bin_dir="$(readlink -f "$run_dir/bin" 2>/dev/null || echo "$run_dir/bin")"
pid_dir="$run_dir/pids"

# shellcheck source=pids.sh
. "$(dirname "${BASH_SOURCE[0]}")/pids.sh"

stopped=0
stop_pidfile() {
  local file="$1" name
  name="$(basename "$file" .pid)"
  if pid_alive "$file"; then
    terminate "$name" "$(head -n1 "$file")"
    stopped=$((stopped + 1))
  fi
  rm -f "$file"
}

if [ -d "$pid_dir" ]; then
  for f in "$pid_dir"/*.pid; do
    [ -e "$f" ] || continue
    case "$(basename "$f")" in
      etcd.pid|kube-apiserver.pid) ;;
      *) stop_pidfile "$f" ;;
    esac
  done
  stop_pidfile "$pid_dir/kube-apiserver.pid"
  stop_pidfile "$pid_dir/etcd.pid"
fi

# Fallback: processes whose executable lives under our bin/ (e.g. started by
# hand, or pid files lost). Linux only (/proc).
if [ -d /proc ] && [ -d "$bin_dir" ]; then
  strays=()
  for exe_link in /proc/[0-9]*/exe; do
    target="$(readlink "$exe_link" 2>/dev/null)" || continue
    target="${target% (deleted)}"
    case "$target" in
      "$bin_dir"/*)
        p="${exe_link#/proc/}"; p="${p%/exe}"
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$run_dir" || continue
        [ "$p" != "$$" ] && strays+=("$p")
        ;;
    esac
  done
  if [ "${#strays[@]}" -gt 0 ]; then
    terminate "leftover processes from $bin_dir" "${strays[@]}"
    stopped=$((stopped + ${#strays[@]}))
  fi
fi

rm -f "$run_dir/env"

if [ "$clean" = 1 ]; then
  log "removing state in $run_dir (keeping bin/)"
  find "$run_dir" -mindepth 1 -maxdepth 1 ! -name bin -exec rm -rf {} +
fi

if [ "$stopped" -eq 0 ]; then
  log "nothing running"
else
  log "stopped"
fi
