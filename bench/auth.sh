#!/usr/bin/env bash
# Cost of authentication and policy: the same gateway and echo upstream,
# once without auth and once with an API key and a 50-rule policy, measured
# interleaved in one run with wrk (16 connections); appends to bench/RESULTS.md.
# Knobs: DURATION (10), ROUNDS (3), CONNS (16).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${MCPGW_BIN:-$ROOT/build/mcpgw}"
SHARED="$ROOT/../shared/bench"; [ -d "$SHARED" ] || SHARED=/work/shared/bench
WORK="$ROOT/build/bench/auth"; rm -rf "$WORK"; mkdir -p "$WORK"
DURATION="${DURATION:-10}" ROUNDS="${ROUNDS:-3}" CONNS="${CONNS:-16}"
cc -O2 -o "$WORK/echo-mcp" "$SHARED/echo-mcp.c"
port=18790

# A 50-rule policy: 49 rules that do not match this call, then the role's permission.
{
  echo "roles:"
  echo "  caller:"
  echo "    permissions:"
  echo "      - resource: \"mcp:echo:*\""
  echo "        actions: [list_tools, invoke_tool]"
  echo "rules:"
  for i in $(seq 1 49); do
    printf '  - name: r%d\n    condition: { mcp_server: "other%d", tool_name_pattern: "^tool_%d_.*$" }\n    priority: %d\n    action: deny\n' "$i" "$i" "$i" "$i"
  done
  echo "  - name: allow-echo"
  echo "    condition: { mcp_server: \"echo\", tool_name_pattern: \"echo\" }"
  echo "    priority: 0"
  echo "    action: allow"
  echo "default_policy: deny"
} >"$WORK/policy.yaml"
base="listen: \"127.0.0.1:$port\"
log_level: warn
servers:
  echo:
    command: \"$WORK/echo-mcp\"
    prefix: \"\""
printf '%s\n' "$base" >"$WORK/noauth.yaml"
printf '%s\nauth:\n  api_keys: true\npolicy: policy.yaml\n' "$base" >"$WORK/auth.yaml"
KEY=$("$BIN" apikey create --name bench --roles caller -c "$WORK/auth.yaml" 2>/dev/null)

run_one() { # config key -> "rps"
  local cfg=$1 key=$2 pid sid out
  "$BIN" serve -c "$cfg" 2>>"$WORK/gateway.log" & pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  sid=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        ${key:+-H "Authorization: Bearer $key"} \
        -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
        "http://127.0.0.1:$port/mcp" | awk 'tolower($1)=="mcp-session-id:" {print $2}' | tr -d '\r')
  out=$(MCP_SESSION="$sid" MCP_KEY="$key" taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$ROOT/bench/auth_call.lua" "http://127.0.0.1:$port/mcp" | grep AUTHBENCH)
  kill -TERM "$pid"; wait "$pid" || true
  echo "$out"
}

results=()
for r in $(seq 1 "$ROUNDS"); do
  a=$(run_one "$WORK/noauth.yaml" "")
  b=$(run_one "$WORK/auth.yaml" "$KEY")
  echo "round $r  no-auth: $a" >&2
  echo "round $r  auth:    $b" >&2
  results+=("$r no-auth $a" "$r auth $b")
done
summary=$(printf '%s\n' "${results[@]}" | awk '
  { for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) { split($i, kv, "="); s[$2] += kv[2]; n[$2]++ }
    for (i = 1; i <= NF; i++) if ($i ~ /^bad=/) { split($i, kv, "="); bad += kv[2] } }
  END { a = s["no-auth"] / n["no-auth"]; b = s["auth"] / n["auth"];
        printf "no-auth %.0f req/s, API key + 50-rule policy %.0f req/s: %.1f%% of no-auth (%d bad answers)\n", a, b, 100 * b / a, bad }')
echo "$summary"
{
  echo
  echo "## Authentication and policy overhead ($(date -u +%Y-%m-%d), bench/auth.sh)"
  echo
  echo "wrk -c$CONNS, ${DURATION}s x $ROUNDS interleaved rounds, gateway and echo-mcp unpinned, wrk on CPU 1; every answer checked."
  echo
  echo '```'
  printf '%s\n' "${results[@]}"
  echo "$summary"
  echo '```'
} >>"$ROOT/bench/RESULTS.md"
