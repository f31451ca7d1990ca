#!/usr/bin/env bash
# make bench: the shared side-by-side harness (../shared/bench) with mcpgw as
# the `gateway` system beside direct, mcp-proxy and supergateway, then the
# 100-session load (sessions.mjs); writes bench/RESULTS.md.
# Knobs: DURATION (10), ROUNDS (2), CONNS ("1 16"), SYSTEMS.
set -euo pipefail
. "$(dirname "$0")/harness.sh"
STAMP="$(date -u +%Y%m%d-%H%M%S)"
OUT="$ROOT/bench/out/$STAMP"
# The gateway row is the relay alone, as the other systems are (the audit
# trail off); bench/audit.sh measures what the default trail costs.
CFG=$(relay_config "$OUT/relay" off)
export GATEWAY_CMD="$BIN serve -c $CFG --no-auth --listen 127.0.0.1:{PORT} --log-level warn"
export DURATION="${DURATION:-10}" ROUNDS="${ROUNDS:-2}" CONNS="${CONNS:-1 16}" OUTDIR="$OUT"
"$HARNESS" ${SYSTEMS:-direct gateway mcp-proxy supergateway}

ratio=$(awk -F, 'NR>1 && $3==16 && $4=="ok" { s[$2]+=$5; n[$2]++ }
  END { if (n["gateway"] && n["mcp-proxy"]) printf "%.1f", (s["gateway"]/n["gateway"])/(s["mcp-proxy"]/n["mcp-proxy"]); else print "n/a" }' "$OUT/raw.csv")
sessions=$(node "$ROOT/bench/sessions.mjs" "$BIN" "$WORK/harness/echo-mcp")

# The other sections of bench/RESULTS.md (chaos, auth, baseline, audit,
# guardrails...) are written by their own scripts: only these two are
# replaced here.
{
  echo "Produced by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d) on this project's 2-core machine."
  echo "Harness: ../shared/bench (wrk + mcp_call.lua, tools/call echo through one MCP session; SUT pinned to CPU 0, wrk to CPU 1)."
  echo "The gateway row is \`mcpgw serve\` relaying to echo-mcp (no prefix, no authentication) with the audit trail off, as"
  echo "the other systems keep none; what the default trail costs is measured by bench/audit.sh below."
  echo
  echo '```'
  cat "$OUT/table.txt"
  echo '```'
  echo
  echo "**mcpgw / mcp-proxy at 16 connections, same run: ${ratio}x** (mean of the rounds' req/s)."
} | results_section "Throughput and latency"
{ echo '```'; echo "$sessions"; echo '```'; } | results_section "100 concurrent sessions x 100 tools/call"
echo "bench: wrote bench/RESULTS.md (ratio ${ratio}x)"
