#!/usr/bin/env bash
# Call-setup rate (7000: answer, 1 s prompt, hang up) with the server's per-stage setup trace
# (CALL_SETUP_TRACE, server/sip/message/setup-trace.ts) and per-thread CPU of the server, one fresh server per
# step so that each step's trace stands alone. Server and harness share one fresh network namespace (loopback).
#
#   NO_BUILD=1 bash scripts/bench/cps-trace.sh "150 300" 10
#
# Prints, per step: sipload's summary lines, the trace table (gaps between stages, ms), and the CPU of each
# server thread over the run in % of one core (main = the event loop; the media worker and ticker are worker
# threads; libuv-worker = the threadpool). OUT=file.jsonl collects sipload's JSON (default /tmp/hotline-cps-trace.jsonl).
# CPU_PROF=dir writes a V8 CPU profile of every server thread there (node --cpu-prof; main and media worker);
# summarise with `node scripts/bench/cps-profile.mjs dir/*.cpuprofile`. NODE_FLAGS="..." are passed to the server's
# node after scripts/serve.sh's own (e.g. --max-semi-space-size=16 for V8's default); SETUP_TRACE=0 runs without the setup trace.
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-"150 300"}
LEN=${2:-10}
. scripts/bench/lib.sh
SIPLOAD=$(sipload_path) || exit 2
OUT=${OUT:-/tmp/hotline-cps-trace.jsonl}

if [ "${HOTLINE_BENCH_NETNS:-}" != "1" ]; then
  [ -f dist/server/main.js ] && [ "${NO_BUILD:-}" = "1" ] || npm run build >/dev/null
  exec unshare -n env HOTLINE_BENCH_NETNS=1 bash "$0" "$@"
fi
ip link set lo up

# utime+stime ticks of every thread of $1, one "tid comm ticks" line each.
threads() {
  for t in /proc/"$1"/task/*; do
    [ -r "$t/stat" ] || continue
    # comm may contain spaces: fields after the closing parenthesis.
    awk -v tid="${t##*/}" '{ s = $0; i = index(s, ") "); c = substr(s, index(s, "(") + 1, i - index(s, "(") - 1);
      split(substr(s, i + 2), f, " "); gsub(/ /, "_", c); print tid, c, f[12] + f[13] }' "$t/stat"
  done
}

for n in $STEPS; do
  DATA=$(mktemp -d /tmp/hotline-cps-trace-XXXX)
  TRACE=$DATA/trace.txt
  [ "${SETUP_TRACE:-1}" = 0 ] && TRACE=
  CALL_SETUP_TRACE=$TRACE bench_server "$DATA" "$DATA/server.log" \
    bash scripts/serve.sh ${NODE_FLAGS:-} ${CPU_PROF:+--cpu-prof --cpu-prof-dir="$CPU_PROF/$n"}
  PID=$BENCH_PID
  sleep 1
  echo "== cps $n for $LEN s (server pid $PID; load $(cut -d' ' -f1-3 /proc/loadavg))"
  threads "$PID" >"$DATA/t0"
  T0=$(date +%s.%N)
  node "$SIPLOAD" --target 127.0.0.1:25060 --number 7000 --cps "$n" --total $((n * LEN)) \
    --pid "$PID" --json "$OUT" --label "cps-trace-$n" 2>&1 | grep -E '^(calls|setup|cpu|PASS|FAIL)' || true
  threads "$PID" >"$DATA/t1"
  T1=$(date +%s.%N)
  kill -INT "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  HZ=$(getconf CLK_TCK)
  awk -v hz="$HZ" -v secs="$(echo "$T1 - $T0" | bc)" -v pid="$PID" '
    NR == FNR { a[$1] = $3; next }
    { d = $3 - a[$1]; name = ($1 == pid) ? "main" : $2 "/" $1; cpu[name] += d }
    END { printf "server threads, %% of one core over %.1f s:", secs;
          for (n in cpu) if (cpu[n] > 0) printf " %s %.1f", n, 100 * cpu[n] / hz / secs; print "" }' \
    "$DATA/t0" "$DATA/t1"
  cat "$TRACE" 2>/dev/null || echo "(no trace written)"
  rm -rf "$DATA"
  sleep 3
done
