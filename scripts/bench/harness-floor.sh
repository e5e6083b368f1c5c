#!/usr/bin/env bash
# The load harness's own floor: the same sipload runs as scripts/bench/media-sipload.sh, but against the harness's
# reference peer (../shared/bench/sipload/tools/uas.js: one Node thread, no SIP stack to speak of, no IVR, no
# mixing; silence from 20 one-millisecond buckets, or an echo on receipt). Whatever pacing error the harness reports
# for that peer is the part of its figure that no server can remove on this machine, so our server's figures are
# read against it (docs/performance.md, "Session 10").
#
#   bash scripts/bench/harness-floor.sh ivr  "400 600" [hold_s]   # N calls of silence (the IVR benchmark's shape)
#   bash scripts/bench/harness-floor.sh echo "600" [hold_s]        # N calls to 9196, echoed on receipt
#   bash scripts/bench/harness-floor.sh tone "450" [hold_s]        # N calls sending a tone (the conference
#                                                                  # benchmark's 150 rooms are 450 such calls)
# Environment: WIRE=1 also captures what the peer sends (tcpdump on lo, kernel timestamps) for WIRE_SECONDS (default
# 8) once every call is up and reports its pacing with scripts/bench/wire-pacing.mjs; OUT=file.jsonl (default
# /tmp/hotline-floor-MODE.jsonl).
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=${1:?ivr|echo|tone}
STEPS=${2:-"400 600"}
LEN=${3:-20}
. scripts/bench/lib.sh
SIPLOAD=$(sipload_path) || exit 2
UAS=$(dirname "$SIPLOAD")/tools/uas.js
OUT=${OUT:-/tmp/hotline-floor-$MODE.jsonl}

if [ "${HOTLINE_BENCH_NETNS:-}" != "1" ]; then
  exec unshare -n env HOTLINE_BENCH_NETNS=1 bash "$0" "$@"
fi
ip link set lo up

WORK=$(mktemp -d /tmp/hotline-floor-XXXX)
node "$UAS" --port 25070 --rtp-ports 50000-59999 2>"$WORK/uas.log" &
UAS_PID=$!
trap 'kill $UAS_PID 2>/dev/null; wait $UAS_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
sleep 0.5
echo "reference peer pid $UAS_PID ($(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg))"

case "$MODE" in
  ivr) NUMBER=12315 RAMP=50 EXTRA=() ;;
  echo) NUMBER=9196 RAMP=50 EXTRA=() ;;
  tone) NUMBER=12315 RAMP=60 EXTRA=(--tone) ;; # media-sipload.sh's conference mode ramps at 60 calls/s
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac

for n in $STEPS; do
  WPID=
  if [ "${WIRE:-}" = "1" ]; then
    (
      sleep $((n / 50 + 3))
      timeout "${WIRE_SECONDS:-8}" tcpdump -i lo -n -q -B 65536 -s 64 --time-stamp-precision=nano \
        -w "$WORK/wire-$n.pcap" 'udp and src portrange 50000-59999' 2>/dev/null || true
      node scripts/bench/wire-pacing.mjs "$WORK/wire-$n.pcap" --label "floor-$MODE-$n" || true
    ) &
    WPID=$!
  fi
  node "$SIPLOAD" --target 127.0.0.1:25070 --number "$NUMBER" --calls "$n" --ramp "$RAMP" --hold "$LEN" "${EXTRA[@]}" \
    --pid "$UAS_PID" --json "$OUT" --label "floor-$MODE-$n" || true
  [ -n "$WPID" ] && wait "$WPID"
  sleep 3
done
