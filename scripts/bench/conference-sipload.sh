#!/usr/bin/env bash
# Three-party conference capacity with the shared SIP/RTP harness: for each K in STEPS, 3K held calls to the
# meet-me number 9100 (the server runs with MEETME_ROOM_SIZE=3, so rooms fill with three callers in arrival
# order); every caller sends a 1 kHz tone and the harness measures loss and pacing of the mix it gets back.
#
#   bash scripts/bench/conference-sipload.sh "50 100 150 200" [hold_s]
#
# Same environment knobs as media-sipload.sh (MEDIA_PACING, SIPLOAD_WORKERS, NO_BUILD, OUT).
exec bash "$(dirname "$0")/media-sipload.sh" conf "${1:-50 100 150}" "${2:-30}"
