#!/usr/bin/env bash
# Integration tier: node's test runner over tests/integration/*.test.mjs,
# driving the real binary ($MCPGW_BIN) with the official SDK client.
set -euo pipefail
cd "$(dirname "$0")"
export MCPGW_BIN="${MCPGW_BIN:-$(cd ../.. && pwd)/build/mcpgw}"
# ASan: a leak or error in the gateway fails its exit code, which stop() checks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}"
exec node --test --test-concurrency=2 --test-timeout=180000 ./*.test.mjs
