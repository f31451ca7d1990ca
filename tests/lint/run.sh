#!/usr/bin/env bash
# The layer check (scripts/check-layers.sh) must pass on the tree and fail
# on each kind of wrong include; the globals check (scripts/check-globals.sh)
# must pass on the tree and fail on each kind of mutable global. Each case
# copies src/ and scripts/ to a temporary tree, breaks one thing and expects
# exit 1 with the culprit named.
set -euo pipefail
cd "$(dirname "$0")/../.."
pass=0 failed=0

expect() { # name, want (0|1), pattern the output must hold, root[, check]
  local name=$1 want=$2 pat=$3 root=$4 check=${5:-scripts/check-layers.sh} out rc=0
  out=$("$check" "$root" 2>&1) || rc=$?
  if [ "$rc" = "$want" ] && grep -qE -- "$pat" <<< "$out"; then
    echo "ok - $name"; pass=$((pass + 1))
  else
    echo "not ok - $name (exit $rc, want $want; output:)"; echo "$out" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
}

copy() {
  local t; t=$(mktemp -d); cp -r src scripts "$t"/; echo "$t"
}

expect "the tree passes" 0 "" "$PWD"

t=$(copy); sed -i '1i #include "http/server.h"' "$t/src/core/buf.c"
expect "an upward include fails (core -> http)" 1 'src/core/buf.c includes "http/server.h".*above' "$t"; rm -rf "$t"

t=$(copy); sed -i '1i #include "mcp/call.h"' "$t/src/upstream/breaker.c"
expect "an upward include fails (upstream -> mcp)" 1 'src/upstream/breaker.c includes "mcp/call.h"' "$t"; rm -rf "$t"

t=$(copy); sed -i '1i #include "policy/policy.h"' "$t/src/upstream/breaker.c"
sed -i '1i #include "upstream/breaker.h"' "$t/src/policy/glob.c"
expect "two folders of one layer in a cycle fail" 1 'cycle: .*(policy -> upstream|upstream -> policy)' "$t"; rm -rf "$t"

t=$(copy); mkdir "$t/src/nowhere"; echo 'int gw_nowhere;' > "$t/src/nowhere/x.c"
expect "a folder without a layer fails" 1 'src/nowhere has no layer' "$t"; rm -rf "$t"

t=$(copy); echo 'src/core/buf.c -> http/server.h' >> "$t/scripts/layers-debt.txt"
expect "a debt line that no longer matches fails" 1 'which is gone' "$t"; rm -rf "$t"

# ---- mutable globals ----
g=scripts/check-globals.sh
expect "globals: the tree passes" 0 "" "$PWD" $g

t=$(copy); echo 'static int x;' >> "$t/src/core/buf.c"
expect "globals: a file-scope static fails" 1 'src/core/buf.c:[0-9]+: x is a mutable global' "$t" $g; rm -rf "$t"

t=$(copy); echo 'int gw_buf_count = 0;' >> "$t/src/core/buf.c"
expect "globals: an exported variable fails" 1 'src/core/buf.c:[0-9]+: gw_buf_count is' "$t" $g; rm -rf "$t"

t=$(copy); printf 'static struct {\n\tint n;\n} state;\n' >> "$t/src/core/buf.c"
expect "globals: an anonymous struct variable fails" 1 'src/core/buf.c:[0-9]+: state is' "$t" $g; rm -rf "$t"

t=$(copy); echo 'static const char *names[] = { "a", "b" };' >> "$t/src/core/buf.c"
expect "globals: an array of writable pointers fails" 1 'names is a mutable global' "$t" $g; rm -rf "$t"

t=$(copy); printf 'int gw_buf_calls(void);\nint gw_buf_calls(void)\n{\n\tstatic int n;\n\treturn ++n;\n}\n' >> "$t/src/core/buf.c"
expect "globals: a static inside a function fails" 1 'src/core/buf.c:[0-9]+: n is' "$t" $g; rm -rf "$t"

t=$(copy); printf 'static const char *const names[] = { "a" };\nstatic const struct { int a; } one = { 1 };\nextern int elsewhere;\n' >> "$t/src/core/buf.c"
expect "globals: const tables and declarations pass" 0 "" "$t" $g; rm -rf "$t"

t=$(copy); echo 'src/core/buf.c gone' >> "$t/scripts/globals-allowed.txt"
expect "globals: an allowed line that no longer matches fails" 1 'which is gone' "$t" $g; rm -rf "$t"

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
