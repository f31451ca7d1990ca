#!/usr/bin/env bash
# make bench: the shared side-by-side harness (../shared/bench) with mcpgw as
# the `gateway` system beside direct, mcp-proxy and supergateway, then the
# 100-session load (sessions.mjs); writes bench/RESULTS.md.
# Knobs: DURATION (10), ROUNDS (2), CONNS ("1 16"), SYSTEMS.
set -euo pipefail
. "$(dirname "$0")/harness.sh"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
OUT="$ROOT/bench/out/$STAMP"
export GATEWAY_CMD="$BIN --listen 127.0.0.1:{PORT} --log-level warn -- {ECHO}"
export DURATION="${DURATION:-10}" ROUNDS="${ROUNDS:-2}" CONNS="${CONNS:-1 16}" OUTDIR="$OUT"
"$HARNESS" ${SYSTEMS:-direct gateway mcp-proxy supergateway}

ratio=$(awk -F, 'NR>1 && $3==16 && $4=="ok" { s[$2]+=$5; n[$2]++ }
  END { if (n["gateway"] && n["mcp-proxy"]) printf "%.1f", (s["gateway"]/n["gateway"])/(s["mcp-proxy"]/n["mcp-proxy"]); else print "n/a" }' "$OUT/raw.csv")
sessions=$(node "$ROOT/bench/sessions.mjs" "$BIN" "$WORK/harness/echo-mcp")

# The chaos figures (make chaos) live in the same file: keep them.
chaos=""
[ -f "$ROOT/bench/RESULTS.md" ] &&
  chaos="$(awk '/^## /{p = ($0 ~ /^## Chaos/)} p' "$ROOT/bench/RESULTS.md")"

{
  echo "# mcpgw benchmark results"
  echo
  echo "Produced by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d) on this project's 2-core machine."
  echo "Harness: ../shared/bench (wrk + mcp_call.lua, tools/call echo through one MCP session; SUT pinned to CPU 0, wrk to CPU 1)."
  echo "The gateway row is \`mcpgw --listen 127.0.0.1:PORT -- echo-mcp\`."
  echo
  echo "## Throughput and latency"
  echo
  echo '```'
  cat "$OUT/table.txt"
  echo '```'
  echo
  echo "**mcpgw / mcp-proxy at 16 connections, same run: ${ratio}x** (mean of the rounds' req/s)."
  echo
  echo "## 100 concurrent sessions x 100 tools/call"
  echo
  echo '```'
  echo "$sessions"
  echo '```'
  if [ -n "$chaos" ]; then echo; echo "$chaos"; fi
} >"$ROOT/bench/RESULTS.md"
echo "bench: wrote bench/RESULTS.md (ratio ${ratio}x)"
