#!/usr/bin/env bash
# Stress tier (issue 9): the integration tier (tests/integration/run.sh, the
# binary in $MCPGW_BIN) while stress-ng keeps every core busy, so that a race
# the idle machine hides (a test assuming the gateway already did something,
# a gateway assuming an event order) shows up. The hog is bounded by
# STRESS_SECONDS (a hung run cannot leave it behind) and always stopped.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cpus="${STRESS_CPUS:-$(nproc)}"
secs="${STRESS_SECONDS:-2400}"
command -v stress-ng >/dev/null || { echo "test-stress: stress-ng missing (make bootstrap)" >&2; exit 1; }

# Its own process group, so the trap stops the stressors with their parent.
# Its warning that it was stopped before its timeout is expected: quiet.
setsid stress-ng --cpu "$cpus" --cpu-method matrixprod --timeout "${secs}s" --quiet >/dev/null 2>&1 &
hog=$!
tier=""
stop_all() {
  [ -z "$tier" ] || kill -TERM -- "-$tier" 2>/dev/null || true
  kill -TERM -- "-$hog" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM
sleep 1
kill -0 "$hog" 2>/dev/null || { echo "test-stress: stress-ng did not start" >&2; exit 1; }
echo "test-stress: stress-ng --cpu $cpus (pid $hog, at most ${secs}s) while the integration tier runs" >&2
# In the background, in its own process group, and waited for: a signal to
# this script is handled at once (a foreground child would defer the trap
# until it exits) and stops the whole tier (runner, test files, gateways).
setsid "$HERE/../integration/run.sh" &
tier=$!
rc=0
wait "$tier" || rc=$?
tier=""
echo "test-stress: integration tier exit status $rc" >&2
exit "$rc"
