#!/usr/bin/env bash
# WeCom callback ingest benchmark with wrk as the load generator (issue 4, "What must be shown" 5).
#
#   tests/bench/channels/run_callback_bench.sh BUILD_DIR [SECONDS=5] [CONNECTIONS=64]
#                                              [SYNC=normal|full] [MAX_MSGS_PER_S=60000]
#
# Starts kefu_channels_testd (the app::Daemon with the app and channels modules, no consumer),
# writes SECONDS x MAX_MSGS_PER_S encrypted callbacks with unique MsgIds (before the timed runs),
# then runs wrk -t2 against the daemon's no-op route GET /healthz and against
# POST /callback/wecom/main (verify -> decrypt -> parse -> dedupe -> durable store -> 200 after
# COMMIT), one after the other in the same daemon. Prints req/s, p50, p99, the daemon's CPU time
# per request and the callback / no-op ratio, plus the load average before and after.
set -euo pipefail
build=${1:?usage: run_callback_bench.sh BUILD_DIR [SECONDS] [CONNECTIONS] [SYNC] [MAX_MSGS_PER_S]}
seconds=${2:-5}
connections=${3:-64}
sync=${4:-normal}
max_rate=${5:-60000}
threads=2
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$build/bin/kefu_channels_testd" "$work/data" http://127.0.0.1:1 "$work/port" noecho \
  "sync=$sync" >"$work/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 200); do [[ -f $work/port ]] && break; sleep 0.05; done
[[ -f $work/port ]] || { echo "kefu_channels_testd did not start" >&2; cat "$work/daemon.log" >&2; exit 1; }
port=$(cat "$work/port")

"$build/bin/kefu_channels_callback_load" --write-requests "$work/requests" \
  $((seconds * max_rate))

echo "synchronous=$sync connections=$connections seconds=$seconds"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
noop=$(KEFU_DAEMON_PID=$pid KEFU_LABEL="GET /healthz (no-op)" \
  wrk -t$threads -c"$connections" -d"${seconds}s" -s "$here/callback_wrk.lua" \
  "http://127.0.0.1:$port/healthz" | tail -1)
echo "$noop"
# bash's `time` gives the load generator's own CPU (user + system) for the callback run; it
# includes loading the request file before the timed run.
TIMEFORMAT="wrk (load generator) cpu: %U s user + %S s system, %R s wall"
{ time KEFU_DAEMON_PID=$pid KEFU_LABEL="POST /callback/wecom" \
  KEFU_CALLBACK_REQUESTS="$work/requests" KEFU_WRK_THREADS=$threads \
  wrk -t$threads -c"$connections" -d"${seconds}s" -s "$here/callback_wrk.lua" \
  "http://127.0.0.1:$port/callback/wecom/main" >"$work/wrk.out"; } 2>"$work/wrk.time"
callback=$(tail -1 "$work/wrk.out")
echo "$callback"
cat "$work/wrk.time"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v a="$callback" -v b="$noop" 'BEGIN {
  split(a, x, " req/s"); n = split(x[1], y, " "); cb = y[n];
  split(b, x, " req/s"); n = split(x[1], y, " "); no = y[n];
  if (no > 0) printf "callback/no-op throughput ratio %.2f\n", cb / no }'
