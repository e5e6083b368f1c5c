#!/usr/bin/env bash
# ACD dispatch with 100 real SIP seats (one SIPp UAS) and a stream of real calls (sipload) into a queue;
# prints queue entry → agent INVITE sent, p50/p90/p99/max ms, as one JSON line. See acd-dispatch-sip.ts.
#   bash scripts/bench/acd-dispatch-sip.sh [cps=20] [seconds=20] [hold_s=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${HOTLINE_BENCH_NETNS:-}" != "1" ]; then
  exec unshare -n env HOTLINE_BENCH_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
LOG_LEVEL=${LOG_LEVEL:-warn} exec npx tsx scripts/bench/acd-dispatch-sip.ts "$@"
