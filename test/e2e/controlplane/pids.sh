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
