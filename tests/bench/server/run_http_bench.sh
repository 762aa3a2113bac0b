#!/usr/bin/env bash
# HTTP benchmark: wrk against kefu's HttpServer (no-op route) and a bare Beast server, same
# server threads and connections. Prints req/s, p50, p99 for each and the kefu/echo ratios.
#
#   tests/bench/server/run_http_bench.sh BUILD_DIR [DURATION=10s] [CONNECTIONS=64] [THREADS=2]
set -euo pipefail
build=${1:?usage: run_http_bench.sh BUILD_DIR [DURATION] [CONNECTIONS] [THREADS]}
duration=${2:-10s}
connections=${3:-64}
threads=${4:-2}
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# start_server BINARY -> sets $port, appends the pid to pids
start_server() {
  local out
  out=$(mktemp)
  "$1" --port 0 --threads "$threads" >"$out" &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q '^PORT ' "$out"; then break; fi
    sleep 0.05
  done
  port=$(awk '/^PORT /{print $2}' "$out")
  rm -f "$out"
  [[ -n $port ]] || { echo "$1 did not start" >&2; exit 1; }
}

# to_ms "1.23ms" | "850.00us" | "1.02s" -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
  }'
}

# run NAME URL -> prints one line and sets rps_NAME, p50_NAME, p99_NAME
run() {
  local name=$1 url=$2 out
  wrk -t2 -c"$connections" -d2s "$url" >/dev/null  # warm-up
  out=$(wrk -t2 -c"$connections" -d"$duration" --latency "$url")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/{print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")
  printf '%-12s %12.0f req/s   p50 %8.3f ms   p99 %8.3f ms\n' "$name" "$rps" "$p50" "$p99"
  printf -v "rps_$name" '%s' "$rps"
  printf -v "p99_$name" '%s' "$p99"
  if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then grep 'Non-2xx\|Socket errors' <<<"$out"; fi
}

echo "wrk -t2 -c$connections -d$duration --latency; server threads=$threads; $(nproc) cores"
start_server "$build/bin/kefu_bench_echo_server"
run echo "http://127.0.0.1:$port/noop"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

start_server "$build/bin/kefu_bench_noop_server"
run kefu "http://127.0.0.1:$port/noop"
run kefu_async "http://127.0.0.1:$port/noop-async"

awk -v k="$rps_kefu" -v e="$rps_echo" -v kp="$p99_kefu" -v ep="$p99_echo" \
    -v ka="$rps_kefu_async" -v kap="$p99_kefu_async" 'BEGIN {
  printf "ratio kefu/echo:        req/s %.2f (target >= 0.90)   p99 %.2f (target <= 1.20)\n", k / e, kp / ep
  printf "ratio kefu_async/echo:  req/s %.2f                    p99 %.2f\n", ka / e, kap / ep
}'
