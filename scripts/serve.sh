#!/usr/bin/env bash
# Runs the built server (dist/, from `npm run build`) with the V8 settings it is measured with.
# Extra arguments go to node before the entry point (e.g. --cpu-prof).
#
# --max-semi-space-size=2: the main thread's young generation holds every live call's SIP and case
# objects, and a scavenge copies what is live; with V8's default 16 MB semi-spaces each scavenge
# paused the event loop 13–16 ms (p50) at 300 calls/s, with 2 MB 3.3 ms, for more GC time in all
# (main thread 32 → 36 % of a core at 300 calls/s). Autosave acks, SIP responses and socket events
# wait through those pauses: autosave p99 10.3–15.1 ms with 16 MB, 7.2–9.8 ms with 2 MB
# (docs/performance.md, "Session 5: young-generation size").
exec node --max-semi-space-size=2 "$@" "$(dirname "$0")/../dist/server/main.js"
