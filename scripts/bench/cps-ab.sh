#!/usr/bin/env bash
# Call-setup rate (7000: answer, 1 s prompt, hang up) of one or more server builds, run back to back in
# the same minute so that the shared machine's noise hits every build alike. Each build is a tsc output
# tree (ROOT/dist/server/main.js) next to symlinks to this repository's ivr-flows, node_modules and
# package.json, so builds of different commits can sit side by side:
#
#   bash scripts/bench/cps-ab.sh build /tmp/cps-a          # tsc of the current tree into /tmp/cps-a
#   bash scripts/bench/cps-ab.sh run "/tmp/cps-a /tmp/cps-b" "200 300 400" 10 [rounds]
#   PROF=1 bash scripts/bench/cps-ab.sh run /tmp/cps-a 300 10   # + node --cpu-prof into ROOT/prof
#
# Output: one line per run (build, cps, established/failed, setup p50/p99/max, server CPU, and the main thread's
# CPU in % of a core and ms per call, over the harness's whole run); full JSON in
# $OUT. Server and harness share one fresh network namespace with only loopback. NODE_FLAGS="..." go to every
# build's node (e.g. --max-semi-space-size=2, as scripts/serve.sh runs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
. scripts/bench/lib.sh
SIPLOAD=$(sipload_path) || exit 2
OUT=${OUT:-/tmp/hotline-cps-ab.jsonl}

if [ "${1:-}" = build ]; then
  ROOT=${2:?build ROOT}
  mkdir -p "$ROOT"
  npx tsc -p tsconfig.build.json --outDir "$ROOT/dist" || true
  # Data files next to the code (tsc copies only what it compiles).
  (cd server && find . -name '*.json' -exec install -D {} "$ROOT/dist/server/{}" \;)
  for f in ivr-flows node_modules package.json; do ln -sfn "$REPO/$f" "$ROOT/$f"; done
  echo "built $ROOT"
  exit 0
fi
[ "${1:-}" = run ] || { echo "usage: $0 build ROOT | run \"ROOT...\" \"CPS...\" SECONDS [ROUNDS]" >&2; exit 2; }
ROOTS=${2:?roots}
STEPS=${3:-"200 300"}
LEN=${4:-10}
ROUNDS=${5:-1}

if [ "${HOTLINE_BENCH_NETNS:-}" != "1" ]; then
  exec unshare -n env HOTLINE_BENCH_NETNS=1 bash "$0" "$@"
fi
ip link set lo up

# utime+stime ticks of the main thread (the event loop: its tid is the pid).
main_ticks() {
  awk '{ s = $0; split(substr(s, index(s, ") ") + 2), f, " "); print f[12] + f[13] }' "/proc/$1/task/$1/stat"
}

one() { # root cps
  local root=$1 cps=$2 data pid label
  data=$(mktemp -d /tmp/hotline-cps-data-XXXX)
  local prof=()
  [ "${PROF:-}" = 1 ] && { mkdir -p "$root/prof"; prof=(--cpu-prof --cpu-prof-dir "$root/prof"); }
  bench_server "$data" "$data/server.log" node ${NODE_FLAGS:-} "${prof[@]}" "$root/dist/server/main.js"
  pid=$BENCH_PID
  sleep 1
  label="$(basename "$root")-cps-$cps"
  local m0 t0 m1 t1
  m0=$(main_ticks "$pid"); t0=$(date +%s.%N)
  node "$SIPLOAD" --target 127.0.0.1:25060 --number 7000 --cps "$cps" --total $((cps * LEN)) \
    --pid "$pid" --json "$OUT" --label "$label" --quiet >/dev/null 2>&1 || true
  m1=$(main_ticks "$pid"); t1=$(date +%s.%N)
  MAIN_MS_PER_CALL=$(awk -v a="$m0" -v b="$m1" -v hz="$(getconf CLK_TCK)" -v n=$((cps * LEN)) \
    'BEGIN { printf "%.3f", (b - a) * 1000 / hz / n }')
  MAIN_PCT=$(awk -v a="$m0" -v b="$m1" -v hz="$(getconf CLK_TCK)" -v s="$t0" -v e="$t1" \
    'BEGIN { printf "%.1f", (b - a) * 100 / hz / (e - s) }')
  kill -INT $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  node -e '
    const fs = require("fs");
    const lines = fs.readFileSync(process.argv[1], "utf8").trim().split("\n");
    const r = JSON.parse(lines[lines.length - 1]);
    const s = r.setupMs || {}, c = r.calls || {}, cpu = (r.cpu && r.cpu.steady) || {};
    const f = (x) => (typeof x === "number" ? x.toFixed(1) : "-");
    console.log([r.label, "est", c.established, "inef%", c.ineffectivePct, "setup p50", f(s.p50), "p99", f(s.p99),
      "max", f(s.max), "| server cpu%", f(cpu.targetPct), "others%", f(cpu.othersPct),
      "| main thread %", process.argv[2], "ms/call", process.argv[3]].join(" "));
  ' "$OUT" "$MAIN_PCT" "$MAIN_MS_PER_CALL"
  rm -rf "$data"
}

echo "($(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg))"
for _ in $(seq 1 "$ROUNDS"); do
  for cps in $STEPS; do
    for root in $ROOTS; do one "$root" "$cps"; sleep 2; done
  done
done
