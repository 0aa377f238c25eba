# Shell helpers shared by up.sh and down.sh; sourced, never run.

# pid_alive PIDFILE: true if the process recorded in PIDFILE is still the one
# we started (same executable when the file records one, started this boot).
pid_alive() {
  local file="$1" pid exe actual boot
  [ -f "$file" ] || return 1
  { read -r pid; read -r exe || true; } < "$file"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r /proc/stat ]; then
    boot="$(awk '/^btime/ {print $2}' /proc/stat)"
    [ "$(stat -c %Y "$file")" -ge "$boot" ] || return 1
  fi
  if [ -n "${exe:-}" ] && [ -e "/proc/$pid/exe" ]; then
    actual="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
    # The recorded path may go through the bin/ link to the shared build.
    [ "${actual% (deleted)}" = "$(readlink -f "$exe" 2>/dev/null || echo "$exe")" ] || return 1
  fi
  return 0
}

# terminate NAME PID...: SIGTERM, wait up to $stop_timeout seconds, then
# SIGKILL what is left. The caller defines log and stop_timeout.
terminate() {
  local name="$1"; shift
  local pids=("$@") p left deadline
  [ "${#pids[@]}" -gt 0 ] || return 0
  log "stopping $name (pid ${pids[*]})"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  deadline=$((SECONDS + stop_timeout))
  while :; do
    left=()
    for p in "${pids[@]}"; do
      kill -0 "$p" 2>/dev/null && left+=("$p")
    done
    [ "${#left[@]}" -gt 0 ] || return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name did not exit after ${stop_timeout}s; sending SIGKILL"
      kill -KILL "${left[@]}" 2>/dev/null || true
      sleep 0.2
      return 0
    fi
    sleep 0.2
  done
}
