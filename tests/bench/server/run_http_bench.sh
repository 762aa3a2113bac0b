#!/usr/bin/env bash
# HTTP benchmark: wrk against kefu's HttpServer (no-op routes) and a bare Beast server, same
# server threads and connections. Two baselines: "echo" (Beast example style, beast::tcp_stream
# with per-operation timeouts, like kefu has timeouts) and "echo_raw" (plain socket, no timeouts).
# Runs are interleaved (echo, echo_raw, kefu, kefu_async, echo, ...) so
# background load on a shared machine hits all servers alike; prints every run, the median
# req/s and p99 per server, and the kefu/echo ratios.
#
#   tests/bench/server/run_http_bench.sh BUILD_DIR [DURATION=10s] [CONNECTIONS=64] [THREADS=2] [ROUNDS=3]
set -euo pipefail
build=${1:?usage: run_http_bench.sh BUILD_DIR [DURATION] [CONNECTIONS] [THREADS] [ROUNDS]}
duration=${2:-10s}
connections=${3:-64}
threads=${4:-2}
rounds=${5:-3}
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# start_server BINARY [ARGS...] -> sets $port and appends the pid to $pids. Not called in a
# subshell, so the pid reaches the EXIT trap; the server's output goes to a file, so a pipe
# after this script is not held open by it.
start_server() {
  local out binary=$1
  shift
  out=$(mktemp)
  port=""
  "$binary" --port 0 --threads "$threads" "$@" >"$out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    port=$(awk '/^PORT /{print $2}' "$out")
    [[ -n $port ]] && break
    sleep 0.05
  done
  rm -f "$out"
  [[ -n $port ]] || { echo "$binary did not start" >&2; exit 1; }
}

# to_ms "1.23ms" | "850.00us" | "1.02s" -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
  }'
}

results=$(mktemp)
# run NAME URL -> prints one line, appends "NAME rps p50 p99" to $results
run() {
  local name=$1 url=$2 out rps p50 p99
  out=$(wrk -t2 -c"$connections" -d"$duration" --latency "$url")
  rps=$(awk '/^Requests\/sec:/{print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")
  printf '  %-11s %10.0f req/s   p50 %7.3f ms   p99 %7.3f ms\n' "$name" "$rps" "$p50" "$p99"
  echo "$name $rps $p50 $p99" >>"$results"
  if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then grep 'Non-2xx\|Socket errors' <<<"$out"; fi
}

echo "wrk -t2 -c$connections -d$duration --latency; server threads=$threads; $(nproc) cores;" \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
start_server "$build/bin/kefu_bench_echo_server"
echo_port=$port
start_server "$build/bin/kefu_bench_echo_server" --no-timeouts 1
raw_port=$port
start_server "$build/bin/kefu_bench_noop_server"
kefu_port=$port
for url in "http://127.0.0.1:$echo_port/noop" "http://127.0.0.1:$raw_port/noop" \
           "http://127.0.0.1:$kefu_port/noop"; do
  wrk -t2 -c"$connections" -d2s "$url" >/dev/null  # warm-up
done
for r in $(seq "$rounds"); do
  echo "round $r"
  run echo "http://127.0.0.1:$echo_port/noop"
  run echo_raw "http://127.0.0.1:$raw_port/noop"
  run kefu "http://127.0.0.1:$kefu_port/noop"
  run kefu_async "http://127.0.0.1:$kefu_port/noop-async"
done

# median of column $2 for server $1
median() {
  awk -v n="$1" -v c="$2" '$1==n{print $c}' "$results" | sort -g |
    awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
echo "median over $rounds rounds"
for name in echo echo_raw kefu kefu_async; do
  printf '  %-11s %10.0f req/s   p50 %7.3f ms   p99 %7.3f ms\n' "$name" "$(median $name 2)" \
    "$(median $name 3)" "$(median $name 4)"
done
awk -v e="$(median echo 2)" -v ep="$(median echo 4)" -v k="$(median kefu 2)" \
    -v kp="$(median kefu 4)" -v a="$(median kefu_async 2)" -v ap="$(median kefu_async 4)" \
    -v r="$(median echo_raw 2)" -v rp="$(median echo_raw 4)" 'BEGIN {
  printf "ratio kefu/echo:            req/s %.2f (target >= 0.90)   p99 %.2f (target <= 1.20)\n", k / e, kp / ep
  printf "ratio kefu/echo_raw:        req/s %.2f                    p99 %.2f\n", k / r, kp / rp
  printf "ratio kefu_async/echo:      req/s %.2f                    p99 %.2f\n", a / e, ap / ep
  printf "ratio kefu_async/echo_raw:  req/s %.2f                    p99 %.2f\n", a / r, ap / rp
}'
rm -f "$results"
