#!/usr/bin/env bash
# Soak: an hour at half capacity (issue 9). Runs the soak test with long settings inside a loopback-only
# network namespace: sipload holds CALLS calls to 12315 (IVR → queue → hold music) for SECONDS with an
# agent logged in; prints RSS growth after warm-up, event-loop delay p99 and ACD repairs, and fails on
# any failed call, RSS growth ≥ 5 % or any ACD repair.
#   scripts/soak/run.sh [SECONDS=3600] [CALLS=150]
# Half capacity: 150 concurrent calls is half of the 300-call hold figure in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_ARG=${1:-3600}
CALLS_ARG=${2:-150}
exec unshare -n bash -c "ip link set lo up; SOAK_SECONDS=$SECONDS_ARG SOAK_CALLS=$CALLS_ARG npx vitest run tests/reliability/soak.test.ts"
