#!/usr/bin/env bash
# Guardrail detectors (issue 11): speed on a 16 KiB tool result
# (bench/guard_detect.c, target <= 200 us) and recall / false-positive rate
# on the labelled corpus (tests/guardrails/, targets: recall >= 95% for
# fixed-shape and checksum formats, FP rate <= 1%), into bench/RESULTS.md.
# Run by `make bench-guard` (part of `make bench`), which builds GUARD_BIN.
# Usage: bench/guard_detect.sh [-v]   (-v: each miss and false positive)
# Knobs: GUARD_ITER (iterations, 5000).
set -euo pipefail
. "$(dirname "$0")/harness.sh"
B="${GUARD_BIN:-$ROOT/build/guard}"
cd "$ROOT"
load=$(cut -d' ' -f1 /proc/loadavg)
speed=$("$B/guard_detect" bench/guard_sample.txt "${GUARD_ITER:-5000}")
echo "$speed"
qrc=0
quality=$("$B/guard_quality" "$@") || qrc=$?
echo "$quality"
{ echo "Produced by \`make bench-guard\` (bench/guard_detect.c) on $(date -u +%F), release build, CPU time of"
  echo "the scanning thread (this $(nproc)-core machine; load average $load when it started)."
  echo; echo '```'; echo "$speed"; echo '```'; } | results_section "Guardrail detectors: speed"
{ echo "Produced by \`make bench-guard\` (tests/guardrails/quality.c) on $(date -u +%F) over the labelled corpus"
  echo "of tests/guardrails/ (synthetic values; positive/ per type, benign/ look-alikes). Recall: share of the"
  echo "type's samples where the type is reported; FP rate: share of benign samples where it is."
  echo; echo "$quality"; } | results_section "Guardrail detectors: quality"
exit $qrc
