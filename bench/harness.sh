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
