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
#
# --v8-pool-size=1: one V8 helper thread instead of four. A major GC of the main thread ran the main
# thread and three helpers at once for ~20 ms; on two cores the media worker then waited up to 11 ms
# for a CPU (perf sched), and every RTP packet of that tick left late. With one helper the GC can hold
# at most two threads' worth of CPU. IVR 400: the server's wire pacing p99 1.3–2.1 ms against 3.0–8.0 ms;
# 400 calls/s: setup p99 4.5 ms against 7.9 ms (docs/performance.md, "Session 9").
#
# --no-memory-reducer: once call setup calms down, V8's memory reducer shrinks the main thread's heap with
# back-to-back full collections (three Mark-Compacts "(reduce)" within 1.3 s of a 400-call IVR hold, each
# with ~30 ms of marking): the stalls left in the media clock after the change above. Without it the heap
# stays some 10 MB larger, and the harness measured pacing p99 1.0–1.35 ms at 400 IVR calls against
# 1.9–2.7 ms (docs/performance.md, "Session 9").
exec node --max-semi-space-size=2 --v8-pool-size=1 --no-memory-reducer "$@" "$(dirname "$0")/../dist/server/main.js"
