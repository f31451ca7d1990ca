#!/usr/bin/env bash
# Instructions the gateway executes per tools/call, counted by callgrind
# (valgrind), for this build and BASELINE (a git revision, default 076910b:
# main before issue 9), in one run. Unlike CPU time this does not move with
# the machine's load. Each build is run twice, for N1 and N2 calls through
# one session (bench/calls.mjs) to the shared harness's echo-mcp; the
# difference divided by N2 - N1 leaves start and stop out.
# Knobs: BASELINE, N1 (500), N2 (1500).
set -euo pipefail
. "$(dirname "$0")/harness.sh"
BASELINE="${BASELINE:-076910b}"
N1="${N1:-500}" N2="${N2:-1500}"
OLD="$WORK/baseline/build/mcpgw"
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed" >&2; exit 1; }
[ -x "$WORK/harness/echo-mcp" ] || cc -O2 -o "$WORK/harness/echo-mcp" "$WORK/harness/echo-mcp.c"
if [ ! -x "$OLD" ] || [ "$(cat "$WORK/baseline/.rev" 2>/dev/null)" != "$BASELINE" ]; then
  rm -rf "$WORK/baseline" && mkdir -p "$WORK/baseline"
  git -C "$ROOT" archive "$BASELINE" | tar -x -C "$WORK/baseline"
  make -C "$WORK/baseline" -j2 all >/dev/null
  echo "$BASELINE" >"$WORK/baseline/.rev"
fi

# This build relays with the audit trail off, as the baseline (which had
# none); tools are called as the config names them.
CFG=$(relay_config "$WORK/instructions-relay" off)

# Instructions of bin (build: base or new) for n calls.
count() {
  local bin=$1 n=$2 build=$3 port out
  port=$((20000 + RANDOM % 20000))
  out="$WORK/callgrind.$$"
  if [ "$build" = new ]; then
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" serve -c "$CFG" --no-auth \
      --listen "127.0.0.1:$port" --log-level warn >/dev/null 2>&1 &
  else
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --listen "127.0.0.1:$port" \
      --log-level warn -- "$WORK/harness/echo-mcp" >/dev/null 2>&1 &
  fi
  local vp=$!
  for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.2; done
  node "$ROOT/bench/calls.mjs" "http://127.0.0.1:$port/mcp" "$n" >/dev/null
  kill -TERM "$vp"; wait "$vp" 2>/dev/null || true
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
  rm -f "$out"*
}

for build in base new; do
  bin=$BIN; [ "$build" = base ] && bin=$OLD
  a=$(count "$bin" "$N1" "$build"); b=$(count "$bin" "$N2" "$build")
  echo "$build $(( (b - a) / (N2 - N1) ))"
done | awk -v rev="$BASELINE" '{ v[$1] = $2 }
  END { printf "instructions per tools/call (stdio upstream): %s %d, this build %d (%+.1f%%)\n",
        rev, v["base"], v["new"], 100 * (v["new"] / v["base"] - 1) }' | tee "$WORK/instructions.txt"
{ echo '```'; cat "$WORK/instructions.txt"; echo "(callgrind, $N1 and $N2 calls through one session, the difference per call)"; echo '```'; } |
  results_section "Instructions per call (bench/instructions.sh)"
