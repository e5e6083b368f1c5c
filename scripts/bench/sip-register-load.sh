#!/usr/bin/env bash
# SIP REGISTER (digest) and OPTIONS load against the real server, stepping the rate up until a step
# fails. Everything runs in a fresh network namespace (only `lo`), so nothing leaves the machine
# and no other test's ports can collide.
#
#   bash scripts/bench/sip-register-load.sh [options]
#     --scenario register|options|both   (default both)
#     --rates "100 200 400 ..."          rates in requests ("calls") per second to try, in order
#     --seconds N                        length of each step (default 10)
#     --runner dist|tsx                  dist: `npm run build` then `node dist/server/main.js` (default);
#                                        tsx: `npx tsx server/main.ts` (no build)
#     --no-build                         with --runner dist, use the existing dist/
#     --out FILE                         append one JSON line per step (default: none)
#     --keep-going                       try every rate even after a failed step
#
# A step PASSES when SIPp reports 0 failed calls and the step took at most 1.25 × its nominal
# length (a generator that fell behind has not offered the rate). CPU is from /proc/PID/stat
# (utime+stime) over the step, in % of one core; RSS from /proc/PID/status. SIPp's own CPU is the
# script's reaped-children time across the step (SIPp is the only child reaped in that window).
set -euo pipefail

if [ -z "${SIP_BENCH_IN_NS:-}" ]; then
  exec unshare -n env SIP_BENCH_IN_NS=1 bash "$0" "$@"
fi
ip link set lo up

repo=$(cd "$(dirname "$0")/../.." && pwd)
scenario=both
rates_register="25 50 75 100 125 150 200 300 400"
rates_options="250 500 750 1000 1500 2000 3000 4000"
rates=
seconds=10
runner=dist
build=1
out=
keep_going=0
while [ $# -gt 0 ]; do
  case "$1" in
    --scenario) scenario=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --runner) runner=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --out) out=$2; shift 2 ;;
    --keep-going) keep_going=1; shift ;;
    *) echo "sip-register-load: unknown option $1" >&2; exit 2 ;;
  esac
done

port=25060
tmp=$(mktemp -d /tmp/sip-bench.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

hz=$(getconf CLK_TCK)
# utime+stime of a process, in clock ticks.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# cutime+cstime of this shell: CPU of children it has reaped.
child_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"; }
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
now_ms() { date +%s%3N; }

# --- server -------------------------------------------------------------------------------------
cd "$repo"
if [ "$runner" = dist ]; then
  if [ "$build" = 1 ]; then
    npm run build >"$tmp/build.log" 2>&1 || echo "warning: npm run build reported errors (see below); using what it emitted" >&2
    grep -E 'error TS' "$tmp/build.log" | head -5 >&2 || true
  fi
  [ -f dist/server/main.js ] || { echo "dist/server/main.js missing: run npm run build" >&2; exit 1; }
  cmd=(bash scripts/serve.sh)
else
  cmd=(npx tsx server/main.ts)
fi

# The rate limit is per source address and every SIPp message comes from 127.0.0.1: raise it so
# that the benchmark measures the server, not the limiter. (The config caps it at 65535.)
env DATA_DIR="$tmp/data" SIP_HOST=127.0.0.1 SIP_PORT=$port HTTP_PORT=28080 \
  SIP_RATE_PER_SECOND=65000 SIP_RATE_BURST=65000 LOG_LEVEL="${LOG_LEVEL:-warn}" \
  "${cmd[@]}" >"$tmp/server.log" 2>&1 &
server_pid=$!
# With tsx the node process is a grandchild: measure whichever process owns the SIP socket.
measure_pid() {
  local p
  p=$(ss -ulpnH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
  echo "${p:-$server_pid}"
}

users="$tmp/users.csv"
{ echo SEQUENTIAL; for e in $(seq 8001 8010); do echo "$e;[authentication username=$e password=demo$e]"; done; } >"$users"
sipp_common=(-i 127.0.0.1 -p 5070 -t u1 -nostdin -nd -max_retrans 5)

ready=0
for _ in $(seq 1 60); do
  if sipp 127.0.0.1:$port -sf "$repo/tests/sipp/scenarios/bench_options.xml" "${sipp_common[@]}" -m 1 \
    -timeout 2s >/dev/null 2>&1; then
    ready=1; break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
if [ "$ready" != 1 ]; then
  echo "server did not answer OPTIONS on 127.0.0.1:$port" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi
spid=$(measure_pid)

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), node $(node -v), $(sipp -v 2>/dev/null | awk '/SIPp v/ {print $1, $2; exit}')"
echo "server: ${cmd[*]} (pid $spid), LOG_LEVEL=${LOG_LEVEL:-warn}, step ${seconds}s, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# srv_ms/call: server CPU time per call; unlike srv_cpu% it does not depend on how much of the
# machine other processes take.
printf '%-9s %7s %8s %6s %7s %9s %9s %8s %11s %9s %9s %9s  %s\n' \
  scenario rate calls failed retrans wall_s avg_rt_ms srv_cpu% srv_ms/call srv_rss_MB sipp_cpu% sipp_rss_MB result

run_step() { # $1 scenario, $2 rate
  local name=$1 rate=$2 calls sf extra=()
  calls=$((rate * seconds))
  if [ "$name" = register ]; then
    sf="$repo/tests/sipp/scenarios/bench_register.xml"
    extra=(-inf "$users" -key expires 3600)
  else
    sf="$repo/tests/sipp/scenarios/bench_options.xml"
  fi
  local stat="$tmp/${name}_${rate}.csv"
  rm -f "$stat"
  local s0 c0 t0
  s0=$(ticks "$spid"); c0=$(child_ticks); t0=$(now_ms)
  # -l: SIPp's default cap on concurrent calls is 3 × rate × duration-estimate; be explicit.
  sipp 127.0.0.1:$port -sf "$sf" "${sipp_common[@]}" "${extra[@]}" -r "$rate" -m "$calls" -l $((rate * 4 + 100)) \
    -timeout $((seconds * 3 + 10))s -trace_stat -stf "$stat" -fd 1 >"$tmp/sipp.out" 2>&1 &
  local sipp_pid=$! sipp_rss=0 v
  while kill -0 "$sipp_pid" 2>/dev/null; do
    v=$(kib "$sipp_pid" VmHWM 2>/dev/null || true)
    [ -n "$v" ] && sipp_rss=$v
    sleep 0.5
  done
  local rc=0
  wait "$sipp_pid" || rc=$?
  local t1 s1 c1
  t1=$(now_ms); s1=$(ticks "$spid"); c1=$(child_ticks)
  local wall_ms=$((t1 - t0))
  # Last line of the stat CSV holds the cumulative counters.
  local ok failed retrans avg
  read -r ok failed retrans avg < <(awk -F';' '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { last = $0 }
    END {
      n = split(last, f, ";")
      # HH:MM:SS:microseconds; REGISTER: first request sent -> 200 received (two round trips).
      rt = f[col["ResponseTime1(C)"]]; split(rt, t, ":")
      ms = (t[1] * 3600 + t[2] * 60 + t[3]) * 1000 + t[4] / 1000
      print f[col["SuccessfulCall(C)"]] + 0, f[col["FailedCall(C)"]] + 0, f[col["Retransmissions(C)"]] + 0, ms
    }' "$stat" 2>/dev/null || echo "0 $calls 0 0")
  local srv_cpu sipp_cpu srv_rss srv_hwm
  srv_cpu=$(awk -v d=$((s1 - s0)) -v hz="$hz" -v w="$wall_ms" 'BEGIN { printf "%.1f", d / hz / (w / 1000) * 100 }')
  sipp_cpu=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v w="$wall_ms" 'BEGIN { printf "%.1f", d / hz / (w / 1000) * 100 }')
  srv_rss=$(kib "$spid" VmRSS); srv_hwm=$(kib "$spid" VmHWM)
  local result=PASS
  if [ "$rc" != 0 ] || [ "$failed" != 0 ] || [ "$ok" != "$calls" ] || [ "$wall_ms" -gt $((seconds * 1250)) ]; then result=FAIL; fi
  local per_call
  per_call=$(awk -v d=$((s1 - s0)) -v hz="$hz" -v n="$calls" 'BEGIN { printf "%.3f", d / hz * 1000 / n }')
  printf '%-9s %7s %8s %6s %7s %9.1f %9.2f %8s %11s %9.1f %9s %9.1f  %s\n' "$name" "$rate" "$calls" "$failed" "$retrans" \
    "$(awk -v w="$wall_ms" 'BEGIN { print w / 1000 }')" "$avg" "$srv_cpu" "$per_call" "$(awk -v k="$srv_rss" 'BEGIN { print k / 1024 }')" \
    "$sipp_cpu" "$(awk -v k="$sipp_rss" 'BEGIN { print k / 1024 }')" "$result"
  if [ -n "$out" ]; then
    printf '{"scenario":"%s","rate":%s,"calls":%s,"ok":%s,"failed":%s,"retransmissions":%s,"wallMs":%s,"avgResponseMs":%s,"serverCpuPct":%s,"serverCpuMsPerCall":%s,"serverRssKiB":%s,"serverPeakRssKiB":%s,"sippCpuPct":%s,"sippPeakRssKiB":%s,"sippExit":%s,"result":"%s","runner":"%s"}\n' \
      "$name" "$rate" "$calls" "$ok" "$failed" "$retrans" "$wall_ms" "$avg" "$srv_cpu" "$per_call" "$srv_rss" "$srv_hwm" "$sipp_cpu" "$sipp_rss" "$rc" "$result" "$runner" >>"$out"
  fi
  [ "$result" = PASS ]
}

summary=()
for name in register options; do
  [ "$scenario" = both ] || [ "$scenario" = "$name" ] || continue
  list=$rates
  if [ -z "$list" ]; then
    if [ "$name" = register ]; then list=$rates_register; else list=$rates_options; fi
  fi
  best=none
  for r in $list; do
    if run_step "$name" "$r"; then
      best=$r
    elif [ "$keep_going" = 0 ]; then
      break
    fi
    sleep 2 # let retransmission timers and Timer J/K state drain between steps
  done
  summary+=("$name: highest rate held with 0 failures: $best/s")
done
printf '%s\n' "${summary[@]}"
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "server exited during the run:" >&2
  tail -20 "$tmp/server.log" >&2
  exit 1
fi
