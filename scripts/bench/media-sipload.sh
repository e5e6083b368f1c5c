#!/usr/bin/env bash
# Media and call-setup benchmarks with the shared SIP/RTP load harness (../shared/bench/sipload):
#   ivr    N held calls to 12315 running the bench-loop flow (prompts play for the whole hold)
#   echo   N held calls to 9196 (media both ways through the echo)
#   conf   K three-party conferences: 3K held calls to 9100 sending a tone, MEETME_ROOM_SIZE=3 fills the rooms
#          in arrival order (STEPS are conference counts; conference-sipload.sh is the same)
#   cps    rate mode against 7000 (answer, 1 s prompt, hang up)
# The server and the harness run in one fresh network namespace with only loopback.
#
#   bash scripts/bench/media-sipload.sh ivr  "200 400 600" [hold_s]
#   bash scripts/bench/media-sipload.sh echo "200 400 600" [hold_s]
#   bash scripts/bench/media-sipload.sh conf "50 100 150" [hold_s]
#   bash scripts/bench/media-sipload.sh cps  "200 300 400" [seconds]
#
# Environment: MEDIA_PACING=self|ticker picks the media worker's clock (server/media/engine/index.ts);
# MEDIA_PHASES=1..20 (sends per frame split into that many bursts, default 4), MEDIA_TICK_LEAD_MS=0..4 (ticker
# posts early, the worker waits for the due time; default 0), MEDIA_RT_PRIORITY=N (SCHED_FIFO clock threads), MEDIA_CPUS=list
# (the media worker and its ticker kept on those CPUs, the rest of the server moved to the others);
# SIPLOAD_ARGS="..." go to the harness in ivr mode (e.g. --no-tx); SIPLOAD_WORKERS=K spreads the harness over K threads (default 1); NO_BUILD=1 reuses dist/;
# OUT=file.jsonl collects the JSON results (default /tmp/hotline-bench-MODE.jsonl); SERVER_CPUS / HARNESS_CPUS pin
# the server and the harness to CPUs (taskset lists, e.g. 1 and 0); WIRE=1 adds the server's own send pacing from a
# tcpdump capture (kernel timestamps, scripts/bench/wire-pacing.mjs) of WIRE_SECONDS (default 8) from WIRE_DELAY s after
# the first call (default: once every call is up; WIRE_DELAY=1 WIRE_SECONDS=11 covers a 600-call ramp); NODE_FLAGS="..." go to the server's node after
# scripts/serve.sh's own.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:?ivr|echo|cps}
STEPS=${2:-"100 200 300"}
LEN=${3:-30}
. scripts/bench/lib.sh
SIPLOAD=$(sipload_path) || exit 2
OUT=${OUT:-/tmp/hotline-bench-$MODE.jsonl}

if [ "${HOTLINE_BENCH_NETNS:-}" != "1" ]; then
  [ -f dist/server/main.js ] && [ "${NO_BUILD:-}" = "1" ] || npm run build >/dev/null
  exec unshare -n env HOTLINE_BENCH_NETNS=1 bash "$0" "$@"
fi
ip link set lo up

DATA=$(mktemp -d /tmp/hotline-bench-data-XXXX)
FLOW=12315
[ "$MODE" = ivr ] && FLOW=bench-loop
trap 'kill ${BENCH_PID:-} 2>/dev/null; wait ${BENCH_PID:-} 2>/dev/null; cp "$DATA/server.log" /tmp/hotline-bench-server.log 2>/dev/null; rm -rf "$DATA"' EXIT
METRICS_TOKEN=bench-metrics-token-0123456789 MEETME_ROOM_SIZE=3 IVR_FLOW=$FLOW bench_server "$DATA" "$DATA/server.log" \
  ${SERVER_CPUS:+taskset -c "$SERVER_CPUS"} bash scripts/serve.sh ${NODE_FLAGS:-}
PID=$BENCH_PID
# SERVER_NICE=N: every thread of the server at nice N (negative needs root/CAP_SYS_NICE), for A/B of scheduling.
if [ -n "${SERVER_NICE:-}" ]; then
  for t in /proc/"$PID"/task/*; do renice -n "$SERVER_NICE" -p "${t##*/}" >/dev/null; done
fi
echo "server pid $PID ($(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); MEDIA_PACING=${MEDIA_PACING:-default})"
W=${SIPLOAD_WORKERS:-1}
HARNESS=(node)
[ -n "${HARNESS_CPUS:-}" ] && HARNESS=(taskset -c "$HARNESS_CPUS" node)

# WIRE=1: also capture what the server sends (tcpdump on lo, kernel timestamps) for WIRE_SECONDS once every
# call is up, and report its pacing with scripts/bench/wire-pacing.mjs: the server's own send pacing, apart
# from the harness's receive-side scheduling.
wire_capture() {
  local n=$1 calls=$1
  [ "$MODE" = conf ] && calls=$((3 * n))
  [ "$MODE" = cps ] && return 0
  sleep "${WIRE_DELAY:-$((calls / 50 + 3))}"
  timeout "${WIRE_SECONDS:-8}" tcpdump -i lo -n -q -B 65536 -s 64 --time-stamp-precision=nano \
    -w "$DATA/wire-$n.pcap" 'udp and src portrange 20000-29999' 2>"$DATA/wire-$n.log" || true
  node scripts/bench/wire-pacing.mjs "$DATA/wire-$n.pcap" --label "$MODE-$n" || true
  # The server's own view of the same window: media clock tick lateness and tick work time (ms).
  curl -sf -H 'authorization: Bearer bench-metrics-token-0123456789' http://127.0.0.1:28080/metrics |
    awk '/^cc_media_tick_(late|work)_seconds/ { sub(/cc_media_tick_/, ""); sub(/_seconds/, ""); printf "%s=%.2fms ", $1, $2 * 1000 }
         /^cc_media_ticks_total/ { printf "%s=%s ", $1, $2 } END { print "" }' | sed 's/^/server clock: /' || true
  grep -h "dropped by kernel" "$DATA/wire-$n.log" || true
  rm -f "$DATA/wire-$n.pcap"
}

for n in $STEPS; do
  WPID=
  [ "${WIRE:-}" = "1" ] && { wire_capture "$n" & WPID=$!; }
  case "$MODE" in
    ivr)  "${HARNESS[@]}" "$SIPLOAD" --target 127.0.0.1:25060 --number 12315 --calls "$n" --ramp 50 --hold "$LEN" \
            --workers "$W" --pid "$PID" --json "$OUT" --label "ivr-$n" ${SIPLOAD_ARGS:-} || true ;;
    echo) "${HARNESS[@]}" "$SIPLOAD" --target 127.0.0.1:25060 --number 9196 --calls "$n" --ramp 50 --hold "$LEN" \
            --workers "$W" --pid "$PID" --json "$OUT" --label "echo-$n" || true ;;
    conf) "${HARNESS[@]}" "$SIPLOAD" --target 127.0.0.1:25060 --number 9100 --calls $((3 * n)) --ramp 60 --hold "$LEN" \
            --tone --workers "$W" --pid "$PID" --json "$OUT" --label "conf-$n" || true ;;
    cps)  "${HARNESS[@]}" "$SIPLOAD" --target 127.0.0.1:25060 --number 7000 --cps "$n" --total $((n * LEN)) \
            --pid "$PID" --json "$OUT" --label "cps-$n" || true ;;
    *) echo "unknown mode $MODE" >&2; exit 2 ;;
  esac
  [ -n "$WPID" ] && wait "$WPID"
  echo "rss $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MB"}') after $MODE $n"
  sleep 5
done
