#!/usr/bin/env bash
# Restart after kill -9: spawn → first SIP OPTIONS 200, /api/health 200 and an agent's socket back, over N
# restarts (scripts/bench/restart.ts has the details). Builds nothing: it runs the dist/ of this tree, so
# build it first (npm run build, or tsc -p tsconfig.build.json + node scripts/build-server.mjs in a worktree).
# Runs in its own loopback-only network namespace, so its fixed ports cannot clash with anyone's.
#
#   bash scripts/bench/restart.sh [--reps N] [--calls K] [--entry dist/server/main.js] [--cpu-prof DIR]
#                                 [--node-arg ARG]...
set -euo pipefail
if [ -z "${RESTART_BENCH_IN_NS:-}" ]; then
  exec unshare -n env RESTART_BENCH_IN_NS=1 bash "$0" "$@"
fi
ip link set lo up
cd "$(dirname "$0")/../.."
exec node --import tsx scripts/bench/restart.ts "$@"
