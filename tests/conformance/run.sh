#!/usr/bin/env bash
# Conformance tier: the official MCP conformance suite (0.1.16), run through
# the gateway at /servers/conf/mcp in front of tests/fixtures/conformance-server.mjs
# (spawned by the gateway over stdio). Failures must match the baseline
# expected-failures-0.1.16.yaml exactly; the count is printed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${MCPGW_BIN:-$ROOT/build/mcpgw}"
RUNNER="$ROOT/../shared/conformance/run.sh"
[ -x "$RUNNER" ] || RUNNER="/work/shared/conformance/run.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:exitcode=86}"

work="$(mktemp -d)"
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
cat >"$work/mcpgw.yaml" <<YAML
listen: "127.0.0.1:$port"
servers:
  conf:
    command: node
    args: ["$ROOT/tests/fixtures/conformance-server.mjs"]
    timeout: 30
YAML
"$BIN" serve -c "$work/mcpgw.yaml" 2>"$work/gateway.log" &
gw=$!
cleanup() {
  kill -TERM "$gw" 2>/dev/null || true
  wait "$gw"; rc=$?
  if [ "$rc" -ne 0 ]; then echo "conformance: gateway exited $rc on SIGTERM"; tail -50 "$work/gateway.log"; exit 1; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/health" | grep -q '"upstreams_ready":true' && break
  sleep 0.2
done

# run_suite LABEL LOG BASELINE [runner args...]: run, show the summary, fail loudly.
run_suite() {
  local label=$1 log=$2 baseline=$3 rc
  shift 3
  set +e
  "$RUNNER" server --url "http://127.0.0.1:$port/servers/conf/mcp" --expected-failures "$baseline" "$@" >"$log" 2>&1
  rc=$?
  set -e
  grep -E "^(✓|✗|Total)" "$log" | tail -60 || true
  tail -6 "$log"
  if [ "$rc" -ne 0 ]; then
    echo "conformance: $label suite failed (exit $rc); gateway log tail:"; tail -40 "$work/gateway.log"
    exit 1
  fi
  echo "conformance: $label passed (baseline: $baseline)"
}

run_suite 0.1.16 "$work/suite.log" "$HERE/expected-failures-0.1.16.yaml"
# The 2026-07-28 requirements (0.2.0-alpha.12) on the same endpoint.
MCP_CONFORMANCE_VERSION=0.2.0-alpha.12 run_suite 2026-07-28 "$work/suite26.log" \
  "$HERE/expected-failures-2026-07-28.yaml" --requirements 2026-07-28
