#!/usr/bin/env bash
# make bench, last part: the answer time while a circuit breaker is open
# (bench/breaker.mjs), appended to bench/RESULTS.md. Fails if the median is
# 5 ms or more.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${MCPGW_BIN:-$ROOT/build/mcpgw}"
line="$(node "$ROOT/bench/breaker.mjs" "$BIN")"
echo "$line"
{
  echo
  echo "## Circuit breaker open ($(date -u +%Y-%m-%d), bench/breaker.mjs)"
  echo
  echo "Release build, one keep-alive connection, 200 calls to a server whose breaker is open."
  echo
  echo '```'
  echo "$line"
  echo '```'
} >>"$ROOT/bench/RESULTS.md"
