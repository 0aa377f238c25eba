#!/usr/bin/env bash
# Compares builds (or settings) of `tollgate serve` on CPU per AdmissionReview
# at maximum throughput, alternating them round by round so that a change in
# the machine's load does not favour one of them. Each run: the server pinned
# to core 1, test/bench/loadgen.ts pinned to core 0, 32 keep-alive TLS
# connections, 2 s of warm-up, then 5 s measured. CPU is the server's
# utime + stime from /proc; peak RSS is its VmHWM.
#
#   bash test/bench/server-ab.sh LOAD ROUNDS VARIANT...
#
# LOAD: mix, example or deployment (the request files a run of
# `npm run bench -- --limit-only --quick` leaves in test/bench/.run/).
# VARIANT: name:dist-dir[:ENV=v,ENV=v][:node flags], for example
#   base:dist-base  change:dist  lean:dist:NODE_OPTIONS=--max-old-space-size=128
# A name starting with "null" sends the server's log to /dev/null instead of a file.
# Prints each run, then the median per variant. Take figures on a quiet machine.
set -euo pipefail
load=$1 rounds=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
run=$root/test/bench/.run
requests=$run/requests-tollgate-$load-1.json
[ -f "$requests" ] || { echo "no $requests: run npm run bench -- --limit-only --quick first" >&2; exit 2; }
tls=$run/ab-tls
if [ ! -f "$tls/cert.pem" ]; then
  mkdir -p "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
fi
port=39443
export NODE_EXTRA_CA_CERTS=$tls/cert.pem
mkdir -p "$run/logs"
cd "$root"

loadgen() { # seconds
  printf '{"url":"https://127.0.0.1:%s","requestsFile":"%s","connections":32,"durationSec":%s}\n' \
    "$port" "$requests" "$1" >"$run/ab-load.json"
  taskset -c 0 node --import tsx test/bench/loadgen.ts "$run/ab-load.json" | tail -1
}

declare -A figures
for round in $(seq "$rounds"); do
  for variant in "$@"; do
    IFS=: read -r name dir envs flags <<<"$variant"
    settings=(env)
    if [ -n "$envs" ]; then IFS=, read -ra pairs <<<"$envs"; settings+=("${pairs[@]}"); fi
    log=$run/logs/ab-$name.log
    [[ $name == null* ]] && log=/dev/null
    # shellcheck disable=SC2086 # flags are words on purpose
    "${settings[@]}" taskset -c 1 node $flags "$dir/src/cli/main.js" serve --host 127.0.0.1 \
      --port "$port" --cert "$tls/cert.pem" --key "$tls/key.pem" --no-cluster --drain-delay 0 \
      >"$log" 2>"$run/logs/ab-$name.err" &
    pid=$!
    for _ in $(seq 100); do
      curl -sk "https://127.0.0.1:$port/readyz" -o /dev/null -w '%{http_code}' | grep -q 200 && break
      sleep 0.2
    done
    loadgen 2 >/dev/null
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    result=$(loadgen 5)
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    peak=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
    kill "$pid"
    wait "$pid" || true
    line=$(node -e '
      const r = JSON.parse(process.argv[1]);
      const ticks = Number(process.argv[3]) - Number(process.argv[2]);
      console.log((ticks * 1e6 / Number(process.argv[4]) / r.completed).toFixed(1), Math.round(r.rps), r.non2xx);
    ' "$result" "$before" "$after" "$(getconf CLK_TCK)")
    read -r cpu rps non2xx <<<"$line"
    echo "round $round $name: ${cpu} µs CPU/request, ${rps}/s, ${non2xx} non-2xx, peak RSS ${peak} MB"
    figures[$name]+="$cpu "
  done
done
for variant in "$@"; do
  name=${variant%%:*}
  median=$(tr ' ' '\n' <<<"${figures[$name]}" | sed '/^$/d' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  echo "$name: median ${median} µs CPU/request (runs: ${figures[$name]% })"
done
