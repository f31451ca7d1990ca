#!/usr/bin/env bash
# What a default feature costs: the same release binary and the shared
# harness (tools/call echo through one session, 16 connections), once as
# the relay alone and once with FEATURE on, rounds alternated so that both
# see the same machine. FEATURE=sqlite (the default): the default audit
# trail, one SQLite sink in the store, durability commit-before-answer (no
# answer leaves before its record is committed); FEATURE=file: the same
# with one file sink instead (the cheapest durable sink); FEATURE=guard: the
# default guardrails. Prints req/s and CPU microseconds per request of the SUT tree
# (mcpgw, its threads and echo-mcp) and the ratio, and writes it to
# bench/RESULTS.md. Knobs: DURATION (10), AUDIT_ROUNDS (3), CONNS ("16"),
# AUDIT_BASE (a git revision: its build runs FEATURE too, as mode
# FEATURE@REV, alternated with the others: a change to the feature's cost
# measured before and after in one run), and the harness's own:
# SUT_CPUS=0,1 lets the gateway's threads use both cores (shared with
# wrk), as its README suggests for a threaded SUT.
set -euo pipefail
. "$(dirname "$0")/harness.sh"
FEATURE="${FEATURE:-sqlite}"
case "$FEATURE" in
  sqlite) title="Audit trail cost"; what="the SQLite sink and commit-before-answer" ;;
  file) title="Audit trail cost, file sink"; what="the file sink and commit-before-answer" ;;
  guard) title="Guardrails cost"; what="the default guardrails" ;;
  *) echo "FEATURE: sqlite, file or guard" >&2; exit 2 ;;
esac
cpus="${SUT_CPUS:-0}"
[ "$cpus" = 0 ] || title="$title, SUT on CPUs $cpus"
OUT="$ROOT/bench/out/$(date -u +%Y%m%d-%H%M%S)-$FEATURE"
mkdir -p "$OUT"

# The build of AUDIT_BASE, from a clean export of that revision.
modes="off $FEATURE"
if [ -n "${AUDIT_BASE:-}" ]; then
  BASEBIN="$WORK/audit-base/build/mcpgw"
  if [ ! -x "$BASEBIN" ] || [ "$(cat "$WORK/audit-base/.rev" 2>/dev/null)" != "$AUDIT_BASE" ]; then
    rm -rf "$WORK/audit-base" && mkdir -p "$WORK/audit-base"
    git -C "$ROOT" archive "$AUDIT_BASE" | tar -x -C "$WORK/audit-base"
    make -C "$WORK/audit-base" -j2 all >/dev/null
    echo "$AUDIT_BASE" >"$WORK/audit-base/.rev"
  fi
  modes="$modes $FEATURE@$AUDIT_BASE"
fi

export DURATION="${DURATION:-10}" CONNS="${CONNS:-16}" ROUNDS=1
for r in $(seq 1 "${AUDIT_ROUNDS:-3}"); do
  for v in $modes; do
    bin=$BIN cfg=$v
    case "$v" in *@*) bin=$BASEBIN cfg=${v%@*} ;; esac
    # each run on a store of its own, as a gateway that just started
    relay_config "$OUT/$v" "$cfg" >/dev/null && rm -f "$OUT/$v/mcpgw.db"*
    GATEWAY_CMD="$bin serve -c $OUT/$v/$cfg.yaml --no-auth --listen 127.0.0.1:{PORT} --log-level warn" \
      OUTDIR="$OUT/$v-$r" "$HARNESS" gateway >/dev/null 2>&1
    awk -F, -v b="$v" 'NR > 1 && $2 == "gateway" && $4 == "ok" { print b "," $3 "," $5 "," $18 "," $9 "," $10 }' \
      "$OUT/$v-$r/raw.csv" >>"$OUT/rows.csv"
  done
done

{
  echo "mcpgw $(git -C "$ROOT" rev-parse --short HEAD), same binary, rounds alternated, SUT on CPUs $cpus"
  echo "(shared harness: tools/call echo through one session; CPU us/req of mcpgw + echo-mcp)"
  printf '%-16s %6s %10s %12s %10s %10s\n' mode conns "req/s" "CPU us/req" "p99 ms" "max ms"
  awk -F, '{ k = $1 "," $2; n[k]++; r[k] += $3; c[k] += $4; p[k] += $5; if ($6 > m[k]) m[k] = $6 }
    END { for (k in n) { split(k, a, ","); printf "%-16s %6s %10.0f %12.1f %10.2f %10.2f\n", a[1], a[2],
            r[k] / n[k], c[k] / n[k], p[k] / n[k], m[k] } }' \
    "$OUT/rows.csv" | sort
  echo "(p99: the mean of the rounds' p99; max: the longest call of all rounds)"
  awk -F, -v f="$FEATURE" -v what="$what" '{ k = $2; if ($1 == f) { sr[k] += $3; sn[k]++ } else if ($1 == "off") { fr[k] += $3; fn[k]++ } }
    END { for (k in sn) if (fn[k]) printf "conns %s: with %s, %.1f%% of the req/s of the relay alone\n", k, what,
            100 * (sr[k] / sn[k]) / (fr[k] / fn[k]) }' "$OUT/rows.csv"
  if [ "$FEATURE" = sqlite ]; then
    echo "records in the SQLite sink after its last run: $(sqlite3 "$OUT/sqlite/mcpgw.db" 'SELECT count(*) FROM audit_logs' 2>/dev/null || echo '?')"
  fi
} | tee "$OUT/cost.txt"
{ echo '```'; cat "$OUT/cost.txt"; echo '```'; } | results_section "$title (bench/audit.sh)"

# The sinks alone (bench/audit_file.c, built by make bench-audit): the file
# sink as fast as it takes records, then the file and SQLite sinks with 16
# records in flight, each batch waited for, as commit-before-answer does;
# and SQLite alone (bench/sqlite_floor.c), the database's part of a record.
if [ "$FEATURE" = sqlite ] && [ "$cpus" = 0 ] && [ -x "$ROOT/build/bench/audit_file" ]; then
  { "$ROOT/build/bench/audit_file"
    "$ROOT/build/bench/audit_file" 200000 /tmp file 16
    "$ROOT/build/bench/audit_file" 200000 /tmp sqlite 16
    [ ! -x "$ROOT/build/bench/sqlite_floor" ] || "$ROOT/build/bench/sqlite_floor" 200000 /tmp 16
  } | tee "$OUT/audit_file.txt"
  { echo '```'; cat "$OUT/audit_file.txt"; echo '```'; } | results_section "Audit sinks (bench/audit_file.c)"
fi
