#!/usr/bin/env bash
# Overload benchmark (issue 9): the server with MAX_CALLS=N; sipload holds N calls (echo 9196) and
# checks their audio (0 lost packets, pacing p99); meanwhile a SIPp flood of new calls must get
# 503 + Retry-After (tests/reliability/scenarios/uac_expect_503.xml, check_it on Retry-After).
#   scripts/bench/overload-sipp.sh [N=100] [FLOOD_CALLS=2000] [FLOOD_RATE=200] [HOLD_S=30]
# Runs in its own loopback-only namespace. Timing figures on a shared machine are noisy.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100}; FLOOD=${2:-2000}; RATE=${3:-200}; HOLD=${4:-30}
exec unshare -n bash -s "$N" "$FLOOD" "$RATE" "$HOLD" <<'INNER'
set -euo pipefail
N=$1; FLOOD=$2; RATE=$3; HOLD=$4
ip link set lo up
DATA=$(mktemp -d)
MAX_CALLS=$N DATA_DIR=$DATA SIP_HOST=127.0.0.1 SIP_PORT=25060 HTTP_PORT=28080 LOG_LEVEL=warn \
  SIP_RATE_PER_SECOND=5000 SIP_RATE_BURST=10000 node --import tsx server/main.ts >"$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do curl -sf -o /dev/null http://127.0.0.1:28080/api/health && break; sleep 0.1; done
node /work/shared/bench/sipload/sipload.js --target 127.0.0.1:25060 --number 9196 --calls "$N" --ramp 50 \
  --hold "$HOLD" --pid "$SERVER" --json "$DATA/hold.json" >"$DATA/hold.txt" 2>&1 &
HOLDER=$!
sleep $(( N / 50 + 3 ))   # ramp-up done: every channel taken
sipp 127.0.0.1:25060 -sf tests/reliability/scenarios/uac_expect_503.xml -s 9196 -m "$FLOOD" -r "$RATE" \
  -p 25090 -trace_stat -stf "$DATA/flood.csv" -nostdin >/dev/null 2>&1 || true
wait "$HOLDER" || true
sleep 2
echo "== held calls (sipload) =="; tail -12 "$DATA/hold.txt"
echo "== flood (SIPp): successful = got 503 with Retry-After =="
tail -1 "$DATA/flood.csv" | tr ';' '\n' | paste -d= <(head -1 "$DATA/flood.csv" | tr ';' '\n') - | grep -E '^(SuccessfulCall|FailedCall)\(C\)'
kill "$SERVER"; wait "$SERVER" || true
rm -rf "$DATA"
INNER
