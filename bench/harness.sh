# Sourced by the bench scripts: where things are, and a fresh copy of the
# shared harness to run (it builds echo-mcp beside itself, and shared/ is
# read-only). Sets ROOT, WORK, BIN and HARNESS.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="$ROOT/../shared/bench"
[ -d "$SHARED" ] || SHARED=/work/shared/bench
WORK="$ROOT/build/bench"
BIN="${MCPGW_BIN:-$ROOT/build/mcpgw}"
HARNESS="$WORK/harness/run.sh"
rm -rf "$WORK/harness" && mkdir -p "$WORK" && cp -r "$SHARED" "$WORK/harness"
export GATEWAY_URL='http://127.0.0.1:{PORT}/mcp'

# Put section "## TITLE" with the text on stdin into bench/RESULTS.md,
# replacing a section of that title (the other sections stay).
results_section() {
  local title=$1 file="$ROOT/bench/RESULTS.md" body tmp
  body=$(cat)
  tmp=$(mktemp)
  [ -f "$file" ] || echo "# mcpgw benchmark results" >"$file"
  awk -v t="## $title" '$0 == t { skip = 1; next } /^## / { skip = 0 } !skip' "$file" >"$tmp"
  { cat "$tmp"; [ -n "$(tail -n1 "$tmp")" ] && echo; echo "## $title"; echo; echo "$body"; } >"$file"
  rm -f "$tmp"
}

# A config for the gateway row: the echo server with no prefix (the
# harness calls tool "echo") and the store in DIR. MODE: off (the relay
# alone, as the other systems are: no audit trail, no guardrails, no tool
# pins), sqlite (the relay and the default audit trail: one SQLite sink,
# commit-before-answer), file (the same with one file sink instead),
# guard (the relay and the default guardrails).
# Prints the file's path.
relay_config() {
  local dir=$1 audit=$2 echo="$WORK/harness/echo-mcp"
  [ -x "$echo" ] || cc -O2 -o "$echo" "$WORK/harness/echo-mcp.c"
  mkdir -p "$dir"
  {
    echo "servers:"
    echo "  echo:"
    echo "    command: \"$echo\""
    echo "    prefix: \"\""
    echo "store:"
    echo "  path: \"$dir/mcpgw.db\""
    echo "tool_pinning: off"
    echo "audit:"
    if [ "$audit" = sqlite ]; then
      echo "  sinks: [ { type: sqlite } ]"
      echo "  durability: commit-before-answer"
    elif [ "$audit" = file ]; then
      echo "  sinks: [ { type: file, path: \"$dir/audit.jsonl\" } ]"
      echo "  durability: commit-before-answer"
    else
      echo "  sinks: []"
    fi
    [ "$audit" = guard ] || echo "guardrails: { enabled: false }"
  } >"$dir/$audit.yaml"
  echo "$dir/$audit.yaml"
}
