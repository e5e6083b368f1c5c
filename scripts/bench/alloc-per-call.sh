#!/usr/bin/env bash
# Bytes the server allocates per call on each thread (V8 isolate), from --trace-gc-nvp's per-scavenge "allocated"
# counts summed over a run of the call-setup flow (7000: answer, 1 s prompt, hang up) and divided by the calls.
# Unlike CPU %, this hardly moves with the shared machine's noise (±1 %), so it shows a parser or SDP change that
# a CPU A/B cannot. Server and harness share one fresh network namespace (loopback only).
#
#   bash scripts/bench/alloc-per-call.sh [ROOT=.] [CPS=150] [SECONDS=10]
#   HEAP_PROFILE=/tmp/hotline.heapprofile bash scripts/bench/alloc-per-call.sh   # + a sampling heap profile of
#       the main thread over the same run; summarise with node scripts/bench/heap-profile-summary.mjs FILE
#
# ROOT is a tree with dist/server/main.js: this repository after `npm run build`, or a build of another commit
# made with `bash scripts/bench/cps-ab.sh build ROOT`, for an A/B.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
ROOT=${1:-.}
CPS=${2:-150}
LEN=${3:-10}
. scripts/bench/lib.sh
SIPLOAD=$(sipload_path) || exit 2

if [ "${HOTLINE_BENCH_NETNS:-}" != "1" ]; then
  exec unshare -n env HOTLINE_BENCH_NETNS=1 bash "$0" "$@"
fi
ip link set lo up

DATA=$(mktemp -d /tmp/hotline-alloc-XXXX)
trap 'rm -rf "$DATA"' EXIT
PRELOAD=()
[ -n "${HEAP_PROFILE:-}" ] && PRELOAD=(--import "$REPO/scripts/bench/heap-sampling.mjs")
HEAP_PROFILE_OUT=${HEAP_PROFILE:-} bench_server "$DATA" "$DATA/server.log" \
  node --max-semi-space-size=2 --trace-gc-nvp "${PRELOAD[@]}" "$ROOT/dist/server/main.js"
PID=$BENCH_PID
sleep 2
FROM=$(wc -l <"$DATA/server.log")
[ -n "${HEAP_PROFILE:-}" ] && kill -USR1 "$PID"
node "$SIPLOAD" --target 127.0.0.1:25060 --number 7000 --cps "$CPS" --total $((CPS * LEN)) --pid "$PID" \
  --quiet >/dev/null 2>&1 || true
sleep 1 # the last calls' BYEs
TO=$(wc -l <"$DATA/server.log")
if [ -n "${HEAP_PROFILE:-}" ]; then
  kill -USR2 "$PID"
  sleep 2
fi
kill -INT "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
echo "$(basename "$(cd "$ROOT" && pwd)"): $((CPS * LEN)) calls at $CPS/s"
# The main isolate is the one that collects most often; the media worker's is the other busy one.
sed -n "$((FROM + 1)),${TO}p" "$DATA/server.log" | grep -o '^\[[0-9]*:0x[0-9a-f]*\].*allocated=[0-9]*' |
  awk -v n=$((CPS * LEN)) '
    # Scavenges only: a full GC reports what was allocated since the previous full GC, which counts it twice.
    / gc=s / { iso = $1; match($0, /allocated=[0-9]+/); sum[iso] += substr($0, RSTART + 10, RLENGTH - 10); gcs[iso]++; next }
    { full[$1]++ }
    END { for (i in sum) printf "  isolate %s: %d scavenges (+%d full GCs), %.1f KB allocated per call\n", i, gcs[i], full[i], sum[i] / n / 1024 }' |
  sort -t, -k2 -n -r
