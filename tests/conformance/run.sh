#!/usr/bin/env bash
# Conformance tier: the official MCP conformance suite, run through the
# gateway. Three runs, each against its own baseline (failures must match it
# exactly; a listed scenario that passes fails the run); the counts are printed:
#   1. 0.1.16 at /servers/conf/mcp, in front of tests/fixtures/conformance-server.mjs
#      (a 2025-era server the gateway spawns over stdio);
#   2. 0.2.0-alpha.12 --requirements 2026-07-28 on the same endpoint (a 2026
#      client bridged to the 2025 server);
#   3. the same requirements at /servers/conf26/mcp, in front of
#      tests/fixtures/conformance-server-2026.mjs (a 2026-07-28-only server
#      over HTTP): input_required, requestState and Mcp-Param-* headers pass
#      through to a modern upstream.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${MCPGW_BIN:-$ROOT/build/mcpgw}"
RUNNER="$ROOT/../shared/conformance/run.sh"
[ -x "$RUNNER" ] || RUNNER="/work/shared/conformance/run.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:exitcode=86}"

work="$(mktemp -d)"
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
# The 2026 fixture listens on a free port of its own and says which.
node "$ROOT/tests/fixtures/conformance-server-2026.mjs" >"$work/fixture26.out" 2>"$work/fixture26.log" &
fx=$!
url26=""
for _ in $(seq 1 100); do
  url26="$(sed -n 's/^MCP_FIXTURE_URL=//p' "$work/fixture26.out")"
  [ -n "$url26" ] && break
  sleep 0.1
done
if [ -z "$url26" ]; then
  echo "conformance: the 2026 fixture did not start"; cat "$work/fixture26.log"; kill "$fx"; exit 1
fi
cat >"$work/mcpgw.yaml" <<YAML
listen: "127.0.0.1:$port"
servers:
  conf:
    command: node
    args: ["$ROOT/tests/fixtures/conformance-server.mjs"]
    timeout: 30
    # The fixture runs no tasks itself: the gateway runs the tasks-* tools.
    tasks: gateway
  conf26:
    url: "$url26"
    protocol: "2026-07-28"
    timeout: 30
YAML
"$BIN" serve -c "$work/mcpgw.yaml" 2>"$work/gateway.log" &
gw=$!
cleanup() {
  kill -TERM "$gw" 2>/dev/null || true
  wait "$gw"; rc=$?
  kill -TERM "$fx" 2>/dev/null || true
  wait "$fx" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then echo "conformance: gateway exited $rc on SIGTERM"; tail -50 "$work/gateway.log"; exit 1; fi
  # Logs stay for a failed run only.
  if [ "$passed" = 1 ]; then rm -rf "$work"; else echo "conformance: logs in $work"; fi
}
passed=0
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" | grep -q '"upstreams_ready":true' && break
  sleep 0.2
done

# run_suite LABEL LOG BASELINE SERVER [runner args...]: run against
# /servers/SERVER/mcp, show the summary, fail loudly.
run_suite() {
  local label=$1 log=$2 baseline=$3 server=$4 rc
  shift 4
  set +e
  "$RUNNER" server --url "http://127.0.0.1:$port/servers/$server/mcp" --expected-failures "$baseline" "$@" >"$log" 2>&1
  rc=$?
  set -e
  grep -E "^(✓|✗|Total)" "$log" | tail -60 || true
  tail -6 "$log"
  if [ "$rc" -ne 0 ]; then
    echo "conformance: $label suite failed (exit $rc); gateway log tail:"; tail -40 "$work/gateway.log"
    exit 1
  fi
  echo "conformance: $label passed (baseline: $baseline)"
  counts="$counts
  $label: $(grep -E '^Total' "$log" | tail -1)"
}
counts=""

run_suite 0.1.16 "$work/suite.log" "$HERE/expected-failures-0.1.16.yaml" conf
# The 2026-07-28 requirements (0.2.0-alpha.12) on the same endpoint.
MCP_CONFORMANCE_VERSION=0.2.0-alpha.12 run_suite 2026-07-28 "$work/suite26.log" \
  "$HERE/expected-failures-2026-07-28.yaml" conf --requirements 2026-07-28
# ... and in front of the 2026-07-28-only fixture.
MCP_CONFORMANCE_VERSION=0.2.0-alpha.12 run_suite 2026-07-28-modern "$work/suite26m.log" \
  "$HERE/expected-failures-2026-07-28-modern.yaml" conf26 --requirements 2026-07-28
echo "conformance counts:$counts"
passed=1
