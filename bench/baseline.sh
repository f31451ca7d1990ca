#!/usr/bin/env bash
# The same benchmark on two builds of mcpgw in one run: this checkout and
# BASELINE (a git revision, default 076910b: main before issue 9). Each
# round runs the shared harness once for each build, alternately, so that
# both see the same machine; prints a table of req/s and CPU microseconds
# per request (the SUT tree: mcpgw and its echo-mcp child) per build and
# connection count, and writes it to bench/out/<stamp>/baseline.txt.
# Knobs: BASELINE, DURATION (10), BASE_ROUNDS (3), CONNS ("16").
set -euo pipefail
. "$(dirname "$0")/harness.sh"
BASELINE="${BASELINE:-076910b}"
OUT="$ROOT/bench/out/$(date -u +%Y%m%d-%H%M%S)-baseline"
NEW="$BIN"
OLD="$WORK/baseline/build/mcpgw"

# The baseline binary, built from a clean export of that revision.
if [ ! -x "$OLD" ] || [ "$(cat "$WORK/baseline/.rev" 2>/dev/null)" != "$BASELINE" ]; then
  rm -rf "$WORK/baseline" && mkdir -p "$WORK/baseline"
  git -C "$ROOT" archive "$BASELINE" | tar -x -C "$WORK/baseline"
  make -C "$WORK/baseline" -j2 all >/dev/null
  echo "$BASELINE" >"$WORK/baseline/.rev"
fi

mkdir -p "$OUT"
export DURATION="${DURATION:-10}" CONNS="${CONNS:-16}" ROUNDS=1
# This build relays with the audit trail off (the baseline had none).
CFG=$(relay_config "$OUT/relay" off)
for r in $(seq 1 "${BASE_ROUNDS:-3}"); do
  for build in new base; do
    cmd="$OLD --listen 127.0.0.1:{PORT} --log-level warn -- {ECHO}"
    [ "$build" = new ] && cmd="$NEW serve -c $CFG --no-auth --listen 127.0.0.1:{PORT} --log-level warn"
    GATEWAY_CMD="$cmd" \
      OUTDIR="$OUT/$build-$r" "$HARNESS" gateway >/dev/null 2>&1
    awk -F, -v b="$build" 'NR > 1 && $2 == "gateway" && $4 == "ok" { print b "," $3 "," $5 "," $18 }' \
      "$OUT/$build-$r/raw.csv" >>"$OUT/rows.csv"
  done
done

{
  echo "mcpgw $(git -C "$ROOT" rev-parse --short HEAD) vs $BASELINE, same run, rounds alternated"
  echo "(shared harness: tools/call echo through one session; CPU us/req of mcpgw + echo-mcp; this build's audit trail off)"
  printf '%-10s %6s %10s %12s\n' build conns "req/s" "CPU us/req"
  awk -F, '{ k = $1 "," $2; n[k]++; r[k] += $3; c[k] += $4 }
    END { for (k in n) { split(k, a, ","); printf "%-10s %6s %10.0f %12.1f\n", a[1], a[2], r[k] / n[k], c[k] / n[k] } }' \
    "$OUT/rows.csv" | sort
  awk -F, '{ k = $2; if ($1 == "new") { nr[k] += $3; nc[k] += $4; nn[k]++ } else { br[k] += $3; bc[k] += $4; bn[k]++ } }
    END { for (k in nn) if (bn[k]) printf "conns %s: req/s x%.2f, CPU us/req %+.1f%%\n", k,
            (nr[k] / nn[k]) / (br[k] / bn[k]), 100 * ((nc[k] / nn[k]) / (bc[k] / bn[k]) - 1) }' "$OUT/rows.csv"
} | tee "$OUT/baseline.txt"
{ echo '```'; cat "$OUT/baseline.txt"; echo '```'; } | results_section "Against the baseline build (bench/baseline.sh)"
