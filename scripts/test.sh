#!/usr/bin/env bash
# The whole test suite. Tests open SIP/RTP/HTTP sockets and start SIPp, baresip and Chromium, so the
# run happens inside a fresh network namespace that has only loopback: nothing can leave the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${HOTLINE_NETNS:-}" != "1" ]; then
  if [ "$(id -u)" = "0" ]; then
    exec unshare -n env HOTLINE_NETNS=1 bash "$0" "$@"
  else
    # Unprivileged: a user namespace gives us the right to make the network namespace.
    exec unshare -rn env HOTLINE_NETNS=1 bash "$0" "$@"
  fi
fi
ip link set lo up
mkdir -p .test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json "$@" || status=$?
node scripts/test-summary.mjs .test-results/vitest.json || true
exit $status
