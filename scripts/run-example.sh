#!/usr/bin/env bash
# `make run`: serve examples/mcpgw.yaml in the foreground. The filesystem
# server gets a directory of its own, created here.
set -euo pipefail
cd "$(dirname "$0")/.."
export MCPGW_FILES_ROOT="${MCPGW_FILES_ROOT:-$PWD/build/example-files}"
mkdir -p "$MCPGW_FILES_ROOT"
[ -f "$MCPGW_FILES_ROOT/hello.txt" ] || echo "Hello from mcpgw's example directory." >"$MCPGW_FILES_ROOT/hello.txt"
echo "mcpgw: serving http://${MCPGW_LISTEN:-127.0.0.1:8080}/mcp (Ctrl-C to stop)" >&2
exec build/mcpgw serve -c examples/mcpgw.yaml
