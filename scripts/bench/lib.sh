# Sourced by the benchmark scripts that start the server themselves, each inside its own loopback-only network
# namespace.

# bench_server DATA_DIR LOG CMD...: runs CMD (a server) in the background with the settings every benchmark uses
# (SIP 127.0.0.1:25060, HTTP 28080, warn logs, the per-source SIP rate limit raised, RTP 20000–29999, clear of the
# harness's range) plus whatever the caller puts before the call, and waits for /api/health. A loaded machine can
# take many seconds to start the server, and calls sent earlier would only measure SIP retransmission back-off.
# Sets BENCH_PID; fails if the server exits or is not healthy within 60 s.
bench_server() {
  local data=$1 log=$2
  shift 2
  DATA_DIR=$data SIP_HOST=127.0.0.1 SIP_PORT=25060 HTTP_PORT=28080 LOG_LEVEL=warn \
    SIP_RATE_PER_SECOND=60000 SIP_RATE_BURST=60000 RTP_PORT_MIN=20000 RTP_PORT_MAX=29999 "$@" >"$log" 2>&1 &
  BENCH_PID=$!
  local _
  for _ in $(seq 1 600); do
    curl -sf http://127.0.0.1:28080/api/health >/dev/null 2>&1 && return 0
    kill -0 "$BENCH_PID" 2>/dev/null || { echo "the server exited before it was healthy; see $log" >&2; return 1; }
    sleep 0.1
  done
  echo "the server was not healthy after 60 s; see $log" >&2
  kill "$BENCH_PID" 2>/dev/null
  return 1
}

# sipload_path: the shared load harness: $SIPLOAD if given, else ../shared/bench/sipload/sipload.js beside the project;
# from a private worktree (/tmp/wt-X) the sibling path does not exist, so the shared copy under /work is the fallback.
# A SIPLOAD that names no file fails instead of being swapped for another harness.
sipload_path() {
  local p=${SIPLOAD:-$(cd .. && pwd)/shared/bench/sipload/sipload.js}
  [ -f "$p" ] || [ -n "${SIPLOAD:-}" ] || p=/work/shared/bench/sipload/sipload.js
  [ -f "$p" ] || { echo "sipload not found at $p (set SIPLOAD=...)" >&2; return 1; }
  echo "$p"
}
