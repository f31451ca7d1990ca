#!/usr/bin/env bash
# The layer check (scripts/check-layers.sh) must pass on the tree and fail
# on each kind of wrong include. Each case copies src/ and scripts/ to a
# temporary tree, breaks one thing and expects exit 1 with the culprit named.
set -euo pipefail
cd "$(dirname "$0")/../.."
pass=0 failed=0

expect() { # name, want (0|1), pattern the output must hold, root
  local name=$1 want=$2 pat=$3 root=$4 out rc=0
  out=$(scripts/check-layers.sh "$root" 2>&1) || rc=$?
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

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
